// The Worker owns the wasm module, the compute device and the model; the page only draws what it
// reports. Requests are answered one at a time, in order.
import init, { AhaModel, Backend } from './pkg/aha_web.js';
import { checkMessage, makeMessage } from './protocol.js';

let backend = null;
let model = null;
let queue = Promise.resolve();

let modelUrl = null;

async function fetchOk(name) {
  const response = await fetch(new URL(name, modelUrl));
  if (!response.ok) throw new Error(`could not load the base model's ${name}: HTTP ${response.status}`);
  return response;
}

async function start(prefer) {
  await init();
  if (prefer === 'cpu') {
    backend = Backend.cpu('CPU requested in the page address (#backend=cpu)');
  } else if (!('gpu' in navigator)) {
    backend = Backend.cpu('this browser has no WebGPU (navigator.gpu is missing)');
  } else {
    backend = await Backend.webgpu();
  }
  const selfTest = await backend.selfTest();
  self.postMessage(makeMessage('ready', { backend: backend.info(), selfTest }));

  const [weights, config, tokenizer] = await Promise.all([
    fetchOk('model.bpk').then((r) => r.arrayBuffer()),
    fetchOk('config.json').then((r) => r.text()),
    fetchOk('tokenizer.json').then((r) => r.text()),
  ]);
  model = AhaModel.load(backend, new Uint8Array(weights), config, tokenizer);
  self.postMessage(makeMessage('model', { parameters: model.info().parameters }));
}

async function generate({ id, prompt, sampled }) {
  if (model === null) throw new Error('the model is still loading');
  const onToken = (text) => self.postMessage(makeMessage('token', { id, text }));
  const result = await model.generate(prompt, { temperature: sampled ? 1 : 0 }, onToken);
  self.postMessage(makeMessage('completion', { id, result }));
}

self.onmessage = (event) => {
  let message;
  try {
    message = checkMessage(event.data);
  } catch (error) {
    self.postMessage(makeMessage('error', { message: String(error?.message ?? error) }));
    return;
  }
  if (message.kind === 'init' && backend === null) {
    modelUrl = message.modelUrl;
    start(message.prefer).catch((error) => {
      self.postMessage(makeMessage('error', { message: String(error?.message ?? error) }));
    });
  } else if (message.kind === 'generate') {
    queue = queue.then(() =>
      generate(message).catch((error) => {
        self.postMessage(makeMessage('failed', { id: message.id, message: String(error?.message ?? error) }));
      }),
    );
  }
};

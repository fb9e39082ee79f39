// The Worker owns the wasm module, the compute device and the GRPO run; the page only draws what it
// reports. Every request and every training step runs through one queue, in order, so a prompt or
// an export asked for mid-training is answered between two steps.
import init, { Backend, Trainer } from './pkg/aha_web.js';
import { checkMessage, makeMessage } from './protocol.js';

let wasm = null;
let backend = null;
let baseUrl = null;
let trainer = null;
/** Set once the current run's step-0 evaluation is done. */
let baselined = false;
let running = false;
let stepQueued = false;
let queue = Promise.resolve();
const baseFiles = new Map();

const post = (kind, fields) => self.postMessage(makeMessage(kind, fields));
const messageOf = (error) => String(error?.message ?? error);

/** Runs `task` after everything queued before it; a failure is reported by `onError`. */
function enqueue(task, onError) {
  queue = queue.then(task).catch(onError);
}

async function start(prefer) {
  wasm = await init();
  if (prefer === 'cpu') {
    backend = Backend.cpu('CPU requested in the page address (#backend=cpu)');
  } else if (!('gpu' in navigator)) {
    backend = Backend.cpu('this browser has no WebGPU (navigator.gpu is missing)');
  } else {
    backend = await Backend.webgpu();
  }
  const selfTest = await backend.selfTest();
  post('ready', { backend: backend.info(), selfTest });
}

async function fetchOk(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`could not load ${url.pathname}: HTTP ${response.status}`);
  return response;
}

/** A shipped base model's files, fetched once per folder. */
async function shippedModel(folder) {
  if (!/^[a-z0-9-]+\/$/.test(folder)) throw new Error(`not a model folder: ${JSON.stringify(folder)}`);
  if (!baseFiles.has(folder)) {
    const url = (name) => new URL(folder + name, baseUrl);
    const [weights, config, tokenizer] = await Promise.all([
      fetchOk(url('model.bpk')).then((r) => r.arrayBuffer()),
      fetchOk(url('config.json')).then((r) => r.text()),
      fetchOk(url('tokenizer.json')).then((r) => r.text()),
    ]);
    baseFiles.set(folder, { weights, config, tokenizer });
  }
  return baseFiles.get(folder);
}

/** Replaces the run with a new one from `files`, or leaves it untouched and says why. */
function configure(id, settings, files) {
  const created = Trainer.create(backend, new Uint8Array(files.weights), files.config, files.tokenizer, settings);
  trainer?.free();
  trainer = created;
  baselined = false;
  running = false;
  post('configured', { id, parameters: trainer.info().parameters, run: trainer.runConfig() });
  post('state', { running: false, steps: 0 });
}

async function oneStep() {
  if (!baselined) {
    post('evaluated', { row: await trainer.evaluate() });
    baselined = true;
  }
  const report = await trainer.step();
  const memory = { wasm_heap_bytes: wasm.memory.buffer.byteLength, device: trainer.deviceMemory() };
  post('stepped', { report, memory });
}

/** Queues the next step while training runs; a macrotask between steps lets messages in. */
function scheduleStep() {
  if (!running || stepQueued) return;
  stepQueued = true;
  enqueue(
    async () => {
      stepQueued = false;
      if (!running || trainer === null) return;
      await oneStep();
      setTimeout(scheduleStep, 0);
    },
    (error) => {
      running = false;
      post('error', { message: `training stopped: ${messageOf(error)}` });
      post('state', { running: false, steps: stepsDone() });
    },
  );
}

const handlers = {
  init(message) {
    if (backend !== null) return;
    baseUrl = message.baseUrl;
    enqueue(() => start(message.prefer), (error) => post('error', { message: messageOf(error) }));
  },
  configure({ id, settings, model }) {
    enqueue(
      async () => configure(id, settings, await shippedModel(model)),
      (error) => post('refused', { id, message: messageOf(error) }),
    );
  },
  import({ id, settings, weights, config, tokenizer }) {
    enqueue(
      async () => configure(id, settings, { weights, config, tokenizer }),
      (error) => post('refused', { id, message: messageOf(error) }),
    );
  },
  train() {
    if (trainer === null || running) return;
    running = true;
    post('state', { running: true, steps: stepsDone() });
    scheduleStep();
  },
  pause() {
    running = false;
    enqueue(async () => post('state', { running: false, steps: stepsDone() }), () => {});
  },
  step() {
    if (trainer === null || running) return;
    enqueue(
      async () => {
        await oneStep();
        post('state', { running: false, steps: stepsDone() });
      },
      (error) => post('error', { message: `the step failed: ${messageOf(error)}` }),
    );
  },
  generate({ id, prompt, sampled }) {
    enqueue(
      async () => {
        if (trainer === null) throw new Error('the model is still loading');
        const onToken = (text) => post('token', { id, text });
        const result = await trainer.generate(prompt, { temperature: sampled ? 1 : 0 }, onToken);
        post('completion', { id, result });
      },
      (error) => post('failed', { id, message: messageOf(error) }),
    );
  },
  route({ id, text }) {
    enqueue(
      async () => {
        if (trainer === null) throw new Error('the model is still loading');
        post('routed', { id, routes: await trainer.routes(text) });
      },
      (error) => post('failed', { id, message: messageOf(error) }),
    );
  },
  measure({ id }) {
    enqueue(
      async () => post('measured', { id, download: await downloadSize() }),
      (error) => post('failed', { id, message: messageOf(error) }),
    );
  },
  export({ id }) {
    enqueue(
      async () => {
        if (trainer === null) throw new Error('the model is still loading');
        const files = await trainer.exportModel();
        self.postMessage(makeMessage('exported', { id, files }), [files.safetensors.buffer, files.weights.buffer]);
      },
      (error) => post('failed', { id, message: messageOf(error) }),
    );
  },
};

/** The page's wasm as served, and gzipped: what a visitor downloads (HTTP cache permitting). */
async function downloadSize() {
  const response = await fetchOk(new URL('./pkg/aha_web_bg.wasm', import.meta.url));
  const bytes = await response.blob();
  const gzip = await new Response(bytes.stream().pipeThrough(new CompressionStream('gzip'))).blob();
  return { raw_bytes: bytes.size, gzip_bytes: gzip.size };
}

function stepsDone() {
  return trainer === null ? 0 : trainer.stepsDone();
}

self.onmessage = (event) => {
  try {
    const message = checkMessage(event.data);
    handlers[message.kind]?.(message);
  } catch (error) {
    post('error', { message: messageOf(error) });
  }
};

// The Worker owns the wasm module and the compute device; the page only draws what it reports.
import init, { Backend } from './pkg/aha_web.js';
import { checkMessage, makeMessage } from './protocol.js';

let backend = null;

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
  return makeMessage('ready', { backend: backend.info(), selfTest });
}

self.onmessage = async (event) => {
  try {
    const message = checkMessage(event.data);
    if (message.kind === 'init' && backend === null) {
      self.postMessage(await start(message.prefer));
    }
  } catch (error) {
    self.postMessage(makeMessage('error', { message: String(error?.message ?? error) }));
  }
};

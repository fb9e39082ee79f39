// The main thread: starts the Worker and draws what it reports. No computation happens here.
import { describeBackend, preferredBackend } from './format.js';
import { checkMessage, makeMessage } from './protocol.js';

const backendLine = document.querySelector('#backend');

function show(text, state) {
  backendLine.textContent = text;
  backendLine.dataset.state = state;
}

const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });

worker.onmessage = (event) => {
  let message;
  try {
    message = checkMessage(event.data);
  } catch (error) {
    show(`The worker sent a message this page cannot read: ${error.message}`, 'error');
    return;
  }
  if (message.kind === 'ready') {
    const check = message.selfTest === 54 ? 'self-test passed' : `self-test FAILED (${message.selfTest})`;
    show(`Backend: ${describeBackend(message.backend)} · ${check}`, message.backend.kind);
  } else if (message.kind === 'error') {
    show(`The worker failed: ${message.message}`, 'error');
  }
};

worker.onerror = (event) => {
  show(`The worker failed to start: ${event.message ?? 'unknown error'}`, 'error');
};

worker.postMessage(makeMessage('init', { prefer: preferredBackend(location.hash) }));

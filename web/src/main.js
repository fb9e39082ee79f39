// The main thread: starts the Worker and draws what it reports. No computation happens here.
import { describeBackend, describeCompletion, preferredBackend } from './format.js';
import { checkMessage, makeMessage } from './protocol.js';

const $ = (selector) => document.querySelector(selector);
const backendLine = $('#backend');
const modelLine = $('#model');
const form = $('#ask');
const promptInput = $('#prompt');
const askButton = $('#ask-button');
const promptError = $('#prompt-error');
const answer = $('#answer');
const verdict = $('#verdict');

function show(line, text, state) {
  line.textContent = text;
  line.dataset.state = state;
}

function showPromptError(message) {
  promptError.textContent = message;
  promptError.hidden = message === '';
  promptInput.setAttribute('aria-invalid', String(message !== ''));
}

const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
let nextRequest = 1;
let pending = null; // id of the request whose answer is on screen

worker.onmessage = (event) => {
  let message;
  try {
    message = checkMessage(event.data);
  } catch (error) {
    show(backendLine, `The worker sent a message this page cannot read: ${error.message}`, 'error');
    return;
  }
  switch (message.kind) {
    case 'ready': {
      const check = message.selfTest === 54 ? 'self-test passed' : `self-test FAILED (${message.selfTest})`;
      show(backendLine, `Backend: ${describeBackend(message.backend)} · ${check}`, message.backend.kind);
      break;
    }
    case 'model':
      show(modelLine, `Base model loaded: ${message.parameters.toLocaleString('en')} parameters`, 'ready');
      askButton.disabled = false;
      break;
    case 'token':
      if (message.id === pending) answer.textContent += message.text;
      break;
    case 'completion':
      if (message.id === pending) {
        answer.textContent = message.result.prompt + message.result.completion;
        verdict.textContent = describeCompletion(message.result);
        verdict.dataset.correct = String(message.result.correct);
        pending = null;
        askButton.disabled = false;
      }
      break;
    case 'failed':
      if (message.id === pending) {
        answer.textContent = '';
        showPromptError(message.message);
        pending = null;
        askButton.disabled = false;
      }
      break;
    case 'error':
      show(modelLine, `The worker failed: ${message.message}`, 'error');
      break;
  }
};

worker.onerror = (event) => {
  show(backendLine, `The worker failed to start: ${event.message ?? 'unknown error'}`, 'error');
};

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = promptInput.value.trim();
  if (text === '') {
    showPromptError('Type a problem first, like 347*5.');
    return;
  }
  showPromptError('');
  pending = nextRequest++;
  askButton.disabled = true;
  answer.textContent = '';
  verdict.textContent = '';
  delete verdict.dataset.correct;
  worker.postMessage(makeMessage('generate', { id: pending, prompt: text, sampled: $('#sampled').checked }));
});

// The shipped base checkpoint (web/public/base-model), beside the page wherever it is served.
const modelUrl = new URL('base-model/', document.baseURI).href;
worker.postMessage(makeMessage('init', { prefer: preferredBackend(location.hash), modelUrl }));

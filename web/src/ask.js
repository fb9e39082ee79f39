// The prompt box: the current policy answers a typed problem, token by token.
import { $, say, showError } from './dom.js';
import { describeCompletion } from './format.js';
import { ui } from './i18n.js';

function showPromptError(message) {
  showError($('#prompt-error'), message);
  $('#prompt').setAttribute('aria-invalid', String($('#prompt-error').textContent !== ''));
}

/**
 * Wires the prompt box to the Worker through `requests` (`Requests`); `broken()` says whether
 * the Worker can compute (the button stays disabled after a crash until a fresh run begins), and
 * `task()` what the run trains on, in words.
 */
export function wireAsk(requests, broken, task) {
  $('#ask').addEventListener('submit', (event) => {
    event.preventDefault();
    const text = $('#prompt').value.trim();
    if (text === '') {
      showPromptError(() => ui().ask.typeFirst);
      return;
    }
    showPromptError('');
    $('#ask-button').disabled = true;
    $('#answer').textContent = '';
    say($('#verdict'), '');
    delete $('#verdict').dataset.correct;
    const streamed = (token) => ($('#answer').textContent += token.text);
    requests
      .send('generate', { prompt: text, sampled: $('#sampled').checked }, streamed)
      .then(({ result }) => {
        $('#answer').textContent = result.prompt + result.completion;
        say($('#verdict'), () => describeCompletion(result, task()));
        $('#verdict').dataset.correct = String(result.correct);
      })
      .catch((error) => {
        $('#answer').textContent = '';
        showPromptError(error.message);
      })
      .finally(() => ($('#ask-button').disabled = broken()));
  });
}

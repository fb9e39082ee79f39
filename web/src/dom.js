// The page's small DOM helpers, shared by main.js and the panels.

export const $ = (selector) => document.querySelector(selector);

/** Sets a status line's text and, when given, its state (a CSS hook and a test handle). */
export function show(line, text, state) {
  line.textContent = text;
  if (state !== undefined) line.dataset.state = state;
}

/** Shows `message` in an error line, or hides the line when `message` is empty. */
export function showError(line, message) {
  line.textContent = message;
  line.hidden = message === '';
}

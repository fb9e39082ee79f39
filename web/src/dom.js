// The page's small DOM helpers, shared by main.js and the panels.

export const $ = (selector) => document.querySelector(selector);

/**
 * Sets `node`'s text: a string as it is, or `text()` now and again whenever the language changes
 * (i18n.js `relabel` calls each node's kept `relabel`).
 * @param {Element} node
 * @param {string | (() => string)} text
 */
export function say(node, text) {
  const live = /** @type {any} */ (node);
  if (typeof text === 'function') {
    live.words = text;
    live.relabel = () => (node.textContent = text());
    live.dataset.live = '';
    live.relabel();
  } else {
    delete live.words;
    delete live.relabel;
    delete live.dataset.live;
    node.textContent = text;
  }
}

/** What `say` last put in `node`: its function of the language, or its fixed text. */
export const wordsOf = (node) => /** @type {any} */ (node).words ?? node.textContent;

/** Keeps `apply()` on `node` to run now and at every switch of language (attributes, titles). */
export function sayAttributes(node, apply) {
  const live = /** @type {any} */ (node);
  live.relabel = apply;
  live.dataset.live = '';
  apply();
}

/** Sets a status line's text (`say`) and, when given, its state (a CSS hook and a test handle). */
export function show(line, text, state) {
  say(line, text);
  if (state !== undefined) line.dataset.state = state;
}

/** Shows `message` (`say`) in an error line, or hides the line when `message` is empty. */
export function showError(line, message) {
  say(line, message);
  line.hidden = line.textContent === '';
}

// The page's languages: which one is on show, its words (`ui()`), and putting the page's text into
// it. Fixed text in index.html names its words with `data-i18n` (text), `data-i18n-html` (a
// paragraph with inline markup, from the catalogue only), `data-i18n-title` and
// `data-i18n-label` (aria-label); text the page writes as it runs is kept as a function on its
// element (dom.js `show`, `say`), so a switch rewrites everything on show without a reload.
import { en } from './i18n/en.js';
import { zh } from './i18n/zh.js';

/** Every language the page speaks, by the code links carry (`#lang=zh`). */
export const LANGUAGES = { en, zh };

/** @type {keyof typeof LANGUAGES} */
let current = 'en';
const listeners = [];

/** The words of the language on show. */
export const ui = () => LANGUAGES[current];

/**
 * The language to show: `asked` (a link's `lang`) when the page speaks it, else the first of the
 * browser's languages (`navigator.languages`) it speaks, else English. Any Chinese tag picks
 * Simplified Chinese, the only Chinese the page has.
 * @param {string | null} asked
 * @param {readonly string[]} browserLanguages
 * @returns {keyof typeof LANGUAGES}
 */
export function chooseLanguage(asked, browserLanguages) {
  if (asked !== null && Object.hasOwn(LANGUAGES, asked)) return /** @type {keyof typeof LANGUAGES} */ (asked);
  for (const tag of browserLanguages) {
    const base = String(tag).toLowerCase().split('-')[0];
    if (Object.hasOwn(LANGUAGES, base)) return /** @type {keyof typeof LANGUAGES} */ (base);
  }
  return 'en';
}

/**
 * Shows the page in the language the address `hash` asks for (`lang`), else the browser's
 * (`chooseLanguage`); returns the one asked for when the page speaks it, else null.
 */
export function startLanguage(hash, browserLanguages, root = document) {
  const asked = new URLSearchParams(String(hash).replace(/^#/, '')).get('lang');
  setLanguage(chooseLanguage(asked, browserLanguages), root);
  return asked !== null && Object.hasOwn(LANGUAGES, asked) ? asked : null;
}

/** Fills the menu `select` with every language, each named in itself; `onChoose(code)` on a change. */
export function wireLanguageMenu(select, onChoose) {
  for (const [code, words] of Object.entries(LANGUAGES)) select.append(new Option(words.language.name, code));
  select.value = current;
  select.addEventListener('change', () => onChoose(select.value));
}

/** The words at `path` (`"html.lede"`, `"form.distilProblems.0"`) in `words`; throws when there are none. */
export function wordsAt(words, path) {
  const found = path.split('.').reduce((node, key) => (node === undefined || node === null ? undefined : node[key]), words);
  if (typeof found !== 'string') throw new Error(`no words at "${path}"`);
  return found;
}

/** Calls `listener()` after every switch of language (to redraw what is not kept as text). */
export function onLanguage(listener) {
  listeners.push(listener);
}

/** Shows the page in `code`: the document's words, every kept text, then the listeners' redraws. */
export function setLanguage(code, root = document) {
  current = code;
  root.documentElement.lang = code === 'zh' ? 'zh-CN' : 'en';
  root.title = ui().title;
  relabel(root);
  for (const listener of listeners) listener();
}

/** Puts `root`'s fixed text and its kept texts into the language on show. */
function relabel(root = document) {
  const words = ui();
  const at = (node, attribute) => wordsAt(words, node.getAttribute(attribute));
  for (const node of root.querySelectorAll('[data-i18n]')) node.textContent = at(node, 'data-i18n');
  // Only the catalogue's own paragraphs go in as markup; nothing a person or the Worker wrote.
  for (const node of root.querySelectorAll('[data-i18n-html]')) node.innerHTML = at(node, 'data-i18n-html');
  for (const node of root.querySelectorAll('[data-i18n-title]')) node.setAttribute('title', at(node, 'data-i18n-title'));
  for (const node of root.querySelectorAll('[data-i18n-label]')) node.setAttribute('aria-label', at(node, 'data-i18n-label'));
  for (const node of root.querySelectorAll('[data-live]')) /** @type {any} */ (node).relabel?.();
}

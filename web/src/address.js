// The page's address: the run's settings (settings.js), the backend it forces and the language the
// person chose, so a link reproduces a run in a language. The page writes the address of the run
// on show; an address edited by hand or a link followed later asks for a new run, a new language,
// or (a backend) a reload.
import { $ } from './dom.js';
import { chooseLanguage, setLanguage, startLanguage, wireLanguageMenu } from './i18n.js';
import { parseHash, toHash } from './settings.js';

export class Address {
  /** Reads the address the page was opened with, and shows the page in the language it asks for. */
  constructor() {
    const browserLanguages = navigator.languages ?? [];
    /** The language the address names (a link's or the person's choice), or null: the browser's. */
    this.language = startLanguage(location.hash, browserLanguages);
    this.browserLanguages = browserLanguages;
    /** `{settings, backend, lang, errors}` of the address as opened. */
    this.opened = parseHash(location.hash);
    /** The backend the address forces: the Worker's, for its whole life. */
    this.backend = this.opened.backend;
    /** The address this page wrote last, or null. */
    this.written = null;
  }

  /** The address of a run of `settings`, with the backend and language on show. */
  for(settings) {
    return toHash(settings, this.backend, this.language);
  }

  /** Shows the address of a run of `settings`, unless it is on show already. */
  write(settings) {
    this.written = this.for(settings);
    if (location.hash !== this.written) history.replaceState(null, '', this.written);
  }

  /** Shows again the address this page wrote last (after a refused edit). */
  restore() {
    if (location.hash !== this.written) history.replaceState(null, '', this.written);
  }

  /** Shows the page in the language `code` asks for (null: the browser's), and says it in the menu. */
  showLanguage(code) {
    this.language = code;
    const shown = chooseLanguage(code, this.browserLanguages);
    setLanguage(shown);
    $('#lang').value = shown;
  }

  /**
   * Follows the address as the person changes it: the language menu and an address edited by
   * hand. `settings()` are the settings of the run on show; `configure(settings, errors)` asks for
   * a run of other settings, `errors` naming what the address had wrong.
   */
  wire(settings, configure) {
    wireLanguageMenu($('#lang'), (code) => {
      this.showLanguage(code);
      this.write(settings());
    });
    window.addEventListener('hashchange', () => {
      if (location.hash === this.written) return;
      const parsed = parseHash(location.hash);
      if (parsed.backend !== this.backend) {
        location.reload(); // the backend is chosen once per Worker
        return;
      }
      if (parsed.lang !== this.language) this.showLanguage(parsed.lang);
      // An address that changes only the language leaves the run as it is.
      if (parsed.errors.length === 0 && toHash(parsed.settings) === toHash(settings())) this.write(settings());
      else configure(parsed.settings, parsed.errors);
    });
  }
}

// The list of runs saved on this machine: each with its preset, steps and time, a Resume and a
// Delete button. The Worker sends the list (`savedRuns`); this only draws it and reports clicks.
import { el } from './feed.js';
import { runName } from './format.js';
import { ui } from './i18n.js';

export const savedAt = (iso) =>
  new Date(iso).toLocaleTimeString(ui().language.locale, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const savedDay = (iso) => new Date(iso).toLocaleDateString(ui().language.locale, { day: 'numeric', month: 'short' });

/** "tiny, 2 steps, saved 6 Dec at 10:00:01": a saved run as the list names it. */
export function describeSavedRun({ steps, saved_at: at, page }) {
  return ui().saved.run(runName(page), steps, savedDay(at), savedAt(at));
}

export class SavedRunsView {
  /** `section` is shown while the list has entries; `onResume(id)` and `onDelete(id)` are called on clicks. */
  constructor(section, list, { onResume, onDelete }) {
    this.section = section;
    this.list = list;
    this.onResume = onResume;
    this.onDelete = onDelete;
  }

  /** Draws `runs` (`{id, steps, saved_at, page, open}`, newest first) and `damaged` (`{id, message}`). */
  show(runs, damaged) {
    const items = runs.map((saved) => {
      const resume = el('button', 'resume-run', () => ui().button.resume);
      resume.type = 'button';
      resume.disabled = saved.open;
      if (saved.open) resume.dataset.open = 'true';
      resume.addEventListener('click', () => this.onResume(saved.id));
      return this.item(saved.id, () => `${describeSavedRun(saved)}${saved.open ? ui().saved.openElsewhere : ''}`, resume);
    });
    for (const { id, message } of damaged) items.push(this.item(id, () => message.replace(/^the saved run/, ui().saved.damaged)));
    this.list.replaceChildren(...items);
    this.section.hidden = items.length === 0;
  }

  item(id, text, ...buttons) {
    const remove = el('button', 'delete-run', () => ui().button.delete);
    remove.type = 'button';
    remove.addEventListener('click', () => {
      remove.disabled = true;
      this.onDelete(id);
    });
    const item = el('li');
    item.dataset.run = id;
    item.append(el('span', null, text), ' ', ...buttons, ' ', remove);
    return item;
  }

  /** Disables every Resume button while a resume is under way (or enables them again). */
  setBusy(busy) {
    for (const button of this.list.querySelectorAll('.resume-run')) {
      button.disabled = busy || button.dataset.open === 'true';
    }
  }
}

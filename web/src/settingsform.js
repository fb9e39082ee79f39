// The run's settings form: the preset menu and one field per GRPO knob (settings.js), filled from
// the settings on show and read back into settings, naming the first bad value.
import { say, sayAttributes } from './dom.js';
import { ui } from './i18n.js';
import { KNOBS, PRESETS, readKnob } from './settings.js';

export class SettingsForm {
  /** Builds the preset menu into `presetSelect` and the knobs' fields into `knobsBox`. */
  constructor(presetSelect, knobsBox) {
    this.presetSelect = presetSelect;
    for (const name of Object.keys(PRESETS)) {
      const option = new Option('', name);
      sayAttributes(option, () => (option.text = ui().presets.label[name]));
      presetSelect.append(option);
    }
    this.inputs = new Map();
    for (const knob of KNOBS) {
      const label = document.createElement('label');
      const name = document.createElement('span');
      label.append(name, ' ');
      let input;
      if (knob.kind === 'choice') {
        input = document.createElement('select');
        for (const choice of knob.choices) input.append(new Option(choice, choice));
      } else {
        input = document.createElement('input');
        input.inputMode = 'decimal';
        input.size = 8;
      }
      input.name = knob.name;
      sayAttributes(label, () => {
        const help = ui().knobs.help[knob.name];
        name.textContent = ui().knobs.label[knob.name];
        label.title = help;
        input.setAttribute('aria-description', help);
      });
      label.append(input);
      knobsBox.append(label);
      this.inputs.set(knob.name, input);
    }
    /** Each GRPO preset's knob values, by GRPO preset name, from Rust (`showPresets`). */
    this.presetValues = {};
    // A new preset starts from its own values: the fields empty, each showing the preset's value
    // as its placeholder until the reset.
    presetSelect.addEventListener('change', () => {
      for (const input of this.inputs.values()) input.value = '';
      this.#showPlaceholders();
    });
  }

  /**
   * Keeps `presets` (each GRPO preset's RunConfig, by name, as the Worker reports them) to show the
   * chosen preset's values as placeholders.
   * @param {Record<string, import('./types/boundary').RunConfig>} presets
   */
  showPresets(presets) {
    this.presetValues = Object.fromEntries(Object.entries(presets).map(([name, config]) => [name, config.grpo]));
    this.#showPlaceholders();
  }

  #showPlaceholders() {
    const values = this.presetValues[PRESETS[this.presetSelect.value]?.grpo] ?? {};
    for (const [name, input] of this.inputs) input.placeholder = values[name] === undefined ? '' : String(values[name]);
  }

  /** The knob values `run` (`{settings, config}` or null) ran with, for a form on `preset`. */
  static effective(run, preset) {
    return run?.settings.preset === preset ? run.config.grpo : {};
  }

  /** Shows `settings` in the form; knobs not set show the values `run` runs with. */
  fill(settings, run) {
    this.presetSelect.value = settings.preset;
    const effective = SettingsForm.effective(run, settings.preset);
    for (const [name, input] of this.inputs) input.value = String(settings[name] ?? effective[name] ?? '');
    this.#showPlaceholders();
  }

  /** Reads the form into new settings, or throws an Error naming the first bad knob. */
  read(run) {
    const next = { preset: this.presetSelect.value };
    const effective = SettingsForm.effective(run, next.preset);
    for (const [name, input] of this.inputs) {
      if (input.value.trim() === '' || input.value === String(effective[name])) continue;
      next[name] = readKnob(name, input.value);
    }
    return next;
  }
}

/**
 * Wires *Copy link*: `button` copies the address of the run on show (`hash()`, the settings the
 * Worker accepted), or says to copy the address bar where the clipboard is refused.
 */
export function wireCopyLink(button, hash) {
  button.addEventListener('click', async () => {
    const link = new URL(hash(), location.href).href;
    try {
      await navigator.clipboard.writeText(link);
      say(button, () => ui().button.linkCopied);
    } catch {
      say(button, () => ui().button.copyAddressBar);
    }
    setTimeout(() => say(button, () => ui().button.copyLink), 2000);
  });
}

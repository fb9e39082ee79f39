// A run's settings live in the URL hash, so a link reproduces the run: `#preset=tiny&seed=3&beta=0`.
// Only the knobs a person changed are written; the Worker applies them to the preset (in Rust,
// where the ranges are checked) and refuses bad values with a message, changing nothing.
import { LANGUAGES, ui } from './i18n.js';
import { BACKEND_PREFERENCES } from './protocol.js';

/**
 * The page's presets: a GRPO preset (`grpo`, the name aha-train's `RunConfig::named` knows) on a
 * base model (`model`). The page's `ablation` is the GRPO `default` on the no-check base model.
 * Their names and labels are words of the page's language (`ui().presets`); labels name no knob
 * values: the form shows each knob's value as Rust's preset has it.
 */
export const PRESETS = {
  default: { grpo: 'default', model: 'base-model/' },
  ablation: { grpo: 'default', model: 'base-model-no-check/' },
  tiny: { grpo: 'tiny', model: 'base-model/' },
};

/**
 * The largest `usize` on wasm32. The Worker checks each knob's real bounds and names the knob; a
 * larger number would not reach it (serde refuses it without saying which knob), so it stops here.
 */
const USIZE_MAX_WASM32 = 2 ** 32 - 1;

/**
 * GRPO knobs with TRL's names (links carry these) and how to read them; each one's label and
 * one-line explanation are words of the page's language (`ui().knobs`).
 */
export const KNOBS = [
  { name: 'seed', kind: 'integer' },
  { name: 'num_generations', kind: 'integer', max: USIZE_MAX_WASM32 },
  { name: 'prompts_per_step', kind: 'integer', max: USIZE_MAX_WASM32 },
  { name: 'learning_rate', kind: 'number' },
  { name: 'beta', kind: 'number' },
  { name: 'epsilon', kind: 'number' },
  { name: 'loss_type', kind: 'choice', choices: ['grpo', 'dr_grpo', 'dapo'] },
  { name: 'temperature', kind: 'number' },
  { name: 'max_completion_length', kind: 'integer', max: USIZE_MAX_WASM32 },
];

const KNOB_NAMES = new Set(KNOBS.map((k) => k.name));

/** Reads one knob's text; throws an Error naming the knob when the text is not a value of its kind. */
export function readKnob(name, text) {
  const knob = KNOBS.find((k) => k.name === name);
  const words = ui().settings;
  if (!knob) throw new Error(words.unknownSetting(name));
  const value = String(text).trim();
  if (knob.kind === 'choice') {
    if (!knob.choices.includes(value)) {
      throw new Error(words.oneOf(name, knob.choices.join(', '), value));
    }
    return value;
  }
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(value)) {
    throw new Error(words.number(name, value));
  }
  const number = Number(value);
  if (knob.kind === 'integer' && (!Number.isSafeInteger(number) || number < 0)) {
    throw new Error(words.whole(name, value));
  }
  if (knob.max !== undefined && number > knob.max) {
    throw new Error(words.tooLarge(name, value));
  }
  return number;
}

/** The backends a link may ask for (`auto`, the default, is left out of links). */
const BACKENDS = BACKEND_PREFERENCES.filter((backend) => backend !== 'auto');

/**
 * Parses a URL hash into `{settings, backend, lang, errors}`. `settings` is `{preset, ...knobs}` for the
 * Worker; anything wrong is left out and named in `errors`, so a bad link still opens a working page.
 * `backend` is `auto` (the Worker picks: the faster of the CPU and a real adapter, measured at load;
 * the CPU where the only adapter is a software one), `webgpu` or `cpu` (forced), or `measure`
 * (measure even a software adapter against the CPU). `lang` is the language the link asks for, or
 * null.
 */
export function parseHash(hash) {
  const params = new URLSearchParams(String(hash ?? '').replace(/^#/, ''));
  const settings = { preset: 'default' };
  const errors = [];
  /** @type {'auto' | 'webgpu' | 'cpu' | 'measure'} */
  let backend = 'auto';
  let lang = null;
  const words = ui().settings;
  for (const [key, value] of params) {
    if (key === 'preset') {
      if (Object.hasOwn(PRESETS, value)) settings.preset = value;
      else errors.push(words.unknownPreset(value, Object.keys(PRESETS).join(', ')));
    } else if (key === 'backend') {
      if (BACKENDS.includes(value)) backend = /** @type {'webgpu' | 'cpu' | 'measure'} */ (value);
      else errors.push(words.badBackend(BACKENDS.join(', '), value));
    } else if (key === 'lang') {
      if (Object.hasOwn(LANGUAGES, value)) lang = value;
      else errors.push(words.badLanguage(Object.keys(LANGUAGES).join(', '), value));
    } else if (KNOB_NAMES.has(key)) {
      try {
        settings[key] = readKnob(key, value);
      } catch (error) {
        errors.push(error.message);
      }
    } else {
      errors.push(words.unknownSetting(key));
    }
  }
  return { settings, backend, lang, errors };
}

/**
 * The hash for `settings` (preset first, then knobs in a fixed order), a forced `backend` and a
 * chosen language `lang` (null: the browser's, left out of the link).
 */
export function toHash(settings, backend = 'auto', lang = null) {
  const params = new URLSearchParams();
  params.set('preset', settings.preset);
  for (const { name } of KNOBS) {
    if (settings[name] !== undefined) params.set(name, String(settings[name]));
  }
  if (BACKENDS.includes(backend)) params.set('backend', backend);
  if (lang !== null) params.set('lang', lang);
  return `#${params}`;
}

/** The Worker's view of the settings: the GRPO preset's name instead of the page preset's. */
export function runSettings(settings) {
  return { ...settings, preset: PRESETS[settings.preset].grpo };
}

/**
 * The options the base model form asks for: `recipe`, the SFT steps (3 to 2,600, the recipe's
 * own count) and the seed; or an error naming the bad one.
 */
export function readPretrainOptions(recipe, stepsText, seedText) {
  const words = ui().pretrain;
  const steps = Number(stepsText);
  if (stepsText.trim() === '' || !Number.isInteger(steps) || steps < 3 || steps > 2600) {
    throw new Error(words.badSteps(3, 2600, JSON.stringify(stepsText)));
  }
  const seed = Number(seedText);
  if (seedText.trim() === '' || !Number.isSafeInteger(seed) || seed < 0) throw new Error(words.badSeed(JSON.stringify(seedText)));
  return { recipe, steps, seed };
}

/** The options the form asks for, each a whole number in its range, or an error naming it. */
export function readDistilOptions(problemsText, stepsText) {
  const whole = (text, name, max) => {
    const value = Number(text);
    if (text.trim() === '' || !Number.isInteger(value) || value < 1 || value > max) {
      throw new Error(ui().distil.badNumber(name, max, JSON.stringify(text)));
    }
    return value;
  };
  const words = ui().distil;
  return { problems: whole(problemsText, words.problems, 4096), steps: whole(stepsText, words.updates, 1200) };
}

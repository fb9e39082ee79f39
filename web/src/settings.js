// A run's settings live in the URL hash, so a link reproduces the run: `#preset=tiny&seed=3&beta=0`.
// Only the knobs a person changed are written; the Worker applies them to the preset (in Rust,
// where the ranges are checked) and refuses bad values with a message, changing nothing.
import { BACKEND_PREFERENCES } from './protocol.js';

/**
 * The page's presets: a GRPO preset (`grpo`, the name aha-train's `RunConfig::named` knows) on a
 * base model (`model`). The page's `ablation` is the GRPO `default` on the no-check base model.
 * Labels name no knob values: the form shows each knob's value as Rust's preset has it.
 */
export const PRESETS = {
  default: {
    grpo: 'default',
    model: 'base-model/',
    label: 'default — the measured run, on the shipped base model',
  },
  ablation: {
    grpo: 'default',
    model: 'base-model-no-check/',
    label: 'ablation — the same, on a base model that never saw a check',
  },
  tiny: {
    grpo: 'tiny',
    model: 'base-model/',
    label: 'tiny — fewer, smaller groups: fast, for a first look',
  },
};

/**
 * The largest `usize` on wasm32. The Worker checks each knob's real bounds and names the knob; a
 * larger number would not reach it (serde refuses it without saying which knob), so it stops here.
 */
const USIZE_MAX_WASM32 = 2 ** 32 - 1;

/** GRPO knobs with TRL's names, how to read them, and a one-line explanation for the tooltip. */
export const KNOBS = [
  { name: 'seed', kind: 'integer', help: 'Seeds the problems and the sampling: the same seed and preset give the same run.' },
  { name: 'num_generations', label: 'G', kind: 'integer', max: USIZE_MAX_WASM32, help: 'G: answers sampled per problem. Advantages compare answers within a group.' },
  { name: 'prompts_per_step', label: 'B', kind: 'integer', max: USIZE_MAX_WASM32, help: 'B: problems per step.' },
  { name: 'learning_rate', label: 'lr', kind: 'number', help: 'Adam learning rate (after a short warmup).' },
  { name: 'beta', kind: 'number', help: 'Weight of the KL penalty to the base model; 0 turns it off (as in R1-Zero-style recipes).' },
  { name: 'epsilon', kind: 'number', help: 'PPO clip range: how far one update may move a token’s probability ratio from 1.' },
  { name: 'loss_type', kind: 'choice', choices: ['grpo', 'dr_grpo', 'dapo'], help: 'How token losses are averaged: per answer (grpo), over a fixed length (dr_grpo), over all tokens (dapo).' },
  { name: 'temperature', kind: 'number', help: 'Sampling temperature of the rollouts.' },
  { name: 'max_completion_length', label: 'max length', kind: 'integer', max: USIZE_MAX_WASM32, help: 'Longest answer in tokens (characters).' },
];

const KNOB_NAMES = new Set(KNOBS.map((k) => k.name));

/** Reads one knob's text; throws an Error naming the knob when the text is not a value of its kind. */
export function readKnob(name, text) {
  const knob = KNOBS.find((k) => k.name === name);
  if (!knob) throw new Error(`unknown setting "${name}"`);
  const value = String(text).trim();
  if (knob.kind === 'choice') {
    if (!knob.choices.includes(value)) {
      throw new Error(`${name} must be one of ${knob.choices.join(', ')}, got "${value}"`);
    }
    return value;
  }
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(value)) {
    throw new Error(`${name} must be a number, got "${value}"`);
  }
  const number = Number(value);
  if (knob.kind === 'integer' && (!Number.isSafeInteger(number) || number < 0)) {
    throw new Error(`${name} must be a whole number ≥ 0, got "${value}"`);
  }
  if (knob.max !== undefined && number > knob.max) {
    throw new Error(`${name} is far too large, got "${value}"`);
  }
  return number;
}

/** The backends a link may ask for (`auto`, the default, is left out of links). */
const BACKENDS = BACKEND_PREFERENCES.filter((backend) => backend !== 'auto');

/**
 * Parses a URL hash into `{settings, backend, errors}`. `settings` is `{preset, ...knobs}` for the
 * Worker; anything wrong is left out and named in `errors`, so a bad link still opens a working page.
 * `backend` is `auto` (the Worker picks: the faster of the CPU and a real adapter, measured at load;
 * the CPU where the only adapter is a software one), `webgpu` or `cpu` (forced), or `measure`
 * (measure even a software adapter against the CPU).
 */
export function parseHash(hash) {
  const params = new URLSearchParams(String(hash ?? '').replace(/^#/, ''));
  const settings = { preset: 'default' };
  const errors = [];
  /** @type {'auto' | 'webgpu' | 'cpu' | 'measure'} */
  let backend = 'auto';
  for (const [key, value] of params) {
    if (key === 'preset') {
      if (Object.hasOwn(PRESETS, value)) settings.preset = value;
      else errors.push(`unknown preset "${value}"; choose one of ${Object.keys(PRESETS).join(', ')}`);
    } else if (key === 'backend') {
      if (BACKENDS.includes(value)) backend = /** @type {'webgpu' | 'cpu' | 'measure'} */ (value);
      else errors.push(`backend must be ${BACKENDS.join(', ')}, got "${value}"`);
    } else if (KNOB_NAMES.has(key)) {
      try {
        settings[key] = readKnob(key, value);
      } catch (error) {
        errors.push(error.message);
      }
    } else {
      errors.push(`unknown setting "${key}"`);
    }
  }
  return { settings, backend, errors };
}

/** The hash for `settings` (preset first, then knobs in a fixed order) and a forced `backend`. */
export function toHash(settings, backend = 'auto') {
  const params = new URLSearchParams();
  params.set('preset', settings.preset);
  for (const { name } of KNOBS) {
    if (settings[name] !== undefined) params.set(name, String(settings[name]));
  }
  if (BACKENDS.includes(backend)) params.set('backend', backend);
  return `#${params}`;
}

/** The Worker's view of the settings: the GRPO preset's name instead of the page preset's. */
export function runSettings(settings) {
  return { ...settings, preset: PRESETS[settings.preset].grpo };
}

/** The options the form asks for, each a whole number in its range, or an error naming it. */
export function readDistilOptions(problemsText, stepsText) {
  const whole = (text, name, max) => {
    const value = Number(text);
    if (text.trim() === '' || !Number.isInteger(value) || value < 1 || value > max) {
      throw new Error(`${name} must be a whole number from 1 to ${max}, got ${JSON.stringify(text)}`);
    }
    return value;
  };
  return { problems: whole(problemsText, 'problems', 4096), steps: whole(stepsText, 'student updates', 1200) };
}

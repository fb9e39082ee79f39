// Turns Worker reports into the words the page shows, in the page's language.
import { ui } from './i18n.js';
import { IMPORTED, MADE_HERE } from './record.js';

/**
 * The backend line: which device trains the model, and why. `why` (`{key, ...values}`) names the
 * Worker's reason among `ui().backend.why`; any other key (a reason from the wasm, such as WebGPU
 * failing to start) shows the backend's own `reason` as it is.
 */
export function describeBackend(backend, why = { key: 'own' }) {
  const words = ui().backend;
  const reason = Object.hasOwn(words.why, why.key) ? words.why[why.key](why) : backend.reason;
  if (backend.kind === 'webgpu') return words.webgpu(backend.adapter, backend.fallback_adapter, reason);
  if (backend.kind === 'cpu') return words.cpu(reason);
  return words.unknown(JSON.stringify(backend.kind));
}

/** What a run trains on, in words: `spec` is the run's `ProblemSpec` (`{op, a_digits, b_digits}`). */
export const describeTask = (spec) => ui().task.describe(spec);

/**
 * One line about a finished answer: right or wrong, whether the model checked its guess, and
 * whether the problem is outside `task` (what the run trains on, in words) or held out from
 * training.
 */
export function describeCompletion(result, task) {
  const words = ui().ask;
  const verdict = result.correct ? words.right(result.expected) : words.wrong(result.expected, result.answer);
  const check = result.checked ? words.checked : words.notChecked;
  const known = !result.in_task ? words.outside(task) : result.held_out ? words.heldOut : null;
  return [verdict, check, known].filter((part) => part !== null).join(' · ');
}

/**
 * Splits a completion into labelled parts for highlighting: `guess` (`g1745 `, and the guess
 * restated after the check's result), `check` (`c7*5=35+0=35 ... =1735 `), `verdict`
 * (`ok `/`wait `), `answer` (`a1735.`), and `other` for anything off the format. Display only: the
 * reward reads completions with the Rust parser.
 */
export function segments(completion) {
  const parts = [];
  const push = (kind, text) => {
    const last = parts[parts.length - 1];
    if (last && last.kind === kind) last.text += text;
    else parts.push({ kind, text });
  };
  let inCheck = false;
  for (const word of String(completion).match(/\S+\s*|\s+/g) ?? []) {
    const bare = word.trim();
    let kind;
    if (inCheck && (bare === 'ok' || bare === 'wait')) {
      inCheck = false;
      kind = 'verdict';
    } else if (inCheck && /^g\d/.test(bare)) {
      kind = 'guess';
    } else if (inCheck) {
      kind = 'check';
    } else if (/^g\d/.test(bare)) {
      kind = 'guess';
    } else if (bare.startsWith('c')) {
      inCheck = true;
      kind = 'check';
    } else if (/^a\d/.test(bare)) {
      kind = 'answer';
    } else {
      kind = 'other';
    }
    push(kind, word);
  }
  return parts;
}

/** A signed number with a fixed number of decimals: `+0.71`, `−1.20`, `0.00`. */
export function signed(value, decimals = 2) {
  const text = Math.abs(value).toFixed(decimals);
  if (Number(text) === 0) return (0).toFixed(decimals);
  return (value > 0 ? '+' : '−') + text;
}

/** Exponential moving average of `values` (nulls stay null and do not reset it). */
export function smooth(values, weight = 0.8) {
  let last = null;
  return values.map((v) => {
    if (v === null || v === undefined || Number.isNaN(v)) return null;
    last = last === null ? v : weight * last + (1 - weight) * v;
    return last;
  });
}

/** Rows of flat objects as CSV: a header of `columns`, then one line per row; null is empty. */
export function toCsv(rows, columns) {
  const cell = (v) => {
    if (v === null || v === undefined) return '';
    const text = String(v);
    return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  return [columns.join(','), ...rows.map((row) => columns.map((c) => cell(row[c])).join(','))].join('\n') + '\n';
}

/** The name of the run `about` (`{settings, source?}`) for people: its source, else its preset. */
export function runName(about) {
  const words = ui();
  if (about?.source === IMPORTED) return words.status.importedModel;
  if (about?.source === MADE_HERE) return words.status.madeHere;
  return about?.source ?? words.presets.name[about?.settings.preset] ?? about?.settings.preset ?? '';
}

/** "tiny · loss_type dr_grpo · 5 steps": what a run was, for the comparison's legend. */
export function describeRun(about, runTable) {
  const changed = Object.entries(about?.settings ?? {})
    .filter(([name]) => name !== 'preset')
    .map(([name, value]) => `${name} ${value}`);
  const steps = runTable.rows().filter((row) => typeof row.reward_mean === 'number').length;
  return [runName(about) || ui().status.aRun, ...changed, ui().status.steps(steps)].join(' · ');
}

/** A count of parameters as the page writes it: `47,136`. */
export const count = (value) => value.toLocaleString('en');

/** A duration in the page's language: `2 min 05 s`, `40 s`. */
export function duration(seconds) {
  const whole = Math.max(0, Math.round(seconds));
  return ui().duration(Math.floor(whole / 60), whole % 60);
}

/**
 * What the state line says of `progress` (a `PretrainProgress`) in `state` (`stepping`,
 * `measuring`, `done` or `stopped`), `now` being `{seconds, loss, stage}`: the time since the
 * steps began, the latest loss and its stage. The time left assumes the steps to come take as
 * long as those taken.
 */
export function describePretrain(progress, state, { seconds, loss, stage }) {
  const { steps_done: done, steps, stages } = progress;
  const left = done === 0 ? null : duration((seconds / done) * (steps - done));
  const at = { done, steps, stage: stage + 1, stages, loss: loss === null ? '–' : loss.toFixed(3), elapsed: duration(seconds), left };
  return ui().pretrain.progress(at, state);
}

/** Whether checking pays for a made model: its `CheckGap`s, greedy then sampled, in words. */
export function checkPays(greedy, sampled) {
  const percent = (fraction) => `${Math.round(100 * fraction)}%`;
  const gap = ({ with_check: check, without_check: answer, guess }) => ({ check: percent(check), answer: percent(answer), guess: percent(guess) });
  return ui().pretrain.pays(gap(greedy), gap(sampled), greedy.with_check - greedy.without_check >= 0.1);
}

/** What the state line says of `progress` (a `DistilProgress`) in `state`. */
export function describeDistil(progress, state) {
  const { answered, problems, kept, sampled, steps_done: done, steps, student_parameters: size } = progress;
  return ui().distil.progress({ answered, problems, kept, sampled, done, steps, size: count(size) }, state);
}

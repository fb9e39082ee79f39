// Turns Worker reports into the words the page shows.

/** The backend line: which device trains the model, and why when it is not the GPU. */
export function describeBackend(backend) {
  if (backend.kind === 'webgpu') {
    const adapter = backend.adapter ? ` on ${backend.adapter}` : '';
    const fallback = backend.fallback_adapter ? ' (software fallback adapter: slow)' : '';
    const reason = backend.reason ? ` — ${backend.reason}` : '';
    return `WebGPU${adapter}${fallback}${reason}`;
  }
  if (backend.kind === 'cpu') {
    return `CPU (WebAssembly) — ${backend.reason}`;
  }
  return `unknown backend ${JSON.stringify(backend.kind)}`;
}

/**
 * One line about a finished answer: right or wrong, whether the model checked its guess, and
 * whether the problem is outside `task` (what the run trains on, in words) or held out from
 * training.
 */
export function describeCompletion(result, task) {
  const verdict = result.correct
    ? `right (${result.expected})`
    : `wrong: the answer is ${result.expected}${result.answer ? `, it said ${result.answer}` : ', it gave no answer'}`;
  const check = result.checked ? 'it checked its guess' : 'it did not check';
  const known = !result.in_task
    ? ` · outside what this run trains on (${task}): the model never learned it`
    : result.held_out
      ? ' · a held-out problem: no training ever showed it'
      : '';
  return `${verdict} · ${check}${known}`;
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

/** "tiny · loss_type dr_grpo · 5 steps": what a run was, for the comparison's legend. */
export function describeRun(about, runTable) {
  const changed = Object.entries(about?.settings ?? {})
    .filter(([name]) => name !== 'preset')
    .map(([name, value]) => `${name} ${value}`);
  const steps = runTable.rows().filter((row) => typeof row.reward_mean === 'number').length;
  return [about?.source ?? about?.settings.preset ?? 'run', ...changed, `${steps} step${steps === 1 ? '' : 's'}`].join(' · ');
}

/** What the state line says of `progress` (a `DistilProgress`) in `state`. */
export function describeDistil(progress, state) {
  const { answered, problems, kept, sampled, steps_done: done, steps, student_parameters: size } = progress;
  const share = sampled === 0 ? '' : ` (${Math.round((100 * kept) / sampled)}%)`;
  const teacher = `the teacher kept ${kept} of ${sampled} answers${share}`;
  if (state === 'answering') return `Teacher: ${answered} of ${problems} problems answered; ${teacher}.`;
  const arms = `${done} of ${steps} updates of each student arm (${size.toLocaleString('en')} parameters)`;
  if (state === 'training') return `Training: ${arms}; ${teacher}.`;
  if (state === 'done') return `Done: ${arms}; ${teacher}.`;
  return `Stopped at ${arms}; ${teacher}.`;
}

// Turns Worker reports into the words the page shows.

/** The backend line: which device trains the model, and why when it is not the GPU. */
export function describeBackend(backend) {
  if (backend.kind === 'webgpu') {
    const adapter = backend.adapter ? ` on ${backend.adapter}` : '';
    const fallback = backend.fallback_adapter ? ' (software fallback adapter: slow)' : '';
    return `WebGPU${adapter}${fallback}`;
  }
  if (backend.kind === 'cpu') {
    return `CPU (WebAssembly) — ${backend.reason}`;
  }
  return `unknown backend ${JSON.stringify(backend.kind)}`;
}

/** Which backend the page asks for: `#backend=cpu` forces the CPU, anything else prefers WebGPU. */
export function preferredBackend(hash) {
  const params = new URLSearchParams(String(hash).replace(/^#/, ''));
  return params.get('backend') === 'cpu' ? 'cpu' : 'webgpu';
}

/** One line about a finished answer: right or wrong, and whether the model checked its guess. */
export function describeCompletion(result) {
  const verdict = result.correct
    ? `right (${result.expected})`
    : `wrong: the answer is ${result.expected}${result.answer ? `, it said ${result.answer}` : ', it gave no answer'}`;
  const check = result.checked ? 'it checked its guess' : 'it did not check';
  return `${verdict} · ${check}`;
}

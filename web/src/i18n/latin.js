// What counts as English left on a Chinese page, for the tests (i18n.test.js on the catalogue,
// language.e2e.js on the page as it runs).

/**
 * Latin words a Chinese page keeps: names (Aha, GRPO, WebGPU…), units, identifiers a person types
 * in links or reads in files, and the model's own words (`ok`, `wait`).
 */
export const KEPT_LATIN = new Set([
  'Aha', 'R1', 'Zero', 'DeepSeek', 'V3', 'GRPO', 'MoE', 'Transformer', 'WebGPU', 'WebAssembly', 'CPU', 'GPU',
  'wasm', 'Worker', 'WGSL', 'Burn', 'KL', 'PPO', 'Adam', 'NaN', 'ok', 'wait', 'ms', 'MB', 'KB', 'GFLOP', 's',
  'gzip', 'CSV', 'JSON', 'safetensors', 'model.bpk', 'config.json', 'tokenizer.json', 'cargo', 'xtask', 'bench',
  'aha', 'pretrain', 'backend', 'webgpu', 'cpu', 'navigator.gpu', 'lang', 'grpo', 'dr_grpo', 'dapo', 'G', 'B',
  'seed', 'num_generations', 'prompts_per_step', 'learning_rate', 'beta', 'epsilon', 'loss_type', 'temperature',
  'max_completion_length',
]);

/**
 * The Latin words in `text` that `KEPT_LATIN` does not keep; markup (`<b>`, `<span class=…>`) is
 * not text, and a file name (`model.bpk`) is one word.
 */
export const strayLatin = (text) =>
  (text.replace(/<[^>]*>/g, ' ').match(/[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*/g) ?? []).filter((word) => !KEPT_LATIN.has(word));

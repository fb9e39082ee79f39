// The message protocol between the page (main thread) and the Worker that owns the wasm trainer.
// Every message is a plain object `{v, kind, ...}`; `v` is the protocol version so that a page and a
// Worker from different builds refuse each other clearly instead of misreading fields.

export const PROTOCOL_VERSION = 10;

/** The backends the page may ask the Worker for (`init.prefer`); settings.js reads links by it. */
export const BACKEND_PREFERENCES = ['auto', 'webgpu', 'cpu', 'measure'];

/** Fields each message kind must carry, and their types ("object?": an object or null; "array"). */
const SCHEMA = {
  // page → worker
  /**
   * Start the backend. `prefer`: "auto" (the faster of the CPU and a real adapter, measured; the
   * CPU beside a software adapter), "webgpu", "cpu" or "measure" (measure any adapter);
   * `baseUrl`: where the model folders are.
   */
  init: { prefer: 'string', baseUrl: 'string' },
  /**
   * A new run from a base model: `settings` `{preset, ...knobs}` (GRPO preset and TRL-named knobs),
   * `model` the folder under `baseUrl`, `page` what the page needs to show the run again (kept with
   * the saved run). Refused with a reason if anything is wrong; the current run is then untouched.
   */
  configure: { id: 'number', settings: 'object', page: 'object', model: 'string' },
  /** The same, from files a person chose: `weights` (ArrayBuffer), `config`, `tokenizer` (text). */
  import: { id: 'number', settings: 'object', page: 'object', weights: 'object', config: 'string', tokenizer: 'string' },
  /**
   * Continue saved run `run` (its id in IndexedDB); answered by `resumed`, or `refused` (the run is
   * open in another tab, gone or damaged; the current run untouched).
   */
  resume: { id: 'number', run: 'string' },
  /** Delete saved run `run`; answered by `savedRuns`. */
  forget: { run: 'string' },
  /** Destroy the GPU device now, as a GPU reset would (tests and demonstrations of resuming). */
  loseDevice: {},
  /** Panic inside the wasm now, which traps (tests and demonstrations of recovering from a crash). */
  trap: {},
  /** Train step after step until `pause`. */
  train: {},
  pause: {},
  /** One step, then stop. */
  step: {},
  /** Answer `prompt` (like "347*5") with the current policy; `sampled`: temperature 1, else greedy. */
  generate: { id: 'number', prompt: 'string', sampled: 'boolean' },
  /** The current policy's files. */
  export: { id: 'number' },
  /** Which expert each token of `text` (prompt + completion) goes to, per layer. */
  route: { id: 'number', text: 'string' },
  /** The bench panel's measurements: the wasm's size as served and gzipped, the matmul peak. */
  measure: { id: 'number' },
  /**
   * Distil the current policy into the shipped student (`options`: `{problems, steps}`), beside
   * the student's own GRPO run; answered by `distilling` or `failed`, then reported by `distilled`
   * until `distilState` says it stopped. A new one replaces the one before.
   */
  distil: { id: 'number', options: 'object' },
  /** Stop the distillation after the piece of work it is doing. */
  stopDistil: {},
  /**
   * Make a base model from scratch (`options`: `{recipe, steps?, seed}`); answered by
   * `pretraining` or `failed`, then reported by `pretrained` until `pretrainState` says it
   * stopped. A new one replaces the one before.
   */
  pretrain: { id: 'number', options: 'object' },
  /** Stop making the base model after the step it is taking. */
  stopPretrain: {},
  /** The base model's files as they are; answered by `exported`. */
  exportBase: { id: 'number' },
  /** The distilled student's files; answered by `exported`. */
  exportStudent: { id: 'number' },
  // worker → page
  /**
   * `why`: the Worker's reason for the backend, `{key, ...values}` (a key of i18n's
   * `backend.why`, or `own`: the backend's own reason from the wasm), for the page to say in its
   * language; `build`: `{simd128, cpu_threads}` of the wasm; `presets`: each GRPO preset's
   * RunConfig, by name.
   */
  ready: { backend: 'object', why: 'object', selfTest: 'number', build: 'object', presets: 'object' },
  /** Run `id` is ready at step 0: the model's size and the whole run configuration. */
  configured: { id: 'number', parameters: 'number', task: 'string', run: 'object' },
  /** Run `id` continues a saved run: as `configured`, plus `page`, the `log` of its reports
   * (`{kind: 'evaluated', row}` and `{kind: 'stepped', report}`, oldest first) and its `steps`. */
  resumed: { id: 'number', parameters: 'number', task: 'string', run: 'object', page: 'object', log: 'array', steps: 'number' },
  /**
   * The saved runs other than the one open here, newest first: `runs` of `{id, steps, saved_at,
   * page, open}` (`open`: another tab has it open), `damaged` of `{id, message}`.
   */
  savedRuns: { runs: 'array', damaged: 'array' },
  /** The current run (id `run`) was saved at `steps`. */
  saved: { steps: 'number', saved_at: 'string', run: 'string' },
  /**
   * Storage refused to save the current run at `steps` (a full quota, say); training goes on.
   * `savedSteps`: the steps of its last save, -1 if none.
   */
  unsaved: { steps: 'number', savedSteps: 'number', message: 'string' },
  /**
   * This Worker can compute no more; training stopped. `cause`: "gpu" (the device was lost) or
   * "trap" (the wasm trapped). `steps`: the current run's last save, -1 if none; `run`: its id
   * ('' before any run). The page resumes or resets in a fresh Worker.
   */
  lost: { cause: 'string', message: 'string', steps: 'number', run: 'string' },
  /** Run `id` was refused; the message says why. The current run is untouched. */
  refused: { id: 'number', message: 'string' },
  /** Training is running or paused; `steps` done so far. */
  state: { running: 'boolean', steps: 'number' },
  /** A held-out evaluation `{step, sampled_acc, greedy_acc, first_guess_acc, check_rate, ...}`
   * and how long it took (`ms`). */
  evaluated: { row: 'object', ms: 'number' },
  /**
   * One GRPO step: `{metrics, group, corrections, expert_load, eval}`, and the Worker's memory
   * after it: `{wasm_heap_bytes, device}`, `device` being the GPU pools'
   * `{allocations, bytes_in_use, bytes_reserved}` (null on the CPU).
   */
  stepped: { report: 'object', memory: 'object' },
  /** Measure request `id`: `download` is `{raw_bytes, gzip_bytes}`; `peak` the matmul peak
   * `{shape, repeats, gflops, max_relative_error}` at the run's update shape (null on the CPU). */
  measured: { id: 'number', download: 'object', peak: 'object?' },
  /** One sampled token of request `id`. */
  token: { id: 'number', text: 'string' },
  /** Request `id` finished: `{prompt, completion, answer, expected, correct, checked, ...}`. */
  completion: { id: 'number', result: 'object' },
  /** Request `id` was refused or failed; the message says why. Nothing else changed. */
  failed: { id: 'number', message: 'string' },
  /** Export `id`: `{safetensors, weights, config, tokenizer}`. */
  exported: { id: 'number', files: 'object' },
  /** Route request `id`: `{tokens, experts}` with `experts[layer][token]`. */
  routed: { id: 'number', routes: 'object' },
  /** Distillation `id` is made: `progress` as `distilled`'s. */
  distilling: { id: 'number', progress: 'object' },
  /**
   * One piece of the distillation: `update` (`{phase: 'answered', kept, sampled}`, `{phase:
   * 'started', eval}` or `{phase: 'stepped', step, distil_loss, own_reward, eval}`) and where it
   * stands, `progress`.
   */
  distilled: { update: 'object', progress: 'object' },
  /** The distillation stopped: finished (`progress.done`), stopped, or failed (`message`, else ''). */
  distilState: { progress: 'object', message: 'string' },
  /** Base model `id` is started: `progress` as `pretrained`'s. */
  pretraining: { id: 'number', progress: 'object' },
  /**
   * One piece of the base model: `update` (`{phase: 'stepped', steps}` or `{phase: 'measured',
   * gaps}`) and where it stands (`progress`).
   */
  pretrained: { update: 'object', progress: 'object' },
  /** The base model stopped: made (`progress.done`), stopped, or failed (`message`, else ''). */
  pretrainState: { progress: 'object', message: 'string' },
  /** The Worker or the run failed (backend did not start, a step failed); training stopped. */
  error: { message: 'string' },
};

/**
 * The payload of each kind of message, typed with the Rust types they carry (types/boundary.d.ts,
 * generated from aha-train and aha-web): `tsc` checks the page's uses of them (web/tsconfig.json).
 * SCHEMA above is the run-time check of the same messages.
 *
 * @typedef {import('./types/boundary').RunConfig} RunConfig
 * @typedef {import('./types/boundary').RunSettings} RunSettings
 * @typedef {import('./types/boundary').StepReport} StepReport
 * @typedef {import('./types/boundary').EvalRow} EvalRow
 * @typedef {import('./types/boundary').Completion} Completion
 * @typedef {import('./types/boundary').Routes} Routes
 * @typedef {import('./types/boundary').BackendInfo} BackendInfo
 * @typedef {import('./types/boundary').DistilOptions} DistilOptions
 * @typedef {import('./types/boundary').DistilProgress} DistilProgress
 * @typedef {import('./types/boundary').DistilUpdate} DistilUpdate
 * @typedef {import('./types/boundary').PretrainOptions} PretrainOptions
 * @typedef {import('./types/boundary').PretrainProgress} PretrainProgress
 * @typedef {import('./types/boundary').PretrainUpdate} PretrainUpdate
 * @typedef {{key: string, [value: string]: string | number}} BackendWhy
 * @typedef {{safetensors: Uint8Array, weights: Uint8Array, config: string, tokenizer: string}} ModelFiles
 * @typedef {{settings: {preset: string, [knob: string]: unknown}, source?: string}} PageRecord
 * @typedef {{
 *   init: {prefer: 'auto' | 'webgpu' | 'cpu' | 'measure', baseUrl: string},
 *   configure: {id: number, settings: RunSettings, page: PageRecord, model: string},
 *   import: {id: number, settings: RunSettings, page: PageRecord, weights: ArrayBuffer, config: string, tokenizer: string},
 *   resume: {id: number, run: string},
 *   forget: {run: string},
 *   loseDevice: {},
 *   trap: {},
 *   train: {},
 *   pause: {},
 *   step: {},
 *   generate: {id: number, prompt: string, sampled: boolean},
 *   export: {id: number},
 *   route: {id: number, text: string},
 *   measure: {id: number},
 *   distil: {id: number, options: DistilOptions},
 *   stopDistil: {},
 *   exportStudent: {id: number},
 *   pretrain: {id: number, options: PretrainOptions},
 *   stopPretrain: {},
 *   exportBase: {id: number},
 *   ready: {backend: BackendInfo, why: BackendWhy, selfTest: number, build: {simd128: boolean, cpu_threads: number}, presets: Record<string, RunConfig>},
 *   configured: {id: number, parameters: number, task: string, run: RunConfig},
 *   resumed: {id: number, parameters: number, task: string, run: RunConfig, page: PageRecord, log: Array<{kind: 'evaluated', row: EvalRow} | {kind: 'stepped', report: StepReport}>, steps: number},
 *   savedRuns: {runs: Array<{id: string, steps: number, saved_at: string, page: PageRecord, open: boolean}>, damaged: Array<{id: string, message: string}>},
 *   saved: {steps: number, saved_at: string, run: string},
 *   unsaved: {steps: number, savedSteps: number, message: string},
 *   lost: {cause: 'gpu' | 'trap', message: string, steps: number, run: string},
 *   refused: {id: number, message: string},
 *   state: {running: boolean, steps: number},
 *   evaluated: {row: EvalRow, ms: number},
 *   stepped: {report: StepReport, memory: {wasm_heap_bytes: number, device: {allocations: number, bytes_in_use: number, bytes_reserved: number} | null}},
 *   measured: {id: number, download: {raw_bytes: number, gzip_bytes: number}, peak: {shape: number[], repeats: number, gflops: number, max_relative_error: number, burn_gflops?: number} | null},
 *   token: {id: number, text: string},
 *   completion: {id: number, result: Completion},
 *   failed: {id: number, message: string},
 *   exported: {id: number, files: ModelFiles},
 *   routed: {id: number, routes: Routes},
 *   distilling: {id: number, progress: DistilProgress},
 *   distilled: {update: DistilUpdate, progress: DistilProgress},
 *   distilState: {progress: DistilProgress, message: string},
 *   pretraining: {id: number, progress: PretrainProgress},
 *   pretrained: {update: PretrainUpdate, progress: PretrainProgress},
 *   pretrainState: {progress: PretrainProgress, message: string},
 *   error: {message: string},
 * }} Payloads
 */

/**
 * A message of kind `K`.
 * @template {keyof Payloads} K
 * @typedef {{v: number, kind: K} & Payloads[K]} Message
 */

/**
 * Handlers of some kinds of message, each given its own kind's type.
 * @typedef {{[K in keyof Payloads]?: (message: Message<K>) => void}} Handlers
 */

/** The kinds of message and the fields each must carry, for tests and tools (read-only). */
export const MESSAGE_FIELDS = Object.freeze(SCHEMA);

export class ProtocolError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/**
 * Builds a message of `kind`, checking its fields.
 * @template {keyof Payloads} K
 * @param {K} kind
 * @param {Payloads[K]} [fields]
 * @returns {Message<K>}
 */
export function makeMessage(kind, fields) {
  return /** @type {Message<K>} */ (checkMessage({ v: PROTOCOL_VERSION, kind, ...(fields ?? {}) }));
}

/**
 * Returns `data` if it is a valid message of this protocol version, else throws ProtocolError.
 * @param {any} data
 * @returns {Message<keyof Payloads>}
 */
export function checkMessage(data) {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new ProtocolError('a message must be an object');
  }
  if (data.v !== PROTOCOL_VERSION) {
    throw new ProtocolError(`protocol version ${data.v} is not ${PROTOCOL_VERSION}: reload the page`);
  }
  // Own kinds only: `toString` and the like are on every object's prototype.
  const schema = Object.hasOwn(SCHEMA, data.kind) ? SCHEMA[data.kind] : undefined;
  if (!schema) {
    throw new ProtocolError(`unknown message kind ${JSON.stringify(data.kind)}`);
  }
  for (const [field, type] of Object.entries(schema)) {
    const value = data[field];
    const actual = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
    if (actual !== type && !(type === 'object?' && (actual === 'object' || actual === 'null'))) {
      throw new ProtocolError(`${data.kind}.${field} must be a ${type}, got ${actual}`);
    }
  }
  if (data.kind === 'init' && !BACKEND_PREFERENCES.includes(data.prefer)) {
    throw new ProtocolError(
      `init.prefer must be "auto", "webgpu", "cpu" or "measure", got ${JSON.stringify(data.prefer)}`,
    );
  }
  return data;
}

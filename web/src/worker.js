// The Worker owns the wasm module, the compute device and the GRPO run; the page only draws what it
// reports. Every request and every training step runs through one queue, in order, so a prompt or
// an export asked for mid-training is answered between two steps.
//
// The run is saved to IndexedDB (store.js) every CHECKPOINT_EVERY steps, after a single step and
// when training pauses; if the GPU is lost the page starts a fresh Worker and resumes from there.
import init, { Backend, Trainer } from './pkg/aha_web.js';
import { checkMessage, makeMessage } from './protocol.js';
import { describeSaved, forgetRun, loadRun, saveRun } from './store.js';

/** Steps between automatic saves while training runs. */
const CHECKPOINT_EVERY = 10;
/** Timed products of the bench panel's matmul peak (after one warm-up). */
const PEAK_REPEATS = 10;

let wasm = null;
let backend = null;
let baseUrl = null;
let trainer = null;
/** Set once the current run's step-0 evaluation is done. */
let baselined = false;
let running = false;
let stepQueued = false;
let queue = Promise.resolve();
const baseFiles = new Map();
/** What the current run was made from: `{settings, page, model}` or `{settings, page, files}`. */
let source = null;
/** Every report of the current run the page drew, oldest first: saved with the run. */
let log = [];
/** Steps done at the last save of the current run. */
let savedSteps = null;
/** Set once the GPU is lost: the trainer can do nothing more in this Worker. */
let lostMessage = null;

const post = (kind, fields) => self.postMessage(makeMessage(kind, fields));
const messageOf = (error) => String(error?.message ?? error);

/** Runs `task` after everything queued before it; a failure is reported by `onError`. */
function enqueue(task, onError) {
  queue = queue.then(task).catch(onError);
}

/**
 * Whether the browser's WebGPU adapter is a software fallback (SwiftShader and the like): `{fallback,
 * name}`, or null when there is no adapter. Burn asks for the adapter again when it starts.
 */
async function probeAdapter() {
  const adapter = await navigator.gpu.requestAdapter();
  if (adapter === null) return null;
  const info = adapter.info ?? {};
  const fallback = Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter);
  const name = [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || 'unnamed adapter';
  return { fallback, name };
}

/**
 * The backend `prefer` asks for: `cpu` and `webgpu` force one; `auto` takes WebGPU on a real
 * adapter and the CPU where the only adapter is a software fallback (it emulates a GPU on the CPU,
 * and a GRPO step there takes seconds where the CPU backend takes a fraction of one).
 */
async function pickBackend(prefer) {
  if (prefer === 'cpu') return Backend.cpu('CPU requested in the page address (#backend=cpu)');
  if (!('gpu' in navigator)) return Backend.cpu('this browser has no WebGPU (navigator.gpu is missing)');
  if (prefer === 'auto') {
    const adapter = await probeAdapter().catch(() => null);
    if (adapter === null) return Backend.cpu('the browser offers no WebGPU adapter');
    if (adapter.fallback) {
      return Backend.cpu(
        `the only WebGPU adapter is a software fallback (${adapter.name}), slower than the CPU backend; add #backend=webgpu to the address to use it anyway`,
      );
    }
  }
  return Backend.webgpu();
}

async function start(prefer) {
  wasm = await init();
  backend = await pickBackend(prefer);
  const selfTest = await backend.selfTest();
  post('ready', { backend: backend.info(), selfTest, build: Backend.buildInfo() });
  try {
    const saved = await loadRun();
    if (saved !== null) post('resumable', { saved: describeSaved(saved) });
  } catch (error) {
    post('resumable', { saved: null, message: messageOf(error) });
  }
}

async function fetchOk(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`could not load ${url.pathname}: HTTP ${response.status}`);
  return response;
}

/** A shipped base model's files, fetched once per folder. */
async function shippedModel(folder) {
  if (!/^[a-z0-9-]+\/$/.test(folder)) throw new Error(`not a model folder: ${JSON.stringify(folder)}`);
  if (!baseFiles.has(folder)) {
    const url = (name) => new URL(folder + name, baseUrl);
    const [weights, config, tokenizer] = await Promise.all([
      fetchOk(url('model.bpk')).then((r) => r.arrayBuffer()),
      fetchOk(url('config.json')).then((r) => r.text()),
      fetchOk(url('tokenizer.json')).then((r) => r.text()),
    ]);
    baseFiles.set(folder, { weights, config, tokenizer });
  }
  return baseFiles.get(folder);
}

/** Replaces the run with a new one from `files`, or leaves it untouched and says why. */
function configure(id, from, files) {
  const created = Trainer.create(backend, new Uint8Array(files.weights), files.config, files.tokenizer, from.settings);
  replaceRun(created, from, { log: [], baselined: false, savedSteps: null });
  post('configured', { id, parameters: trainer.info().parameters, run: trainer.runConfig() });
  post('state', { running: false, steps: 0 });
}

/** `state`: the run's log, whether its step-0 evaluation is done, the steps saved (or null). */
function replaceRun(created, from, state) {
  trainer?.free();
  trainer = created;
  source = from;
  ({ log, baselined, savedSteps } = state);
  running = false;
}

/** Continues the saved run, or leaves the current one untouched and says why. */
async function resume(id) {
  const saved = await loadRun();
  if (saved === null) throw new Error('there is no saved run to resume');
  const files = saved.model === null || saved.model === undefined ? saved.files : await shippedModel(saved.model);
  const weights = new Uint8Array(files.weights);
  const resumed = Trainer.resume(backend, weights, files.config, files.tokenizer, saved.settings, saved.state);
  const from = { settings: saved.settings, page: saved.page, ...(saved.files ? { files: saved.files } : { model: saved.model }) };
  replaceRun(resumed, from, { log: saved.log, baselined: saved.baselined, savedSteps: saved.steps });
  const run = { parameters: trainer.info().parameters, run: trainer.runConfig() };
  post('resumed', { id, ...run, page: saved.page, log: saved.log, steps: trainer.stepsDone() });
  post('state', { running: false, steps: trainer.stepsDone() });
}

/** Saves the current run unless this step count is already saved. */
async function save() {
  if (trainer === null || lostMessage !== null) return;
  const steps = trainer.stepsDone();
  // Nothing new to keep (and a run of no steps must not replace a saved one).
  if (steps === savedSteps || steps === 0) return;
  const record = {
    version: 1,
    saved_at: new Date().toISOString(),
    steps,
    settings: source.settings,
    page: source.page,
    model: source.model ?? null,
    files: source.files ?? null,
    state: await trainer.saveState(),
    baselined,
    log,
  };
  await saveRun(record);
  savedSteps = steps;
  post('saved', { steps, saved_at: record.saved_at });
}

/**
 * After a failure: if the GPU was lost, tell the page (it offers to resume), else report the error.
 * A lost device shows in different ways (a poisoned device, a buffer that cannot be mapped), so
 * the test is whether the device still computes the self-test.
 */
async function failed(error, what) {
  const message = messageOf(error);
  if (lostMessage === null && (message.includes(Backend.deviceLostMessage()) || !(await deviceWorks()))) {
    lostMessage = message.split('\n')[0];
  }
  if (lostMessage !== null) {
    post('lost', { message: lostMessage, steps: savedSteps ?? -1 });
  } else {
    post('error', { message: `${what}: ${message}` });
  }
}

async function deviceWorks() {
  try {
    return (await backend.selfTest()) === 54;
  } catch {
    return false;
  }
}

async function oneStep() {
  if (lostMessage !== null) throw new Error(lostMessage);
  const report = await trainer.step();
  log.push({ kind: 'stepped', report });
  const memory = { wasm_heap_bytes: wasm.memory.buffer.byteLength, device: trainer.deviceMemory() };
  post('stepped', { report, memory });
  // The base model's evaluation (step 0) comes after the first step, so the first point on the
  // charts does not wait for it; it evaluates the kept base model, so the row is the same.
  if (!baselined) {
    const started = performance.now();
    const row = await trainer.evaluateBase();
    log.push({ kind: 'evaluated', row });
    post('evaluated', { row, ms: performance.now() - started });
    baselined = true;
  }
  if (trainer.stepsDone() % CHECKPOINT_EVERY === 0) await save();
}

/** Queues the next step while training runs; a macrotask between steps lets messages in. */
function scheduleStep() {
  if (!running || stepQueued) return;
  stepQueued = true;
  enqueue(
    async () => {
      stepQueued = false;
      if (!running || trainer === null) return;
      await oneStep();
      setTimeout(scheduleStep, 0);
    },
    async (error) => {
      running = false;
      await failed(error, 'training stopped');
      post('state', { running: false, steps: stepsDone() });
    },
  );
}

const handlers = {
  init(message) {
    if (backend !== null) return;
    baseUrl = message.baseUrl;
    enqueue(() => start(message.prefer), (error) => post('error', { message: messageOf(error) }));
  },
  configure({ id, settings, page, model }) {
    enqueue(
      async () => configure(id, { settings, page, model }, await shippedModel(model)),
      (error) => post('refused', { id, message: messageOf(error) }),
    );
  },
  import({ id, settings, page, weights, config, tokenizer }) {
    const files = { weights, config, tokenizer };
    enqueue(
      async () => configure(id, { settings, page, files }, files),
      (error) => post('refused', { id, message: messageOf(error) }),
    );
  },
  resume({ id }) {
    enqueue(
      () => resume(id),
      (error) => post('refused', { id, message: messageOf(error) }),
    );
  },
  forget() {
    enqueue(() => forgetRun(), (error) => post('error', { message: `could not forget the saved run: ${messageOf(error)}` }));
  },
  loseDevice() {
    // At once, not queued: the point is to lose the GPU in the middle of whatever runs.
    if (backend?.destroyDevice() !== true) post('error', { message: 'there is no GPU device to lose (CPU backend)' });
  },
  train() {
    if (trainer === null || running) return;
    running = true;
    post('state', { running: true, steps: stepsDone() });
    scheduleStep();
  },
  pause() {
    running = false;
    enqueue(
      async () => {
        post('state', { running: false, steps: stepsDone() });
        if (trainer !== null) await save();
      },
      (error) => failed(error, 'could not save the run'),
    );
  },
  step() {
    if (trainer === null || running) return;
    enqueue(
      async () => {
        await oneStep();
        post('state', { running: false, steps: stepsDone() });
        await save();
      },
      (error) => failed(error, 'the step failed'),
    );
  },
  generate({ id, prompt, sampled }) {
    enqueue(
      async () => {
        if (trainer === null) throw new Error('the model is still loading');
        const onToken = (text) => post('token', { id, text });
        const result = await trainer.generate(prompt, { temperature: sampled ? 1 : 0 }, onToken);
        post('completion', { id, result });
      },
      (error) => post('failed', { id, message: messageOf(error) }),
    );
  },
  route({ id, text }) {
    enqueue(
      async () => {
        if (trainer === null) throw new Error('the model is still loading');
        post('routed', { id, routes: await trainer.routes(text) });
      },
      (error) => post('failed', { id, message: messageOf(error) }),
    );
  },
  measure({ id }) {
    enqueue(
      async () => {
        const download = await downloadSize();
        let peak = null;
        if (trainer !== null && lostMessage === null) {
          const [m, k, n] = trainer.updateMatmulShape();
          peak = await backend.matmulPeak(m, k, n, PEAK_REPEATS);
        }
        post('measured', { id, download, peak });
      },
      (error) => post('failed', { id, message: messageOf(error) }),
    );
  },
  export({ id }) {
    enqueue(
      async () => {
        if (trainer === null) throw new Error('the model is still loading');
        const files = await trainer.exportModel();
        self.postMessage(makeMessage('exported', { id, files }), [files.safetensors.buffer, files.weights.buffer]);
      },
      (error) => post('failed', { id, message: messageOf(error) }),
    );
  },
};

/** The page's wasm as served, and gzipped: what a visitor downloads (HTTP cache permitting). */
async function downloadSize() {
  const response = await fetchOk(new URL('./pkg/aha_web_bg.wasm', import.meta.url));
  const bytes = await response.blob();
  const gzip = await new Response(bytes.stream().pipeThrough(new CompressionStream('gzip'))).blob();
  return { raw_bytes: bytes.size, gzip_bytes: gzip.size };
}

function stepsDone() {
  return trainer === null ? 0 : trainer.stepsDone();
}

self.onmessage = (event) => {
  try {
    const message = checkMessage(event.data);
    handlers[message.kind]?.(message);
  } catch (error) {
    post('error', { message: messageOf(error) });
  }
};

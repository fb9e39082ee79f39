// The Worker owns the wasm module, the compute device and the GRPO run; the page only draws what it
// reports. Every request and every training step runs through one queue, in order, so a prompt or
// an export asked for mid-training is answered between two steps.
//
// The run (session.js) is saved to IndexedDB (store.js) every CHECKPOINT_EVERY steps, after a single
// step and when training pauses; if the GPU is lost the page starts a fresh Worker and resumes that
// run from there.
import init, { Backend, Distiller, Pretrainer, Trainer, runPresets } from './pkg/aha_web.js';
import { pickBackend } from './backendchoice.js';
import { checkMessage, makeMessage } from './protocol.js';
import { PieceByPiece } from './pieces.js';
import { newRunId } from './record.js';
import { RunSession } from './session.js';
import { claimRun, forgetRun, listRuns, loadRun } from './store.js';

/** How long a resume waits for its run's lock: a lost GPU's terminated Worker lets go of it late. */
const RESUME_LOCK_WAIT_MS = 3000;
/** Timed products of the bench panel's matmul peak (after one warm-up). */
const PEAK_REPEATS = 10;

let wasm = null;
let backend = null;
let baseUrl = null;
/**
 * The current run (session.js), or null before the first one is made.
 * @type {RunSession<Trainer> | null}
 */
let session = null;
let running = false;
let stepQueued = false;
let queue = Promise.resolve();
const baseFiles = new Map();
/** The student's shipped base model, under `baseUrl`. */
const STUDENT_MODEL = 'student-model/';
/**
 * Set once this Worker can compute no more, `{cause, message}`: `gpu` (the device was lost) or
 * `trap` (the wasm trapped, e.g. on a panic, and its state may be half-changed: a trainer left
 * marked as borrowed refuses every later call). The page then starts a fresh Worker.
 */
let broken = null;

/**
 * Posts a message of `kind` to the page, its fields checked against the protocol (at run time by
 * `makeMessage`, and by `tsc` against the message types).
 * @template {keyof import('./protocol.js').Payloads} K
 * @param {K} kind
 * @param {import('./protocol.js').Payloads[K]} [fields]
 */
const post = (kind, fields) => self.postMessage(makeMessage(kind, fields));
const messageOf = (error) => String(error?.message ?? error);

/** Runs `task` after everything queued before it; a failure is reported by `onError`. */
function enqueue(task, onError) {
  queue = queue.then(task).catch(onError);
}

async function start(prefer) {
  wasm = await init();
  const picked = await pickBackend(prefer);
  backend = picked.backend;
  const selfTest = await backend.selfTest();
  post('ready', { backend: backend.info(), why: picked.why, selfTest, build: Backend.buildInfo(), presets: runPresets() });
  await postSavedRuns();
}

/** Tells the page which saved runs it can offer: every one but the run open here. */
async function postSavedRuns() {
  try {
    const { runs, damaged } = await listRuns();
    post('savedRuns', { runs: runs.filter((saved) => saved.id !== session?.id), damaged });
  } catch (error) {
    post('savedRuns', { runs: [], damaged: [] });
    post('error', { message: `could not read the saved runs: ${messageOf(error)}` });
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
async function configure(id, from, files) {
  const runId = newRunId();
  const release = await claimRun(runId);
  try {
    const created = Trainer.create(backend, new Uint8Array(files.weights), files.config, files.tokenizer, from.settings);
    replaceSession(new RunSession(created, from, { id: runId, release }));
  } catch (error) {
    release?.();
    throw error;
  }
  const { parameters, task } = session.trainer.info();
  post('configured', { id, parameters, task, run: session.trainer.runConfig() });
  post('state', { running: false, steps: 0 });
  await session.save(post); // at once for a base model made in the page: its only copy
  await postSavedRuns(); // the run this one replaced may now be resumed from the list
}

function replaceSession(next) {
  session?.close();
  session = next;
  running = false;
}

/**
 * Continues saved run `runId`, or leaves the current run untouched and says why: the run is open
 * in another tab, or its record is gone or damaged.
 */
async function resume(id, runId) {
  const release = await claimRun(runId, RESUME_LOCK_WAIT_MS);
  if (release === null) throw new Error('this run is open in another tab: carry on there, or close that tab first');
  try {
    const saved = await loadRun(runId);
    if (saved === null) throw new Error('the saved run is gone: deleted in another tab, or the browser cleared its storage');
    const files = saved.model === null ? saved.files : await shippedModel(saved.model);
    const weights = new Uint8Array(files.weights);
    const resumed = Trainer.resume(backend, weights, files.config, files.tokenizer, saved.settings, saved.state);
    const from = { settings: saved.settings, page: saved.page, ...(saved.files ? { files: saved.files } : { model: saved.model }) };
    const kept = { id: saved.id, log: saved.log, baselined: saved.baselined, savedSteps: saved.steps, release };
    replaceSession(new RunSession(resumed, from, kept));
    const { trainer } = session;
    const { parameters, task } = trainer.info();
    post('resumed', { id, parameters, task, run: trainer.runConfig(), page: saved.page, log: saved.log, steps: trainer.stepsDone() });
  } catch (error) {
    if (session?.release !== release) release();
    throw error;
  }
  post('state', { running: false, steps: session.stepsDone() });
  await postSavedRuns();
}

const isTrap = (error) => error instanceof WebAssembly.RuntimeError;
const firstLine = (error) => messageOf(error).split('\n')[0];
/** What the page shows of a trap: "RuntimeError: unreachable". */
const trapMessage = (error) => `${error.name}: ${firstLine(error)}`;

/** Marks this Worker broken by `cause` and tells the page, which offers a resume or a reset. */
function breakDown(cause, message) {
  broken ??= { cause, message };
  post('lost', { ...broken, steps: session?.savedSteps ?? -1, run: session?.id ?? '' });
}

/**
 * After a step or a save failed: a trap or a lost GPU breaks this Worker (see `broken`), anything
 * else is reported as an error. A lost device shows in different ways (a poisoned device, a buffer
 * that cannot be mapped), so the test is whether the device still computes the self-test.
 */
async function failed(error, what) {
  const message = firstLine(error);
  if (broken !== null) breakDown(broken.cause, broken.message);
  else if (isTrap(error)) breakDown('trap', trapMessage(error));
  else if (message.includes(Backend.deviceLostMessage()) || !(await deviceWorks())) breakDown('gpu', message);
  else post('error', { message: `${what}: ${messageOf(error)}` });
}

/**
 * For requests other than steps: a trap breaks the Worker; other errors answer request `id` with
 * `kind` (`failed`, or `refused` for a run that was not made).
 * @param {number} id
 * @param {unknown} error
 * @param {'failed' | 'refused'} [kind]
 */
function requestFailed(id, error, kind = 'failed') {
  if (isTrap(error)) breakDown('trap', trapMessage(error));
  else post(kind, { id, message: messageOf(error) });
}

// A trap inside an async call can surface outside the promise the Worker awaits (in wasm-bindgen's
// future polling): it reaches the Worker's global error handler instead.
self.addEventListener('error', (event) => {
  if (isTrap(event.error)) breakDown('trap', trapMessage(event.error));
});

async function deviceWorks() {
  try {
    return (await backend.selfTest()) === 54;
  } catch {
    return false;
  }
}

async function oneStep() {
  if (broken !== null) throw new Error(broken.message);
  await session.step(post, () => ({ wasm_heap_bytes: wasm.memory.buffer.byteLength, device: session.trainer.deviceMemory() }));
}

/** Saves the current run; a refusal by storage is only a warning (session.js). */
async function save() {
  if (session !== null && broken === null) await session.save(post);
}

/** Queues the next step while training runs; a macrotask between steps lets messages in. */
function scheduleStep() {
  if (!running || stepQueued) return;
  stepQueued = true;
  enqueue(
    async () => {
      stepQueued = false;
      if (!running || session === null) return;
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

/** The jobs beside the run, each a piece of work at a time (pieces.js). */
const job = (kinds) =>
  new PieceByPiece({ enqueue, post, kinds, isTrap, onTrap: (error) => breakDown('trap', trapMessage(error)) });
/**
 * The distillation of a run's policy into the student: its pieces are a batch of teacher answers,
 * the base evaluation, or an update of each student arm. `made`: the latest `Distiller`.
 */
const distillation = job({ update: 'distilled', state: 'distilState' });
/** A base model being made: its pieces are SFT steps, then the probe. `made`: the latest `Pretrainer`. */
const pretraining = job({ update: 'pretrained', state: 'pretrainState' });
/** SFT steps per piece of a base model being made: one, so a request waits at most a step. */
const PRETRAIN_STEPS_PER_PIECE = 1;

/** The GRPO run pauses for a job beside it: both would share the one thread. */
function pauseForJob() {
  if (!running) return;
  running = false;
  post('state', { running: false, steps: stepsDone() });
}

/** Replaces the distillation with one of the current policy into the student, and starts it. */
async function distil(id, options) {
  if (session === null) throw new Error('the model is still loading');
  if (broken !== null) throw new Error(broken.message);
  const files = await shippedModel(STUDENT_MODEL);
  const made = Distiller.create(session.trainer, new Uint8Array(files.weights), files.config, files.tokenizer, options);
  pauseForJob();
  post('distilling', { id, progress: made.progress() });
  distillation.start(made, { advance: () => made.advance(), progress: () => made.progress() });
}

/** Replaces the base model being made with a fresh one of `options`, and starts it. */
async function pretrain(id, options) {
  if (backend === null) throw new Error('the compute backend is still starting');
  if (broken !== null) throw new Error(broken.message);
  const made = Pretrainer.create(backend, options);
  pauseForJob();
  post('pretraining', { id, progress: made.progress() });
  pretraining.start(made, { advance: () => made.advance(PRETRAIN_STEPS_PER_PIECE), progress: () => made.progress() });
}

/** Posts the files of `made` (a wasm object with `exportModel`), or says `none` when there is none. */
async function exportMade(id, made, none) {
  if (made === null) throw new Error(none);
  const files = await made.exportModel();
  self.postMessage(makeMessage('exported', { id, files }), [files.safetensors.buffer, files.weights.buffer]);
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
      (error) => requestFailed(id, error, 'refused'),
    );
  },
  import({ id, settings, page, weights, config, tokenizer }) {
    const files = { weights, config, tokenizer };
    enqueue(
      async () => configure(id, { settings, page, files }, files),
      (error) => requestFailed(id, error, 'refused'),
    );
  },
  resume({ id, run }) {
    enqueue(
      () => resume(id, run),
      (error) => requestFailed(id, error, 'refused'),
    );
  },
  forget({ run }) {
    enqueue(
      async () => {
        await forgetRun(run);
        await postSavedRuns();
      },
      (error) => post('error', { message: `could not delete the saved run: ${messageOf(error)}` }),
    );
  },
  trap() {
    // Queued: the trap comes between two steps, as a panic in a step's own code would end it.
    enqueue(
      () => backend.trapForTests(),
      (error) => failed(error, 'the trap'),
    );
  },
  loseDevice() {
    // At once, not queued: the point is to lose the GPU in the middle of whatever runs.
    if (backend?.destroyDevice() !== true) post('error', { message: 'there is no GPU device to lose (CPU backend)' });
  },
  train() {
    if (session === null || running) return;
    running = true;
    post('state', { running: true, steps: stepsDone() });
    scheduleStep();
  },
  pause() {
    running = false;
    enqueue(
      async () => {
        post('state', { running: false, steps: stepsDone() });
        await save();
      },
      (error) => failed(error, 'could not save the run'),
    );
  },
  step() {
    if (session === null || running) return;
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
        if (session === null) throw new Error('the model is still loading');
        const onToken = (text) => post('token', { id, text });
        const result = await session.trainer.generate(prompt, { temperature: sampled ? 1 : 0 }, onToken);
        post('completion', { id, result });
      },
      (error) => requestFailed(id, error),
    );
  },
  route({ id, text }) {
    enqueue(
      async () => {
        if (session === null) throw new Error('the model is still loading');
        post('routed', { id, routes: await session.trainer.routes(text) });
      },
      (error) => requestFailed(id, error),
    );
  },
  measure({ id }) {
    enqueue(
      async () => {
        const download = await downloadSize();
        let peak = null;
        if (session !== null && broken === null) {
          const [m, k, n] = session.trainer.updateMatmulShape();
          peak = await backend.matmulPeak(m, k, n, PEAK_REPEATS);
        }
        post('measured', { id, download, peak });
      },
      (error) => requestFailed(id, error),
    );
  },
  distil({ id, options }) {
    enqueue(
      () => distil(id, options),
      (error) => requestFailed(id, error),
    );
  },
  stopDistil() {
    distillation.stop();
  },
  exportStudent({ id }) {
    enqueue(
      () => exportMade(id, distillation.made, 'nothing has been distilled yet'),
      (error) => requestFailed(id, error),
    );
  },
  pretrain({ id, options }) {
    enqueue(
      () => pretrain(id, options),
      (error) => requestFailed(id, error),
    );
  },
  stopPretrain() {
    pretraining.stop();
  },
  exportBase({ id }) {
    enqueue(
      () => exportMade(id, pretraining.made, 'no base model has been made yet'),
      (error) => requestFailed(id, error),
    );
  },
  export({ id }) {
    enqueue(
      () => exportMade(id, session?.trainer ?? null, 'the model is still loading'),
      (error) => requestFailed(id, error),
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
  return session === null ? 0 : session.stepsDone();
}

self.onmessage = (event) => {
  try {
    const message = checkMessage(event.data);
    handlers[message.kind]?.(message);
  } catch (error) {
    post('error', { message: messageOf(error) });
  }
};

// One run in the Worker: the wasm trainer, what it was made from, the log of reports the page drew,
// and its saves. Kept apart from worker.js (which owns the wasm module and the message queue) so
// that the step-and-save loop runs in Vitest against a stand-in trainer and a fake IndexedDB.
import { MADE_HERE, SAVED_RUN_VERSION, newRunId } from './record.js';
import { saveRun } from './store.js';

/** Steps between automatic saves while training runs. */
export const CHECKPOINT_EVERY = 10;

const messageOf = (error) => String(error?.message ?? error);

/**
 * What a run needs of the wasm `Trainer` (declared in pkg/aha_web.d.ts); Vitest passes a stand-in.
 * @typedef {object} SessionTrainer
 * @property {() => Promise<import('./types/boundary').StepReport>} step
 * @property {() => Promise<import('./types/boundary').EvalRow>} evaluateBase
 * @property {() => number} stepsDone
 * @property {() => Promise<Uint8Array>} saveState
 * @property {() => void} free
 */

/**
 * The Worker makes it with the wasm `Trainer`, so `session.trainer` keeps that type there.
 * @template {SessionTrainer} [T=SessionTrainer]
 */
export class RunSession {
  /**
   * `trainer`: the wasm Trainer (or a stand-in with `step`, `evaluateBase`, `stepsDone`,
   * `saveState`, `free`); `source`: `{settings, page, model}` or `{settings, page, files}`. A
   * resumed run passes its record's `id`, `log`, `baselined` and `savedSteps`; `release` lets go
   * of the run's Web Lock (store.js `claimRun`).
   * @param {T} trainer
   */
  constructor(trainer, source, { id = newRunId(), log = [], baselined = false, savedSteps = null, release = () => {} } = {}) {
    this.trainer = trainer;
    this.source = source;
    this.id = id;
    /** Every report of this run the page drew, oldest first: saved with the run. */
    this.log = log;
    /** Set once the base model's (step-0) evaluation is in the log. */
    this.baselined = baselined;
    /** Steps done at the last save that reached storage, or null. */
    this.savedSteps = savedSteps;
    this.release = release;
  }

  stepsDone() {
    return this.trainer.stepsDone();
  }

  /**
   * One GRPO step; `post(kind, fields)` tells the page. The first step is followed by the base
   * model's evaluation, so the first point on the charts does not wait for it; every
   * CHECKPOINT_EVERY steps the run is saved. Rejects only if the step itself fails.
   */
  async step(post, memoryAfter = () => ({ wasm_heap_bytes: 0, device: null })) {
    const report = await this.trainer.step();
    this.log.push({ kind: 'stepped', report });
    post('stepped', { report, memory: memoryAfter() });
    if (!this.baselined) {
      const started = performance.now();
      const row = await this.trainer.evaluateBase();
      this.log.push({ kind: 'evaluated', row });
      post('evaluated', { row, ms: performance.now() - started });
      this.baselined = true;
    }
    if (this.stepsDone() % CHECKPOINT_EVERY === 0) await this.save(post);
  }

  /**
   * Saves the run unless this step count is already saved. If storage refuses (a full quota,
   * storage blocked) the page is warned with `unsaved` and training goes on; the last save stays
   * as it was. Rejects only if the trainer cannot give its state (the device is gone).
   */
  async save(post) {
    const steps = this.stepsDone();
    // Nothing new to keep. A run of no steps is not worth a slot, unless its model was made in
    // the page: then the save is the only copy of that model.
    const madeHere = this.source.page?.source === MADE_HERE;
    if (steps === this.savedSteps || (steps === 0 && !madeHere)) return;
    const record = {
      version: SAVED_RUN_VERSION,
      id: this.id,
      saved_at: new Date().toISOString(),
      steps,
      settings: this.source.settings,
      page: this.source.page,
      model: this.source.model ?? null,
      files: this.source.files ?? null,
      state: await this.trainer.saveState(),
      baselined: this.baselined,
      log: this.log,
    };
    try {
      await saveRun(record);
    } catch (error) {
      post('unsaved', { steps, savedSteps: this.savedSteps ?? -1, message: messageOf(error) });
      return;
    }
    this.savedSteps = steps;
    post('saved', { steps, saved_at: record.saved_at, run: this.id });
  }

  /** Frees the trainer and lets go of the run's lock. */
  close() {
    this.trainer.free();
    this.release();
  }
}

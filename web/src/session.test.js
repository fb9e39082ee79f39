// The Worker's step-and-save loop and the saved-run store, against a stand-in trainer and
// fake-indexeddb (an IndexedDB in memory). Node has no Web Locks: every claim succeeds there, and
// the locks themselves are exercised by the e2e tests in Chromium.
import { IDBFactory } from 'fake-indexeddb';
import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MADE_HERE, SAVED_RUN_VERSION } from './record.js';
import { savedRecord } from './record.fixture.js';
import { CHECKPOINT_EVERY, RunSession } from './session.js';
import { MAX_SAVED_RUNS, forgetRun, listRuns, loadRun, saveRun } from './store.js';

/**
 * A trainer whose steps report their number, as the wasm one does (only that: a step's other
 * fields do not matter to the saves).
 * @returns {any}
 */
function standInTrainer() {
  let steps = 0;
  return {
    async step() {
      steps += 1;
      return { metrics: { step: steps - 1 } };
    },
    async evaluateBase() {
      return { step: 0 };
    },
    stepsDone: () => steps,
    async saveState() {
      return new Uint8Array([steps]);
    },
    free() {},
  };
}

const source = { settings: { preset: 'tiny' }, page: { settings: { preset: 'tiny' } }, model: 'base-model-tiny/' };

/** A session and the messages it posted, as `[kind, fields]`. */
function session(id) {
  const posted = [];
  const run = new RunSession(standInTrainer(), source, { id });
  return { run, posted, post: (kind, fields) => posted.push([kind, fields]) };
}

beforeEach(() => {
  globalThis.indexedDB = new IDBFactory(); // an empty database per test
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('a run in the Worker', () => {
  it('keeps no slot for a run of no steps, unless its model was made in the page', async () => {
    const { run, posted, post } = session('run-unstepped');
    await run.save(post);
    expect(posted).toEqual([]);
    expect(await loadRun('run-unstepped')).toBeNull();
    const files = { weights: new ArrayBuffer(4), config: '{}', tokenizer: '{}' };
    const made = { settings: { preset: 'tiny' }, page: { settings: { preset: 'tiny' }, source: MADE_HERE }, files };
    const madePosted = [];
    const madeRun = new RunSession(standInTrainer(), made, { id: 'run-made-in-this-page' });
    await madeRun.save((kind, fields) => madePosted.push([kind, fields]));
    expect(madePosted).toEqual([['saved', expect.objectContaining({ steps: 0, run: 'run-made-in-this-page' })]]);
    const saved = await loadRun('run-made-in-this-page');
    expect(saved.steps).toBe(0);
    expect(saved.page.source).toBe(MADE_HERE);
    expect(saved.files.config).toBe('{}');
  });

  it('saves every CHECKPOINT_EVERY steps, and the saved run resumes with its whole log', async () => {
    const { run, posted, post } = session('run-a');
    for (let step = 0; step < CHECKPOINT_EVERY; step++) await run.step(post);
    expect(posted.filter(([kind]) => kind === 'stepped')).toHaveLength(CHECKPOINT_EVERY);
    expect(posted.filter(([kind]) => kind === 'evaluated')).toHaveLength(1); // after the first step
    expect(posted.at(-1)[0]).toBe('saved');
    expect(posted.at(-1)[1]).toMatchObject({ steps: CHECKPOINT_EVERY, run: 'run-a' });
    const saved = await loadRun('run-a');
    expect(saved.version).toBe(SAVED_RUN_VERSION);
    expect(saved.steps).toBe(CHECKPOINT_EVERY);
    expect(saved.log).toHaveLength(CHECKPOINT_EVERY + 1);
    expect(saved.state).toEqual(new Uint8Array([CHECKPOINT_EVERY]));
  });

  it('warns and trains on when storage refuses a save (QuotaExceededError)', async () => {
    const { run, posted, post } = session('run-a');
    for (let step = 0; step < CHECKPOINT_EVERY; step++) await run.step(post); // saved at 10
    const put = vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(() => {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    });
    for (let step = 0; step < CHECKPOINT_EVERY + 2; step++) await run.step(post); // no throw
    expect(run.stepsDone()).toBe(2 * CHECKPOINT_EVERY + 2);
    const unsaved = posted.filter(([kind]) => kind === 'unsaved');
    expect(unsaved).toEqual([['unsaved', { steps: 2 * CHECKPOINT_EVERY, savedSteps: CHECKPOINT_EVERY, message: 'The quota has been exceeded.' }]]);
    expect((await loadRun('run-a')).steps).toBe(CHECKPOINT_EVERY); // the last save is kept whole

    // Once storage takes it again, the next save (a pause, say) goes through.
    put.mockRestore();
    await run.save(post);
    expect(posted.at(-1)).toEqual(['saved', expect.objectContaining({ steps: 2 * CHECKPOINT_EVERY + 2 })]);
    expect((await loadRun('run-a')).steps).toBe(2 * CHECKPOINT_EVERY + 2);
  });

  it('does not save a run of no steps', async () => {
    const { run, posted, post } = session('run-a');
    await run.save(post);
    expect(posted).toEqual([]);
    expect(await loadRun('run-a')).toBe(null);
  });
});

describe('saved runs in IndexedDB', () => {
  it('keeps each run under its own id, newest first, and never overwrites another', async () => {
    await saveRun({ ...savedRecord(2, 'run-a'), saved_at: '2026-12-06T10:00:00.000Z' });
    await saveRun({ ...savedRecord(5, 'run-b'), saved_at: '2026-12-06T11:00:00.000Z' });
    const { runs, damaged } = await listRuns();
    expect(runs.map(({ id, steps, open }) => [id, steps, open])).toEqual([
      ['run-b', 5, false],
      ['run-a', 2, false],
    ]);
    expect(damaged).toEqual([]);
    await forgetRun('run-b');
    expect((await listRuns()).runs.map(({ id }) => id)).toEqual(['run-a']);
    expect(await loadRun('run-b')).toBe(null);
  });

  it(`keeps the newest ${MAX_SAVED_RUNS} runs`, async () => {
    for (let index = 0; index <= MAX_SAVED_RUNS; index++) {
      await saveRun({ ...savedRecord(1, `run-${index}`), saved_at: new Date(Date.UTC(2026, 11, 6, index)).toISOString() });
    }
    const ids = (await listRuns()).runs.map(({ id }) => id);
    expect(ids).toHaveLength(MAX_SAVED_RUNS);
    expect(ids).not.toContain('run-0');
    expect(ids[0]).toBe(`run-${MAX_SAVED_RUNS}`);
  });

  it('reads a version-1 record, and lists a damaged one by name instead of hiding it', async () => {
    const { id, ...fields } = savedRecord(2);
    const db = await new Promise((resolve) => {
      const request = indexedDB.open('aha', 1);
      request.onupgradeneeded = () => request.result.createObjectStore('runs');
      request.onsuccess = () => resolve(request.result);
    });
    await new Promise((resolve) => {
      const transaction = db.transaction('runs', 'readwrite');
      transaction.objectStore('runs').put({ ...fields, version: 1 }, 'latest');
      transaction.objectStore('runs').put({ ...fields, version: 1, steps: 7 }, 'broken');
      transaction.oncomplete = resolve;
    });
    db.close();
    const { runs, damaged } = await listRuns();
    expect(runs.map(({ id: runId, steps }) => [runId, steps])).toEqual([['latest', 2]]);
    expect(damaged).toEqual([{ id: 'broken', message: 'the saved run cannot be resumed: its log has 2 steps, its trainer 7' }]);
    const resumed = await loadRun('latest');
    expect(resumed.version).toBe(SAVED_RUN_VERSION);
    // Saving the migrated run writes version 2 under the same key.
    await saveRun({ ...resumed, saved_at: '2026-12-06T12:00:00.000Z' });
    expect((await listRuns()).runs.map(({ id: runId }) => runId)).toEqual(['latest']);
  });
});

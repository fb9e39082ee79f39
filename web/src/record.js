// A saved run's record: what the Worker writes to IndexedDB (store.js) and reads back to resume.
// Pure data checks, no storage, so every rule here is tested without a browser.

/** The record's format. 1: one run under the key "latest", no id (pages before 2026-12-06). */
export const SAVED_RUN_VERSION = 2;

/**
 * The `page.source` of a run from a base model made in the page: saved at step 0, since the model
 * exists nowhere else (`RunSession.save`).
 */
export const MADE_HERE = 'Made in this page';

/** The `page.source` of a run from model files a person imported. */
export const IMPORTED = 'Imported model';

/** Run ids: `crypto.randomUUID()` for new runs, "latest" for a run migrated from version 1. */
const RUN_ID = /^[A-Za-z0-9-]{1,64}$/;

const isObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);

/** A fresh run's id. */
export function newRunId() {
  return crypto.randomUUID();
}

/**
 * Returns `record` if it is a saved run this page can resume, else throws an Error that says what
 * is wrong. Fields: `version`, `id`, `saved_at` (ISO time), `steps`, `settings` (the Trainer's run
 * settings), `page` (`{settings, source?}`: what the page needs to show the run again), `model` (a
 * shipped model's folder) or `files` (`{weights, config, tokenizer}` of an imported one), `state`
 * (the trainer's bytes), `baselined` (the step-0 evaluation is done) and `log`
 * (`{kind: 'evaluated', row}` and `{kind: 'stepped', report}` entries, oldest first).
 */
export function checkSaved(record) {
  const fail = (why) => {
    throw new Error(`the saved run cannot be resumed: ${why}`);
  };
  if (!isObject(record)) fail('it is not an object');
  if (record.version !== SAVED_RUN_VERSION) fail(`it has version ${record.version}, this page reads ${SAVED_RUN_VERSION}`);
  if (typeof record.id !== 'string' || !RUN_ID.test(record.id)) fail('its id is not a run id');
  if (typeof record.saved_at !== 'string' || Number.isNaN(Date.parse(record.saved_at))) fail('saved_at is not a time');
  if (!Number.isInteger(record.steps) || record.steps < 0) fail('steps is not a count');
  if (!isObject(record.settings) || !isObject(record.page) || !isObject(record.page.settings)) fail('its settings are missing');
  if (typeof record.page.settings.preset !== 'string') fail('its settings name no preset');
  if (record.page.source !== undefined && typeof record.page.source !== 'string') fail('its source is not a name');
  const shipped = typeof record.model === 'string';
  const imported =
    isObject(record.files) &&
    record.files.weights instanceof ArrayBuffer &&
    typeof record.files.config === 'string' &&
    typeof record.files.tokenizer === 'string';
  if (shipped === imported) fail('it names neither a shipped model nor imported files');
  if (!(record.state instanceof Uint8Array) || record.state.length === 0) fail('the trainer state is missing');
  if (typeof record.baselined !== 'boolean') fail('baselined is not true or false');
  if (!Array.isArray(record.log)) fail('the log is not a list');
  let stepped = 0;
  for (const entry of record.log) {
    const evaluated = isObject(entry) && entry.kind === 'evaluated' && isObject(entry.row) && Number.isInteger(entry.row.step);
    const step = isObject(entry) && entry.kind === 'stepped' && isObject(entry.report) && isObject(entry.report.metrics);
    if (!evaluated && !step) fail('the log holds an entry that is not a report');
    if (step) {
      // The charts draw step i at x = i: a log out of order would draw a wrong curve.
      if (entry.report.metrics.step !== stepped) fail(`the log's step ${stepped} is numbered ${entry.report.metrics.step}`);
      stepped += 1;
    }
  }
  if (stepped !== record.steps) fail(`its log has ${stepped} steps, its trainer ${record.steps}`);
  return record;
}

/**
 * A record as this page reads it: version 1 (stored under `key`, without an id) becomes version 2
 * with `key` as its id; anything else is returned as it is, for `checkSaved` to judge.
 */
export function migrateSaved(record, key) {
  if (isObject(record) && record.version === 1 && record.id === undefined) {
    return { ...record, version: SAVED_RUN_VERSION, id: String(key) };
  }
  return record;
}

/** What the page lists of a saved run: `{id, steps, saved_at, page}`. */
export function describeSaved(record) {
  return { id: record.id, steps: record.steps, saved_at: record.saved_at, page: record.page };
}

// The saved run: the Worker writes the current run to IndexedDB every few steps and when training
// pauses — the trainer's state (policy, optimiser, counters), what it was started from, and the log
// of every report the page drew — so a lost GPU or a closed tab costs at most the steps since.
// One run is kept, the latest; it never leaves this machine.

const DB_NAME = 'aha';
const STORE = 'runs';
const KEY = 'latest';
export const SAVED_RUN_VERSION = 1;

function openDb() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/** Runs one request on the store and resolves to its result once the transaction commits. */
async function withStore(mode, makeRequest) {
  const db = await openDb();
  try {
    return await new Promise((resolve, reject) => {
      const transaction = db.transaction(STORE, mode);
      const request = makeRequest(transaction.objectStore(STORE));
      transaction.oncomplete = () => resolve(request.result);
      transaction.onerror = () => reject(transaction.error ?? request.error);
      transaction.onabort = () => reject(transaction.error ?? new Error('the save was aborted'));
    });
  } finally {
    db.close();
  }
}

/** Replaces the saved run with `record` (see `checkSaved` for its fields). */
export function saveRun(record) {
  return withStore('readwrite', (store) => store.put(checkSaved(record), KEY));
}

/** The saved run, checked, or null when there is none. Throws, naming the fault, if it is damaged. */
export async function loadRun() {
  const record = await withStore('readonly', (store) => store.get(KEY));
  return record === undefined ? null : checkSaved(record);
}

export function forgetRun() {
  return withStore('readwrite', (store) => store.delete(KEY));
}

const isObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * Returns `record` if it is a saved run this page can resume, else throws an Error that says what
 * is wrong. Fields: `version`, `saved_at` (ISO time), `steps`, `settings` (the Trainer's run
 * settings), `page` (what the page needs to show the run again), `model` (a shipped model's folder)
 * or `files` (`{weights, config, tokenizer}` of an imported one), `state` (the trainer's bytes),
 * `baselined` (the step-0 evaluation is done) and `log` (`{kind: 'evaluated', row}` and
 * `{kind: 'stepped', report}` entries, oldest first).
 */
export function checkSaved(record) {
  const fail = (why) => {
    throw new Error(`the saved run cannot be resumed: ${why}`);
  };
  if (!isObject(record)) fail('it is not an object');
  if (record.version !== SAVED_RUN_VERSION) fail(`it has version ${record.version}, this page reads ${SAVED_RUN_VERSION}`);
  if (typeof record.saved_at !== 'string' || Number.isNaN(Date.parse(record.saved_at))) fail('saved_at is not a time');
  if (!Number.isInteger(record.steps) || record.steps < 0) fail('steps is not a count');
  if (!isObject(record.settings) || !isObject(record.page)) fail('its settings are missing');
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
    const fits =
      isObject(entry) &&
      ((entry.kind === 'evaluated' && isObject(entry.row)) || (entry.kind === 'stepped' && isObject(entry.report)));
    if (!fits) fail('the log holds an entry that is not a report');
    if (entry.kind === 'stepped') stepped += 1;
  }
  if (stepped !== record.steps) fail(`its log has ${stepped} steps, its trainer ${record.steps}`);
  return record;
}

/** What the page shows of a saved run: `{steps, saved_at, page}`. */
export function describeSaved(record) {
  return { steps: record.steps, saved_at: record.saved_at, page: record.page };
}

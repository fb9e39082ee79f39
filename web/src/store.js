// Saved runs: the Worker writes its run to IndexedDB every few steps and when training pauses — the
// trainer's state (policy, optimiser, counters), what it was started from, and the log of every
// report the page drew — so a lost GPU or a closed tab costs at most the steps since. Each run has
// its own id and record (record.js); the newest MAX_SAVED_RUNS are kept. Nothing leaves this machine.
//
// Tabs share the database. A tab holds a Web Lock named after its run for as long as the run is
// open (`claimRun`), so no two tabs write one run, and a run open elsewhere is never pruned.
import { checkSaved, describeSaved, migrateSaved } from './record.js';

const DB_NAME = 'aha';
const STORE = 'runs';
/** Saved runs kept; a save beyond this deletes the oldest that no tab has open. */
export const MAX_SAVED_RUNS = 5;
/** Taken around each save and its pruning, so two tabs' saves do not prune each other's runs. */
const SAVE_LOCK = 'aha-saved-runs';
const RUN_LOCK_PREFIX = 'aha-run:';
const runLock = (id) => `${RUN_LOCK_PREFIX}${id}`;

function openDb() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => {
      if (!request.result.objectStoreNames.contains(STORE)) request.result.createObjectStore(STORE);
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
    request.onblocked = () => reject(new Error('the saved runs are held open by an older copy of this page; close its other tabs'));
  });
}

/** Runs `work(store)` in one transaction; resolves to what it returns once the transaction commits. */
async function withStore(mode, work) {
  const db = await openDb();
  try {
    return await new Promise((resolve, reject) => {
      const transaction = db.transaction(STORE, mode);
      let result;
      transaction.oncomplete = () => resolve(result);
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error ?? new Error('the save was aborted'));
      try {
        work(transaction.objectStore(STORE), (value) => {
          result = value;
        });
      } catch (error) {
        // A synchronous throw (a full quota, say) leaves the transaction to abort on its own.
        reject(error);
      }
    });
  } finally {
    db.close();
  }
}

/** Every stored record with its key, read in one transaction. */
function readAll() {
  return withStore('readonly', (store, done) => {
    const keys = store.getAllKeys();
    const values = store.getAll();
    values.onsuccess = () => done(keys.result.map((key, index) => ({ key, value: values.result[index] })));
  });
}

/** `name` under the Web Lock, or directly where the browser has no Web Locks (one tab then). */
function withLock(name, task) {
  const locks = globalThis.navigator?.locks;
  return locks ? locks.request(name, task) : task();
}

/** The run ids some tab holds open now (an empty set without Web Locks). */
async function openRunIds() {
  const locks = globalThis.navigator?.locks;
  if (!locks) return new Set();
  const { held } = await locks.query();
  const names = held.map((lock) => lock.name).filter((name) => name.startsWith(RUN_LOCK_PREFIX));
  return new Set(names.map((name) => name.slice(RUN_LOCK_PREFIX.length)));
}

/**
 * Holds run `id` open in this tab until the returned release function is called; null if another
 * tab still holds it after `waitMs` (a Worker that was just terminated lets go of its locks a moment
 * later). Without Web Locks every claim succeeds.
 */
export function claimRun(id, waitMs = 0) {
  const locks = globalThis.navigator?.locks;
  if (!locks) return Promise.resolve(() => {});
  const options = waitMs > 0 ? { signal: AbortSignal.timeout(waitMs) } : { ifAvailable: true };
  return new Promise((resolve, reject) => {
    locks
      .request(runLock(id), options, (lock) => {
        if (lock === null) {
          resolve(null);
          return undefined;
        }
        return new Promise((release) => resolve(release));
      })
      .catch((error) => (error?.name === 'TimeoutError' || error?.name === 'AbortError' ? resolve(null) : reject(error)));
  });
}

/**
 * The saved runs, newest first: `{runs, damaged}`. `runs` holds `{id, steps, saved_at, page,
 * open}` (`open`: some tab has it open now); `damaged` holds `{id, message}` for records this page
 * cannot resume (listed so that nothing goes silently; a save beyond MAX_SAVED_RUNS prunes them first).
 */
export async function listRuns() {
  const [entries, open] = await Promise.all([readAll(), openRunIds()]);
  const runs = [];
  const damaged = [];
  for (const { key, value } of entries) {
    try {
      runs.push({ ...describeSaved(checkSaved(migrateSaved(value, key))), open: open.has(String(key)) });
    } catch (error) {
      damaged.push({ id: String(key), message: error.message });
    }
  }
  runs.sort((a, b) => Date.parse(b.saved_at) - Date.parse(a.saved_at));
  return { runs, damaged };
}

/** Saved run `id`, checked (version 1 records migrated), or null when there is none. */
export async function loadRun(id) {
  // A cursor, not `get`: `get` answers undefined both for no record and for a stored undefined,
  // which the list shows as damaged.
  const found = await withStore('readonly', (store, done) => {
    const request = store.openCursor(id);
    request.onsuccess = () => done(request.result === null ? null : { record: request.result.value });
  });
  return found === null ? null : checkSaved(migrateSaved(found.record, id));
}

/**
 * Saves `record` under its id (a version 1 record under the same key is replaced by it), then
 * deletes the oldest runs beyond MAX_SAVED_RUNS that no tab has open. Rejects if the browser
 * refuses to store it (a full quota, storage blocked); nothing saved before is then changed.
 */
export function saveRun(record) {
  checkSaved(record);
  return withLock(SAVE_LOCK, async () => {
    const stored = await withStore('readwrite', (store, done) => {
      store.put(record, record.id);
      const count = store.count();
      count.onsuccess = () => done(count.result);
    });
    // Reading every record (trainer states and logs) is needed only when there are too many.
    if (stored <= MAX_SAVED_RUNS) return;
    const [entries, open] = await Promise.all([readAll(), openRunIds()]);
    const savedAt = ({ value }) => Date.parse(value?.saved_at) || 0;
    const old = entries
      .filter((entry) => entry.key !== record.id)
      .sort((a, b) => savedAt(b) - savedAt(a))
      .slice(MAX_SAVED_RUNS - 1)
      .filter(({ key }) => !open.has(String(key)));
    if (old.length > 0) {
      await withStore('readwrite', (store) => {
        for (const { key } of old) store.delete(key);
      });
    }
  });
}

/** Deletes saved run `id` (nothing happens if there is none). */
export function forgetRun(id) {
  return withLock(SAVE_LOCK, () => withStore('readwrite', (store) => store.delete(id)));
}

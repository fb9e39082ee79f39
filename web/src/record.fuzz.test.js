// Saved-run records as IndexedDB may hand them back — from an older page, a damaged profile, another
// program — explored with fast-check: the page reads a run or names what is wrong, and nothing it
// stores breaks the list of saved runs. The Worker's trainer state bytes inside a record are
// explored natively (tests/tests/native_run_inputs.rs, the run_state fuzz target).
import { IDBFactory } from 'fake-indexeddb';
import 'fake-indexeddb/auto';
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { checkSaved, migrateSaved } from './record.js';
import { savedRecord } from './record.fixture.js';
import { listRuns, loadRun } from './store.js';

const REFUSAL = 'the saved run cannot be resumed: ';

/** Reads `value` stored under `key` as the page does: a record, or an Error naming the fault. */
function read(value, key) {
  try {
    return checkSaved(migrateSaved(value, key));
  } catch (error) {
    return error;
  }
}

/** A real record with one field replaced by anything, or one removed. */
const damagedRecord = fc
  .tuple(fc.constantFrom(...Object.keys(savedRecord())), fc.option(fc.anything(), { nil: undefined }), fc.integer({ min: 0, max: 3 }))
  .map(([field, value, steps]) => {
    const record = { ...savedRecord(steps) };
    if (value === undefined) delete record[field];
    else record[field] = value;
    return record;
  });

const anyRecord = fc.oneof(fc.anything(), damagedRecord, fc.constant(savedRecord(2)));

beforeEach(() => {
  globalThis.indexedDB = new IDBFactory();
});

describe('saved-run records, fuzzed', () => {
  it('are read as a run, or refused with a message naming the fault', () => {
    fc.assert(
      fc.property(anyRecord, fc.oneof(fc.string(), fc.constant('latest')), (value, key) => {
        const result = read(value, key);
        if (result instanceof Error) {
          expect(result.message.startsWith(REFUSAL), result.message).toBe(true);
        } else {
          // What is accepted is whole: its steps agree with its log, and it has an id.
          expect(result.log.filter((entry) => entry.kind === 'stepped')).toHaveLength(result.steps);
          expect(typeof result.id).toBe('string');
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('never break the list of saved runs: each is listed, or listed as damaged', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(anyRecord, { minLength: 1, maxLength: 4 }), async (values) => {
        globalThis.indexedDB = new IDBFactory();
        const db = await new Promise((resolve) => {
          const request = indexedDB.open('aha', 1);
          request.onupgradeneeded = () => request.result.createObjectStore('runs');
          request.onsuccess = () => resolve(request.result);
        });
        const stored = await new Promise((resolve) => {
          const transaction = db.transaction('runs', 'readwrite');
          let count = 0;
          values.forEach((value, index) => {
            try {
              transaction.objectStore('runs').put(value, `run-${index}`);
              count += 1;
            } catch {
              // Not storable (a function, a symbol): IndexedDB itself refuses it.
            }
          });
          transaction.oncomplete = () => resolve(count);
        });
        db.close();
        const { runs, damaged } = await listRuns();
        expect(runs.length + damaged.length).toBe(stored);
        for (const { id, message } of damaged) {
          expect(message.startsWith(REFUSAL)).toBe(true);
          await expect(loadRun(id)).rejects.toThrow(REFUSAL);
        }
      }),
      { numRuns: 100 },
    );
  });
});

import { describe, expect, it } from 'vitest';
import { SAVED_RUN_VERSION, checkSaved, describeSaved, migrateSaved } from './record.js';
import { savedRecord } from './record.fixture.js';

describe('saved runs', () => {
  it('accepts a whole record, of a shipped or an imported model', () => {
    const record = savedRecord();
    expect(checkSaved(record)).toBe(record);
    const files = { weights: new ArrayBuffer(8), config: '{}', tokenizer: '{}' };
    expect(checkSaved({ ...savedRecord(), model: null, files }).files).toBe(files);
    expect(describeSaved(record)).toEqual({ id: 'run-a', steps: 2, saved_at: record.saved_at, page: record.page });
  });

  it('refuses damaged records, naming the fault', () => {
    const stepped = (step) => ({ kind: 'stepped', report: { metrics: { step } } });
    const cases = [
      [null, 'it is not an object'],
      [{ ...savedRecord(), version: 0 }, `it has version 0, this page reads ${SAVED_RUN_VERSION}`],
      [{ ...savedRecord(), version: 3 }, `it has version 3, this page reads ${SAVED_RUN_VERSION}`],
      [{ ...savedRecord(), id: '' }, 'its id is not a run id'],
      [{ ...savedRecord(), id: '../x' }, 'its id is not a run id'],
      [{ ...savedRecord(), saved_at: 'yesterday' }, 'saved_at is not a time'],
      [{ ...savedRecord(), steps: -1 }, 'steps is not a count'],
      [{ ...savedRecord(), page: undefined }, 'its settings are missing'],
      [{ ...savedRecord(), page: {} }, 'its settings are missing'],
      [{ ...savedRecord(), page: { settings: { preset: 3 } } }, 'its settings name no preset'],
      [{ ...savedRecord(), page: { settings: { preset: 'tiny' }, source: 7 } }, 'its source is not a name'],
      [{ ...savedRecord(), model: null }, 'it names neither a shipped model nor imported files'],
      [{ ...savedRecord(), files: { weights: new ArrayBuffer(1), config: '{}', tokenizer: '{}' } }, 'it names neither'],
      [{ ...savedRecord(), state: new Uint8Array() }, 'the trainer state is missing'],
      [{ ...savedRecord(), state: [1, 2] }, 'the trainer state is missing'],
      [{ ...savedRecord(), baselined: 'yes' }, 'baselined is not true or false'],
      [{ ...savedRecord(), log: {} }, 'the log is not a list'],
      [{ ...savedRecord(), log: [{ kind: 'stepped' }] }, 'the log holds an entry that is not a report'],
      [{ ...savedRecord(), log: [{ kind: 'stepped', report: {} }] }, 'the log holds an entry that is not a report'],
      [{ ...savedRecord(), log: [{ kind: 'evaluated', row: { step: 'x' } }] }, 'the log holds an entry that is not a report'],
      [{ ...savedRecord(), log: [stepped(0), stepped(2)] }, "the log's step 1 is numbered 2"],
      [{ ...savedRecord(3), steps: 2 }, 'its log has 3 steps, its trainer 2'],
    ];
    for (const [record, reason] of cases) {
      expect(() => checkSaved(record)).toThrow(`the saved run cannot be resumed: ${reason}`);
    }
  });

  it('reads a version-1 record (one run under "latest", no id) as a run with that id', () => {
    const { id, ...fields } = savedRecord();
    const old = { ...fields, version: 1 };
    const migrated = checkSaved(migrateSaved(old, 'latest'));
    expect(migrated).toEqual({ ...savedRecord(), id: 'latest' });
    // Other versions are left for checkSaved to refuse by name.
    expect(migrateSaved({ ...old, version: 0 }, 'latest').version).toBe(0);
    expect(() => checkSaved(migrateSaved({ ...old, page: null }, 'latest'))).toThrow('its settings are missing');
  });
});

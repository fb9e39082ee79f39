import { describe, expect, it } from 'vitest';
import { SAVED_RUN_VERSION, checkSaved, describeSaved } from './store.js';

/** A saved run of a shipped model after `steps` steps. */
function saved(steps = 2) {
  const log = [{ kind: 'evaluated', row: { step: 0 } }];
  for (let step = 0; step < steps; step++) log.push({ kind: 'stepped', report: { metrics: { step } } });
  return {
    version: SAVED_RUN_VERSION,
    saved_at: '2026-11-29T13:00:00.000Z',
    steps,
    settings: { preset: 'tiny' },
    page: { settings: { preset: 'tiny' } },
    model: 'base-model-tiny/',
    files: null,
    state: new Uint8Array([1, 2, 3]),
    baselined: true,
    log,
  };
}

describe('saved runs', () => {
  it('accepts a whole record, of a shipped or an imported model', () => {
    const record = saved();
    expect(checkSaved(record)).toBe(record);
    const files = { weights: new ArrayBuffer(8), config: '{}', tokenizer: '{}' };
    expect(checkSaved({ ...saved(), model: null, files }).files).toBe(files);
    expect(describeSaved(record)).toEqual({ steps: 2, saved_at: record.saved_at, page: record.page });
  });

  it('refuses damaged records, naming the fault', () => {
    const cases = [
      [null, 'it is not an object'],
      [{ ...saved(), version: 0 }, 'it has version 0, this page reads 1'],
      [{ ...saved(), saved_at: 'yesterday' }, 'saved_at is not a time'],
      [{ ...saved(), steps: -1 }, 'steps is not a count'],
      [{ ...saved(), page: undefined }, 'its settings are missing'],
      [{ ...saved(), model: null }, 'it names neither a shipped model nor imported files'],
      [{ ...saved(), files: { weights: new ArrayBuffer(1), config: '{}', tokenizer: '{}' } }, 'it names neither'],
      [{ ...saved(), state: new Uint8Array() }, 'the trainer state is missing'],
      [{ ...saved(), state: [1, 2] }, 'the trainer state is missing'],
      [{ ...saved(), baselined: 'yes' }, 'baselined is not true or false'],
      [{ ...saved(), log: {} }, 'the log is not a list'],
      [{ ...saved(), log: [{ kind: 'stepped' }] }, 'the log holds an entry that is not a report'],
      [{ ...saved(3), steps: 2 }, 'its log has 3 steps, its trainer 2'],
    ];
    for (const [record, reason] of cases) {
      expect(() => checkSaved(record)).toThrow(`the saved run cannot be resumed: ${reason}`);
    }
  });
});

// Test data shared by the record, store and session tests (not part of the page).
import { SAVED_RUN_VERSION } from './record.js';

/** A saved run of a shipped model after `steps` steps. */
export function savedRecord(steps = 2, id = 'run-a') {
  /** @type {Array<{kind: string, row?: object, report?: object}>} */
  const log = [{ kind: 'evaluated', row: { step: 0 } }];
  for (let step = 0; step < steps; step++) log.push({ kind: 'stepped', report: { metrics: { step } } });
  return {
    version: SAVED_RUN_VERSION,
    id,
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

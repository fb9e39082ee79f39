import { describe, expect, it } from 'vitest';
import { MESSAGE_FIELDS, PROTOCOL_VERSION, ProtocolError, checkMessage, makeMessage } from './protocol.js';

/** A valid message of every kind: a new kind without one here fails the first test. */
const EXAMPLES = {
  init: { prefer: 'webgpu', baseUrl: 'http://127.0.0.1/' },
  configure: { id: 2, settings: { preset: 'tiny' }, page: {}, model: 'base-model/' },
  import: { id: 3, settings: {}, page: {}, weights: new ArrayBuffer(4), config: '{}', tokenizer: '{}' },
  resume: { id: 7, run: 'a-1' },
  forget: { run: 'a-1' },
  loseDevice: {},
  trap: {},
  train: {},
  pause: {},
  step: {},
  generate: { id: 1, prompt: '347*5', sampled: false },
  export: { id: 1 },
  route: { id: 4, text: '347*5=g1735 a1735.' },
  measure: { id: 5 },
  distil: { id: 6, options: { problems: 16, steps: 4 } },
  stopDistil: {},
  exportStudent: { id: 8 },
  pretrain: { id: 9, options: { recipe: 'marked-check', steps: 3, seed: 0 } },
  stopPretrain: {},
  exportBase: { id: 10 },
  ready: { backend: { kind: 'cpu', reason: 'x' }, why: { key: 'own' }, selfTest: 54, build: { simd128: true, cpu_threads: 1 }, presets: {} },
  configured: { id: 2, parameters: 5, task: '3-digit × 1-digit multiplication', run: {} },
  resumed: { id: 7, parameters: 5, task: '3-digit × 1-digit multiplication', run: {}, page: { settings: { preset: 'tiny' } }, log: [], steps: 0 },
  savedRuns: { runs: [{ id: 'a-1', steps: 2, saved_at: '2026-11-29T12:00:00Z', page: {}, open: false }], damaged: [] },
  saved: { steps: 10, saved_at: '2026-11-29T12:00:00Z', run: 'a-1' },
  unsaved: { steps: 20, savedSteps: 10, message: 'QuotaExceededError' },
  lost: { cause: 'gpu', message: 'the GPU device was lost', steps: -1, run: '' },
  refused: { id: 2, message: 'no' },
  state: { running: true, steps: 3 },
  evaluated: { row: { step: 0 }, ms: 10 },
  stepped: { report: { metrics: {} }, memory: { wasm_heap_bytes: 1 << 20 } },
  measured: { id: 5, download: { raw_bytes: 9, gzip_bytes: 4 }, peak: null },
  token: { id: 1, text: 'g' },
  completion: { id: 1, result: { correct: true } },
  failed: { id: 1, message: 'no' },
  exported: { id: 1, files: {} },
  routed: { id: 4, routes: { tokens: [], experts: [] } },
  distilling: { id: 6, progress: { done: false } },
  distilled: { update: { phase: 'answered', kept: [], sampled: 32 }, progress: { done: false } },
  distilState: { progress: { done: true }, message: '' },
  pretraining: { id: 9, progress: { done: false } },
  pretrained: { update: { phase: 'stepped', steps: [] }, progress: { done: false } },
  pretrainState: { progress: { done: true }, message: '' },
  error: { message: 'x' },
};

/**
 * `makeMessage` without its types: these tests hand it every kind by name, and messages that are
 * wrong on purpose, for the run-time check to refuse.
 */
const make = /** @type {(kind: string, fields?: object) => any} */ (makeMessage);

/** A value of each schema type, and one that is none of them. */
const WRONG = { string: 1, number: '1', boolean: 'yes', object: 'x', 'object?': 3, array: {} };

describe('protocol', () => {
  it('has an example of every kind, and every example checks', () => {
    expect(Object.keys(EXAMPLES).sort()).toEqual(Object.keys(MESSAGE_FIELDS).sort());
    for (const [kind, fields] of Object.entries(EXAMPLES)) {
      expect(make(kind, fields)).toEqual({ v: PROTOCOL_VERSION, kind, ...fields });
    }
  });

  it('refuses every missing or mistyped field, naming it', () => {
    let refusals = 0;
    for (const [kind, schema] of Object.entries(MESSAGE_FIELDS)) {
      for (const [field, type] of Object.entries(schema)) {
        const { [field]: _, ...missing } = EXAMPLES[kind];
        expect(() => make(kind, missing), `${kind} without ${field}`).toThrow(
          new ProtocolError(`${kind}.${field} must be a ${type}, got undefined`),
        );
        expect(() => make(kind, { ...EXAMPLES[kind], [field]: WRONG[type] }), `${kind}.${field}`).toThrow(
          `${kind}.${field} must be a ${type}`,
        );
        refusals += 2;
      }
    }
    expect(refusals).toBeGreaterThan(100);
  });

  it('tells an array from an object and null from an object', () => {
    expect(() => make('savedRuns', { runs: {}, damaged: [] })).toThrow(new ProtocolError('savedRuns.runs must be a array, got object'));
    expect(() => make('ready', { ...EXAMPLES.ready, backend: null })).toThrow(new ProtocolError('ready.backend must be a object, got null'));
    expect(() => make('ready', { ...EXAMPLES.ready, build: [] })).toThrow(new ProtocolError('ready.build must be a object, got array'));
    expect(make('measured', { ...EXAMPLES.measured, peak: { gflops: 3 } }).peak.gflops).toBe(3);
  });

  it('refuses non-messages, other versions, unknown kinds and a backend it does not have', () => {
    const cases = [
      [null, 'a message must be an object'],
      [[], 'a message must be an object'],
      ['init', 'a message must be an object'],
      [{ v: 1, kind: 'init', prefer: 'cpu', baseUrl: '/' }, `protocol version 1 is not ${PROTOCOL_VERSION}: reload the page`],
      [{ v: PROTOCOL_VERSION, kind: 'fly' }, 'unknown message kind "fly"'],
      [{ v: PROTOCOL_VERSION, kind: 'toString' }, 'unknown message kind "toString"'],
      [{ v: PROTOCOL_VERSION, kind: 'init', prefer: 'tpu', baseUrl: '/' }, 'init.prefer must be "auto", "webgpu", "cpu" or "measure", got "tpu"'],
    ];
    for (const [data, reason] of cases) {
      expect(() => checkMessage(data)).toThrow(new ProtocolError(reason));
    }
    for (const prefer of ['auto', 'webgpu', 'cpu', 'measure']) expect(make('init', { prefer, baseUrl: '/' }).prefer).toBe(prefer);
  });
});

import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, ProtocolError, checkMessage, makeMessage } from './protocol.js';

describe('protocol', () => {
  it('builds messages that check', () => {
    const init = makeMessage('init', { prefer: 'webgpu', baseUrl: 'http://127.0.0.1/' });
    expect(init).toEqual({ v: PROTOCOL_VERSION, kind: 'init', prefer: 'webgpu', baseUrl: 'http://127.0.0.1/' });
    expect(checkMessage(init)).toBe(init);
    const ready = makeMessage('ready', { backend: { kind: 'cpu', reason: 'x' }, selfTest: 54, build: { simd128: true, cpu_threads: 1 } });
    expect(checkMessage(makeMessage('init', { prefer: 'auto', baseUrl: '/' })).prefer).toBe('auto');
    expect(ready.kind).toBe('ready');
  });

  it('refuses other versions, unknown kinds and wrong fields with reasons', () => {
    const cases = [
      [null, 'a message must be an object'],
      [[], 'a message must be an object'],
      ['init', 'a message must be an object'],
      [{ v: 1, kind: 'init', prefer: 'cpu', baseUrl: '/' }, `protocol version 1 is not ${PROTOCOL_VERSION}: reload the page`],
      [{ v: PROTOCOL_VERSION, kind: 'fly' }, 'unknown message kind "fly"'],
      [{ v: PROTOCOL_VERSION, kind: 'init' }, 'init.prefer must be a string, got undefined'],
      [{ v: PROTOCOL_VERSION, kind: 'init', prefer: 'tpu', baseUrl: '/' }, 'init.prefer must be "auto", "webgpu" or "cpu", got "tpu"'],
      [{ v: PROTOCOL_VERSION, kind: 'ready', backend: null, selfTest: 54, build: {} }, 'ready.backend must be a object, got null'],
      [{ v: PROTOCOL_VERSION, kind: 'ready', backend: {}, selfTest: 54 }, 'ready.build must be a object, got undefined'],
      [{ v: PROTOCOL_VERSION, kind: 'error', message: 3 }, 'error.message must be a string, got number'],
      [{ v: PROTOCOL_VERSION, kind: 'configure', id: 1, settings: null, model: 'base-model/' }, 'configure.settings must be a object, got null'],
      [{ v: PROTOCOL_VERSION, kind: 'stepped' }, 'stepped.report must be a object, got undefined'],
    ];
    for (const [data, reason] of cases) {
      expect(() => checkMessage(data)).toThrow(new ProtocolError(reason));
    }
  });

  it('carries prompt requests and their streamed answers', () => {
    expect(makeMessage('generate', { id: 1, prompt: '347*5', sampled: false }).prompt).toBe('347*5');
    expect(makeMessage('token', { id: 1, text: 'g' }).text).toBe('g');
    expect(makeMessage('completion', { id: 1, result: { correct: true } }).result.correct).toBe(true);
    expect(makeMessage('failed', { id: 1, message: 'no' }).message).toBe('no');
    expect(() => makeMessage('generate', { id: '1', prompt: 'x', sampled: false })).toThrow(
      new ProtocolError('generate.id must be a number, got string'),
    );
    expect(() => makeMessage('generate', { id: 1, prompt: 'x', sampled: 'yes' })).toThrow(ProtocolError);
  });

  it('carries training commands and reports', () => {
    for (const kind of ['train', 'pause', 'step']) expect(makeMessage(kind).kind).toBe(kind);
    const configure = makeMessage('configure', { id: 2, settings: { preset: 'tiny' }, page: {}, model: 'base-model/' });
    expect(configure.settings.preset).toBe('tiny');
    expect(makeMessage('state', { running: true, steps: 3 }).steps).toBe(3);
    const memory = { wasm_heap_bytes: 1 << 20 };
    expect(makeMessage('stepped', { report: { metrics: {} }, memory }).report.metrics).toEqual({});
    expect(() => makeMessage('stepped', { report: {} })).toThrow(new ProtocolError('stepped.memory must be a object, got undefined'));
    expect(makeMessage('measure', { id: 5 }).id).toBe(5);
    const download = { raw_bytes: 9, gzip_bytes: 4 };
    expect(makeMessage('measured', { id: 5, download, peak: null }).download).toEqual(download);
    expect(makeMessage('measured', { id: 5, download, peak: { gflops: 3 } }).peak.gflops).toBe(3);
    expect(makeMessage('refused', { id: 2, message: 'no' }).message).toBe('no');
    expect(makeMessage('route', { id: 4, text: '347*5=g1735 a1735.' }).text).toBe('347*5=g1735 a1735.');
    expect(makeMessage('routed', { id: 4, routes: { tokens: [], experts: [] } }).routes.experts).toEqual([]);
    expect(() => makeMessage('routed', { id: 4 })).toThrow(new ProtocolError('routed.routes must be a object, got undefined'));
    const weights = new ArrayBuffer(4);
    expect(makeMessage('import', { id: 3, settings: {}, page: {}, weights, config: '{}', tokenizer: '{}' }).weights).toBe(weights);
  });

  it('carries saving, losing the GPU and resuming', () => {
    expect(makeMessage('loseDevice').kind).toBe('loseDevice');
    expect(makeMessage('forget', { run: 'a-1' }).run).toBe('a-1');
    expect(() => makeMessage('forget')).toThrow(new ProtocolError('forget.run must be a string, got undefined'));
    expect(makeMessage('resume', { id: 7, run: 'a-1' }).run).toBe('a-1');
    expect(makeMessage('saved', { steps: 10, saved_at: '2026-11-29T12:00:00Z', run: 'a-1' }).steps).toBe(10);
    expect(makeMessage('unsaved', { steps: 20, savedSteps: 10, message: 'QuotaExceededError' }).savedSteps).toBe(10);
    expect(makeMessage('lost', { cause: 'gpu', message: 'the GPU device was lost', steps: -1, run: '' }).steps).toBe(-1);
    expect(makeMessage('trap').kind).toBe('trap');
    // The list of saved runs is an array, and an object is not taken for one.
    const runs = [{ id: 'a-1', steps: 2, saved_at: '2026-11-29T12:00:00Z', page: {}, open: false }];
    expect(makeMessage('savedRuns', { runs, damaged: [] }).runs).toEqual(runs);
    expect(() => makeMessage('savedRuns', { runs: {}, damaged: [] })).toThrow(new ProtocolError('savedRuns.runs must be a array, got object'));
    const resumed = { id: 7, parameters: 5, run: {}, page: { settings: { preset: 'tiny' } }, log: [], steps: 0 };
    expect(makeMessage('resumed', resumed).log).toEqual([]);
    expect(() => makeMessage('resumed', { ...resumed, log: null })).toThrow(ProtocolError);
  });

  it('makeMessage checks too', () => {
    expect(() => makeMessage('ready', { selfTest: 'no' })).toThrow(ProtocolError);
  });
});

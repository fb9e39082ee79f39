import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, ProtocolError, checkMessage, makeMessage } from './protocol.js';

describe('protocol', () => {
  it('builds messages that check', () => {
    const init = makeMessage('init', { prefer: 'webgpu', modelUrl: '/base-model/' });
    expect(init).toEqual({ v: PROTOCOL_VERSION, kind: 'init', prefer: 'webgpu', modelUrl: '/base-model/' });
    expect(checkMessage(init)).toBe(init);
    const ready = makeMessage('ready', { backend: { kind: 'cpu', reason: 'x' }, selfTest: 54 });
    expect(ready.kind).toBe('ready');
  });

  it('refuses other versions, unknown kinds and wrong fields with reasons', () => {
    const cases = [
      [null, 'a message must be an object'],
      [[], 'a message must be an object'],
      ['init', 'a message must be an object'],
      [{ v: 0, kind: 'init', prefer: 'cpu', modelUrl: '/' }, 'protocol version 0 is not 1: reload the page'],
      [{ v: 1, kind: 'train' }, 'unknown message kind "train"'],
      [{ v: 1, kind: 'init' }, 'init.prefer must be a string, got undefined'],
      [{ v: 1, kind: 'init', prefer: 'tpu', modelUrl: '/' }, 'init.prefer must be "webgpu" or "cpu", got "tpu"'],
      [{ v: 1, kind: 'ready', backend: null, selfTest: 54 }, 'ready.backend must be a object, got null'],
      [{ v: 1, kind: 'error', message: 3 }, 'error.message must be a string, got number'],
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

  it('makeMessage checks too', () => {
    expect(() => makeMessage('ready', { selfTest: 'no' })).toThrow(ProtocolError);
  });
});

import { describe, expect, it } from 'vitest';
import { describeBackend, describeCompletion, preferredBackend } from './format.js';

describe('describeBackend', () => {
  it('names the adapter and flags a software fallback', () => {
    expect(describeBackend({ kind: 'webgpu', adapter: 'SwiftShader Device', fallback_adapter: true })).toBe(
      'WebGPU on SwiftShader Device (software fallback adapter: slow)',
    );
    expect(describeBackend({ kind: 'webgpu', adapter: '', fallback_adapter: false })).toBe('WebGPU');
  });

  it('gives the CPU reason', () => {
    expect(describeBackend({ kind: 'cpu', reason: 'no adapter' })).toBe('CPU (WebAssembly) — no adapter');
  });

  it('does not hide an unknown kind', () => {
    expect(describeBackend({ kind: 'tpu' })).toBe('unknown backend "tpu"');
  });
});

describe('preferredBackend', () => {
  it('reads #backend=cpu and defaults to webgpu', () => {
    expect(preferredBackend('#backend=cpu')).toBe('cpu');
    expect(preferredBackend('#seed=3&backend=cpu')).toBe('cpu');
    expect(preferredBackend('')).toBe('webgpu');
    expect(preferredBackend('#backend=quantum')).toBe('webgpu');
    expect(preferredBackend('#%%%')).toBe('webgpu');
  });
});

describe('describeCompletion', () => {
  it('says right or wrong and whether it checked', () => {
    const base = { expected: '1735', answer: '1735', correct: true, checked: false };
    expect(describeCompletion(base)).toBe('right (1735) · it did not check');
    expect(describeCompletion({ ...base, answer: '1745', correct: false, checked: true })).toBe(
      'wrong: the answer is 1735, it said 1745 · it checked its guess',
    );
    expect(describeCompletion({ ...base, answer: null, correct: false })).toBe(
      'wrong: the answer is 1735, it gave no answer · it did not check',
    );
  });
});

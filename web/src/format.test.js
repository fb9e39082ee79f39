import { describe, expect, it } from 'vitest';
import { describeBackend, preferredBackend } from './format.js';

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

import { describe, expect, it } from 'vitest';
import { BenchFigures, describeBench } from './bench.js';

const metrics = (rollout, update, tokens = 100, flops = 2e9) => ({
  rollout_ms: rollout,
  update_ms: update,
  sampled_tokens: tokens,
  update_flops: flops,
  readbacks: 2,
});

describe('bench figures', () => {
  it('say nothing before the first step', () => {
    const bench = new BenchFigures();
    expect(bench.summary()).toBeNull();
    expect(describeBench(null)).toEqual([['steps', 'none yet: press Train or Single step']]);
  });

  it('keep the first step apart and take medians and ratios of sums over the rest', () => {
    const bench = new BenchFigures(100);
    bench.addStep(metrics(5000, 3000), 9100);
    const device = { allocations: 567, bytes_in_use: 2e6, bytes_reserved: 41.6e6 };
    bench.addStep(metrics(400, 100), 9700, { wasm_heap_bytes: 50e6, device });
    bench.addStep(metrics(600, 300, 300), 10700);
    bench.addStep(metrics(500, 200), 11500);
    const summary = bench.summary();
    expect(summary).toEqual({
      steps: 4,
      first_step_ms: 8000,
      grpo_step_ms: 700,
      rollout_ms: 500,
      update_ms: 200,
      tokens_per_s: 500 / 1.5,
      update_achieved_gflops: 6e9 / 600 / 1e6,
      readbacks_per_step: 2,
      load_to_first_step_ms: 9000,
      start: 'page load',
      wasm_heap_bytes: 50e6,
      gpu_allocations: 567,
      gpu_bytes_reserved: 41.6e6,
    });
    const rows = new Map(describeBench(summary, { raw_bytes: 12.34e6, gzip_bytes: 2.91e6 }));
    expect(rows.get('wasm download')).toBe('12.3 MB (2.9 MB gzip)');
    expect(rows.get('page load → first step')).toBe('9000 ms');
    expect(rows.get('first step')).toBe('8000 ms');
    expect(rows.get('GRPO step (median of 3 steps after the first)')).toBe('700 ms = rollout 500 ms + update 200 ms');
    expect(rows.get('sampled tokens / s')).toBe('333');
    expect(rows.get('update, matmul GFLOP/s achieved')).toBe('10.00');
    expect(rows.get('GPU → CPU reads per step')).toBe('2');
    expect(rows.get('wasm memory (Worker)')).toBe('50.0 MB');
    expect(rows.get('GPU memory (pools)')).toBe('41.6 MB in 567 allocations');
  });

  it('use the first step when it is the only one', () => {
    const bench = new BenchFigures(1_000, 'reset');
    bench.addStep(metrics(40_000, 20_000), 61_000);
    const summary = bench.summary();
    expect(new Map(describeBench(summary)).get('reset → first step')).toBe('60.0 s');
    expect(summary.grpo_step_ms).toBe(60_000);
    expect(summary.wasm_heap_bytes).toBeNull();
    expect(summary.gpu_bytes_reserved).toBeNull();
    expect(new Map(describeBench(summary)).get('GRPO step (the first step only)')).toBe('60.0 s = rollout 40.0 s + update 20.0 s');
  });
});

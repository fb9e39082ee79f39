import { describe, expect, it } from 'vitest';
import { BenchFigures, MEMORY_PEAK_WINDOW_STEPS, MEMORY_WARMUP_STEPS, describeBench, peakFigures } from './bench.js';

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
    bench.backendReady(2100);
    bench.addEvaluation(0, 1500);
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
      load_to_ready_ms: 2000,
      baseline_eval_ms: 1500,
      time_to_aha_s: null,
      aha_step: null,
      step_ms_first_20: 800,
      step_ms_before_aha: null,
      tokens_per_s_before_aha: null,
      start: 'page load',
      wasm_heap_bytes: 50e6,
      gpu_allocations: 567,
      gpu_bytes_reserved: 41.6e6,
      memory_drift: null,
    });
    const rows = new Map(describeBench(summary, { raw_bytes: 12.34e6, gzip_bytes: 2.91e6 }));
    expect(rows.get('wasm download')).toBe('12.3 MB (2.9 MB gzip)');
    expect(rows.get('page load → first step')).toBe('9000 ms');
    expect(rows.get('page load → backend ready')).toBe('2000 ms');
    expect(rows.get('step-0 held-out evaluation')).toBe('1500 ms');
    expect(rows.get('first step')).toBe('8000 ms');
    expect(rows.get('GRPO step (median of 3 steps after the first)')).toBe('700 ms = rollout 500 ms + update 200 ms');
    expect(rows.get('sampled tokens / s')).toBe('333');
    expect(rows.get('update, matmul GFLOP/s achieved')).toBe('10.00');
    expect(rows.get('GPU → CPU reads per step')).toBe('2');
    expect(rows.get('wasm memory (Worker)')).toBe('50.0 MB');
    expect(rows.get('GPU memory (pools)')).toBe('41.6 MB in 567 allocations');
  });

  it("keep only the run's step-0 evaluation and say nothing of what they did not see", () => {
    const bench = new BenchFigures(5000, 'reset');
    bench.addEvaluation(10, 900);
    bench.addStep(metrics(100, 100), 6000);
    bench.addEvaluation(0, 700);
    bench.addEvaluation(0, 800);
    const summary = bench.summary();
    expect(summary.load_to_ready_ms).toBeNull();
    expect(summary.baseline_eval_ms).toBe(700);
    const rows = new Map(describeBench(summary));
    expect(rows.has('reset → backend ready')).toBe(false);
    expect(rows.get('step-0 held-out evaluation')).toBe('700 ms');
  });

  it('time the aha from pressing Train to the first held-out check rate over 0.5', () => {
    const bench = new BenchFigures(0);
    bench.trainPressed(1000);
    bench.trainPressed(5000); // a second press (after a pause) does not restart the clock
    bench.addStep(metrics(300, 200, 100), 1500);
    bench.addEvaluation(0, 400, { step: 0, check_rate: 0.1 }, 1900);
    for (let i = 1; i < 30; i++) bench.addStep(metrics(100 + i, 100, 100), 1900 + i * 200);
    bench.addEvaluation(10, null, { step: 10, check_rate: 0.5 }, 4000); // not over 0.5
    bench.addEvaluation(20, null, { step: 20, check_rate: 0.62 }, 6000);
    bench.addEvaluation(30, null, { step: 30, check_rate: 0.9 }, 8000);
    const summary = bench.summary();
    expect(summary.time_to_aha_s).toBe(5);
    expect(summary.aha_step).toBe(20);
    expect(summary.baseline_eval_ms).toBe(400);
    // Steps 1–20: the first (500 ms) and 19 of 201..219 ms; the 20 before the aha are the same.
    expect(summary.step_ms_first_20).toBe(210.5);
    expect(summary.step_ms_before_aha).toBe(210.5);
    expect(summary.tokens_per_s_before_aha).toBeCloseTo(2000 / ((300 + (101 + 119) * 19 / 2) / 1e3), 6);
    const rows = new Map(describeBench(summary));
    expect(rows.get('time to aha (Train → held-out check rate over 0.5)')).toBe('5.0 s, at step 20 (median step before it 211 ms)');
  });

  it('measure how far memory moves after the warm-up', () => {
    const bench = new BenchFigures();
    const memory = (heap, allocations, bytes) => ({ wasm_heap_bytes: heap, device: { allocations, bytes_reserved: bytes } });
    // Growth during the warm-up steps does not count; after it, the largest change from its first step.
    for (let step = 1; step <= MEMORY_WARMUP_STEPS; step++) {
      bench.addStep(metrics(1, 1), 0, memory(10 * step, 50 * step, 800 * step));
    }
    expect(bench.summary().memory_drift).toBeNull();
    bench.addStep(metrics(1, 1), 0, memory(40, 500, 8000));
    expect(bench.summary().memory_drift).toBeNull(); // one step after the warm-up: nothing to compare
    bench.addStep(metrics(1, 1), 0, memory(40, 510, 7600));
    bench.addStep(metrics(1, 1), 0, memory(44, 505, 8000));
    // The GPU bytes go by window peaks: none before two complete windows.
    expect(bench.summary().memory_drift).toEqual({ steps: 3, wasm_heap_bytes: 0.1, gpu_allocations: 0.02, gpu_bytes_reserved: null });
    const rows = new Map(describeBench(bench.summary()));
    expect(rows.get(`memory drift over 3 steps after step ${MEMORY_WARMUP_STEPS}`)).toBe(
      `wasm 10.0%, GPU allocations 2.0%, GPU bytes after ${2 * MEMORY_PEAK_WINDOW_STEPS} steps`,
    );
    // On the CPU there are no GPU pools: their drift is 0, the heap's still measured.
    const cpu = new BenchFigures();
    const heaps = [...Array(MEMORY_WARMUP_STEPS).fill(1), ...Array(2 * MEMORY_PEAK_WINDOW_STEPS - 1).fill(4), 5];
    for (const heap of heaps) cpu.addStep(metrics(1, 1), 0, { wasm_heap_bytes: heap, device: null });
    expect(cpu.summary().memory_drift).toEqual({ steps: 20, wasm_heap_bytes: 0.25, gpu_allocations: 0, gpu_bytes_reserved: 0 });
  });

  it('compare the GPU bytes reserved by window peaks: pages given back and taken again are no drift', () => {
    const bench = new BenchFigures();
    const reserved = (bytes) => ({ wasm_heap_bytes: 1, device: { allocations: 1, bytes_reserved: bytes } });
    for (let step = 1; step <= MEMORY_WARMUP_STEPS; step++) bench.addStep(metrics(1, 1), 0, reserved(40));
    // As in the browser: low right after each evaluation (every 5 steps), up again by the next.
    const cycle = (peak) => [12, 30, 38, peak, 40, 13, 31, 39, peak - 1, 40];
    for (const bytes of [...cycle(46), ...cycle(44)]) bench.addStep(metrics(1, 1), 0, reserved(bytes));
    const twoWindows = bench.summary().memory_drift;
    expect(twoWindows.gpu_bytes_reserved).toBeCloseTo(2 / 46); // step to step it moved 3.8×
    expect(new Map(describeBench(bench.summary())).get(`memory drift over 20 steps after step ${MEMORY_WARMUP_STEPS}`)).toBe(
      'wasm 0.0%, GPU allocations 0.0%, GPU bytes 4.3% (10-step peaks)',
    );
    // A leak raises the peaks; an incomplete window does not count yet.
    for (const bytes of cycle(58)) bench.addStep(metrics(1, 1), 0, reserved(bytes));
    bench.addStep(metrics(1, 1), 0, reserved(500));
    expect(bench.summary().memory_drift.gpu_bytes_reserved).toBeCloseTo(12 / 46);
  });

  it('show the matmul peak, Burn\'s matmul and the update as a share of each', () => {
    const bench = new BenchFigures();
    bench.addStep(metrics(500, 200), 1000);
    const summary = bench.summary(); // 2e9 FLOPs in 200 ms: 10 GFLOP/s
    const peak = { shape: [4608, 64, 128], repeats: 10, gflops: 40, max_relative_error: 0, burn_gflops: 50 };
    expect(peakFigures(summary, peak)).toEqual({
      matmul_peak_gflops: 40,
      matmul_peak_shape: [4608, 64, 128],
      matmul_peak_max_relative_error: 0,
      burn_matmul_gflops: 50,
      update_share_of_peak: 0.25,
      update_share_of_best_matmul: 0.2,
    });
    // When our kernel is the faster one, it is the bound both shares use.
    expect(peakFigures(summary, { ...peak, burn_gflops: 20 }).update_share_of_best_matmul).toBe(0.25);
    expect(peakFigures(null, peak).update_share_of_peak).toBeNull();
    expect(peakFigures(null, peak).update_share_of_best_matmul).toBeNull();
    expect(peakFigures(summary, null)).toEqual({
      matmul_peak_gflops: null,
      matmul_peak_shape: null,
      burn_matmul_gflops: null,
      update_share_of_peak: null,
      update_share_of_best_matmul: null,
    });
    const rows = new Map(describeBench(summary, null, peak));
    expect(rows.get('matmul peak (our tiled WGSL kernel, 4608 × 64 × 128)')).toBe('40.00 GFLOP/s');
    expect(rows.get("Burn's matmul, same shape")).toBe('50.00 GFLOP/s');
    expect(rows.get('update ÷ matmul peak')).toBe('25.0%');
    expect(rows.get('update ÷ faster matmul')).toBe('20.0%');
    expect(new Map(describeBench(summary)).has('update ÷ matmul peak')).toBe(false);
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

// The bench panel: how fast this run goes here, from what the Worker measured in each step. Pure
// bookkeeping (unit-tested); main.js draws `describeBench`'s rows. The same figures, under the same
// names, are what `cargo xtask bench --browser` writes to report/bench-browser.json.
import { ui } from './i18n.js';

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/**
 * Steps after which memory should stop growing: its drift is measured from the step after. They
 * take in the held-out evaluations (every 5 or 10 steps: new shapes, new pool buffers), the first
 * save (10 steps), and rollouts growing to their full length as the model learns to check (the
 * pools grow once for the longest): a 6-step soak with 3 warm-up steps saw the GPU pools grow 20%
 * at its step-5 evaluation, a 14-step one with 10 saw them grow 19% after step 10, and the native
 * 1,000-step soak saw its one growth at step 15 and nothing after (dev/LOG.md). As natively, 20.
 */
export const MEMORY_WARMUP_STEPS = 20;

/**
 * Steps per window whose peak stands for the GPU bytes reserved. In the browser Burn's pools keep
 * one buffer per allocation and give a buffer back once 5,000 allocations went by without it
 * (CubeCL's exclusive pages, the only kind on wasm): a held-out evaluation's allocations release
 * the training steps' buffers, and the next steps take them again. So the reserved bytes cycle
 * with the evaluations (every 5 or 10 steps; 12.7-46.5 MB in a 133-step soak, dev/LOG.md) and a
 * leak shows as rising peaks: compare each 10-step window's peak with the first window's.
 */
export const MEMORY_PEAK_WINDOW_STEPS = 10;

/** The largest change of `values` from the first, as a fraction of the first (0 when flat). */
const drift = (values) => Math.max(...values.map((v) => Math.abs(v - values[0]) / Math.max(values[0], 1)));

/** The peak of each complete window of `size` values. */
const windowPeaks = (values, size) =>
  Array.from({ length: Math.floor(values.length / size) }, (_, i) => Math.max(...values.slice(i * size, (i + 1) * size)));

/** Step figures of one run. The first step compiles shaders and fills caches: it is kept apart. */
export class BenchFigures {
  /**
   * `startedAt`: when the run began, in page time (0, the time origin, is page load); `start`
   * names that moment in the panel ("page load", or "reset" for later runs).
   */
  constructor(startedAt = 0, start = 'page load') {
    this.startedAt = startedAt;
    this.start = start;
    this.steps = [];
    this.firstStepAt = null;
    /** When the backend was up (wasm, device, self-test), in page time; null unless seen. */
    this.readyAt = null;
    /** How long the run's step-0 held-out evaluation took (ms), null until it ran. */
    this.baselineEvalMs = null;
    /** When Train or Single step was first pressed in this run (page time), null before. */
    this.trainAt = null;
    /** The first held-out evaluation whose check rate passed 0.5: `{step, at}`, null before. */
    this.aha = null;
    this.memory = null;
    /** `[wasm heap, GPU allocations, GPU bytes reserved]` after each step past the warm-up. */
    this.warmMemory = [];
  }

  /** The backend came up at page time `at` (ms): the wasm loaded, the device made, the self-test run. */
  backendReady(at) {
    this.readyAt = at;
  }

  /** Train (or Single step) was pressed at page time `at`; only the first press counts. */
  trainPressed(at) {
    if (this.trainAt === null) this.trainAt = at;
  }

  /**
   * A held-out evaluation at `step` took `ms` (null where it ran inside a step) and, with `row`,
   * measured `row.check_rate`, arriving at page time `at`: the first one above 0.5 is the aha.
   */
  addEvaluation(step, ms, row = null, at = null) {
    if (step === 0 && this.baselineEvalMs === null && ms !== null) this.baselineEvalMs = ms;
    if (this.aha === null && row !== null && at !== null && row.check_rate > AHA_CHECK_RATE) this.aha = { step, at };
  }

  /** A step's metrics, finished at page time `at` (ms); `memory` as the Worker measured it after. */
  addStep(metrics, at, memory = null) {
    if (this.firstStepAt === null) this.firstStepAt = at;
    this.steps.push({
      rollout_ms: metrics.rollout_ms,
      update_ms: metrics.update_ms,
      step_ms: metrics.rollout_ms + metrics.update_ms,
      sampled_tokens: metrics.sampled_tokens,
      update_flops: metrics.update_flops,
      readbacks: metrics.readbacks,
    });
    if (memory !== null) this.memory = memory;
    if (memory !== null && this.steps.length > MEMORY_WARMUP_STEPS) {
      const device = memory.device ?? {};
      this.warmMemory.push([memory.wasm_heap_bytes, device.allocations ?? 0, device.bytes_reserved ?? 0]);
    }
  }

  /**
   * How far memory moved after the warm-up, as fractions (0.1 = 10%): the wasm heap and the GPU
   * allocations step by step from the first step after the warm-up; the GPU bytes reserved by
   * window peaks (`MEMORY_PEAK_WINDOW_STEPS`), null before two complete windows. Null before two
   * steps after the warm-up.
   */
  memoryDrift() {
    if (this.warmMemory.length < 2) return null;
    const column = (i) => this.warmMemory.map((row) => row[i]);
    const peaks = windowPeaks(column(2), MEMORY_PEAK_WINDOW_STEPS);
    return {
      steps: this.warmMemory.length,
      wasm_heap_bytes: drift(column(0)),
      gpu_allocations: drift(column(1)),
      gpu_bytes_reserved: peaks.length < 2 ? null : drift(peaks),
    };
  }

  /**
   * Time to aha: from pressing Train to the first held-out evaluation with a check rate over 0.5
   * (seconds), that evaluation's step, the median step of steps 1–20 and of the 20 steps before
   * the aha, and the sampled tokens per second up to it. Nulls until it happens.
   */
  ahaFigures() {
    const none = { time_to_aha_s: null, aha_step: null, step_ms_first_20: null, step_ms_before_aha: null, tokens_per_s_before_aha: null };
    const first20 = this.steps.slice(0, 20).map((s) => s.step_ms);
    none.step_ms_first_20 = first20.length > 0 ? median(first20) : null;
    if (this.aha === null || this.trainAt === null) return none;
    const before = this.steps.slice(0, this.aha.step);
    const sum = (key) => before.reduce((total, s) => total + s[key], 0);
    return {
      time_to_aha_s: (this.aha.at - this.trainAt) / 1e3,
      aha_step: this.aha.step,
      step_ms_first_20: none.step_ms_first_20,
      step_ms_before_aha: before.length > 0 ? median(before.slice(-20).map((s) => s.step_ms)) : null,
      tokens_per_s_before_aha: before.length > 0 ? sum('sampled_tokens') / (sum('rollout_ms') / 1e3) : null,
    };
  }

  /**
   * The figures: medians over the steps after the first (the first alone when there is one), and
   * the wall time from the run's start to its first finished step. Null before the first step.
   */
  summary() {
    if (this.steps.length === 0) return null;
    const warm = this.steps.length > 1 ? this.steps.slice(1) : this.steps;
    const of = (key) => median(warm.map((s) => s[key]));
    const sum = (key) => warm.reduce((total, s) => total + s[key], 0);
    return {
      steps: this.steps.length,
      first_step_ms: this.steps[0].step_ms,
      grpo_step_ms: of('step_ms'),
      rollout_ms: of('rollout_ms'),
      update_ms: of('update_ms'),
      // Totals over totals: a ratio of sums, not a mean of per-step ratios.
      tokens_per_s: sum('sampled_tokens') / (sum('rollout_ms') / 1e3),
      update_achieved_gflops: sum('update_flops') / sum('update_ms') / 1e6,
      readbacks_per_step: of('readbacks'),
      load_to_first_step_ms: this.firstStepAt - this.startedAt,
      // What came before the first step: the backend (from the run's start) and the step-0
      // evaluation; the rest is the model's files and the run's set-up.
      load_to_ready_ms: this.readyAt === null ? null : this.readyAt - this.startedAt,
      baseline_eval_ms: this.baselineEvalMs,
      ...this.ahaFigures(),
      start: this.start,
      wasm_heap_bytes: this.memory?.wasm_heap_bytes ?? null,
      gpu_allocations: this.memory?.device?.allocations ?? null,
      gpu_bytes_reserved: this.memory?.device?.bytes_reserved ?? null,
      memory_drift: this.memoryDrift(),
    };
  }
}

/** The held-out check rate an evaluation must pass to count as the aha. */
export const AHA_CHECK_RATE = 0.5;

const MB = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;
const ms = (value) => (value >= 1e4 ? `${(value / 1e3).toFixed(1)} s` : `${Math.round(value)} ms`);

/**
 * The peak figures for `summary`: our tiled matmul's rate (`peak`, from the Worker, null on the
 * CPU), Burn's own matmul's rate at the same shape, and the update's achieved rate as a share of
 * ours and of the faster of the two (on a software adapter ours can be the slower one).
 */
export function peakFigures(summary, peak) {
  if (!peak) {
    return {
      matmul_peak_gflops: null,
      matmul_peak_shape: null,
      burn_matmul_gflops: null,
      update_share_of_peak: null,
      update_share_of_best_matmul: null,
    };
  }
  const shareOf = (gflops) => (summary ? summary.update_achieved_gflops / gflops : null);
  return {
    matmul_peak_gflops: peak.gflops,
    matmul_peak_shape: peak.shape,
    // How far the kernel's product was from the CPU's: a peak of a wrong kernel means nothing.
    matmul_peak_max_relative_error: peak.max_relative_error,
    burn_matmul_gflops: peak.burn_gflops,
    update_share_of_peak: shareOf(peak.gflops),
    update_share_of_best_matmul: shareOf(Math.max(peak.gflops, peak.burn_gflops)),
  };
}

/**
 * The panel's rows, `[label, value]`; `download` is `{raw_bytes, gzip_bytes}` of the wasm or null,
 * `peak` the matmul peak (`{shape, gflops}`) or null.
 */
export function describeBench(summary, download = null, peak = null) {
  const words = ui().bench;
  /** @type {Array<[string, string]>} */
  const rows = [];
  if (download) rows.push([words.download, words.downloadValue(MB(download.raw_bytes), MB(download.gzip_bytes))]);
  if (peak) {
    rows.push(
      [words.peak(peak.shape.join(' × ')), `${peak.gflops.toFixed(2)} GFLOP/s`],
      [words.burnPeak, `${peak.burn_gflops.toFixed(2)} GFLOP/s`],
    );
  }
  if (summary === null) {
    rows.push([words.steps, words.noSteps]);
    return rows;
  }
  const start = words.start[summary.start] ?? summary.start;
  rows.push([words.toFirstStep(start), ms(summary.load_to_first_step_ms)]);
  if (summary.load_to_ready_ms !== null) rows.push([words.toReady(start), ms(summary.load_to_ready_ms)]);
  if (summary.baseline_eval_ms !== null) rows.push([words.baselineEval, ms(summary.baseline_eval_ms)]);
  if (summary.time_to_aha_s !== null) {
    rows.push([words.timeToAha, words.ahaValue(summary.time_to_aha_s.toFixed(1), summary.aha_step, ms(summary.step_ms_before_aha))]);
  } else if (summary.steps > 0) {
    rows.push([words.timeToAha, words.notYet]);
  }
  rows.push(
    [words.firstStep, ms(summary.first_step_ms)],
    [words.grpoStep(words.warm(summary.steps)), words.grpoStepValue(ms(summary.grpo_step_ms), ms(summary.rollout_ms), ms(summary.update_ms))],
    [words.tokens, summary.tokens_per_s.toFixed(0)],
    [words.achieved, summary.update_achieved_gflops.toFixed(2)],
  );
  const { update_share_of_peak: share, update_share_of_best_matmul: shareOfBest } = peakFigures(summary, peak);
  if (share !== null) {
    rows.push(
      [words.shareOfPeak, `${(share * 100).toFixed(1)}%`],
      [words.shareOfBest, `${(shareOfBest * 100).toFixed(1)}%`],
    );
  }
  rows.push([words.readbacks, String(summary.readbacks_per_step)]);
  if (summary.wasm_heap_bytes !== null) rows.push([words.wasmMemory, MB(summary.wasm_heap_bytes)]);
  if (summary.gpu_bytes_reserved !== null) {
    rows.push([words.gpuMemory, words.gpuMemoryValue(MB(summary.gpu_bytes_reserved), summary.gpu_allocations)]);
  }
  const moved = summary.memory_drift;
  if (moved) {
    const pct = (fraction) => `${(fraction * 100).toFixed(1)}%`;
    const bytes =
      moved.gpu_bytes_reserved === null
        ? words.driftBytesLater(2 * MEMORY_PEAK_WINDOW_STEPS)
        : words.driftBytes(pct(moved.gpu_bytes_reserved), MEMORY_PEAK_WINDOW_STEPS);
    rows.push([
      words.drift(moved.steps, MEMORY_WARMUP_STEPS),
      words.driftValue(pct(moved.wasm_heap_bytes), pct(moved.gpu_allocations), bytes),
    ]);
  }
  return rows;
}

// Live charts (uPlot): one point per GRPO step, the held-out evaluations as their own series.
// The x axis is "policy updates so far": a step's rollout metrics sit at the step's index (the
// policy it sampled had that many updates), an evaluation after k updates sits at k.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { smooth } from './format.js';
import { ui } from './i18n.js';

import { overlayColumns } from './runtable.js';

export { RunTable } from './runtable.js';

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];

/**
 * The charts and their series. `key` names a column of the run table (see `RunTable`); `held_out`
 * series are sparse and drawn as points joined across gaps, never smoothed. Each chart's title,
 * note and series labels are words of the page's language: `ui().charts[id]`.
 */
export const CHARTS = [
  {
    id: 'reward',
    range: [0, 1],
    series: [{ key: 'reward_mean' }],
  },
  {
    id: 'accuracy',
    range: [0, 1],
    series: [
      { key: 'accuracy' },
      { key: 'first_guess_accuracy', dash: [6, 4] },
      { key: 'eval_sampled_acc', held_out: true },
      { key: 'eval_greedy_acc', held_out: true },
      { key: 'eval_first_guess_acc', held_out: true, dash: [6, 4] },
    ],
  },
  {
    id: 'behaviour',
    range: [0, 1],
    series: [
      { key: 'check_rate' },
      { key: 'eval_check_rate', held_out: true },
      { key: 'wait_rate' },
      { key: 'fix_rate' },
      { key: 'broke_rate' },
      { key: 'verdict_accuracy', dash: [6, 4] },
      { key: 'eval_verdict_accuracy', held_out: true },
      { key: 'eval_check_accuracy_after_wrong_guess', held_out: true },
      { key: 'eval_check_copies_guess', held_out: true, dash: [2, 3] },
    ],
  },
  {
    id: 'length',
    series: [
      { key: 'mean_length_correct' },
      { key: 'mean_length_wrong' },
    ],
  },
  {
    id: 'optimiser',
    series: [
      { key: 'kl' },
      { key: 'entropy' },
      { key: 'clip_fraction' },
      { key: 'zero_variance_groups' },
    ],
  },
  {
    id: 'time',
    series: [
      { key: 'rollout_ms' },
      { key: 'update_ms' },
    ],
  },
];

/**
 * A faded copy of each series draws the run compared with (the previous run, an ablation) behind
 * the current one; `compared` names it in the legend.
 */
function comparisonSeries(spec, compared) {
  if (spec.compare === false) return [];
  return spec.series.map((s, i) => ({
    label: `${seriesLabel(spec, s)} · ${compared}`,
    stroke: `${PALETTE[i % PALETTE.length]}66`,
    width: 1.5,
    dash: [2, 3],
    spanGaps: true,
    points: { show: false },
    show: false,
  }));
}

/** A series' label in the page's language: its own words (`label()`), else its chart's. */
const seriesLabel = (spec, series) => series.label?.() ?? ui().charts[spec.id].series[series.key];

/** `spec`'s plot in a new figure at the end of `container` (or in place of `replacing`). */
function makePlot(spec, container, { compared, xLabel }, replacing = null) {
  const words = spec.words?.() ?? ui().charts[spec.id];
  const figure = document.createElement('figure');
  figure.className = 'chart';
  figure.id = `chart-${spec.id}`;
  const caption = document.createElement('figcaption');
  caption.textContent = words.title;
  figure.append(caption);
  if (words.note) {
    const note = document.createElement('p');
    note.className = 'chart-note';
    note.textContent = words.note;
    figure.append(note);
  }
  if (replacing) replacing.replaceWith(figure);
  else container.append(figure);
  const options = {
    width: plotWidth(figure),
    height: 200,
    scales: { x: { time: false }, y: spec.range ? { range: spec.range } : {} },
    // Whole steps only on the x axis.
    axes: [{ label: xLabel(), incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] }, {}],
    series: [
      { label: ui().charts.step },
      ...spec.series.map((s, i) => ({
        label: seriesLabel(spec, s),
        stroke: PALETTE[i % PALETTE.length],
        width: 2,
        dash: s.dash,
        spanGaps: Boolean(s.held_out),
        points: { show: Boolean(s.held_out) },
      })),
      ...comparisonSeries(spec, compared()),
    ],
  };
  const empty = options.series.slice(1).map(() => []);
  return { spec, figure, plot: new uPlot(options, [[], ...empty], figure), comparing: false };
}

/** A plot fills its grid cell (the figure), whatever the number of columns. */
function plotWidth(figure) {
  return Math.max(240, Math.floor(figure.clientWidth));
}

/**
 * The distillation panel's charts: the student's held-out evaluations, the distilled student's
 * drawn over its own GRPO run's (faded), at equal updates of each.
 */
export const DISTIL_CHARTS = [
  {
    id: 'distil-accuracy',
    range: [0, 1],
    series: [
      { key: 'eval_sampled_acc', held_out: true },
      { key: 'eval_greedy_acc', held_out: true },
      { key: 'eval_first_guess_acc', held_out: true, dash: [6, 4] },
    ],
  },
  {
    id: 'distil-behaviour',
    range: [0, 1],
    series: [
      { key: 'eval_check_rate', held_out: true },
      { key: 'eval_verdict_accuracy', held_out: true },
      { key: 'eval_fix_rate', held_out: true },
    ],
  },
];

/** Charts in `container`, redrawn from a `RunTable`. */
export class Charts {
  /**
   * `specs`: the charts (the training charts unless given); `compared()`: what the faded curves
   * are, for the legend; `xLabel()`: the x axis (both in the page's language).
   */
  constructor(
    container,
    specs = CHARTS,
    { compared = () => ui().charts.previousRun, xLabel = () => ui().charts.policyUpdates } = {},
  ) {
    this.container = container;
    this.smoothing = false;
    this.labels = { compared, xLabel };
    this.plots = specs.map((spec) => makePlot(spec, container, this.labels));
    this.experts = null;
    // Only a new width resizes the plots: the grid grows taller as charts appear, and redrawing
    // every plot then would cost a frame for nothing.
    let width = null;
    new ResizeObserver(([entry]) => {
      if (entry.contentRect.width === width) return;
      width = entry.contentRect.width;
      this.resize();
    }).observe(container);
  }

  resize() {
    for (const { plot, figure } of this.all()) plot.setSize({ width: plotWidth(figure), height: 200 });
  }

  all() {
    return this.experts ? [...this.plots, this.experts] : this.plots;
  }

  /** Adds the experts chart once `table` has expert columns (the first step's report). */
  addExpertsChart(table) {
    if (this.experts || table.expertKeys.length === 0) return;
    const series = table.expertKeys.map((key) => {
      const [, layer, expert] = key.match(/^expert_L(\d+)_E(\d+)$/);
      return { key, label: () => ui().charts.expertSeries(layer, expert), dash: layer === '0' ? undefined : [6, 4] };
    });
    const spec = {
      id: 'experts',
      words: () => ({ title: ui().charts.experts }),
      range: [0, 1],
      series,
      compare: false,
    };
    this.experts = makePlot(spec, this.container, this.labels);
  }

  /**
   * Makes every plot again in the page's language, each in its place; the owner then draws the
   * data again (a new plot starts empty).
   */
  relabel() {
    const remake = (drawn) => {
      drawn.plot.destroy();
      return makePlot(drawn.spec, this.container, this.labels, drawn.figure);
    };
    this.plots = this.plots.map(remake);
    if (this.experts) this.experts = remake(this.experts);
  }

  /** The ids of the charts on show. */
  ids() {
    return this.all().map(({ spec }) => spec.id);
  }

  /**
   * Draws the chart `id` from `table`, and `previous` (an earlier run's table, or null) faded
   * behind it; nothing when no such chart is on show (the experts chart of a run reset since).
   */
  drawOne(id, table, previous = null) {
    const drawn = this.all().find(({ spec }) => spec.id === id);
    if (!drawn) return;
    const { spec, plot } = drawn;
    const keys = spec.series.map((s) => s.key);
    const comparing = spec.compare !== false && previous !== null;
    const [xs, ...columns] = spec.compare === false ? table.columnsFor(keys) : overlayColumns(table, previous, keys);
    const shown = columns.map((values, i) => {
      const series = spec.series[i % spec.series.length];
      return this.smoothing && !series.held_out ? smooth(values) : values;
    });
    plot.setData([xs, ...shown]);
    if (comparing !== drawn.comparing) {
      drawn.comparing = comparing;
      drawn.figure.dataset.comparing = String(comparing);
      for (let i = 0; i < spec.series.length; i += 1) plot.setSeries(spec.series.length + i + 1, { show: comparing });
    }
  }

  clear() {
    this.experts?.plot.destroy();
    this.experts?.figure.remove();
    this.experts = null;
  }
}

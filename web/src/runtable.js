// The run so far as one table: what the charts draw and what "export run" writes as CSV.
// The x column is "policy updates so far": a step's rollout metrics sit at the step's index (the
// policy it sampled had that many updates); an evaluation after k updates sits at k.

/** The run so far as one table: a row per x (policy updates), metrics and evaluations merged. */
export class RunTable {
  constructor() {
    this.byStep = new Map();
    this.expertKeys = [];
  }

  row(x) {
    if (!this.byStep.has(x)) this.byStep.set(x, { x });
    return this.byStep.get(x);
  }

  addEval(row) {
    const target = this.row(row.step);
    for (const [key, value] of Object.entries(row)) if (key !== 'step') target[`eval_${key}`] = value;
  }

  /** Adds a step report's metrics and expert shares (`expert_L<layer>_E<expert>`). */
  addStep(report) {
    const target = this.row(report.metrics.step);
    Object.assign(target, report.metrics);
    report.expert_load.forEach((layer, l) =>
      layer.forEach((share, e) => {
        const key = `expert_L${l}_E${e}`;
        if (!this.expertKeys.includes(key)) this.expertKeys.push(key);
        target[key] = share;
      }),
    );
    if (report.eval) this.addEval(report.eval);
  }

  rows() {
    return [...this.byStep.values()].sort((a, b) => a.x - b.x);
  }

  columns() {
    const keys = new Set();
    for (const row of this.byStep.values()) for (const key of Object.keys(row)) keys.add(key);
    return ['x', ...[...keys].filter((k) => k !== 'x').sort()];
  }

  /** `[xs, ...one array per key]` for uPlot, nulls where a row lacks the key. */
  columnsFor(keys) {
    const rows = this.rows();
    return [rows.map((r) => r.x), ...keys.map((k) => rows.map((r) => (typeof r[k] === 'number' ? r[k] : null)))];
  }
}

/**
 * Columns of `current` and, overlaid, of `previous` (an earlier run, or null) for uPlot: one x
 * axis (the union of both runs' steps), then one array per key for the current run, then one per
 * key for the previous run, nulls where a run has no value at that x.
 */
export function overlayColumns(current, previous, keys) {
  const runs = previous ? [current, previous] : [current];
  const xs = [...new Set(runs.flatMap((t) => t.rows().map((r) => r.x)))].sort((a, b) => a - b);
  const column = (table, key) => {
    const byX = new Map(table.rows().map((r) => [r.x, r[key]]));
    return xs.map((x) => (typeof byX.get(x) === 'number' ? byX.get(x) : null));
  };
  const previousColumns = keys.map((key) => (previous ? column(previous, key) : xs.map(() => null)));
  return [xs, ...keys.map((key) => column(current, key)), ...previousColumns];
}

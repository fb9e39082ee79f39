import { describe, expect, it } from 'vitest';
import { RunTable, overlayColumns } from './runtable.js';

const report = (step, extra = {}) => ({
  metrics: { step, reward_mean: step / 10, check_rate: 0.5 },
  expert_load: [
    [0.75, 0.25],
    [0.5, 0.5],
  ],
  eval: null,
  ...extra,
});

describe('RunTable', () => {
  it('merges step metrics and evaluations by policy updates', () => {
    const table = new RunTable();
    table.addEval({ step: 0, sampled_acc: 0.5, check_rate: 0.03 });
    table.addStep(report(0));
    table.addStep(report(1, { eval: { step: 2, sampled_acc: 0.6, check_rate: 0.1 } }));
    const rows = table.rows();
    expect(rows.map((r) => r.x)).toEqual([0, 1, 2]);
    expect(rows[0]).toMatchObject({ x: 0, eval_sampled_acc: 0.5, reward_mean: 0, expert_L0_E0: 0.75 });
    expect(rows[2]).toEqual({ x: 2, eval_sampled_acc: 0.6, eval_check_rate: 0.1 });
    expect(table.expertKeys).toEqual(['expert_L0_E0', 'expert_L0_E1', 'expert_L1_E0', 'expert_L1_E1']);
  });

  it('gives uPlot columns with gaps where a row lacks a value', () => {
    const table = new RunTable();
    table.addStep(report(0));
    table.addEval({ step: 1, sampled_acc: 0.7 });
    expect(table.columnsFor(['reward_mean', 'eval_sampled_acc'])).toEqual([
      [0, 1],
      [0, null],
      [null, 0.7],
    ]);
    expect(table.columns()[0]).toBe('x');
    expect(table.columns()).toContain('eval_sampled_acc');
  });
});

describe('overlayColumns', () => {
  it('puts two runs on one x axis, the previous run after the current', () => {
    const current = new RunTable();
    current.addStep(report(0));
    current.addStep(report(1));
    const previous = new RunTable();
    for (const step of [0, 1, 2]) previous.addStep(report(step, { metrics: { step, reward_mean: 1 - step / 10 } }));
    const [xs, reward, check, previousReward, previousCheck] = overlayColumns(current, previous, ['reward_mean', 'check_rate']);
    expect(xs).toEqual([0, 1, 2]);
    expect(reward).toEqual([0, 0.1, null]);
    expect(check).toEqual([0.5, 0.5, null]);
    expect(previousReward).toEqual([1, 0.9, 0.8]);
    expect(previousCheck).toEqual([null, null, null]);
  });

  it('gives the previous run empty columns when there is none', () => {
    const current = new RunTable();
    current.addStep(report(0));
    expect(overlayColumns(current, null, ['reward_mean'])).toEqual([[0], [0], [null]]);
  });
});

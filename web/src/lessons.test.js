import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LESSONS } from './lessons.js';

const html = readFileSync(new URL('../index.html', import.meta.url), 'utf8');
const pageIds = new Set([...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]));
// Chart figures get `chart-<id>` from the CHARTS spec (read as text: uPlot needs a browser).
const chartsSource = readFileSync(new URL('./charts.js', import.meta.url), 'utf8');
const chartIds = new Set([...chartsSource.matchAll(/^\s+id: '([a-z-]+)',$/gm)].map((m) => `chart-${m[1]}`));
const report = JSON.parse(readFileSync(new URL('../../report/emergence.json', import.meta.url), 'utf8'));
const distillReport = JSON.parse(readFileSync(new URL('../../report/distill.json', import.meta.url), 'utf8'));

const lesson = (title) => LESSONS.find((l) => l.title === title).text;
/** `text`'s percentages after `pattern` (a RegExp with numbered groups), as fractions. */
const percents = (text, pattern) => {
  const match = text.match(pattern);
  expect(match, `${pattern} in ${text}`).not.toBeNull();
  return match.slice(1).map((p) => Number(p) / 100);
};

describe('lessons', () => {
  it('points every step at something on the page', () => {
    for (const { target } of LESSONS) {
      const id = target.replace(/^#/, '');
      expect(pageIds.has(id) || chartIds.has(id), `${target} is neither in index.html nor a chart`).toBe(true);
    }
  });

  it('quotes only what the emergence report measured, on every seed', () => {
    const sharper = lesson('Sharper, or checking?');
    const [guess] = percents(sharper, /first guess stayed near (\d+)% right/);
    const [from, to] = percents(sharper, /from about (\d+)% to (\d+)%/);
    expect(report.seeds.length).toBe(3);
    expect(sharper).toContain('three seeds');
    for (const { seed, before, after } of report.seeds) {
      const near = (value, quoted, what) => expect(Math.abs(value - quoted), `seed ${seed}: ${what} ${value}`).toBeLessThanOrEqual(0.05);
      near(before.first_guess_acc, guess, 'first guess before');
      near(after.first_guess_acc, guess, 'first guess after');
      near(before.sampled_acc, from, 'accuracy before');
      near(after.sampled_acc, to, 'accuracy after');
    }

    expect(lesson('The ablation: RL amplifies, it does not invent')).toContain('stays at zero (three seeds)');
    expect(report.ablation_seeds.map((run) => run.highest_check_rate)).toEqual([0, 0, 0]);
  });

  it('quotes the distillation report: each range spans exactly its seeds', () => {
    const text = lesson('Distillation: a small model taught by the RL’d one');
    const seeds = distillReport.seeds;
    expect(seeds.length).toBe(3);
    expect(text).toContain(`three seeds, ${distillReport.steps} updates of each`);
    const [greedyDistilled, greedyOwn] = [/answered (\d+)–(\d+)% right greedily/, /against (\d+)–(\d+)% for its own GRPO/];
    const [sampledDistilled, sampledOwn] = [/and (\d+)–(\d+)% against/, /against (\d+)–(\d+)% sampled/];
    const range = (arm, metric) => {
      const values = seeds.map((seed) => Math.round(100 * seed[arm].metrics[metric]) / 100);
      return [Math.min(...values), Math.max(...values)];
    };
    expect(percents(text, greedyDistilled)).toEqual(range('distill', 'greedy_acc'));
    expect(percents(text, greedyOwn)).toEqual(range('grpo', 'greedy_acc'));
    expect(percents(text, sampledDistilled)).toEqual(range('distill', 'sampled_acc'));
    expect(percents(text, sampledOwn)).toEqual(range('grpo', 'sampled_acc'));
    // "About half the training time": distillation's seconds against its own GRPO's, every seed.
    for (const seed of seeds) expect(seed.distill.seconds / seed.grpo.seconds).toBeLessThan(0.6);
  });
});

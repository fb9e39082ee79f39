import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LANGUAGES } from './i18n.js';
import { MEASURED, percentRange } from './i18n/measured.js';
import { LESSON_TARGETS } from './lessons.js';

const html = readFileSync(new URL('../index.html', import.meta.url), 'utf8');
const pageIds = new Set([...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]));
// Chart figures get `chart-<id>` from the CHARTS spec (read as text: uPlot needs a browser).
const chartsSource = readFileSync(new URL('./charts.js', import.meta.url), 'utf8');
const chartIds = new Set([...chartsSource.matchAll(/^\s+id: '([a-z-]+)',$/gm)].map((m) => `chart-${m[1]}`));
const report = JSON.parse(readFileSync(new URL('../../report/emergence.json', import.meta.url), 'utf8'));
const distillReport = JSON.parse(readFileSync(new URL('../../report/distill.json', import.meta.url), 'utf8'));

const percent = (fraction) => Math.round(100 * fraction);
/** `[lowest, highest]` of `values` as whole percentages. */
const spread = (values) => [Math.min(...values.map(percent)), Math.max(...values.map(percent))];
/** The lesson at `index` in every language, and the "what to watch for" list. */
const everyLanguage = (index) => Object.values(LANGUAGES).map((words) => words.lessons.steps[index].text);
const watchLists = Object.values(LANGUAGES).map((words) => Object.values(words.html).join(' '));

describe('lessons', () => {
  it('points every step at something on the page, in every language', () => {
    for (const target of LESSON_TARGETS) {
      const id = target.replace(/^#/, '');
      expect(pageIds.has(id) || chartIds.has(id), `${target} is neither in index.html nor a chart`).toBe(true);
    }
    for (const [code, words] of Object.entries(LANGUAGES)) expect(words.lessons.steps.length, code).toBe(LESSON_TARGETS.length);
  });

  it('quotes only what the emergence report measured, on every seed', () => {
    expect(report.seeds.length).toBe(3);
    for (const { seed, before, after, first_step_check_over_half: half } of report.seeds) {
      const near = (value, quoted, points, what) =>
        expect(Math.abs(100 * value - quoted), `seed ${seed}: ${what} ${value}, quoted ${quoted}%`).toBeLessThanOrEqual(points);
      near(before.first_guess_acc, MEASURED.firstGuess, 5, 'first guess before');
      near(after.first_guess_acc, MEASURED.firstGuess, 5, 'first guess after');
      near(before.sampled_acc, MEASURED.accuracyFrom, 5, 'accuracy before');
      near(after.sampled_acc, MEASURED.accuracyTo, 5, 'accuracy after');
      near(before.check_rate, MEASURED.baseCheckRate, 3, 'base check rate');
      expect(half, `seed ${seed}: first evaluation with the check rate over half`).toBe(MEASURED.checkHalfStep);
    }
    expect(spread(report.seeds.map((s) => s.after.check_rate))).toEqual(MEASURED.checkRateAt100);
    const verdicts = report.seeds.flatMap((s) => [s.before.verdict_accuracy, s.after.verdict_accuracy]);
    expect(spread(verdicts)).toEqual(MEASURED.verdictRight);
    expect(report.ablation_seeds.map((run) => run.highest_check_rate)).toEqual([0, 0, 0]);

    for (const text of [...everyLanguage(3), ...watchLists]) {
      for (const figure of [MEASURED.firstGuess, MEASURED.accuracyFrom, MEASURED.accuracyTo]) expect(text).toContain(`${figure}%`);
    }
    for (const text of watchLists) {
      expect(text).toContain(`${percentRange(MEASURED.checkRateAt100)}%`);
      expect(text).toContain(`${percentRange(MEASURED.verdictRight)}%`);
    }
    expect(LANGUAGES.en.lessons.steps[3].text).toContain('three seeds');
    expect(LANGUAGES.en.lessons.steps[6].text).toContain('stays at zero (three seeds)');
    expect(LANGUAGES.zh.lessons.steps[6].text).toContain('一直是零（三个种子）');
  });

  it('quotes the distillation report: each range spans exactly its seeds', () => {
    const seeds = distillReport.seeds;
    expect(seeds.length).toBe(3);
    expect(MEASURED.distilSteps).toBe(distillReport.steps);
    const range = (arm, metric) => spread(seeds.map((seed) => seed[arm].metrics[metric]));
    expect(MEASURED.distilledGreedy).toEqual(range('distill', 'greedy_acc'));
    expect(MEASURED.ownGreedy).toEqual(range('grpo', 'greedy_acc'));
    expect(MEASURED.distilledSampled).toEqual(range('distill', 'sampled_acc'));
    expect(MEASURED.ownSampled).toEqual(range('grpo', 'sampled_acc'));
    // "About half the training time": distillation's seconds against its own GRPO's, every seed.
    for (const seed of seeds) expect(seed.distill.seconds / seed.grpo.seconds).toBeLessThan(0.6);
    for (const text of everyLanguage(7)) {
      for (const quoted of [MEASURED.distilledGreedy, MEASURED.ownGreedy, MEASURED.distilledSampled, MEASURED.ownSampled]) {
        expect(text).toContain(`${percentRange(quoted)}%`);
      }
    }
    expect(LANGUAGES.en.lessons.steps[7].text).toContain(`three seeds, ${distillReport.steps} updates of each`);
  });
});

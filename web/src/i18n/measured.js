// The figures the page quotes from the committed reports (report/emergence.json for the default
// preset's three seeds, report/distill.json for the distillation), in percent unless said. Both
// languages' words are written around these; lessons.test.js checks each against the reports, so a
// regenerated report that moves one fails the test until the figure here follows it.
/** `[low, high]` as the page writes a range of percentages: `96–97`, or `20` when both are equal. */
export const percentRange = (values) => (values[0] === values[1] ? `${values[0]}` : `${values[0]}–${values[1]}`);

export const MEASURED = {
  /** The base model's held-out check rate, every seed (within 3 points). */
  baseCheckRate: 10,
  /** The first held-out evaluation with the check rate over 50%, the same step on every seed. */
  checkHalfStep: 20,
  /** The held-out check rate at step 100, lowest and highest seed. */
  checkRateAt100: [96, 97],
  /** The held-out first guess, before and after RL, every seed (within 5 points). */
  firstGuess: 20,
  /** The held-out sampled accuracy before and after RL, every seed (within 5 points). */
  accuracyFrom: 28,
  accuracyTo: 87,
  /** The verdict right among checks (ok exactly when the check equals the guess), before and after RL. */
  verdictRight: [98, 100],
  /** Student updates of each distillation arm. */
  distilSteps: 300,
  /** Held-out accuracy of the distilled student and of its own GRPO run, lowest and highest seed. */
  distilledGreedy: [75, 78],
  ownGreedy: [67, 70],
  distilledSampled: [56, 58],
  ownSampled: [47, 51],
};

// The page's distillation, run headless at full length: train the teacher `teacherSteps` GRPO
// steps, press Distil with the panel's defaults (or `problems` and `steps`), and write how long each
// phase took and both arms' last held-out rows as JSON. What the README's figure for the page comes
// from. Usage (after `npm run build` on a release wasm):
//   node scripts/distil.js [hash] [teacherSteps] [out.json] [problems] [steps]
import { writeFileSync } from 'node:fs';
import { atFullLength } from '../e2e/harness.js';

const [hash = '#preset=default&backend=cpu', teacherArg = '300', out = 'test-results/distil.json', problems = '', steps = ''] =
  process.argv.slice(2);
const teacherSteps = Number(teacherArg);

await atFullLength(hash, ['distilled', 'distilState'], async (tab) => {
  await tab.click('#train', { timeout: 600_000 });
  const teacherStarted = Date.now();
  await tab.waitForFunction((n) => Number(document.querySelector('#charts').dataset.steps) >= n, teacherSteps, {
    timeout: 3_600_000,
    polling: 1000,
  });
  await tab.click('#train');
  await tab.locator('#run-state[data-running="false"]').waitFor({ timeout: 600_000 });
  const teacherSeconds = (Date.now() - teacherStarted) / 1000;
  if (problems !== '') await tab.fill('#distil-problems', problems);
  if (steps !== '') await tab.fill('#distil-steps', steps);
  const pressed = await tab.evaluate(() => performance.now());
  await tab.click('#distil-start');
  await tab
    .locator('#distil-state[data-state="done"], #distil-error:not([hidden])')
    .first()
    .waitFor({ timeout: 3_600_000 });
  const error = await tab.textContent('#distil-error');
  if (error !== '') throw new Error(error);
  const log = await tab.evaluate(() => window.workerLog);
  const since = (entry) => (entry.at - pressed) / 1000;
  const answered = log.filter((entry) => entry.update?.phase === 'answered').at(-1);
  const evaluated = log.filter((entry) => entry.update?.eval);
  const last = evaluated.at(-1).update.eval;
  const pick = ({ step, sampled_acc, greedy_acc, check_rate, verdict_accuracy, fix_rate }) =>
    ({ step, sampled_acc, greedy_acc, check_rate, verdict_accuracy, fix_rate });
  const report = {
    page: hash,
    teacher_steps: teacherSteps,
    teacher_seconds: teacherSeconds,
    state: await tab.textContent('#distil-state'),
    teacher_answers_s: since(answered),
    distillation_s: since(log.at(-1)),
    evaluations: evaluated.length,
    distilled: pick(last.distilled),
    own_grpo: pick(last.own),
    measured_at: new Date().toISOString(),
  };
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(JSON.stringify(report, null, 2));
});

// The page's "Make a base model", run headless at full length (or `steps`): press it with the
// recipe and seed given, wait until the model is made and probed, and write how long the steps and
// the probe took, the last losses and whether checking pays, as JSON. What the README's figure for
// the page comes from. Usage (after `npm run build` on a release wasm):
//   node scripts/pretrain.js [hash] [out.json] [recipe] [steps] [seed]
import { writeFileSync } from 'node:fs';
import { atFullLength } from '../e2e/harness.js';

const [hash = '#preset=default&backend=cpu', out = 'test-results/pretrain.json', recipe = 'marked-check', steps = '2600', seed = '0'] =
  process.argv.slice(2);

await atFullLength(hash, ['pretrained', 'pretrainState'], async (tab) => {
  await tab.locator('#pretrain-start:not([disabled])').waitFor({ timeout: 600_000 });
  await tab.selectOption('#pretrain-recipe', recipe);
  await tab.fill('#pretrain-steps', steps);
  await tab.fill('#pretrain-seed', seed);
  const pressed = await tab.evaluate(() => performance.now());
  await tab.click('#pretrain-start');
  await tab
    .locator('#pretrain-state[data-state="done"], #pretrain-error:not([hidden])')
    .first()
    .waitFor({ timeout: 7_200_000 });
  const error = await tab.textContent('#pretrain-error');
  if (error !== '') throw new Error(error);
  const log = await tab.evaluate(() => window.workerLog);
  const since = (entry) => (entry.at - pressed) / 1000;
  const stepped = log.filter((entry) => entry.update?.phase === 'stepped');
  const losses = stepped.flatMap((entry) => entry.update.steps);
  const measured = log.find((entry) => entry.update?.phase === 'measured');
  const report = {
    page: hash,
    recipe,
    steps: Number(steps),
    seed: Number(seed),
    state: await tab.textContent('#pretrain-state'),
    gap: await tab.textContent('#pretrain-gap'),
    steps_s: since(stepped.at(-1)),
    probe_s: since(measured) - since(stepped.at(-1)),
    mean_loss_last_20: losses.slice(-20).reduce((sum, s) => sum + s.loss, 0) / Math.min(20, losses.length),
    gaps: measured.update.gaps,
    measured_at: new Date().toISOString(),
  };
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(JSON.stringify(report, null, 2));
});

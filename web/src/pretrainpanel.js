// The "Make a base model" panel: asks the Worker to train a fresh model with a recipe's staged
// supervised fine-tuning, charts its loss as it goes with an estimate of the time left, shows
// whether checking pays for the finished model (forced check against forced answer), and hands the
// model to a GRPO run or to the person as files.
import { Charts, RunTable } from './charts.js';
import { $, show, showError } from './dom.js';
import { checkPays, describePretrain } from './format.js';
import { ui } from './i18n.js';
import { JobPanel } from './jobpanel.js';
import { readPretrainOptions } from './settings.js';

/** The panel's one chart: the loss of each SFT step. */
export const PRETRAIN_CHARTS = [{ id: 'pretrain-loss', series: [{ key: 'loss' }], compare: false }];

/** The recipes the Worker makes (aha-web's `PAGE_RECIPES`), the shipped base model's first. */
export const PRETRAIN_RECIPES = ['marked-check', 'no-check'];

export class PretrainPanel extends JobPanel {
  /** As `JobPanel`'s, and `useModel(files)`: starts a GRPO run from the model's files. */
  constructor(requests, post, frames, useModel) {
    super(requests, post, frames, {
      prefix: 'pretrain',
      request: 'pretrain',
      stop: 'stopPretrain',
      readOptions: () => readPretrainOptions($('#pretrain-recipe').value, $('#pretrain-steps').value, $('#pretrain-seed').value),
      starting: () => ui().pretrain.starting,
      idle: () => ui().pretrain.notStarted,
      failed: (message) => ui().pretrain.stopped(message),
    });
    this.useModel = useModel;
    this.charts = new Charts($('#pretrain-charts'), PRETRAIN_CHARTS, { compared: () => '', xLabel: () => ui().charts.sftSteps });
    this.losses = new RunTable();
    /** When the steps began (page time), and the latest step's loss and stage: the state line's. */
    this.startedAt = 0;
    this.latest = { loss: null, stage: 0 };
    for (const recipe of PRETRAIN_RECIPES) $('#pretrain-recipe').append(new Option('', recipe));
    this.nameRecipes();
    $('#pretrain-use').addEventListener('click', () => this.use());
    $('#pretrain-export').addEventListener('click', () => this.export('exportBase'));
  }

  nameRecipes() {
    for (const option of $('#pretrain-recipe').options) option.text = ui().pretrain.recipes[option.value];
  }

  buttons() {
    super.buttons();
    const finished = this.usable && this.made && !this.running;
    $('#pretrain-use').disabled = !finished;
    $('#pretrain-export').disabled = !finished;
  }

  begin(progress) {
    this.losses = new RunTable();
    this.latest = { loss: null, stage: 0 };
    this.startedAt = performance.now();
    showError($('#pretrain-gap'), '');
    $('#pretrain-downloads').replaceChildren();
    this.draw();
    this.showProgress(progress, 'stepping');
  }

  /** A `pretrained` report: some SFT steps, or the finished model's probe. */
  onUpdate({ update, progress }) {
    if (update.phase === 'stepped') {
      for (const { step, loss } of update.steps) this.losses.row(step + 1).loss = loss;
      const last = update.steps.at(-1);
      if (last) this.latest = { loss: last.loss, stage: last.stage };
      this.draw();
      this.showProgress(progress, progress.steps_done === progress.steps ? 'measuring' : 'stepping');
      return;
    }
    const [greedy, sampled] = update.gaps;
    showError($('#pretrain-gap'), () => checkPays(greedy, sampled));
    $('#pretrain-gap').dataset.pays = String(greedy.with_check - greedy.without_check >= 0.1);
  }

  showProgress(progress, state) {
    const now = { seconds: (performance.now() - this.startedAt) / 1000, ...this.latest };
    show($('#pretrain-state'), () => describePretrain(progress, state, now), state);
    $('#pretrain-state').dataset.steps = String(progress.steps_done);
  }

  /** Queues the loss chart's redraw. */
  draw() {
    const steps = this.losses.rows().length;
    this.frames.add('pretrain chart', () => {
      this.charts.drawOne('pretrain-loss', this.losses);
      $('#pretrain-charts').dataset.steps = String(steps);
    });
  }

  relabel() {
    this.nameRecipes();
    this.charts.relabel();
    this.draw();
  }

  /** A GRPO run of the settings on show from the made model. */
  async use() {
    $('#pretrain-use').disabled = true;
    const files = await this.files('exportBase');
    if (files) this.useModel({ weights: files.weights.buffer, config: files.config, tokenizer: files.tokenizer });
    this.buttons();
  }
}

// The distillation panel: asks the Worker to distil the current run's model (the teacher) into the
// shipped student, lists the teacher's answers as rejection sampling keeps or drops them, and draws
// the student's held-out evaluations — distilled, over its own GRPO run faded — as they come.
import { Charts, DISTIL_CHARTS, RunTable } from './charts.js';
import { $, sayAttributes, show, showError } from './dom.js';
import { modelDownloads, offerDownloads } from './downloads.js';
import { describeDistil } from './format.js';
import { onLanguage, ui } from './i18n.js';
import { readDistilOptions } from './settings.js';

/** Lines of the answers list kept on show, newest first. */
const SHOWN_ANSWERS = 40;

export class DistilPanel {
  /**
   * `requests` asks the Worker (`Requests`); `post(kind)` sends it a message needing no answer;
   * `frames` queues the drawing (`FrameQueue`).
   */
  constructor(requests, post, frames) {
    this.requests = requests;
    this.frames = frames;
    this.charts = new Charts($('#distil-charts'), DISTIL_CHARTS, {
      compared: () => ui().charts.ownGrpo,
      xLabel: () => ui().charts.studentUpdates,
    });
    this.distilled = new RunTable();
    this.own = new RunTable();
    this.usable = false;
    this.running = false;
    this.made = false;
    $('#distil-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.start();
    });
    $('#distil-stop').addEventListener('click', () => post('stopDistil'));
    $('#distil-export').addEventListener('click', () => this.export());
    onLanguage(() => {
      this.charts.relabel();
      this.draw();
    });
  }

  /** Whether a teacher is on show and its Worker computes; a new Worker has no distillation. */
  setUsable(usable, { workerRestarted = false } = {}) {
    this.usable = usable;
    if (workerRestarted) {
      this.made = false;
      if (this.running) this.stopped({ message: ui().distil.restarted });
    }
    this.buttons();
  }

  buttons() {
    $('#distil-start').disabled = !this.usable || this.running;
    $('#distil-stop').disabled = !this.running;
    $('#distil-export').disabled = !this.usable || this.running || !this.made;
  }

  async start() {
    let options;
    try {
      options = readDistilOptions($('#distil-problems').value, $('#distil-steps').value);
    } catch (error) {
      showError($('#distil-error'), error.message);
      return;
    }
    showError($('#distil-error'), '');
    this.running = true;
    this.buttons();
    show($('#distil-state'), () => ui().distil.loadingStudent, 'loading');
    try {
      const { progress } = await this.requests.send('distil', { options });
      this.made = true;
      this.distilled = new RunTable();
      this.own = new RunTable();
      $('#distil-answers').replaceChildren();
      $('#distil-downloads').replaceChildren();
      this.draw();
      this.showProgress(progress, 'answering');
    } catch (error) {
      this.running = false;
      showError($('#distil-error'), error.message);
      const made = this.made;
      show($('#distil-state'), () => (made ? ui().distil.keptBefore : ui().distil.notStarted), 'idle');
    }
    this.buttons();
  }

  /** A `distilled` report: one piece of the distillation. */
  onUpdate({ update, progress }) {
    if (update.phase === 'answered') {
      this.listAnswers(update.kept, update.dropped);
      this.showProgress(progress, 'answering');
      return;
    }
    if (update.phase === 'started') {
      // Both arms start from the student's base model.
      this.distilled.addEval(update.eval);
      this.own.addEval(update.eval);
    }
    else if (update.eval) {
      this.distilled.addEval(update.eval.distilled);
      this.own.addEval(update.eval.own);
    }
    if (update.phase === 'started' || update.eval) this.draw();
    this.showProgress(progress, 'training');
  }

  /** A `distilState`: the distillation finished, was stopped, or failed (`message`). */
  stopped({ progress = null, message }) {
    this.running = false;
    showError($('#distil-error'), message === '' ? '' : () => ui().distil.stopped(message));
    if (progress) this.showProgress(progress, progress.done ? 'done' : 'stopped');
    else $('#distil-state').dataset.state = 'stopped';
    this.buttons();
  }

  /** A batch of the teacher's answers, newest first: the kept ones, then the dropped ones. */
  listAnswers(kept, dropped) {
    const line = (answer, isKept) => {
      const item = document.createElement('li');
      item.textContent = `${answer.prompt}${answer.completion}`;
      item.dataset.kept = String(isKept);
      sayAttributes(item, () => (item.title = isKept ? ui().distil.kept : ui().distil.dropped));
      return item;
    };
    const items = [...kept.map((answer) => line(answer, true)), ...dropped.map((answer) => line(answer, false))];
    const list = $('#distil-answers');
    list.prepend(...items);
    while (list.children.length > SHOWN_ANSWERS) list.lastElementChild.remove();
  }

  showProgress(progress, state) {
    const line = $('#distil-state');
    show(line, () => describeDistil(progress, state), state);
    line.dataset.kept = String(progress.kept);
    line.dataset.steps = String(progress.steps_done);
  }

  /** Queues the charts' redraw: the distilled student's rows over its own GRPO run's. */
  draw() {
    for (const { spec } of this.charts.plots) {
      this.frames.add(`distil chart ${spec.id}`, () => this.charts.drawOne(spec.id, this.distilled, this.own));
    }
    const evaluations = this.distilled.rows().length;
    this.frames.add('distil evaluations', () => {
      $('#distil-charts').dataset.evaluations = String(evaluations);
    });
  }

  async export() {
    $('#distil-export').disabled = true;
    showError($('#distil-error'), '');
    try {
      const { files } = await this.requests.send('exportStudent');
      offerDownloads(modelDownloads(files), $('#distil-downloads'));
    } catch (error) {
      showError($('#distil-error'), error.message);
    }
    this.buttons();
  }
}

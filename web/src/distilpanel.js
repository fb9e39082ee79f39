// The distillation panel: asks the Worker to distil the current run's model (the teacher) into the
// shipped student, lists the teacher's answers as rejection sampling keeps or drops them, and draws
// the student's held-out evaluations — distilled, over its own GRPO run faded — as they come.
import { Charts, DISTIL_CHARTS, RunTable } from './charts.js';
import { $, sayAttributes, show, showError } from './dom.js';
import { describeDistil } from './format.js';
import { ui } from './i18n.js';
import { JobPanel } from './jobpanel.js';
import { readDistilOptions } from './settings.js';

/** Lines of the answers list kept on show, newest first. */
const SHOWN_ANSWERS = 40;

export class DistilPanel extends JobPanel {
  /**
   * As `JobPanel`'s: `requests`, `post(kind)`, `frames`; and `teacherSteps()`, the GRPO steps
   * the run on show (the teacher) has taken.
   */
  constructor(requests, post, frames, teacherSteps) {
    super(requests, post, frames, {
      prefix: 'distil',
      request: 'distil',
      stop: 'stopDistil',
      readOptions: () => readDistilOptions($('#distil-problems').value, $('#distil-steps').value),
      starting: () => ui().distil.loadingStudent,
      idle: (made) => (made ? ui().distil.keptBefore : ui().distil.notStarted),
      failed: (message) => ui().distil.stopped(message),
    });
    this.charts = new Charts($('#distil-charts'), DISTIL_CHARTS, {
      compared: () => ui().charts.ownGrpo,
      xLabel: () => ui().charts.studentUpdates,
    });
    this.distilled = new RunTable();
    this.own = new RunTable();
    this.teacherSteps = teacherSteps;
    $('#distil-export').addEventListener('click', () => this.export('exportStudent'));
  }

  buttons() {
    super.buttons();
    $('#distil-export').disabled = !this.usable || this.running || !this.made;
  }

  begin(progress) {
    // Allowed (a comparison in its own right), but rarely what a room wants to see.
    showError($('#distil-warning'), this.teacherSteps() === 0 ? () => ui().distil.untrainedTeacher : '');
    this.distilled = new RunTable();
    this.own = new RunTable();
    $('#distil-answers').replaceChildren();
    $('#distil-downloads').replaceChildren();
    this.draw();
    this.showProgress(progress, 'answering');
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

  relabel() {
    this.charts.relabel();
    this.draw();
  }
}

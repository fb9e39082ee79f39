// What the panels of the Worker's jobs beside the run share (the distillation, a base model being
// made): a form that starts the job, Stop, the buttons' states, a state line and an error line. A
// panel names its elements by a prefix (`#distil-form`, `#distil-start`, `#distil-stop`,
// `#distil-error`, `#distil-state`) and gives what differs: see the constructor.
import { $, show, showError } from './dom.js';
import { modelDownloads, offerDownloads } from './downloads.js';
import { onLanguage, ui } from './i18n.js';

export class JobPanel {
  /**
   * `requests` asks the Worker (`Requests`); `post(kind)` sends it a message needing no answer;
   * `frames` queues the drawing (`FrameQueue`); `job`: `{prefix, request, stop, readOptions(),
   * starting(), idle(made), failed(message)}` — the elements' prefix, the request that starts the
   * job and the message that stops it, the form's options (or an Error naming the bad field), the
   * words of the state line while the job starts and when it did not (`made`: an earlier job is
   * kept), and of the error line when the job failed.
   */
  constructor(requests, post, frames, job) {
    this.requests = requests;
    this.frames = frames;
    this.job = job;
    this.usable = false;
    this.running = false;
    /** Whether the Worker holds a job of this panel (the latest, kept after it ends). */
    this.made = false;
    $(`#${job.prefix}-form`).addEventListener('submit', (event) => {
      event.preventDefault();
      this.start();
    });
    $(`#${job.prefix}-stop`).addEventListener('click', () => post(job.stop));
    onLanguage(() => this.relabel());
  }

  /** An element of this panel: `part` after the prefix. */
  part(part) {
    return $(`#${this.job.prefix}-${part}`);
  }

  /** Whether the Worker computes (and has what the job needs); a new Worker holds no job. */
  setUsable(usable, { workerRestarted = false } = {}) {
    this.usable = usable;
    if (workerRestarted) {
      this.made = false;
      if (this.running) this.stopped({ message: ui().status.backendRestarted });
    }
    this.buttons();
  }

  /** Start and Stop; a panel adds its own buttons. */
  buttons() {
    this.part('start').disabled = !this.usable || this.running;
    this.part('stop').disabled = !this.running;
  }

  async start() {
    let options;
    try {
      options = this.job.readOptions();
    } catch (error) {
      showError(this.part('error'), error.message);
      return;
    }
    showError(this.part('error'), '');
    this.running = true;
    this.buttons();
    show(this.part('state'), () => this.job.starting(), 'starting');
    try {
      const { progress } = await this.requests.send(this.job.request, { options });
      this.made = true;
      this.begin(progress);
    } catch (error) {
      this.running = false;
      showError(this.part('error'), error.message);
      const made = this.made;
      show(this.part('state'), () => this.job.idle(made), 'idle');
    }
    this.buttons();
  }

  /** A job has started at `progress`: the panel clears what the last one drew. */
  begin(progress) {
    throw new Error(`a panel shows its job's start (${progress})`);
  }

  /** The job stopped: done (`progress.done`), stopped, or failed (`message`, else ''). */
  stopped({ progress = null, message }) {
    this.running = false;
    showError(this.part('error'), message === '' ? '' : () => this.job.failed(message));
    if (progress) this.showProgress(progress, progress.done ? 'done' : 'stopped');
    else this.part('state').dataset.state = 'stopped';
    this.buttons();
  }

  /** The state line for `progress` in `state`. */
  showProgress(progress, state) {
    throw new Error(`a panel says its job's progress (${progress}, ${state})`);
  }

  /** The files of the Worker's job (`request` answers with them), or null with the error shown. */
  async files(request) {
    showError(this.part('error'), '');
    try {
      const { files } = await this.requests.send(request);
      return files;
    } catch (error) {
      showError(this.part('error'), error.message);
      return null;
    }
  }

  /** Offers the job's model files (`request`) as download links under the panel. */
  async export(request) {
    this.part('export').disabled = true;
    const files = await this.files(request);
    if (files) offerDownloads(modelDownloads(files), this.part('downloads'));
    this.buttons();
  }

  /** After a switch of language: what is drawn rather than written. */
  relabel() {}
}

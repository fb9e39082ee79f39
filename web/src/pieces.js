// Long jobs the Worker does beside a run (a distillation, a base model being made), one piece of
// work at a time through the Worker's queue, with a macrotask between pieces so messages get in.

/**
 * One such job. `wrap(made)` gives `{advance(), progress()}` for the wasm object `made`;
 * `kinds` names the messages it posts (`update`: after each piece, `state`: when it stops, is
 * stopped or fails); `onTrap(error)` is called for an error that broke the wasm (nothing is posted
 * then: the Worker is done for).
 */
export class PieceByPiece {
  constructor({ enqueue, post, kinds, isTrap, onTrap }) {
    this.enqueue = enqueue;
    this.post = post;
    this.kinds = kinds;
    this.isTrap = isTrap;
    this.onTrap = onTrap;
    /** The wasm object of the latest job, kept after it ends for its export; null before the first. */
    this.made = null;
    this.work = null;
    this.on = false;
    this.queued = false;
  }

  /** Replaces the job (freeing the last one's wasm object) with `made`, worked by `work`, and starts it. */
  start(made, work) {
    this.made?.free();
    this.made = made;
    this.work = work;
    this.on = true;
    this.schedule();
  }

  /** Stops after the piece under way, if any, and says so. */
  stop() {
    if (!this.on) return;
    this.on = false;
    this.enqueue(
      async () => this.post(this.kinds.state, { progress: this.work.progress(), message: '' }),
      (error) => this.post('error', { message: String(error?.message ?? error) }),
    );
  }

  /** Queues the next piece while the job runs. */
  schedule() {
    if (!this.on || this.queued) return;
    this.queued = true;
    this.enqueue(
      async () => {
        this.queued = false;
        if (!this.on) return;
        const update = await this.work.advance();
        const progress = this.work.progress();
        this.post(this.kinds.update, { update, progress });
        if (progress.done) {
          this.on = false;
          this.post(this.kinds.state, { progress, message: '' });
          return;
        }
        setTimeout(() => this.schedule(), 0);
      },
      (error) => {
        this.on = false;
        if (this.isTrap(error)) this.onTrap(error);
        else this.post(this.kinds.state, { progress: this.work.progress(), message: String(error?.message ?? error) });
      },
    );
  }
}

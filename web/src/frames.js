// Drawing spread over animation frames. A step's report redraws a dozen charts, the latest group
// and the bench panel; done in the Worker's message handler, that was one task of up to ~60 ms on
// CI's two shared cores (a long frame: the page stutters). Queued here, each part draws in a
// frame of its own, and a part queued again before it ran draws once, with the latest data. A
// hidden tab gets no animation frames: it draws nothing until it is shown again.

/** Named drawing jobs, run one per animation frame in the order they were last queued. */
export class FrameQueue {
  /** `requestFrame` schedules a callback for the next frame (the browser's requestAnimationFrame). */
  constructor(requestFrame = (callback) => requestAnimationFrame(callback)) {
    this.requestFrame = requestFrame;
    this.jobs = new Map();
    this.waiting = false;
  }

  /**
   * Queues `job` under `name`. A queued job of that name is replaced and moves to the back, so a
   * job queued after others always runs after them (what `#charts[data-steps]` relies on).
   */
  add(name, job) {
    this.jobs.delete(name);
    this.jobs.set(name, job);
    this.wait();
  }

  /** How many jobs wait for a frame. */
  get size() {
    return this.jobs.size;
  }

  wait() {
    if (this.waiting || this.jobs.size === 0) return;
    this.waiting = true;
    this.requestFrame(() => {
      this.waiting = false;
      const [name, job] = this.jobs.entries().next().value;
      this.jobs.delete(name);
      try {
        job();
      } finally {
        this.wait();
      }
    });
  }
}

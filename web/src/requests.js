// Requests to the Worker as promises: each request gets a fresh id, and the reply carrying that id
// settles it — the answer resolves it, `failed` or `refused` rejects it with the Worker's message.
// One place for what a page otherwise keeps as a `pending…` id per kind of request.

/** Replies that settle a request, and how; `token` only streams part of an answer. */
const SETTLES = {
  configured: 'resolve',
  resumed: 'resolve',
  completion: 'resolve',
  routed: 'resolve',
  measured: 'resolve',
  exported: 'resolve',
  distilling: 'resolve',
  pretraining: 'resolve',
  failed: 'reject',
  refused: 'reject',
};

/**
 * A request the Worker answered with `failed` or `refused`, or one it can no longer answer
 * (`abandoned`: the Worker was replaced before it answered).
 */
export class RequestFailed extends Error {
  constructor(message, { abandoned = false } = {}) {
    super(message);
    this.abandoned = abandoned;
  }
}

export class Requests {
  #next = 1;
  #open = new Map();
  #post;

  /** `post(kind, fields, transfer)` sends a message to the Worker, moving the `transfer` buffers. */
  constructor(post) {
    this.#post = post;
  }

  /**
   * Sends `kind` with `fields` and a fresh `id`. Resolves with the reply message; rejects with a
   * `RequestFailed` carrying the Worker's message. `onPart` receives the messages that stream part
   * of the answer (an answer's `token`s) before it settles. `transfer`: buffers in `fields` moved
   * to the Worker rather than copied.
   */
  send(kind, fields = {}, onPart = null, transfer = []) {
    const id = this.#next++;
    const reply = new Promise((resolve, reject) => this.#open.set(id, { resolve, reject, onPart }));
    this.#post(kind, { ...fields, id }, transfer);
    return reply;
  }

  /** Hands `message` to the open request it answers; false if it answers none (then it is an event). */
  settle(message) {
    const request = this.#open.get(message.id);
    if (request === undefined) return false;
    if (message.kind === 'token') {
      request.onPart?.(message);
      return true;
    }
    const how = SETTLES[message.kind];
    if (how === undefined) return false;
    this.#open.delete(message.id);
    if (how === 'resolve') request.resolve(message);
    else request.reject(new RequestFailed(message.message));
    return true;
  }

  /** Rejects every open request with `reason`: the Worker that would answer them is gone. */
  abandon(reason) {
    const open = [...this.#open.values()];
    this.#open.clear();
    for (const request of open) request.reject(new RequestFailed(reason, { abandoned: true }));
  }
}

/**
 * The latest request of one kind (a run being made, a resume): the answer to one that a later
 * request superseded is dropped, as is a refusal from a Worker that was replaced (`abandoned`).
 */
export class Latest {
  #current = null;

  /** Calls `answered(reply)` or `refused(reason)` when `request` settles, unless a later `track` or a `drop` came first. */
  track(request, answered, refused) {
    const mine = {};
    this.#current = mine;
    const isLatest = () => {
      const latest = this.#current === mine;
      if (latest) this.#current = null;
      return latest;
    };
    request.then(
      (reply) => isLatest() && answered(reply),
      (error) => isLatest() && !error.abandoned && refused(error.message),
    );
  }

  /** Forgets the request being tracked: its answer, when it comes, is dropped. */
  drop() {
    this.#current = null;
  }
}

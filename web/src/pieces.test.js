import { describe, expect, it } from 'vitest';
import { PieceByPiece } from './pieces.js';

/** A Worker's queue and posts, run by hand: `drain()` runs what is queued, and what it queues. */
function worker() {
  const posted = [];
  let queue = Promise.resolve();
  const enqueue = (task, onError) => {
    queue = queue.then(task).catch(onError);
  };
  const drain = async () => {
    for (let i = 0; i < 50; i += 1) {
      await queue;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  };
  return { posted, enqueue, drain, post: (kind, fields) => posted.push([kind, fields]) };
}

/** A job of `pieces` pieces; `failAt` throws at that piece (a trap when `trap`). */
function made(pieces, { failAt = -1, trap = false } = {}) {
  let done = 0;
  return {
    freed: false,
    free() {
      this.freed = true;
    },
    work: {
      advance: async () => {
        if (done === failAt) throw Object.assign(new Error(trap ? 'unreachable' : 'no'), { trap });
        done += 1;
        return { piece: done };
      },
      progress: () => ({ done: done === pieces, steps_done: done }),
    },
  };
}

const job = (w, traps = []) =>
  new PieceByPiece({
    ...w,
    kinds: { update: 'pieced', state: 'pieceState' },
    isTrap: (error) => error.trap === true,
    onTrap: (error) => traps.push(error.message),
  });

describe('PieceByPiece', () => {
  it('posts each piece in order, then its end once', async () => {
    const w = worker();
    const pieces = job(w);
    const three = made(3);
    pieces.start(three, three.work);
    await w.drain();
    expect(w.posted.map(([kind, fields]) => [kind, fields.update?.piece ?? fields.message])).toEqual([
      ['pieced', 1],
      ['pieced', 2],
      ['pieced', 3],
      ['pieceState', ''],
    ]);
    expect(w.posted.at(-1)[1].progress).toEqual({ done: true, steps_done: 3 });
    expect(pieces.made).toBe(three);
  });

  it('stops after the piece under way and says where it stood; a new job frees the last', async () => {
    const w = worker();
    const pieces = job(w);
    const many = made(1000);
    pieces.start(many, many.work);
    pieces.stop();
    await w.drain();
    const states = w.posted.filter(([kind]) => kind === 'pieceState');
    expect(states).toHaveLength(1);
    expect(states[0][1].progress.steps_done).toBeLessThan(1000);
    const next = made(1);
    pieces.start(next, next.work);
    await w.drain();
    expect(many.freed).toBe(true);
    expect(w.posted.at(-1)).toEqual(['pieceState', { progress: { done: true, steps_done: 1 }, message: '' }]);
  });

  it('reports a failure with the job, and a trap to the Worker only', async () => {
    const w = worker();
    const traps = [];
    const pieces = job(w, traps);
    const failing = made(5, { failAt: 1 });
    pieces.start(failing, failing.work);
    await w.drain();
    expect(w.posted.at(-1)).toEqual(['pieceState', { progress: { done: false, steps_done: 1 }, message: 'no' }]);
    const trapping = made(5, { failAt: 0, trap: true });
    const before = w.posted.length;
    pieces.start(trapping, trapping.work);
    await w.drain();
    expect(traps).toEqual(['unreachable']);
    expect(w.posted.length).toBe(before);
  });
});

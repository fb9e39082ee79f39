import { describe, expect, it } from 'vitest';
import { FrameQueue } from './frames.js';

/** A queue whose frames come when the test says: `frame()` runs the pending frame callback. */
function manualFrames() {
  const pending = [];
  const queue = new FrameQueue((callback) => pending.push(callback));
  const frame = () => {
    expect(pending.length).toBeLessThanOrEqual(1); // never two callbacks for one frame
    pending.shift()?.();
  };
  return { queue, frame, pending };
}

describe('frame queue', () => {
  it('runs one job per frame, in order', () => {
    const { queue, frame, pending } = manualFrames();
    const ran = [];
    for (const name of ['bench', 'chart', 'steps']) queue.add(name, () => ran.push(name));
    expect(ran).toEqual([]); // nothing runs in the handler that queued it
    frame();
    expect(ran).toEqual(['bench']);
    frame();
    frame();
    expect(ran).toEqual(['bench', 'chart', 'steps']);
    expect(queue.size).toBe(0);
    expect(pending).toEqual([]); // no frame asked for with nothing to do
  });

  it('runs a job queued again once, with the latest data, after what was queued before it', () => {
    const { queue, frame } = manualFrames();
    const ran = [];
    queue.add('chart', () => ran.push('chart 1'));
    queue.add('steps', () => ran.push('steps 1'));
    queue.add('group', () => ran.push('group 1'));
    frame(); // chart 1
    // The next report arrives before the first is drawn: its parts replace the queued ones.
    queue.add('chart', () => ran.push('chart 2'));
    queue.add('steps', () => ran.push('steps 2'));
    while (queue.size > 0) frame();
    expect(ran).toEqual(['chart 1', 'group 1', 'chart 2', 'steps 2']);
  });

  it('keeps drawing after a job throws', () => {
    const { queue, frame } = manualFrames();
    const ran = [];
    queue.add('broken', () => {
      throw new Error('plot gone');
    });
    queue.add('steps', () => ran.push('steps'));
    expect(() => frame()).toThrow('plot gone');
    frame();
    expect(ran).toEqual(['steps']);
  });
});

import { describe, expect, it } from 'vitest';
import { checkPays, describeBackend, describeCompletion, describePretrain, describeRun, duration, segments, signed, smooth, toCsv } from './format.js';

describe('describeBackend', () => {
  it('names the adapter and flags a software fallback', () => {
    expect(describeBackend({ kind: 'webgpu', adapter: 'SwiftShader Device', fallback_adapter: true })).toBe(
      'WebGPU on SwiftShader Device (software fallback adapter: slow)',
    );
    expect(describeBackend({ kind: 'webgpu', adapter: '', fallback_adapter: false })).toBe('WebGPU');
  });

  it('says why a GPU was chosen when that was measured', () => {
    const reason = 'measured faster at load: a test step took 40 ms on WebGPU and 300 ms on the CPU';
    expect(describeBackend({ kind: 'webgpu', adapter: 'Arc', fallback_adapter: false, reason })).toBe(
      `WebGPU on Arc — ${reason}`,
    );
  });

  it('gives the CPU reason', () => {
    expect(describeBackend({ kind: 'cpu', reason: 'no adapter' })).toBe('CPU (WebAssembly) — no adapter');
  });

  it('does not hide an unknown kind', () => {
    expect(describeBackend({ kind: 'tpu' })).toBe('unknown backend "tpu"');
  });
});

describe('describeCompletion', () => {
  it('says right or wrong and whether it checked', () => {
    const base = { expected: '1735', answer: '1735', correct: true, checked: false, in_task: true, held_out: false };
    expect(describeCompletion(base)).toBe('right (1735) · it did not check');
    expect(describeCompletion({ ...base, answer: '1745', correct: false, checked: true })).toBe(
      'wrong: the answer is 1735, it said 1745 · it checked its guess',
    );
    expect(describeCompletion({ ...base, answer: null, correct: false })).toBe(
      'wrong: the answer is 1735, it gave no answer · it did not check',
    );
  });

  it('marks a problem outside the run\'s task, and one held out from training', () => {
    const task = '3-digit × 1-digit multiplication';
    const outside = { expected: '02', answer: '0000', correct: false, checked: false, in_task: false, held_out: true };
    expect(describeCompletion(outside, task)).toBe(
      'wrong: the answer is 02, it said 0000 · it did not check · outside what this run trains on (3-digit × 1-digit multiplication): the model never learned it',
    );
    const heldOut = { expected: '1735', answer: '1735', correct: true, checked: true, in_task: true, held_out: true };
    expect(describeCompletion(heldOut, task)).toBe('right (1735) · it checked its guess · a held-out problem: no training ever showed it');
  });
});

describe('segments', () => {
  const kinds = (text) => segments(text).map((p) => [p.kind, p.text]);

  it('labels guess, check, verdict and answer', () => {
    expect(kinds('g1745 c7*5=35+0=35 4*5=20+3=23 3*5=15+2=17 =1735 wait a1735.')).toEqual([
      ['guess', 'g1745 '],
      ['check', 'c7*5=35+0=35 4*5=20+3=23 3*5=15+2=17 =1735 '],
      ['verdict', 'wait '],
      ['answer', 'a1735.'],
    ]);
    expect(kinds('g1735 a1735.')).toEqual([
      ['guess', 'g1735 '],
      ['answer', 'a1735.'],
    ]);
  });

  it('shows a restated guess as the guess, beside the check it is compared with', () => {
    expect(kinds('g1745 c7*5=35+0=35 =1735 g1745 wait a1735.')).toEqual([
      ['guess', 'g1745 '],
      ['check', 'c7*5=35+0=35 =1735 '],
      ['guess', 'g1745 '],
      ['verdict', 'wait '],
      ['answer', 'a1735.'],
    ]);
  });

  it('keeps every character of broken text', () => {
    for (const text of ['', 'zz', 'g12 c1*2', 'g1 ok a', '  ', 'g1735 a1735. extra']) {
      expect(segments(text).map((p) => p.text).join('')).toBe(text);
    }
    expect(kinds('g12 c1*2')).toEqual([
      ['guess', 'g12 '],
      ['check', 'c1*2'],
    ]);
  });
});

describe('numbers', () => {
  it('signs advantages without a negative zero', () => {
    expect(signed(0.7071)).toBe('+0.71');
    expect(signed(-1.2)).toBe('−1.20');
    expect(signed(-0.0001)).toBe('0.00');
  });

  it('smooths around gaps', () => {
    expect(smooth([1, null, 3], 0.5)).toEqual([1, null, 2]);
    expect(smooth([])).toEqual([]);
  });

  it('writes CSV with empty cells for missing values and quotes where needed', () => {
    expect(toCsv([{ a: 1, b: null }, { a: 'x,y', b: 2 }], ['a', 'b'])).toBe('a,b\n1,\n"x,y",2\n');
  });
});

describe('describeRun', () => {
  it('names the preset or source, the changed knobs and the steps that trained', () => {
    const table = { rows: () => [{ reward_mean: 0.5 }, { eval_sampled_acc: 0.3 }, { reward_mean: 0.7 }] };
    expect(describeRun({ settings: { preset: 'tiny', loss_type: 'dr_grpo' } }, table)).toBe('tiny · loss_type dr_grpo · 2 steps');
    expect(describeRun({ settings: { preset: 'default' }, source: 'Imported model' }, { rows: () => [{ reward_mean: 1 }] })).toBe(
      'Imported model · 1 step',
    );
    expect(describeRun(null, { rows: () => [] })).toBe('run · 0 steps');
  });
});

describe('describePretrain', () => {
  const progress = { steps_done: 100, steps: 2600, stages: 3 };
  it('says the step, the stage, the loss and the time left at the pace so far', () => {
    expect(describePretrain(progress, 'stepping', { seconds: 30, loss: 0.8421, stage: 0 })).toBe(
      'Step 100 of 2600 (stage 1 of 3), loss 0.842 · 30 s, about 12 min 30 s left.',
    );
    expect(describePretrain({ ...progress, steps_done: 0 }, 'stepping', { seconds: 0, loss: null, stage: 0 })).toBe(
      'Step 0 of 2600 (stage 1 of 3), loss – · 0 s.',
    );
    const all = { ...progress, steps_done: 2600 };
    expect(describePretrain(all, 'measuring', { seconds: 754, loss: 0.1, stage: 2 })).toBe(
      'All 2600 steps in 12 min 34 s, loss 0.100. Measuring whether checking pays…',
    );
    expect(describePretrain(all, 'done', { seconds: 760, loss: 0.1, stage: 2 })).toMatch(/^Made in 12 min 40 s: 2600 steps, loss 0\.100\. /);
    expect(describePretrain(progress, 'stopped', { seconds: 30, loss: 0.5, stage: 0 })).toBe('Stopped at step 100 of 2600, loss 0.500.');
    expect(duration(59.6)).toBe('1 min 00 s');
  });

  it('says whether checking pays by 10 points, greedy', () => {
    const gap = (check, answer) => ({ with_check: check, without_check: answer, guess: 0.25, temperature: 0, problems: 512 });
    expect(checkPays(gap(0.9, 0.3), gap(0.7, 0.25))).toBe(
      'Forced to check, it answered 90% right; forced to answer, 30% (greedy; its guess alone 25%). Sampled: 70% against 25%. Checking pays by 10 points or more: RL has something to find.',
    );
    expect(checkPays(gap(0.35, 0.3), gap(0.3, 0.25))).toMatch(/Checking does not pay by 10 points: RL has little to find\.$/);
  });
});

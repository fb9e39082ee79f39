import { describe, expect, it } from 'vitest';
import { describeDistil } from './format.js';
import { readDistilOptions } from './settings.js';

describe('the distillation form and its state line', () => {
  it('takes whole numbers in range and names the one that is not', () => {
    expect(readDistilOptions('1024', '300')).toEqual({ problems: 1024, steps: 300 });
    expect(readDistilOptions(' 1', '1200')).toEqual({ problems: 1, steps: 1200 });
    const refused = [
      ['0', '300', 'problems must be a whole number from 1 to 4096, got "0"'],
      ['4097', '300', 'problems'],
      ['', '300', 'problems'],
      ['2.5', '300', 'problems'],
      ['16', '1e9', 'student updates must be a whole number from 1 to 1200, got "1e9"'],
      ['16', 'abc', 'student updates'],
      ['16', '-3', 'student updates'],
    ];
    for (const [problems, steps, message] of refused) {
      expect(() => readDistilOptions(problems, steps), `${problems}, ${steps}`).toThrow(message);
    }
  });

  it('says what the teacher kept and how far each arm is', () => {
    const progress = { student_parameters: 47136, problems: 1024, answered: 32, sampled: 64, kept: 48, steps: 300, steps_done: 0, done: false };
    expect(describeDistil(progress, 'answering')).toBe('Teacher: 32 of 1024 problems answered; the teacher kept 48 of 64 answers (75%).');
    const later = { ...progress, answered: 1024, sampled: 2048, kept: 1796, steps_done: 40 };
    expect(describeDistil(later, 'training')).toBe(
      'Training: 40 of 300 updates of each student arm (47,136 parameters); the teacher kept 1796 of 2048 answers (88%).',
    );
    expect(describeDistil({ ...later, steps_done: 300, done: true }, 'done')).toMatch(/^Done: 300 of 300 updates/);
    expect(describeDistil(later, 'stopped')).toMatch(/^Stopped at 40 of 300 updates/);
    expect(describeDistil({ ...progress, sampled: 0, kept: 0 }, 'answering')).toBe(
      'Teacher: 32 of 1024 problems answered; the teacher kept 0 of 0 answers.',
    );
  });
});

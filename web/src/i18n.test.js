import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LANGUAGES, chooseLanguage, wordsAt } from './i18n.js';
import { strayLatin } from './i18n/latin.js';

/** Every leaf of `words` as `[path, value]`: strings and functions (with their arity). */
function leaves(words, path = []) {
  if (typeof words === 'string' || typeof words === 'function') return [[path.join('.'), words]];
  return Object.entries(words).flatMap(([key, value]) => leaves(value, [...path, key]));
}

describe('languages', () => {
  it('has the same words in every language: keys, lists and what each function takes', () => {
    const shape = (words) => leaves(words).map(([path, value]) => [path, typeof value === 'function' ? value.length : 'text']);
    const english = shape(LANGUAGES.en);
    expect(english.length).toBeGreaterThan(200);
    for (const [code, words] of Object.entries(LANGUAGES)) expect(shape(words), code).toEqual(english);
  });

  it('finds every word index.html names, in every language', () => {
    const html = readFileSync(new URL('../index.html', import.meta.url), 'utf8');
    const paths = [...html.matchAll(/\sdata-i18n(?:-html|-title|-label)?="([^"]+)"/g)].map((m) => m[1]);
    expect(paths.length).toBeGreaterThan(50);
    for (const [code, words] of Object.entries(LANGUAGES)) {
      for (const path of paths) expect(() => wordsAt(words, path), `${code}: ${path}`).not.toThrow();
    }
    expect(() => wordsAt(LANGUAGES.en, 'html.nothing')).toThrow('no words at "html.nothing"');
  });

  it('leaves no English in the Chinese words', () => {
    const text = leaves(LANGUAGES.zh).filter(([, value]) => typeof value === 'string');
    for (const [path, value] of text) {
      if (path !== 'language.locale') expect(strayLatin(value), `zh ${path}: ${value}`).toEqual([]);
    }
    // The same words, with values, from a few of the functions.
    const { zh } = LANGUAGES;
    const samples = [
      zh.status.run('迷你', 3, true),
      zh.status.unsaved(20, '配额已满', 10),
      zh.backend.line(zh.backend.cpu(zh.backend.why.softwareAdapter({ name: '软件适配器' })), null),
      zh.distil.progress({ answered: 1, problems: 2, kept: 3, sampled: 4, done: 5, steps: 6, size: '47,136' }, 'training'),
      zh.task.describe({ op: 'mul', a_digits: 3, b_digits: 1 }),
      zh.bench.driftValue('1%', '2%', zh.bench.driftBytes('3%', 10)),
      ...['stepping', 'measuring', 'done', 'stopped'].map((state) =>
        zh.pretrain.progress({ done: 1, steps: 2, stage: 1, stages: 3, loss: '0.5', elapsed: zh.duration(1, 2), left: zh.duration(0, 3) }, state),
      ),
      zh.pretrain.pays({ check: '90%', answer: '30%', guess: '25%' }, { check: '70%', answer: '25%', guess: '25%' }, true),
      ...zh.lessons.steps.flatMap((step) => Object.values(step)),
    ];
    for (const sample of samples) expect(strayLatin(sample), sample).toEqual([]);
  });

  it('says what the English page said before the catalogue', () => {
    const { en } = LANGUAGES;
    expect(en.status.run('tiny', 1, false)).toBe('tiny run · 1 step · paused');
    expect(en.task.describe({ op: 'mul', a_digits: 3, b_digits: 1 })).toBe('3-digit × 1-digit multiplication');
    expect(en.task.describe({ op: 'sub', a_digits: 3, b_digits: 3 })).toBe('3-digit − 3-digit subtraction');
  });

  it('picks the language a link asks for, else the browser’s first it speaks, else English', () => {
    expect(chooseLanguage('zh', ['en-US'])).toBe('zh');
    expect(chooseLanguage(null, ['fr-FR', 'zh-TW', 'en'])).toBe('zh');
    expect(chooseLanguage(null, ['zh-CN'])).toBe('zh');
    expect(chooseLanguage(null, ['en-GB', 'zh-CN'])).toBe('en');
    expect(chooseLanguage('fr', ['de'])).toBe('en');
    expect(chooseLanguage(null, [])).toBe('en');
    // Only the page's own languages: not a property every object has.
    expect(chooseLanguage('toString', [])).toBe('en');
  });
});

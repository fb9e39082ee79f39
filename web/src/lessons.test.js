import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LESSONS } from './lessons.js';

const html = readFileSync(new URL('../index.html', import.meta.url), 'utf8');
const pageIds = new Set([...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]));
// Chart figures get `chart-<id>` from the CHARTS spec (read as text: uPlot needs a browser).
const chartsSource = readFileSync(new URL('./charts.js', import.meta.url), 'utf8');
const chartIds = new Set([...chartsSource.matchAll(/^\s+id: '([a-z-]+)',$/gm)].map((m) => `chart-${m[1]}`));

describe('lessons', () => {
  it('has 5 to 7 steps, each with a title, plain text and the paper idea', () => {
    expect(LESSONS.length).toBeGreaterThanOrEqual(5);
    expect(LESSONS.length).toBeLessThanOrEqual(7);
    for (const lesson of LESSONS) {
      expect(lesson.title.length).toBeGreaterThan(5);
      expect(lesson.text.length).toBeGreaterThan(60);
      expect(lesson.text.length).toBeLessThan(400);
      expect(lesson.idea.length).toBeGreaterThan(20);
    }
  });

  it('points every step at something on the page', () => {
    for (const { target } of LESSONS) {
      const id = target.replace(/^#/, '');
      expect(pageIds.has(id) || chartIds.has(id), `${target} is neither in index.html nor a chart`).toBe(true);
    }
  });
});

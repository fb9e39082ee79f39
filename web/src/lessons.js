// The lessons panel: eight short steps a teacher can walk a room through while a run trains. Each
// step ties one idea of DeepSeek-R1-Zero to the part of the page that shows it, and highlights it.
// Their words (title, text, the paper's idea in one line) are `ui().lessons.steps`, in this order.
import { ui } from './i18n.js';

/** Each step's `target`: a CSS selector on the page. */
export const LESSON_TARGETS = [
  '#chart-reward',
  '#group-panel',
  '#chart-behaviour',
  '#chart-accuracy',
  '#gallery',
  '#experts-view',
  '#controls',
  '#distil-panel',
];

/** The steps in the page's language: `{title, idea, text, target}`. */
export const lessons = () => ui().lessons.steps.map((words, i) => ({ ...words, target: LESSON_TARGETS[i] }));

/** Walks the lessons in `panel`: title, text, idea, a counter, and a highlight on the target. */
export class Lessons {
  constructor({ title, text, idea, counter, back, next }, root = document) {
    this.parts = { title, text, idea, counter, back, next };
    this.root = root;
    this.index = 0;
    back.addEventListener('click', () => this.show(this.index - 1));
    next.addEventListener('click', () => this.show(this.index + 1));
  }

  /** Shows step `index` (clamped) and highlights its target, scrolling to it unless `scroll` is false. */
  show(index, scroll = true) {
    const steps = lessons();
    this.index = Math.min(Math.max(index, 0), steps.length - 1);
    const lesson = steps[this.index];
    const { title, text, idea, counter, back, next } = this.parts;
    title.textContent = lesson.title;
    text.textContent = lesson.text;
    idea.textContent = lesson.idea;
    counter.textContent = ui().lessons.count(this.index + 1, steps.length);
    back.disabled = this.index === 0;
    next.disabled = this.index === steps.length - 1;
    for (const old of this.root.querySelectorAll('.lesson-focus')) old.classList.remove('lesson-focus');
    const target = this.root.querySelector(lesson.target);
    if (target) {
      target.classList.add('lesson-focus');
      if (scroll) target.scrollIntoView?.({ block: 'nearest', behavior: 'smooth' });
    }
    return target;
  }

  /** Removes the highlight (when the panel closes). */
  hide() {
    for (const old of this.root.querySelectorAll('.lesson-focus')) old.classList.remove('lesson-focus');
  }
}

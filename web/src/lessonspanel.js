// The lessons panel and presenter mode: the lesson steps shown on demand, and the projector layout.
import { $ } from './dom.js';
import { onLanguage } from './i18n.js';
import { Lessons } from './lessons.js';

/** Wires the Lessons button and the presenter toggle; `charts` are resized for the new layout. */
export function wireLessons(charts) {
  const lessons = new Lessons({
    title: $('#lesson-title'),
    text: $('#lesson-text'),
    idea: $('#lesson-idea'),
    counter: $('#lesson-count'),
    back: $('#lesson-back'),
    next: $('#lesson-next'),
  });
  $('#lessons-toggle').addEventListener('click', (event) => {
    const panel = $('#lessons-panel');
    panel.hidden = !panel.hidden;
    event.target.setAttribute('aria-expanded', String(!panel.hidden));
    if (panel.hidden) lessons.hide();
    else lessons.show(lessons.index);
  });
  onLanguage(() => {
    if (!$('#lessons-panel').hidden) lessons.show(lessons.index, false);
  });
  $('#presenter').addEventListener('click', (event) => {
    const on = document.body.classList.toggle('presenter');
    event.target.setAttribute('aria-pressed', String(on));
    charts.resize();
  });
}

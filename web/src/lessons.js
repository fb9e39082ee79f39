// The lessons panel: eight short steps a teacher can walk a room through while a run trains. Each
// step ties one idea of DeepSeek-R1-Zero to the part of the page that shows it, and highlights it.

/** `target` is a CSS selector on the page; `idea` is the paper's idea in one line. */
export const LESSONS = [
  {
    title: 'The task and the only reward',
    target: '#chart-reward',
    idea: 'R1-Zero: a rule checks the final answer; no learned reward model, no human ratings.',
    text: 'The model answers multiplication problems. After each answer a rule checks one thing: is the final answer right? Right earns 1, wrong earns 0. This chart is the share of right answers in each step’s samples.',
  },
  {
    title: 'A group, and who gets pushed up',
    target: '#group-panel',
    idea: 'GRPO: no value network; each answer is compared with the other answers to the same problem.',
    text: 'Each step asks the model the same problem G times. Answers that beat the group’s average get a positive advantage (green) and become more likely; worse ones (red) less likely. When all G agree, the group teaches nothing.',
  },
  {
    title: 'Nobody rewards checking',
    target: '#chart-behaviour',
    idea: 'R1-Zero: reflection and “wait” emerged without being rewarded.',
    text: 'The reward never looks at how the model got there. Yet here the check rate climbs: checking makes right answers more likely, so answers that check win their groups more often. The fix rate counts guesses a check turned from wrong to right.',
  },
  {
    title: 'Sharper, or checking?',
    target: '#chart-accuracy',
    idea: 'Tell “the model got better” apart from “the model learned to verify”.',
    text: 'Compare the final answer with the first guess. If the final answer improves while the first guess stays about where it was, the gain comes from checking, not from a smarter guess. In our measured runs (three seeds, held-out problems) the first guess stayed near 20% right while the final answer went from about 28% to 88%.',
  },
  {
    title: 'The aha moments',
    target: '#gallery',
    idea: 'R1-Zero’s “aha moment”: the model stops, re-checks and corrects itself.',
    text: 'The gallery pins the first answers in which the model’s own check caught a wrong guess and the final answer came out right. Read one: guess, check, verdict, answer.',
  },
  {
    title: 'Experts inside the model',
    target: '#experts-view',
    idea: 'Mixture of Experts (as in DeepSeek-V3): a router sends each token to one of several small networks.',
    text: 'Press “experts” on an answer in the latest group: each character is coloured by the expert that handled it. The expert chart shows how the work is shared; RL can shift it.',
  },
  {
    title: 'The ablation: RL amplifies, it does not invent',
    target: '#controls',
    idea: 'RL raises behaviours the base model already has at a low rate.',
    text: 'Switch the preset to “ablation” and press Reset: that base model never saw a check. Its check rate stays at zero (three seeds). The previous run stays on the charts as faded curves, so the two can be compared side by side.',
  },
  {
    title: 'Distillation: a small model taught by the RL’d one',
    target: '#distil-panel',
    idea: 'DeepSeek-R1: a small model fine-tuned on a big RL’d model’s right answers beats RL on the small model itself.',
    text: 'Train this run first: its model becomes the teacher. Distil samples it on training problems, keeps only the answers with a right final answer, and fine-tunes a student with a quarter of the parameters on them, while the same student also trains with GRPO on its own. In our measured runs (three seeds, 300 updates of each) the distilled student answered 75–78% right greedily against 67–70% for its own GRPO, and 56–58% against 47–51% sampled, in about half the training time; the teacher’s own RL is not counted, and neither student came near the teacher.',
  },
];

/** Walks `LESSONS` in `panel`: title, text, idea, a counter, and a highlight on the target. */
export class Lessons {
  constructor({ title, text, idea, counter, back, next }, root = document) {
    this.parts = { title, text, idea, counter, back, next };
    this.root = root;
    this.index = 0;
    back.addEventListener('click', () => this.show(this.index - 1));
    next.addEventListener('click', () => this.show(this.index + 1));
  }

  /** Shows step `index` (clamped) and highlights its target. */
  show(index) {
    this.index = Math.min(Math.max(index, 0), LESSONS.length - 1);
    const lesson = LESSONS[this.index];
    const { title, text, idea, counter, back, next } = this.parts;
    title.textContent = lesson.title;
    text.textContent = lesson.text;
    idea.textContent = lesson.idea;
    counter.textContent = `${this.index + 1} / ${LESSONS.length}`;
    back.disabled = this.index === 0;
    next.disabled = this.index === LESSONS.length - 1;
    for (const old of this.root.querySelectorAll('.lesson-focus')) old.classList.remove('lesson-focus');
    const target = this.root.querySelector(lesson.target);
    if (target) {
      target.classList.add('lesson-focus');
      target.scrollIntoView?.({ block: 'nearest', behavior: 'smooth' });
    }
    return target;
  }

  /** Removes the highlight (when the panel closes). */
  hide() {
    for (const old of this.root.querySelectorAll('.lesson-focus')) old.classList.remove('lesson-focus');
  }
}

// The group view (G answers to one problem, with reward and advantage) and the aha gallery (the
// first answers in which a check turned a wrong guess into a right answer).
import { say, sayAttributes } from './dom.js';
import { segments, signed } from './format.js';
import { ui } from './i18n.js';

/**
 * A new `tag` element with an optional class and text: a string, or a function of the page's
 * language (`say`), written again when the language changes.
 */
export const el = (tag, className, text) => {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) say(node, text);
  return node;
};

/**
 * A completion with its guess, check, verdict and answer highlighted; with `verdictWrong`, the
 * verdict is marked as contradicting the comparison (`wait` on a check equal to the guess, `ok` on
 * one that differs).
 */
export function completionNode(prompt, completion, verdictWrong = false) {
  const code = el('code', 'completion');
  code.append(el('span', 'part-prompt', prompt));
  for (const part of segments(completion)) {
    const span = el('span', `part-${part.kind}`, part.text);
    if (part.kind === 'verdict' && verdictWrong) {
      span.classList.add('verdict-wrong');
      sayAttributes(span, () => (span.title = ui().group.verdictWrongTitle));
    }
    code.append(span);
  }
  return code;
}

function badges(answer) {
  const names = [];
  if (answer.fixed) names.push(['fixed', 'fixed']);
  else if (answer.broke) names.push(['broke', 'broke']);
  else if (answer.checked) names.push(['checked', 'checked']);
  if (answer.verdict_wrong) names.push(['verdict-wrong', 'verdictWrong']);
  return names.map(([kind, words]) => el('span', `badge badge-${kind}`, () => ui().group[words]));
}

/**
 * Draws the latest group into `list`; with `onlyCorrections`, only answers a check fixed.
 * `onExperts(text)` is called with prompt + completion when a person asks for an answer's experts.
 */
export function drawGroup(list, heading, report, onlyCorrections, onExperts) {
  const { group, metrics } = report;
  say(heading, () => ui().group.heading(metrics.step, group.answers.length, group.prompt, group.expected));
  const answers = onlyCorrections ? group.answers.filter((a) => a.fixed) : group.answers;
  const items = answers.map((answer) => {
    const item = el('li', 'answer');
    // Every token of an answer shares its advantage: the tint shows its sign (pushed up or down).
    item.dataset.advantage = answer.advantage > 0 ? 'positive' : answer.advantage < 0 ? 'negative' : 'zero';
    const facts = el('span', 'facts');
    facts.append(
      el('span', answer.correct ? 'reward right' : 'reward wrong', () => ui().group.reward(answer.reward)),
      el('span', 'advantage', () => ui().group.advantage(signed(answer.advantage))),
      ...badges(answer),
    );
    if (onExperts) {
      const button = el('button', 'experts-button');
      button.type = 'button';
      sayAttributes(button, () => {
        button.textContent = ui().button.experts;
        button.title = ui().button.expertsTitle;
      });
      button.addEventListener('click', () => onExperts(group.prompt + answer.completion));
      facts.append(button);
    }
    item.append(completionNode('', answer.completion, answer.verdict_wrong), facts);
    return item;
  });
  if (items.length === 0) items.push(el('li', 'empty', () => ui().group.noneFixed));
  list.replaceChildren(...items);
}

/** Pins corrections into the gallery until it holds `limit`; returns how many it holds. */
export function pinCorrections(gallery, corrections, limit = 6) {
  for (const correction of corrections) {
    if (gallery.children.length >= limit) break;
    const item = el('li', 'pinned');
    item.append(
      el('span', 'pinned-step', () => ui().group.pinnedStep(correction.step)),
      completionNode(correction.prompt, correction.completion, correction.verdict_wrong),
    );
    gallery.append(item);
  }
  return gallery.children.length;
}

/** Draws `routes` (`{tokens, experts[layer][token]}`): a row per layer, each character coloured by
 * its expert. */
export function drawRoutes(view, routes) {
  const rows = routes.experts.map((experts, layer) => {
    const row = el('div', 'route-row');
    row.append(el('span', 'route-layer', () => ui().group.layer(layer)));
    const code = el('code', 'completion');
    routes.tokens.forEach((token, i) => {
      const span = el('span', `expert expert-${experts[i] % 8}`, token);
      sayAttributes(span, () => (span.title = ui().group.tokenExpert(token, experts[i])));
      code.append(span);
    });
    row.append(code);
    return row;
  });
  const experts = Math.max(...routes.experts.flat()) + 1;
  const legend = el('p', 'route-legend');
  for (let e = 0; e < Math.max(experts, 4); e++) legend.append(el('span', `expert expert-${e % 8}`, () => ui().group.expert(e)));
  view.replaceChildren(...rows, legend);
}

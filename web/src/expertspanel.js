// The expert view's request: which expert each character of an answer went to, per layer.
import { $, show } from './dom.js';
import { drawRoutes } from './feed.js';
import { ui } from './i18n.js';

/** Asks the Worker (through `requests`) which expert each token of `text` goes to, and draws it. */
export async function showExperts(requests, text) {
  show($('#experts-heading'), () => ui().group.routing(text));
  try {
    const { routes } = await requests.send('route', { text });
    const step = $('#run-state').dataset.steps;
    show($('#experts-heading'), () => ui().group.routed(step));
    drawRoutes($('#experts-view'), routes);
  } catch (error) {
    show($('#experts-heading'), error.message);
  }
}

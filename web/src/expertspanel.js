// The expert view's request: which expert each character of an answer went to, per layer.
import { $, show } from './dom.js';
import { drawRoutes } from './feed.js';

/** Asks the Worker (through `requests`) which expert each token of `text` goes to, and draws it. */
export async function showExperts(requests, text) {
  show($('#experts-heading'), `Routing ${text} …`);
  try {
    const { routes } = await requests.send('route', { text });
    show($('#experts-heading'), `Step ${$('#run-state').dataset.steps}: which expert each character went to`);
    drawRoutes($('#experts-view'), routes);
  } catch (error) {
    show($('#experts-heading'), error.message);
  }
}

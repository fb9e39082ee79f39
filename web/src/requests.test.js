import { describe, expect, it } from 'vitest';
import { Latest, RequestFailed, Requests } from './requests.js';

/** A Requests whose posts are recorded instead of sent. */
function recorded() {
  const sent = [];
  const requests = new Requests((kind, fields, transfer) => sent.push({ kind, ...fields, transfer }));
  return { requests, sent };
}

describe('Requests', () => {
  it('sends each request with a fresh id and resolves it with the reply carrying that id', async () => {
    const { requests, sent } = recorded();
    const routes = requests.send('route', { text: '12*3=' });
    const measure = requests.send('measure');
    expect(sent.map((m) => m.kind)).toEqual(['route', 'measure']);
    expect(sent[0].text).toBe('12*3=');
    expect(sent[0].id).not.toBe(sent[1].id);
    // Replies may come in any order; each settles only its own request.
    expect(requests.settle({ kind: 'measured', id: sent[1].id, download: 5, peak: null })).toBe(true);
    expect(requests.settle({ kind: 'routed', id: sent[0].id, routes: [[1]] })).toBe(true);
    await expect(measure).resolves.toMatchObject({ download: 5 });
    await expect(routes).resolves.toMatchObject({ routes: [[1]] });
  });

  it('rejects a request the Worker answers with failed or refused, with its message', async () => {
    const { requests, sent } = recorded();
    const failed = requests.send('export');
    const refused = requests.send('generate', { prompt: '1+1', sampled: false });
    requests.settle({ kind: 'failed', id: sent[0].id, message: 'the model is still loading' });
    requests.settle({ kind: 'refused', id: sent[1].id, message: 'no' });
    await expect(failed).rejects.toThrow(new RequestFailed('the model is still loading'));
    await expect(refused).rejects.toBeInstanceOf(RequestFailed);
  });

  it('streams tokens to the request before its answer, and settles it once', async () => {
    const { requests, sent } = recorded();
    const parts = [];
    const answer = requests.send('generate', { prompt: '347*5', sampled: true }, (m) => parts.push(m.text));
    const id = sent[0].id;
    requests.settle({ kind: 'token', id, text: '1' });
    requests.settle({ kind: 'token', id, text: '7' });
    requests.settle({ kind: 'completion', id, result: { completion: '1735.' } });
    await expect(answer).resolves.toMatchObject({ result: { completion: '1735.' } });
    expect(parts).toEqual(['1', '7']);
    // A late reply to a settled request is not the request's any more: it is left to the page.
    expect(requests.settle({ kind: 'completion', id, result: {} })).toBe(false);
    expect(requests.settle({ kind: 'token', id, text: 'x' })).toBe(false);
  });

  it('makes a run from a configure or an import, moving the imported weights', async () => {
    const { requests, sent } = recorded();
    const weights = new ArrayBuffer(8);
    const imported = requests.send('import', { weights }, null, [weights]);
    const configured = requests.send('configure', { settings: { preset: 'tiny' } });
    expect(sent[0].transfer).toEqual([weights]);
    expect(sent[1].transfer).toEqual([]);
    requests.settle({ kind: 'refused', id: sent[0].id, message: 'tokenizer.json: token 22 is ","' });
    requests.settle({ kind: 'configured', id: sent[1].id, parameters: 5, run: {} });
    await expect(imported).rejects.toMatchObject({ message: 'tokenizer.json: token 22 is ","', abandoned: false });
    await expect(configured).resolves.toMatchObject({ parameters: 5 });
  });

  it('leaves events and replies to requests it did not send to the page', () => {
    const { requests, sent } = recorded();
    requests.send('route', { text: 'a' });
    expect(requests.settle({ kind: 'stepped', report: {} })).toBe(false);
    expect(requests.settle({ kind: 'refused', id: sent[0].id + 1, message: 'bad knob' })).toBe(false);
    // An event that happens to carry an open request's id does not settle it.
    expect(requests.settle({ kind: 'saved', id: sent[0].id, steps: 3 })).toBe(false);
  });

  it('rejects every open request when the Worker is gone', async () => {
    const { requests, sent } = recorded();
    const a = requests.send('route', { text: 'a' });
    const b = requests.send('export');
    requests.abandon('restarted');
    await expect(a).rejects.toMatchObject({ message: 'restarted', abandoned: true });
    await expect(b).rejects.toThrow('restarted');
    expect(requests.settle({ kind: 'exported', id: sent[1].id, files: {} })).toBe(false);
  });

  it('keeps only the latest run request: an earlier answer, a dropped one and an abandoned one are ignored', async () => {
    const { requests, sent } = recorded();
    const latest = new Latest();
    const seen = [];
    const track = (name) =>
      latest.track(requests.send('configure', { name }), (reply) => seen.push(`${name} made ${reply.parameters}`), (reason) => seen.push(`${name} refused: ${reason}`));
    // Each reply is its own task in the page (a Worker message), so callbacks run before the next.
    const reply = async (message) => {
      requests.settle(message);
      await new Promise((resolve) => setTimeout(resolve, 0));
    };
    track('first');
    track('second'); // supersedes the first
    await reply({ kind: 'configured', id: sent[0].id, parameters: 1, run: {} });
    await reply({ kind: 'refused', id: sent[1].id, message: 'bad knob' });
    track('third');
    latest.drop(); // e.g. a resume superseded it
    await reply({ kind: 'configured', id: sent[2].id, parameters: 3, run: {} });
    track('fourth');
    requests.abandon('restarted');
    await reply({ kind: 'stepped', report: {} });
    track('fifth');
    await reply({ kind: 'configured', id: sent[4].id, parameters: 5, run: {} });
    expect(seen).toEqual(['second refused: bad knob', 'fifth made 5']);
  });
});

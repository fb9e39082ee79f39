import { describe, expect, it } from 'vitest';
import { MAX_IMPORT_BYTES, readModelFiles } from './modelfiles.js';

const file = (name, bytes) => new File([new Uint8Array(bytes)], name);
const model = (weightBytes = 8) => [file('model.bpk', weightBytes), new File(['{}'], 'config.json'), new File(['{"a":1}'], 'tokenizer.json')];

describe('imported model files', () => {
  it('reads the three files', async () => {
    const { weights, config, tokenizer } = await readModelFiles(model());
    expect(weights.byteLength).toBe(8);
    expect(config).toBe('{}');
    expect(tokenizer).toBe('{"a":1}');
  });

  it('refuses a missing, empty or too large file by name, before reading any', async () => {
    await expect(readModelFiles(model().slice(1))).rejects.toThrow('missing: model.bpk');
    await expect(readModelFiles(model(0))).rejects.toThrow('model.bpk is empty');
    // A 200 MB file is refused from its size alone (this one is never read).
    const huge = { name: 'model.bpk', size: 200 * 1024 * 1024, arrayBuffer: () => Promise.reject(new Error('read')) };
    await expect(readModelFiles([huge, ...model().slice(1)])).rejects.toThrow('model.bpk is too large: 200.0 MB, the page reads at most 16.0 MB');
    const bigConfig = new File([new Uint8Array(MAX_IMPORT_BYTES['config.json'] + 1)], 'config.json');
    await expect(readModelFiles([model()[0], bigConfig, model()[2]])).rejects.toThrow('config.json is too large: 65 KB, the page reads at most 64 KB');
  });

  it('names the file a read failed on', async () => {
    const unreadable = { name: 'tokenizer.json', size: 10, text: () => Promise.reject(new DOMException('gone', 'NotReadableError')) };
    await expect(readModelFiles([...model().slice(0, 2), unreadable])).rejects.toThrow('could not read tokenizer.json: gone');
  });
});

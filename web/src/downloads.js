// Files the page hands the person (the run's CSV and config, the model's files) as download links.
import { $, showError } from './dom.js';

/** Lists `files` (`[name, content, type]`) as download links in the files panel. */
export function offerDownloads(files) {
  const items = files.map(([name, content, type]) => {
    const link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([content], { type }));
    link.download = name;
    link.textContent = name;
    const item = document.createElement('li');
    item.append(link);
    return item;
  });
  $('#downloads').replaceChildren(...items);
}

/**
 * Wires *Export model*: the current policy's files from the Worker, through `requests`; `broken()`
 * says whether the Worker can compute (the button stays disabled after a crash).
 */
export function wireModelExport(requests, broken) {
  $('#export-model').addEventListener('click', async () => {
    $('#export-model').disabled = true;
    showError($('#files-error'), '');
    try {
      const { files } = await requests.send('export');
      const { safetensors, weights, config, tokenizer } = files;
      offerDownloads([
        ['model.safetensors', safetensors, 'application/octet-stream'],
        ['model.bpk', weights, 'application/octet-stream'],
        ['config.json', config, 'application/json'],
        ['tokenizer.json', tokenizer, 'application/json'],
      ]);
    } catch (error) {
      showError($('#files-error'), error.message);
    } finally {
      $('#export-model').disabled = broken();
    }
  });
}

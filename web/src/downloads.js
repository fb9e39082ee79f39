// Files the page hands the person (the run's CSV and config, the model's files) as download links.
import { $, showError } from './dom.js';
import { toCsv } from './format.js';

/** Lists `files` (`[name, content, type]`) as download links in `list` (the files panel's). */
export function offerDownloads(files, list = $('#downloads')) {
  const items = files.map(([name, content, type]) => {
    const link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([content], { type }));
    link.download = name;
    link.textContent = name;
    const item = document.createElement('li');
    item.append(link);
    return item;
  });
  list.replaceChildren(...items);
}

/**
 * The run's files: its table as `run.csv` and what it was (`about`: settings, link, config,
 * parameters, backend, steps) as `run-config.json`, stamped with the time of the export.
 */
export function runDownloads(table, about) {
  const config = { ...about, exported_at: new Date().toISOString() };
  return [
    ['run.csv', toCsv(table.rows(), table.columns()), 'text/csv'],
    ['run-config.json', `${JSON.stringify(config, null, 2)}\n`, 'application/json'],
  ];
}

/** A model's files (`Trainer.exportModel`) as `offerDownloads` lists them: what Aha imports. */
export function modelDownloads({ safetensors, weights, config, tokenizer }) {
  return [
    ['model.safetensors', safetensors, 'application/octet-stream'],
    ['model.bpk', weights, 'application/octet-stream'],
    ['config.json', config, 'application/json'],
    ['tokenizer.json', tokenizer, 'application/json'],
  ];
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
      offerDownloads(modelDownloads(files));
    } catch (error) {
      showError($('#files-error'), error.message);
    } finally {
      $('#export-model').disabled = broken();
    }
  });
}

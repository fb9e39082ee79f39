// The three files of a model a person imports (as the page exports them): checked by name and size
// before anything is read, so a wrong or huge file is refused with a message and never loaded.
import { showError } from './dom.js';
import { ui } from './i18n.js';

/** Largest files the page reads: ~20× the shipped model's weights, and far above its text files. */
export const MAX_IMPORT_BYTES = {
  'model.bpk': 16 * 1024 * 1024,
  'config.json': 64 * 1024,
  'tokenizer.json': 1024 * 1024,
};

const megabytes = (bytes) => `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
const size = (bytes) => (bytes >= 1024 * 1024 ? megabytes(bytes) : `${Math.ceil(bytes / 1024)} KB`);

/**
 * Reads `files` (a FileList or array of File) into `{weights, config, tokenizer}` (an ArrayBuffer
 * and two strings). Throws an Error naming the file when one is missing, too large or unreadable.
 */
export async function readModelFiles(files) {
  const byName = new Map([...files].map((file) => [file.name, file]));
  const missing = Object.keys(MAX_IMPORT_BYTES).filter((name) => !byName.has(name));
  const words = ui().files;
  if (missing.length > 0) throw new Error(words.missing(missing.join(', ')));
  for (const [name, limit] of Object.entries(MAX_IMPORT_BYTES)) {
    const file = byName.get(name);
    if (file.size > limit) throw new Error(words.tooLarge(name, size(file.size), size(limit)));
    if (file.size === 0) throw new Error(words.empty(name));
  }
  const read = async (name, how) => {
    try {
      return await how(byName.get(name));
    } catch (error) {
      throw new Error(words.unreadable(name, error?.message ?? error));
    }
  };
  const [weights, config, tokenizer] = await Promise.all([
    read('model.bpk', (file) => file.arrayBuffer()),
    read('config.json', (file) => file.text()),
    read('tokenizer.json', (file) => file.text()),
  ]);
  return { weights, config, tokenizer };
}

/**
 * Wires the file `input`: the chosen files are read (`readModelFiles`) and handed to `use(files)`,
 * or `errorLine` says why not and nothing else happens.
 */
export function wireModelImport(input, errorLine, use) {
  input.addEventListener('change', async () => {
    const chosen = [...input.files];
    input.value = '';
    let files;
    try {
      files = await readModelFiles(chosen);
    } catch (error) {
      showError(errorLine, ui().status.refusedKeepRun(error.message));
      return;
    }
    showError(errorLine, '');
    use(files);
  });
}

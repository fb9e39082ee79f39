// The message protocol between the page (main thread) and the Worker that owns the wasm trainer.
// Every message is a plain object `{v, kind, ...}`; `v` is the protocol version so that a page and a
// Worker from different builds refuse each other clearly instead of misreading fields.

export const PROTOCOL_VERSION = 1;

/** Fields each message kind must carry, and their types. */
const SCHEMA = {
  // page → worker
  /** `prefer`: "webgpu" or "cpu"; `modelUrl`: the folder of the checkpoint to load. */
  init: { prefer: 'string', modelUrl: 'string' },
  /** Answer `prompt` (like "347*5"); `sampled`: temperature 1, else greedy. */
  generate: { id: 'number', prompt: 'string', sampled: 'boolean' },
  // worker → page
  ready: { backend: 'object', selfTest: 'number' },
  /** The shipped base model is loaded. */
  model: { parameters: 'number' },
  /** One sampled token of request `id`. */
  token: { id: 'number', text: 'string' },
  /** Request `id` finished: `{prompt, completion, answer, expected, correct, checked, ...}`. */
  completion: { id: 'number', result: 'object' },
  /** Request `id` was refused or failed; the message says why. Nothing else changed. */
  failed: { id: 'number', message: 'string' },
  /** The Worker itself failed (backend or model did not start). */
  error: { message: 'string' },
};

export class ProtocolError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/** Builds a message of `kind`, checking its fields. */
export function makeMessage(kind, fields = {}) {
  return checkMessage({ v: PROTOCOL_VERSION, kind, ...fields });
}

/** Returns `data` if it is a valid message of this protocol version, else throws ProtocolError. */
export function checkMessage(data) {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new ProtocolError('a message must be an object');
  }
  if (data.v !== PROTOCOL_VERSION) {
    throw new ProtocolError(`protocol version ${data.v} is not ${PROTOCOL_VERSION}: reload the page`);
  }
  const schema = SCHEMA[data.kind];
  if (!schema) {
    throw new ProtocolError(`unknown message kind ${JSON.stringify(data.kind)}`);
  }
  for (const [field, type] of Object.entries(schema)) {
    const value = data[field];
    const actual = value === null ? 'null' : typeof value;
    if (actual !== type) {
      throw new ProtocolError(`${data.kind}.${field} must be a ${type}, got ${actual}`);
    }
  }
  if (data.kind === 'init' && !['webgpu', 'cpu'].includes(data.prefer)) {
    throw new ProtocolError(`init.prefer must be "webgpu" or "cpu", got ${JSON.stringify(data.prefer)}`);
  }
  return data;
}

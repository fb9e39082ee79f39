// Which compute backend the Worker trains on: the one the page address forces, else the CPU beside
// a software WebGPU adapter, else the faster of a real adapter and the CPU, measured at load.
import { en } from './i18n/en.js';
import { Backend } from './pkg/aha_web.js';

const messageOf = (error) => String(error?.message ?? error);

/**
 * `backend` with the reason `key` (of i18n's `backend.why`) and its `values`: the wasm keeps the
 * reason in English (bench reports, logs); the page says it in its language from `why`.
 */
function because(backend, key, values = {}) {
  backend.setReason(en.backend.why[key](values));
  return { backend, why: { key, ...values } };
}

/** A CPU backend, for the reason `key` (`because`). */
const cpuBecause = (key, values = {}) => because(Backend.cpu(''), key, values);

/**
 * Whether the browser's WebGPU adapter is a software fallback (SwiftShader and the like): `{fallback,
 * name}`, or null when there is no adapter. Burn asks for the adapter again when it starts.
 */
async function probeAdapter() {
  // TypeScript's libraries do not declare WebGPU yet.
  const adapter = await /** @type {any} */ (navigator).gpu.requestAdapter();
  if (adapter === null) return null;
  const info = adapter.info ?? {};
  const fallback = Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter);
  const name = [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || 'unnamed adapter';
  return { fallback, name };
}

/**
 * The backend `prefer` asks for, as `{backend, why}` (`because`): `cpu` and `webgpu` force one.
 * `auto` takes the CPU where the only adapter is a software fallback (it emulates a GPU on the
 * CPU, and a GRPO step there takes seconds where the CPU backend takes a fraction of one); on a
 * real adapter it measures both and keeps the faster, since for a model this small an integrated
 * or old GPU can lose to the CPU. `measure` measures even a software adapter.
 */
export async function pickBackend(prefer) {
  if (prefer === 'cpu') return cpuBecause('cpuRequested');
  if (!('gpu' in navigator)) return cpuBecause('noWebgpu');
  if (prefer === 'webgpu') return { backend: await Backend.webgpu(), why: { key: 'own' } };
  const adapter = await probeAdapter().catch(() => null);
  if (adapter === null) return cpuBecause('noAdapter');
  if (adapter.fallback && prefer !== 'measure') return cpuBecause('softwareAdapter', { name: adapter.name });
  return fasterOfGpuAndCpu();
}

/**
 * Times a stand-in of one GRPO step on WebGPU and on the CPU (`Backend.calibrationMs`: a warm-up
 * and a timed pass on each, a second or two on a real GPU) and keeps the faster; the backend line
 * says both times.
 */
async function fasterOfGpuAndCpu() {
  const gpu = await Backend.webgpu();
  // WebGPU did not start: the CPU, with the wasm's reason.
  if (gpu.info().kind !== 'webgpu') return { backend: gpu, why: { key: 'own' } };
  let gpuMs;
  try {
    gpuMs = await gpu.calibrationMs();
  } catch (error) {
    gpu.free();
    return cpuBecause('gpuTestFailed', { message: messageOf(error) });
  }
  const cpu = Backend.cpu('');
  const cpuMs = await cpu.calibrationMs();
  const times = { gpuMs: Math.round(gpuMs), cpuMs: Math.round(cpuMs) };
  const [kept, dropped] = cpuMs < gpuMs ? [cpu, gpu] : [gpu, cpu];
  dropped.free();
  return because(kept, kept === cpu ? 'cpuFaster' : 'gpuFaster', times);
}

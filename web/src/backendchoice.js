// Which compute backend the Worker trains on: the one the page address forces, else the CPU beside
// a software WebGPU adapter, else the faster of a real adapter and the CPU, measured at load.
import { Backend } from './pkg/aha_web.js';

const messageOf = (error) => String(error?.message ?? error);

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
 * The backend `prefer` asks for: `cpu` and `webgpu` force one. `auto` takes the CPU where the only
 * adapter is a software fallback (it emulates a GPU on the CPU, and a GRPO step there takes
 * seconds where the CPU backend takes a fraction of one); on a real adapter it measures both and
 * keeps the faster, since for a model this small an integrated or old GPU can lose to the CPU.
 * `measure` measures even a software adapter.
 */
export async function pickBackend(prefer) {
  if (prefer === 'cpu') return Backend.cpu('CPU requested in the page address (#backend=cpu)');
  if (!('gpu' in navigator)) return Backend.cpu('this browser has no WebGPU (navigator.gpu is missing)');
  if (prefer === 'webgpu') return Backend.webgpu();
  const adapter = await probeAdapter().catch(() => null);
  if (adapter === null) return Backend.cpu('the browser offers no WebGPU adapter');
  if (adapter.fallback && prefer !== 'measure') {
    return Backend.cpu(
      `the only WebGPU adapter is a software fallback (${adapter.name}), slower than the CPU backend; add #backend=webgpu to the address to use it anyway`,
    );
  }
  return fasterOfGpuAndCpu();
}

/**
 * Times a stand-in of one GRPO step on WebGPU and on the CPU (`Backend.calibrationMs`: a warm-up
 * and a timed pass on each, a second or two on a real GPU) and keeps the faster; the backend line
 * says both times.
 */
async function fasterOfGpuAndCpu() {
  const gpu = await Backend.webgpu();
  if (gpu.info().kind !== 'webgpu') return gpu; // WebGPU did not start: the CPU, with the reason.
  let gpuMs;
  try {
    gpuMs = await gpu.calibrationMs();
  } catch (error) {
    gpu.free();
    return Backend.cpu(`WebGPU failed a test step at load (${messageOf(error)}), so the CPU trains`);
  }
  const cpu = Backend.cpu('');
  const cpuMs = await cpu.calibrationMs();
  const times = `a test step took ${Math.round(gpuMs)} ms on WebGPU and ${Math.round(cpuMs)} ms on the CPU`;
  const [kept, dropped] = cpuMs < gpuMs ? [cpu, gpu] : [gpu, cpu];
  kept.setReason(
    kept === cpu
      ? `measured faster at load: ${times}; add #backend=webgpu to the address to use the GPU anyway`
      : `measured faster at load: ${times}`,
  );
  dropped.free();
  return kept;
}

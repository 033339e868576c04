/**
 * ONNX Runtime sessions for CompactLM: one place that turns `--device` and `--threads` into session options and
 * turns a missing GPU stack into one line that says what to install.
 *
 *   const session = await createSession(bytes, { device: 'cpu', threads: 2 });
 *
 * Devices (execution providers of onnxruntime-node 1.30):
 * - `cpu`: always there; the reference.
 * - `cuda`: NVIDIA GPUs on Linux x64. The provider libraries are NOT in the npm package; its install script fetches
 *   them from NuGet when asked: `ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci` (this repository's .npmrc says `skip`, the
 *   environment variable wins). They then need an NVIDIA driver, CUDA 12 and cuDNN 9 on the library path.
 *   Without the libraries ORT fails to create the session even with `['cuda', 'cpu']` — it never falls back — so
 *   we check for them first and say how to install them.
 * - `webgpu`: bundled in the Linux x64 binary (Dawn). On Linux it runs over Vulkan, so it needs libvulkan.so.1 and
 *   a Vulkan driver for a GPU; without an adapter session creation fails ("No supported adapters").
 * Every session lists only the requested provider, so a run never silently lands on another device.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import ort from 'onnxruntime-node';
import { UserError } from '../util/errors.js';

export const DEVICES = ['cpu', 'cuda', 'webgpu'] as const;
export type Device = (typeof DEVICES)[number];

export interface SessionConfig {
  device?: Device;
  /** intraOpNumThreads; undefined lets ORT choose (one per physical core). */
  threads?: number;
  /**
   * Repack the Gemm weights into MLAS's blocked layout at load (default true): faster runs, a second copy of the
   * weights and a slower load. A one-shot command that runs once or twice is quicker and leaner without it.
   */
  prepack?: boolean;
}

export const CUDA_INSTALL_HINT =
  'on a Linux x64 machine with internet access and CUDA 12 drivers, run `ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci` ' +
  'to fetch the CUDA provider of onnxruntime-node';
export const CUDA_RUNTIME_HINT =
  'it needs an NVIDIA driver plus the CUDA 12 and cuDNN 9 libraries (libcudart.so.12, libcublas.so.12, libcudnn.so.9) on ' +
  'LD_LIBRARY_PATH';
export const WEBGPU_HINT =
  'onnxruntime-node runs WebGPU through Dawn over Vulkan on Linux: it needs a GPU with a Vulkan driver and ' +
  'libvulkan.so.1 (e.g. Debian/Ubuntu `apt-get install libvulkan1` plus the GPU vendor\'s Vulkan driver)';

/** Folder of onnxruntime-node's native binding, where provider libraries must be. */
export function bindingDir(): string {
  const require = createRequire(import.meta.url);
  const pkg = dirname(require.resolve('onnxruntime-node/package.json'));
  return join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
}

/** Backends the native binding reports, e.g. [{name:'cpu', bundled:true}, {name:'cuda', bundled:false}, …]. */
export function supportedBackends(): { name: string; bundled: boolean }[] {
  const list = (ort as unknown as { listSupportedBackends?: () => { name: string; bundled: boolean }[] }).listSupportedBackends;
  return list ? list() : [{ name: 'cpu', bundled: true }];
}

/** Libraries the CUDA provider needs next to the binding (what `ONNXRUNTIME_NODE_INSTALL=cuda12` downloads). */
export const CUDA_PROVIDER_LIBS = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'];

/**
 * Checks, before creating a session, that the device can be used at all on this machine; throws a one-line
 * UserError saying what to install otherwise. (Whether a GPU is really there is only known when a session starts.)
 */
export function checkDevice(device: Device): void {
  if (!(DEVICES as readonly string[]).includes(device)) {
    throw new UserError(`--device ${device}: unknown device (choose ${DEVICES.join(', ')})`);
  }
  if (device === 'cpu') return;
  const backend = supportedBackends().find((b) => b.name === device);
  if (!backend) {
    throw new UserError(`--device ${device}: onnxruntime-node has no ${device} provider on ${process.platform}/${process.arch}`);
  }
  if (device === 'cuda') {
    if (process.platform !== 'linux') return; // Windows: the DLLs sit elsewhere; let session creation tell
    const dir = bindingDir();
    const missing = CUDA_PROVIDER_LIBS.filter((f) => !existsSync(join(dir, f)));
    if (missing.length > 0) {
      throw new UserError(`--device cuda: the CUDA provider of onnxruntime-node is not installed (${missing.join(', ')} missing in ${dir}); ${CUDA_INSTALL_HINT}`);
    }
  }
}

export function sessionOptions(cfg: SessionConfig = {}): ort.InferenceSession.SessionOptions {
  const device = cfg.device ?? 'cpu';
  const opts: ort.InferenceSession.SessionOptions = {
    executionProviders: [device],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    interOpNumThreads: 1,
    // ORT's memory-pattern planner pre-plans one arena for static-shape graphs; for the train step it cost ~0.35 GB
    // of resident memory at no speed gain (bench/train-step.mjs), and dynamic-shape graphs cannot use it anyway.
    enableMemPattern: false,
  };
  if (cfg.threads !== undefined) opts.intraOpNumThreads = cfg.threads;
  if (cfg.prepack === false) opts.extra = { session: { disable_prepacking: '1' } };
  return opts;
}

/** Rewrites a provider start-up failure as a UserError that names the fix; other errors pass through. */
export function explainSessionError(device: Device, e: unknown): Error {
  const msg = (e as Error)?.message ?? String(e);
  const first = msg.split('\n')[0].trim();
  if (device === 'cuda' && /cuda|shared library|cudnn|cublas/i.test(msg)) {
    return new UserError(`--device cuda: the CUDA provider could not start (${first}); ${CUDA_RUNTIME_HINT}, or ${CUDA_INSTALL_HINT}`);
  }
  if (device === 'webgpu' && /adapter|webgpu|dawn|vulkan/i.test(msg)) {
    const why = /No supported adapters/i.test(msg) ? 'no WebGPU adapter found' : `the WebGPU provider could not start (${first})`;
    return new UserError(`--device webgpu: ${why}; ${WEBGPU_HINT}`);
  }
  return e instanceof Error ? e : new Error(msg);
}

/** An InferenceSession on the requested device only (no fallback), with graph optimizations on. */
export async function createSession(model: Uint8Array | string, cfg: SessionConfig = {}): Promise<ort.InferenceSession> {
  const device = cfg.device ?? 'cpu';
  checkDevice(device);
  if (cfg.threads !== undefined && !(Number.isInteger(cfg.threads) && cfg.threads >= 1)) {
    throw new UserError(`--threads must be a positive whole number, got ${cfg.threads}`);
  }
  try {
    return typeof model === 'string'
      ? await ort.InferenceSession.create(model, sessionOptions(cfg))
      : await ort.InferenceSession.create(model, sessionOptions(cfg));
  } catch (e) {
    throw explainSessionError(device, e);
  }
}

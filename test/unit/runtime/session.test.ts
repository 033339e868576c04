/**
 * Session creation: options from --device/--threads, and the one-line errors when a GPU provider cannot start.
 * What this machine has is asked from the binding itself, so the test holds on GPU machines too.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { Graph } from '../../../src/onnx/graph.js';
import {
  bindingDir, checkDevice, createSession, CUDA_PROVIDER_LIBS, explainSessionError, sessionOptions, supportedBackends,
} from '../../../src/runtime/session.js';
import { UserError } from '../../../src/util/errors.js';

function doubler(): Uint8Array {
  const g = new Graph();
  g.output(g.mul(g.input('x', 'float32', [2, 2]), 2), 'y');
  return g.toBytes();
}

describe('session options', () => {
  test('one provider only, graph optimizations on, threads when given', () => {
    expect(sessionOptions()).toMatchObject({ executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
    expect(sessionOptions().intraOpNumThreads).toBeUndefined();
    expect(sessionOptions({ device: 'cuda', threads: 3 })).toMatchObject({ executionProviders: ['cuda'], intraOpNumThreads: 3 });
  });

  test('the binding lists cpu (bundled), cuda and webgpu', () => {
    const names = supportedBackends().map((b) => b.name);
    expect(names).toEqual(expect.arrayContaining(['cpu', 'cuda', 'webgpu']));
    expect(supportedBackends().find((b) => b.name === 'cpu')!.bundled).toBe(true);
  });
});

describe('createSession', () => {
  test('cpu runs a graph', async () => {
    const s = await createSession(doubler(), { threads: 1 });
    const out = await s.run({ x: new ort.Tensor('float32', Float32Array.of(1, 2, 3, 4), [2, 2]) });
    expect(Array.from(out.y.data as Float32Array)).toEqual([2, 4, 6, 8]);
    await s.release();
  });

  test('bad threads and unknown devices are one-line user errors', async () => {
    await expect(createSession(doubler(), { threads: 0 })).rejects.toThrow(UserError);
    expect(() => checkDevice('tpu' as never)).toThrow(/unknown device/);
  });

  const cudaLibs = CUDA_PROVIDER_LIBS.every((f) => existsSync(join(bindingDir(), f)));
  (cudaLibs ? test.skip : test)('cuda without its provider libraries: says how to install them, no fallback', async () => {
    const err = await createSession(doubler(), { device: 'cuda' }).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toContain('ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci');
    expect(err.message.split('\n')).toHaveLength(1);
  });

  test('webgpu: runs where there is an adapter, otherwise a one-line error naming Vulkan', async () => {
    let s: ort.InferenceSession | undefined;
    try {
      s = await createSession(doubler(), { device: 'webgpu' });
    } catch (e) {
      expect(e).toBeInstanceOf(UserError);
      expect((e as Error).message).toMatch(/^--device webgpu: .*Vulkan/);
      expect((e as Error).message.split('\n')).toHaveLength(1);
      return;
    }
    const out = await s.run({ x: new ort.Tensor('float32', Float32Array.of(1, 2, 3, 4), [2, 2]) });
    expect(Array.from(out.y.data as Float32Array)).toEqual([2, 4, 6, 8]);
    await s.release();
  });
});

describe('explainSessionError', () => {
  test('maps provider start-up failures to install hints; leaves other errors alone', () => {
    const cuda = explainSessionError('cuda', new Error('OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library'));
    expect(cuda).toBeInstanceOf(UserError);
    expect(cuda.message).toMatch(/CUDA 12 and cuDNN 9/);
    const webgpu = explainSessionError('webgpu', new Error('webgpu_context.cc:136 ... Failed to get a WebGPU adapter: No supported adapters\n'));
    expect(webgpu.message).toMatch(/^--device webgpu: no WebGPU adapter found; .*libvulkan\.so\.1/);
    const other = new Error('Load model from bytes failed: protobuf parsing failed');
    expect(explainSessionError('cpu', other)).toBe(other);
  });
});

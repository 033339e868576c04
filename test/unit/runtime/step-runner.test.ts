/**
 * The step worker: state tensors stay in the worker and are swapped in place of inputs (`keep`), gradients are
 * summed (`accumulate`), only fetched outputs come back. Checked on a closed-form "training" graph:
 *   w_new = w − lr·x   (so after n steps w = w0 − Σ lr·x), and loss = Σ x·w.
 * Needs the built worker (dist/runtime/step-worker.js): `npx tsc -p tsconfig.json` (npm test builds first).
 */
import { Graph } from '../../../src/onnx/graph.js';
import { StepRunner, scalar } from '../../../src/runtime/step-runner.js';
import { f32, scalarF32 } from '../../../src/runtime/wire.js';
import { UserError } from '../../../src/util/errors.js';

function sgdGraph(): Uint8Array {
  const g = new Graph();
  const w = g.param('w', [3]);
  const x = g.input('x', 'float32', [3]);
  const lr = g.input('lr', 'float32', []);
  g.output(g.reduceSum(g.mul(x, w), undefined, false), 'loss');
  g.output(g.sub(w, g.mul(x, lr)), 'new.w');
  g.output(g.mul(x, 2), 'grad.w');
  return g.toBytes();
}

describe('StepRunner', () => {
  let runner: StepRunner;
  beforeAll(async () => {
    runner = await StepRunner.start({ step: sgdGraph() }, { threads: 1 });
  });
  afterAll(async () => {
    await runner.close();
  });

  test('reports the sessions\' inputs and outputs', () => {
    expect([...runner.io.step.inputs].sort()).toEqual(['lr', 'w', 'x']);
    expect([...runner.io.step.outputs].sort()).toEqual(['grad.w', 'loss', 'new.w']);
  });

  test('keep swaps outputs into the stored inputs; fetch returns copies', async () => {
    await runner.set({ w: f32(Float32Array.of(1, 2, 3), [3]) });
    const x = [0.5, -1, 2];
    let lossSeen = 0;
    for (let i = 0; i < 4; i++) {
      const out = await runner.run('step', { x: f32(Float32Array.from(x), [3]), lr: scalarF32(0.25) }, { fetch: ['loss'], keep: { 'new.w': 'w' } });
      lossSeen = scalar(out.loss);
    }
    const { w } = await runner.get(['w']);
    const expected = [1, 2, 3].map((w0, i) => w0 - 4 * 0.25 * x[i]);
    expect(Array.from(w.data as Float32Array)).toEqual(expected.map(Math.fround));
    // The 4th loss used the weights after 3 updates.
    const w3 = [1, 2, 3].map((w0, i) => w0 - 3 * 0.25 * x[i]);
    expect(lossSeen).toBeCloseTo(w3.reduce((s, v, i) => s + v * x[i], 0), 5);
    // get() returns a copy: changing it does not change the stored tensor.
    (w.data as Float32Array)[0] = 99;
    expect((await runner.get(['w'])).w.data[0]).toBeCloseTo(expected[0], 6);
  });

  test('accumulate sums scaled outputs, reset starts over', async () => {
    await runner.set({ w: f32(Float32Array.of(0, 0, 0), [3]) });
    const acc = (x: number[], reset: boolean) =>
      runner.run('step', { x: f32(Float32Array.from(x), [3]), lr: scalarF32(0) }, { accumulate: { outputs: { 'grad.w': 'sum' }, scale: 0.5, reset } });
    await acc([1, 2, 3], true);
    await acc([10, 20, 30], false);
    expect(Array.from((await runner.get(['sum'])).sum.data as Float32Array)).toEqual([11, 22, 33]);
    await acc([1, 1, 1], true);
    expect(Array.from((await runner.get(['sum'])).sum.data as Float32Array)).toEqual([1, 1, 1]);
  });

  test('a missing input, session or tensor is an error naming it', async () => {
    await runner.delete(['w']);
    await expect(runner.run('step', { x: f32(new Float32Array(3), [3]), lr: scalarF32(0) })).rejects.toThrow(/needs input "w"/);
    await expect(runner.run('nope', {})).rejects.toThrow(/no session "nope"/);
    await expect(runner.get(['missing'])).rejects.toThrow(/no tensor "missing"/);
  });
});

test('a provider that cannot start is a UserError from start()', async () => {
  const err = await StepRunner.start({ step: sgdGraph() }, { device: 'webgpu' }).then(
    async (r) => {
      await r.close();
      return null; // this machine has a WebGPU adapter
    },
    (e) => e,
  );
  if (err) expect(err).toBeInstanceOf(UserError);
});

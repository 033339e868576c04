/**
 * Gradient check against torch autograd, without Python: CompactLM's compiled masked-LM loss and the gradient of
 * every parameter (2 layers, H=8, 2 heads, I=16, V=97, a padded batch of 2×8 with 5 masked tokens and one unused
 * slot) against Hugging Face BertForMaskedLM's, frozen by make_grad_fixture.py into
 * test/fixtures/reference/grad-2l-h8.json (float64 torch; see that script for the two cases).
 *
 * Tolerance, element-wise: |ours − torch| ≤ 1e-5·(|torch| + scale), where scale is the largest |gradient| of that
 * parameter tensor — relative 1e-5, with the tensor's own magnitude as the floor for its near-zero entries. The
 * attention key biases, whose gradient is zero in theory (softmax is shift-invariant per query) and ~1e-17 in
 * torch, take the scale of their layer's query bias instead. The float64 graph must moreover agree to 1e-10 of each
 * tensor's scale (it does to ~1e-15): there the only differences are rounding, so anything larger is a wrong rule.
 */
import { createHash } from 'node:crypto';
import { validateConfig } from '../../src/model/config.js';
import { decodeF64, readGradFixture } from './grad-fixture.js';
import { ourLossAndGradients, weightValues } from './our-gradients.js';

const RTOL = 1e-5;

/** Key bias → the query bias of the same layer, whose gradient sets the scale. */
const scaleOf = (name: string) => name.replace(/attention\.self\.key\.bias$/, 'attention.self.query.bias');

const fixture = readGradFixture();

describe('gradients vs torch autograd (frozen fixture, no Python needed)', () => {
  test('the weights rebuilt here are the ones torch used', () => {
    const h = createHash('sha256');
    for (const [name, g] of Object.entries(fixture.cases[0].grads)) {
      const w = weightValues(name, g.shape.reduce((a, b) => a * b, 1));
      h.update(Buffer.from(w.buffer, w.byteOffset, w.byteLength));
    }
    expect(h.digest('hex')).toBe(fixture.weights_sha256);
  });

  test.each(fixture.cases.map((c) => [c.name, c] as const))('%s: loss and every parameter gradient within 1e-5 relative', async (_, c) => {
    const config = validateConfig({ ...fixture.config, hidden_act: c.hidden_act }, 'grad fixture config');
    const ours = await ourLossAndGradients(config, c.graph_dtype, fixture.batch, weightValues);

    expect(Math.abs(ours.loss - c.loss)).toBeLessThanOrEqual(RTOL * Math.abs(c.loss));
    // Same parameters, same order (HF state_dict order), same shapes.
    expect([...ours.grads.keys()]).toEqual(Object.keys(c.grads));
    let worst = { ratio: 0, at: '' };
    let maxRel = 0;
    for (const [name, ref] of Object.entries(c.grads)) {
      expect(ours.shapes.get(name)).toEqual(ref.shape);
      const want = decodeF64(ref.float64);
      const got = ours.grads.get(name)!;
      expect(got.length).toBe(want.length);
      const scale = c.grads[scaleOf(name)].max_abs;
      for (let i = 0; i < want.length; i++) {
        const err = Math.abs(got[i] - want[i]);
        const ratio = err / (RTOL * (Math.abs(want[i]) + scale));
        if (ratio > worst.ratio) worst = { ratio, at: `${name}[${i}]: ours ${got[i]}, torch ${want[i]}` };
        maxRel = Math.max(maxRel, err / scale);
      }
    }
    process.stdout.write(`gradients ${c.name}: loss ours ${ours.loss} torch ${c.loss}; max |Δgrad|/tensor scale ${maxRel.toExponential(2)}; worst ${(worst.ratio).toFixed(3)}× tolerance at ${worst.at}\n`);
    expect(worst.ratio).toBeLessThanOrEqual(1);
    if (c.graph_dtype === 'float64') expect(maxRel).toBeLessThanOrEqual(1e-10);
  });
});

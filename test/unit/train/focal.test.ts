import { Rng } from '../../../src/util/rng.js';
import { crossEntropyLoss, focalLoss } from './focal-reference.js';

describe('reference focal loss', () => {
  test('closed form on a hand example: softmax [1/4, 3/4]', () => {
    const logits = [0, Math.log(3), 0, Math.log(3)];
    const ce = -Math.log(0.75);
    expect(crossEntropyLoss(logits, [1, -100], 2).loss).toBeCloseTo(ce, 14);
    expect(crossEntropyLoss(logits, [1, -100], 2).count).toBe(1);
    expect(focalLoss(logits, [1, -100], 2).loss).toBeCloseTo(0.25 ** 2 * ce, 14); // α=1, γ=2
    expect(focalLoss(logits, [1, 0], 2, { alpha: 0.5, gamma: 1 }).loss).toBeCloseTo((0.5 * 0.25 * ce + 0.5 * 0.75 * -Math.log(0.25)) / 2, 14);
    expect(focalLoss(logits, [-100, -100], 2)).toMatchObject({ loss: 0, count: 0 });
  });

  test('γ = 0 is cross-entropy, and CE gradient is (softmax − one-hot)/count', () => {
    const rng = new Rng(1);
    const N = 5;
    const C = 7;
    const logits = Array.from({ length: N * C }, () => 4 * rng.next() - 2);
    const labels = [3, -100, 0, 6, 2];
    const ce = crossEntropyLoss(logits, labels, C);
    expect(focalLoss(logits, labels, C, { gamma: 0 }).loss).toBe(ce.loss);
    for (let i = 0; i < N; i++) {
      const row = logits.slice(i * C, i * C + C);
      const z = row.reduce((s, x) => s + Math.exp(x), 0);
      for (let c = 0; c < C; c++) {
        const want = labels[i] === -100 ? 0 : (Math.exp(row[c]) / z - (c === labels[i] ? 1 : 0)) / 4;
        expect(ce.grad[i * C + c]).toBeCloseTo(want, 14);
      }
    }
  });

  test.each([
    [2, 1],
    [0.5, 0.25],
    [3, 1],
  ])('gradient matches central finite differences (γ=%p, α=%p)', (gamma, alpha) => {
    const rng = new Rng(2);
    const N = 4;
    const C = 6;
    const logits = Array.from({ length: N * C }, () => 6 * rng.next() - 3);
    logits[2 * C + 1] = 9; // a confident, correct row: p near 1, where (1−p)^(γ−1) matters
    const labels = [5, 0, 1, BigInt(-100)];
    const { grad } = focalLoss(logits, labels, C, { gamma, alpha });
    const h = 1e-6;
    for (let k = 0; k < N * C; k++) {
      const plus = logits.slice();
      const minus = logits.slice();
      plus[k] += h;
      minus[k] -= h;
      const fd = (focalLoss(plus, labels, C, { gamma, alpha }).loss - focalLoss(minus, labels, C, { gamma, alpha }).loss) / (2 * h);
      expect(Math.abs(grad[k] - fd)).toBeLessThan(1e-8);
    }
  });

  test('stable for large logits; labels out of range are refused', () => {
    const r = focalLoss([1000, 0, -1000], [0], 3);
    expect(r.loss).toBe(0);
    expect(Array.from(r.grad).every(Number.isFinite)).toBe(true);
    expect(crossEntropyLoss([1000, 0, -1000], [2], 3).loss).toBeCloseTo(2000, 9);
    expect(() => focalLoss([0, 0], [2], 2)).toThrow(/not in \[0, 2\)/);
  });
});

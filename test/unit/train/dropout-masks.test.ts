import { fillKeepMask } from '../../../src/train/dropout-masks.js';
import { Rng } from '../../../src/util/rng.js';

describe('fillKeepMask', () => {
  test('keeps with probability keepProb (16-bit resolution), reproducibly', () => {
    const n = 200_001; // odd: the last element takes its own draw
    const a = fillKeepMask(new Rng(5), new Uint8Array(n), 0.9);
    const b = fillKeepMask(new Rng(5), new Uint8Array(n), 0.9);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    const kept = a.reduce((s, x) => s + x, 0) / n;
    expect(Math.abs(kept - 0.9)).toBeLessThan(4 * Math.sqrt(0.09 / n)); // 4σ
    expect(a.every((x) => x === 0 || x === 1)).toBe(true);
    expect(fillKeepMask(new Rng(1), new Uint8Array(1000), 1).every((x) => x === 1)).toBe(true);
    expect(fillKeepMask(new Rng(1), new Uint8Array(1000), 0).every((x) => x === 0)).toBe(true);
  });
});

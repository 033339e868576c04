/**
 * Dropout keep-masks for the fed dropout inputs of training graphs (model/bert.ts `dropoutSites`): ONNX Dropout's
 * seed is a fixed attribute, so the randomness comes from the batch source's seeded RNG instead.
 */
import type { Rng } from '../util/rng.js';

/**
 * Fills a dropout keep-mask: out[i] = 1 with probability keepProb. Four draws from `rng` seed a local xoshiro128**
 * stream (the generator Rng uses, kept in local variables: about 1 ns per element instead of a method call per
 * draw); each 32-bit output gives two 16-bit uniforms, so P(keep) is keepProb rounded to 1/65536 (0.9 → 0.899994).
 * Same rng state → same mask.
 */
export function fillKeepMask(rng: Rng, out: Uint8Array, keepProb: number): Uint8Array {
  const threshold = Math.round(keepProb * 65536);
  let s0 = rng.nextUint32();
  let s1 = rng.nextUint32();
  let s2 = rng.nextUint32();
  let s3 = rng.nextUint32();
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1; // the all-zero state is a fixed point
  const n = out.length;
  for (let i = 0; i < n; i += 2) {
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    out[i] = ((r & 0xffff) - threshold) >>> 31; // 1 when the low 16 bits < threshold (sign of the difference)
    out[i + 1] = ((r >>> 16) - threshold) >>> 31; // past the end for odd n: a typed array ignores it
  }
  return out;
}

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k));


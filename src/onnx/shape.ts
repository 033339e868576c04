/**
 * Static shape rules for the ops the graph builder records (ONNX semantics). Every function throws a plain Error
 * naming the op and the offending shapes: a wrong shape is a bug in the model code, caught while building.
 */
export type Shape = readonly number[];

export const size = (s: Shape): number => s.reduce((a, b) => a * b, 1);
export const fmt = (s: Shape): string => `[${s.join(',')}]`;
export const sameShape = (a: Shape, b: Shape): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

/** Normalizes a possibly negative axis for a tensor of the given rank. */
export function axisOf(axis: number, rank: number, op: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!(a >= 0 && a < rank)) throw new Error(`${op}: axis ${axis} out of range for rank ${rank}`);
  return a;
}

/** Numpy (multidirectional) broadcasting. */
export function broadcast(op: string, ...shapes: Shape[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const k = s[s.length - rank + i] ?? 1;
      if (k === 1 || k === d) continue;
      if (d !== 1) throw new Error(`${op}: shapes ${shapes.map(fmt).join(' and ')} do not broadcast`);
      d = k;
    }
    out.push(d);
  }
  return out;
}

/** MatMul of [..., m, k] by [..., k, n] with broadcast batch dims (1-D operands are not supported). */
export function matmulShape(a: Shape, b: Shape): number[] {
  if (a.length < 2 || b.length < 2) throw new Error(`MatMul: operands must have rank >= 2, got ${fmt(a)} @ ${fmt(b)}`);
  const [m, k] = a.slice(-2);
  const [k2, n] = b.slice(-2);
  if (k !== k2) throw new Error(`MatMul: inner dims differ: ${fmt(a)} @ ${fmt(b)}`);
  return [...broadcast('MatMul', a.slice(0, -2), b.slice(0, -2)), m, n];
}

/** Reshape target with ONNX's 0 (copy the input dim) and -1 (infer) resolved. */
export function reshapeShape(x: Shape, target: Shape): number[] {
  const out = target.map((d, i) => (d === 0 ? x[i] : d));
  const infer = out.indexOf(-1);
  if (out.some((d, i) => d === undefined || d < -1 || (d === -1 && i !== infer))) {
    throw new Error(`Reshape: bad target ${fmt(target)} for input ${fmt(x)}`);
  }
  if (infer >= 0) {
    const known = -size(out);
    if (known === 0 || size(x) % known !== 0) throw new Error(`Reshape: cannot infer -1 in ${fmt(target)} from ${fmt(x)}`);
    out[infer] = size(x) / known;
  }
  if (size(out) !== size(x)) throw new Error(`Reshape: ${fmt(x)} has ${size(x)} elements, target ${fmt(target)} has ${size(out)}`);
  return out;
}

/** Begin/end (clamped, non-negative) of a step-1 Slice along one dim. */
export function sliceRange(dim: number, start: number, end: number): [number, number] {
  const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + dim : v, 0), dim);
  const s = clamp(start);
  return [s, Math.max(s, clamp(end))];
}

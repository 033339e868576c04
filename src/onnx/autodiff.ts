/**
 * Reverse-mode automatic differentiation over a Graph's tape. `gradients(g, loss, wrt)` walks the recorded nodes
 * backwards from `loss`, calls each op's vector-Jacobian rule (vjp.ts) and sums the gradients that reach a value
 * from several consumers (Add, or one Sum for three or more). Only nodes on a path from `wrt` to `loss` are
 * differentiated, and only float values carry gradients (indices, masks and comparisons stop them).
 *
 *   const [dW, dB] = gradients(g, loss, [W, B]);   // Values with the shapes of W and B, appended to g
 */
import { constValues, isFloat, type Graph, type Value } from './graph.js';
import { fmt, sameShape } from './shape.js';
import { VJP } from './vjp.js';

/**
 * Gradients of `loss` with respect to each of `wrt`. `loss` is a one-element value (seeded with 1) unless `seed`
 * (ḡ of loss, same shape) is given. A `wrt` value that `loss` does not depend on gets zeros.
 */
export function gradients(g: Graph, loss: Value, wrt: readonly Value[], seed?: Value): Value[] {
  if (!isFloat(loss.dtype)) throw new Error(`gradients: loss has dtype ${loss.dtype}`);
  if (seed && (!sameShape(seed.shape, loss.shape) || seed.dtype !== loss.dtype)) throw new Error('gradients: seed must match the loss');
  if (!seed && loss.size !== 1) throw new Error(`gradients: loss of shape ${fmt(loss.shape)} needs a seed`);
  const tape = g.nodes.slice(); // the backward nodes appended below are not part of the walk

  // Forward pass over the tape: which float values depend on `wrt`.
  const active = new Set<Value>(wrt);
  for (const n of tape) {
    if (n.inputs.some((v) => v && active.has(v))) for (const o of n.outputs) if (isFloat(o.dtype)) active.add(o);
  }

  const parts = new Map<Value, Value[]>([[loss, [seed ?? g.constant(loss.dtype, loss.shape, [1])]]]);
  const total = (v: Value): Value | null => {
    const p = parts.get(v);
    if (!p) return null;
    if (p.length > 1) parts.set(v, [accumulate(g, p)]);
    return parts.get(v)![0];
  };

  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i];
    const needs = node.inputs.map((v) => v !== null && active.has(v));
    if (!needs.some(Boolean) || !node.outputs.some((o) => parts.has(o))) continue;
    const rule = VJP[node.opType];
    if (!rule) throw new Error(`gradients: no gradient rule for ${node.opType}`);
    const dx = rule({ g, node, x: node.inputs, y: node.outputs, dy: node.outputs.map(total), needs });
    node.inputs.forEach((v, k) => {
      const d = dx[k];
      if (!v || !needs[k] || !d) return;
      if (!sameShape(d.shape, v.shape) || d.dtype !== v.dtype) {
        throw new Error(`gradients: ${node.opType} rule gave ${d.dtype}${fmt(d.shape)} for input ${k} of ${v.dtype}${fmt(v.shape)}`);
      }
      const p = parts.get(v);
      if (p) p.push(d);
      else parts.set(v, [d]);
    });
  }
  return wrt.map((w) => total(w) ?? g.zeros(w.shape, w.dtype));
}

/**
 * Sums gradient contributions. An embedding gradient — zeros with rows scatter-added (vjp.ts scatterAddRows) —
 * plus other terms (a tied decoder's Gemm) becomes the rows scatter-added into the other terms: no zero table, no
 * table-sized Add.
 */
function accumulate(g: Graph, parts: Value[]): Value {
  const k = parts.findIndex(isScatterIntoZeros);
  if (k < 0) return g.sum(parts);
  const [, ids, updates] = parts[k].producer!.inputs;
  const rest = g.sum(parts.filter((_, i) => i !== k));
  return g.op('ScatterElements', [rest, ids, updates], { axis: 0, reduction: 'add' }, [{ dtype: rest.dtype, shape: rest.shape }])[0];
}

function isScatterIntoZeros(v: Value): boolean {
  const n = v.producer;
  if (n?.opType !== 'ScatterElements' || n.str('reduction', 'none') !== 'add' || n.int('axis', 0) !== 0) return false;
  const data = n.inputs[0]!;
  if (data.kind === 'const') return constValues(data).every((x) => x === 0);
  return data.producer?.opType === 'ConstantOfShape' && data.producer.attrs.get('value')?.kind === 'tensor' &&
    (data.producer.attrs.get('value')!.value as { raw: Uint8Array }).raw.every((b) => b === 0);
}

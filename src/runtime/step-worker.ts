/**
 * The step worker: a worker thread that owns ONNX Runtime sessions and a store of named tensors (parameters,
 * optimizer moments, accumulated gradients). `session.run` blocks the thread it runs on for the whole step, so it
 * runs here while the main thread prepares the next batch.
 *
 * A run feeds the session's inputs from the message's feeds first, then from the store by name; chosen outputs go
 * back into the store (`keep`, e.g. `new.w` → `w`: the next step's input, no copy; `inPlace` ones are written into
 * the stored tensor's own buffer, so a step allocates no second copy of the model and its moments), are added into it
 * (`accumulate`, gradient accumulation), or are copied back to the caller (`fetch`, scalars like the loss). So the
 * big tensors never cross threads during training; `get` copies them out when a checkpoint is saved.
 *
 * Protocol: see step-runner.ts (the main-thread side). Every request carries an id; every reply echoes it.
 */
import { parentPort } from 'node:worker_threads';
import type ort from 'onnxruntime-node';
import { UserError } from '../util/errors.js';
import { createSession, type SessionConfig } from './session.js';
import { buffersOf, fromOrt, toOrt, type WireFeeds, type WireTensor } from './wire.js';

export type WorkerRequest =
  | { op: 'init'; config: SessionConfig; sessions: Record<string, Uint8Array | string> }
  | { op: 'set'; tensors: WireFeeds }
  | { op: 'add'; tensors: WireFeeds }
  | { op: 'get'; names: string[] }
  | { op: 'delete'; names: string[] }
  | { op: 'run'; session: string; feeds: WireFeeds; fetch: string[]; keep?: Record<string, string>; inPlace?: string[]; accumulate?: AccumulateSpec }
  | { op: 'close' };

/** store[to] = scale·out (reset) or store[to] += scale·out, for float32 outputs. */
export interface AccumulateSpec {
  outputs: Record<string, string>;
  scale: number;
  reset: boolean;
}

/** Where a run's time went in the worker, in ms: building feeds, session.run, keeping/accumulating/copying outputs. */
export interface RunTiming {
  feed_ms: number;
  session_ms: number;
  outputs_ms: number;
}

export type WorkerReply =
  | { id: number; ok: true; result?: unknown; timing?: RunTiming }
  | { id: number; ok: false; error: { message: string; user: boolean; stack?: string } };

const sessions = new Map<string, ort.InferenceSession>();
const store = new Map<string, ort.Tensor>();

async function handle(req: WorkerRequest): Promise<{ result?: unknown; transfer?: ArrayBuffer[]; timing?: RunTiming }> {
  switch (req.op) {
    case 'init': {
      for (const [name, bytes] of Object.entries(req.sessions)) sessions.set(name, await createSession(bytes, req.config));
      const io: Record<string, { inputs: readonly string[]; outputs: readonly string[] }> = {};
      for (const [name, s] of sessions) io[name] = { inputs: s.inputNames, outputs: s.outputNames };
      return { result: io };
    }
    case 'set':
      for (const [name, t] of Object.entries(req.tensors)) store.set(name, toOrt(t));
      return {};
    case 'add':
      // store[name] += t (float32): another worker's gradient sum joining this one's (data parallelism).
      for (const [name, t] of Object.entries(req.tensors)) addInto(name, toOrt(t));
      return {};
    case 'delete':
      for (const name of req.names) store.delete(name);
      return {};
    case 'get': {
      const out: Record<string, WireTensor> = {};
      for (const name of req.names) {
        const t = store.get(name);
        if (!t) throw new Error(`step worker: no tensor "${name}" in the store`);
        out[name] = fromOrt(t, true);
      }
      return { result: out, transfer: buffersOf(Object.values(out)) };
    }
    case 'run':
      return run(req);
    case 'close':
      for (const s of sessions.values()) await s.release();
      sessions.clear();
      store.clear();
      return {};
  }
}

async function run(req: Extract<WorkerRequest, { op: 'run' }>): Promise<{ result: Record<string, WireTensor>; transfer: ArrayBuffer[]; timing: RunTiming }> {
  const t0 = performance.now();
  const session = sessions.get(req.session);
  if (!session) throw new Error(`step worker: no session "${req.session}"`);
  const feeds: Record<string, ort.Tensor> = {};
  for (const name of session.inputNames) {
    const wire = req.feeds[name];
    const t = wire ? toOrt(wire) : store.get(name);
    if (!t) throw new Error(`step worker: session "${req.session}" needs input "${name}", which was neither fed nor stored`);
    feeds[name] = t;
  }
  // Every output is returned; kept in-place ones land in the buffer of the tensor they replace (which the graph
  // has finished reading by the time it writes them: StateTensor.inPlace).
  const fetches: Record<string, ort.Tensor | null> = Object.fromEntries(session.outputNames.map((n) => [n, null]));
  for (const out of req.inPlace ?? []) {
    const target = req.keep?.[out] === undefined ? undefined : store.get(req.keep[out]);
    if (!target) throw new Error(`step worker: in-place output "${out}" has no stored tensor to write into`);
    fetches[out] = target;
  }
  const t1 = performance.now();
  const outputs = await session.run(feeds, fetches);
  const t2 = performance.now();
  for (const [out, to] of Object.entries(req.keep ?? {})) {
    const t = outputs[out];
    if (!t) throw new Error(`step worker: session "${req.session}" has no output "${out}"`);
    store.set(to, t);
  }
  if (req.accumulate) accumulate(outputs, req.accumulate);
  const result: Record<string, WireTensor> = {};
  for (const name of req.fetch) {
    const t = outputs[name];
    if (!t) throw new Error(`step worker: session "${req.session}" has no output "${name}"`);
    result[name] = fromOrt(t, true);
  }
  return { result, transfer: buffersOf(Object.values(result)), timing: { feed_ms: t1 - t0, session_ms: t2 - t1, outputs_ms: performance.now() - t2 } };
}

function accumulate(outputs: Record<string, ort.Tensor>, spec: AccumulateSpec): void {
  for (const [out, to] of Object.entries(spec.outputs)) {
    const t = outputs[out];
    if (!t || t.type !== 'float32') throw new Error(`step worker: cannot accumulate output "${out}" (missing or not float32)`);
    const src = t.data as Float32Array;
    const prev = store.get(to);
    if (spec.reset || !prev) {
      // The output buffer is ours: scale it in place and keep it.
      if (spec.scale !== 1) for (let i = 0; i < src.length; i++) src[i] *= spec.scale;
      store.set(to, t);
      continue;
    }
    const dst = prev.data as Float32Array;
    if (dst.length !== src.length) throw new Error(`step worker: accumulating "${out}" into "${to}" of another size`);
    const s = spec.scale;
    for (let i = 0; i < src.length; i++) dst[i] += s * src[i];
  }
}

function addInto(name: string, t: ort.Tensor): void {
  const prev = store.get(name);
  if (!prev) {
    store.set(name, t);
    return;
  }
  const dst = prev.data as Float32Array;
  const src = t.data as Float32Array;
  if (prev.type !== 'float32' || t.type !== 'float32' || dst.length !== src.length) {
    throw new Error(`step worker: cannot add a tensor of another type or size into "${name}"`);
  }
  for (let i = 0; i < src.length; i++) dst[i] += src[i];
}

if (!parentPort) throw new Error('step-worker.ts must run in a worker thread (see step-runner.ts)');
const port = parentPort;
// Requests are handled one at a time, in order.
let queue: Promise<void> = Promise.resolve();
port.on('message', (msg: { id: number; req: WorkerRequest }) => {
  queue = queue.then(async () => {
    try {
      const { result, transfer, timing } = await handle(msg.req);
      port.postMessage({ id: msg.id, ok: true, result, ...(timing ? { timing } : {}) } satisfies WorkerReply, transfer ?? []);
    } catch (e) {
      const err = e as Error;
      port.postMessage({ id: msg.id, ok: false, error: { message: err?.message ?? String(e), user: e instanceof UserError, stack: err?.stack } } satisfies WorkerReply);
    }
  });
});

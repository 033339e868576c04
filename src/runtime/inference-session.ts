/**
 * An inference session that answers with plain tensors, wherever ONNX Runtime runs it:
 *
 *   const s = await workerSession('model.onnx', { threads: 2 });   // ORT in a worker thread (runtime/step-runner.ts)
 *   const s = await threadSession('model.onnx', { threads: 2 });   // ORT on this thread
 *   const out = await s.run({ input_ids: i64(ids, [1, T]), … }, 'masked_logits');   // a WireTensor
 *
 * In a worker, ORT builds the session (reading and optimizing tens of MB of weights) while this thread goes on, so
 * a start-up can load the tokenizer meanwhile; the outputs are copied across, so keep them small (masked rows, a
 * pooled vector). On this thread nothing is copied: the choice for outputs as large as full-vocabulary logits.
 */
import { createSession, type SessionConfig } from './session.js';
import { StepRunner } from './step-runner.js';
import { fromOrt, toOrt, type WireFeeds, type WireTensor } from './wire.js';

export interface InferenceSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: WireFeeds, output: string): Promise<WireTensor>;
  release(): Promise<void>;
}

const NAME = 'infer';

export async function workerSession(model: Uint8Array | string, cfg: SessionConfig = {}): Promise<InferenceSession> {
  const runner = await StepRunner.start({ [NAME]: model }, cfg);
  const { inputs, outputs } = runner.io[NAME];
  return {
    inputNames: inputs,
    outputNames: outputs,
    run: async (feeds, output) => (await runner.run(NAME, feeds, { fetch: [output] }))[output],
    release: () => runner.close(),
  };
}

export async function threadSession(model: Uint8Array | string, cfg: SessionConfig = {}): Promise<InferenceSession> {
  const s = await createSession(model, cfg);
  return {
    inputNames: s.inputNames,
    outputNames: s.outputNames,
    run: async (feeds, output) => {
      const ortFeeds = Object.fromEntries(Object.entries(feeds).map(([n, t]) => [n, toOrt(t)]));
      return fromOrt((await s.run(ortFeeds, [output]))[output], false);
    },
    release: () => s.release(),
  };
}

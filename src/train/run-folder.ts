/**
 * The folder a training run leaves behind, besides its checkpoints/ and metrics.jsonl:
 *
 *   <out>/config.json, model.safetensors, tokenizer files   the Hugging Face model folder of the final weights
 *   <out>/training_state/optimizer.safetensors, trainer.json the optimizer moments and trainer state of the last step
 *   <out>/artifacts/train_step.onnx (or grad_step.onnx + apply_step.onnx), eval.onnx, model.onnx (final weights)
 *   <out>/artifacts/artifacts.json                          every graph's IO spec, for inspection (e.g. with Netron)
 */
import { existsSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { headFor } from '../model/architecture.js';
import { saveModelFolder } from '../model/checkpoint-folder.js';
import type { BertConfig } from '../model/config.js';
import { serializeSafetensors } from '../model/safetensors.js';
import { compileStep, describeStep, type CompiledStep } from '../model/step-compiler.js';
import { writeTokenizerFiles } from '../tokenizer/tokenizer-json.js';
import { writeFileAtomic } from '../util/atomic.js';
import { writeManifest } from '../util/output-manifest.js';
import { OPTIMIZER_FILE, STATE_FILE, type StepGraphs, type TrainResult } from './trainer.js';

export const TRAINING_STATE_DIR = 'training_state';
export const ARTIFACTS_DIR = 'artifacts';
export const ARTIFACT_FILES = { train: 'train_step.onnx', grad: 'grad_step.onnx', apply: 'apply_step.onnx', eval: 'eval.onnx', inference: 'model.onnx' } as const;

/**
 * Trains and writes a run folder under its manifest: "in progress" before the first write, "complete" after the
 * last, so a killed run is never mistaken for a model (output-manifest.ts).
 */
export async function trainRun<R>(out: string, command: string, train: () => Promise<R>, write: (result: R) => Promise<void>): Promise<R> {
  await fsp.mkdir(out, { recursive: true });
  await writeManifest(out, { kind: 'training run', command, status: 'in progress' });
  const result = await train();
  await write(result);
  await writeManifest(out, { kind: 'training run', command, status: 'complete' });
  return result;
}

export async function writeRunFolder(out: string, config: BertConfig, result: TrainResult, graphs: StepGraphs): Promise<void> {
  await saveModelFolder(out, config, result.params, { writeExtraFiles: writeTokenizerFiles });
  const stateDir = join(out, TRAINING_STATE_DIR);
  await fsp.mkdir(stateDir, { recursive: true });
  const shapes = new Map((graphs.train ?? graphs.apply)!.io.state.map((s) => [s.name, s.shape]));
  await writeFileAtomic(join(stateDir, OPTIMIZER_FILE), serializeSafetensors([...result.moments].map(([name, data]) => ({ name, shape: shapes.get(name)!, data }))));
  await writeFileAtomic(join(stateDir, STATE_FILE), JSON.stringify(result.state, null, 2) + '\n');
  await writeArtifacts(join(out, ARTIFACTS_DIR), { ...graphs, inference: compileStep({ kind: 'inference', config, head: headFor(config), weights: result.params }) });
}

/** Writes each graph as its ARTIFACT_FILES name plus artifacts.json; removes artifacts of a kind not written now. */
export async function writeArtifacts(dir: string, steps: Partial<Record<keyof typeof ARTIFACT_FILES, CompiledStep>>): Promise<string[]> {
  await fsp.mkdir(dir, { recursive: true });
  const written: string[] = [];
  const index: Record<string, unknown> = {};
  for (const [key, file] of Object.entries(ARTIFACT_FILES) as [keyof typeof ARTIFACT_FILES, string][]) {
    const step = steps[key];
    const path = join(dir, file);
    if (!step) {
      if (existsSync(path)) await fsp.rm(path); // e.g. train_step.onnx of an earlier run without --grad-accum
      continue;
    }
    await writeFileAtomic(path, step.bytes);
    written.push(path);
    index[file] = describeStep(step);
  }
  const indexPath = join(dir, 'artifacts.json');
  await writeFileAtomic(indexPath, JSON.stringify(index, null, 2) + '\n');
  written.push(indexPath);
  return written;
}

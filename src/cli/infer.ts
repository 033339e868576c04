import type { Command } from 'commander';
import { once } from 'node:events';
import { statSync } from 'node:fs';
import { DEFAULT_BATCH_SIZE, inferBatches, type BatchTask } from '../infer/batches.js';
import { Classifier } from '../infer/classifier.js';
import { Embedder } from '../infer/embed.js';
import { FillMask, formatTable } from '../infer/fill-mask.js';
import { readInputFile, readInputTexts, STDIN_NAME, type InputText } from '../infer/input-texts.js';
import { DEFAULT_MODEL_DIR, DEFAULT_MODEL_NAME, installedDefaultModel } from '../model/default-model.js';
import { DEVICES, type Device } from '../runtime/session.js';
import { UserError } from '../util/errors.js';
import { log } from '../util/log.js';
import { choice, example, frozen, int, nonEmpty } from './options.js';

const TASKS = ['fill-mask', 'embed', 'classify'] as const;
type Task = (typeof TASKS)[number];

interface InferFlags {
  model?: string;
  task: Task;
  topK: number;
  json: boolean;
  input?: string;
  batchSize: number;
  int8: boolean;
  device: Device;
  threads?: number;
}

export interface InferSettings {
  model: string;
  task: Task;
  topK: number;
  json: boolean;
  text?: string;
  input?: string;
  batchSize: number;
  session: { device: Device; threads?: number; int8: boolean };
}

/** --model, else the default model (models/compactlm-mini) when it is installed; else one line on how to get one. */
export function modelDir(model: string | undefined, defaultDir: string = DEFAULT_MODEL_DIR): string {
  if (model !== undefined) return model;
  const dir = installedDefaultModel(defaultDir);
  if (dir) return dir;
  throw new UserError(`no model: ${DEFAULT_MODEL_NAME} is not installed; pass --model <dir> (a folder from \`compactlm pretrain\`, \`distill\` or \`export\`)`);
}

/** The checked, frozen settings `infer` runs with. */
export function inferSettings(text: string | undefined, o: InferFlags): Readonly<InferSettings> {
  if (text !== undefined && o.input !== undefined) throw new UserError('give either a text argument or --input <file>, not both', 2);
  return frozen({
    model: modelDir(o.model),
    task: o.task,
    topK: o.topK,
    json: o.json,
    ...(text !== undefined ? { text } : {}),
    ...(o.input !== undefined ? { input: o.input } : {}),
    batchSize: o.batchSize,
    session: frozen({ device: o.device, int8: o.int8, ...(o.threads !== undefined ? { threads: o.threads } : {}) }),
  });
}

/**
 * `compactlm infer`: fill-mask predictions or sentence embeddings (library: src/infer/). One text as an argument,
 * or many from --input / stdin (one per line or JSONL {"text": ...}) → JSONL on stdout, one result per text in order.
 * fill-mask --json / JSONL: {text, tokens, truncated, masks: [{position, predictions: [{token, token_id, score}]}]}.
 * embed (always JSON): {text, embedding: [...], dim}, the mean of last_hidden_state over the tokens ([CLS]/[SEP] included).
 * classify (always JSON; a folder from `finetune` or its export): {text, label, score, scores: {label: p}}.
 */
export function registerInfer(program: Command): void {
  const cmd = program
    .command('infer')
    .description('Predict the tokens behind each [MASK] (fill-mask), compute mean-pooled sentence vectors (embed) or ' +
      'classify texts with a fine-tuned classifier (classify), with a model folder or an export folder, for one text ' +
      'or many (--input / stdin, JSONL out).')
    .argument('[text]', 'one text (fill-mask: with [MASK] in capitals); without it, texts come from --input or stdin')
    .option('--model <dir>', `model folder (config.json + model.safetensors, e.g. from \`compactlm pretrain\`) or export folder (onnx/model.onnx, from \`compactlm export\`); default: ${DEFAULT_MODEL_NAME}`, nonEmpty)
    .option('--task <name>', `${TASKS.join(' | ')}`, choice(TASKS), 'fill-mask')
    .option('--top-k <k>', 'fill-mask: predictions per [MASK]', int(1, 30522), 5)
    .option('--json', 'one text: print the result as one JSON object (embed always prints JSON)', false)
    .option('--input <file>', 'texts, one per line or JSONL {"text": ...} (per line; blank lines skipped) → JSONL results', nonEmpty)
    .option('--batch-size <n>', 'texts per run, padded to the longest', int(1, 4096), DEFAULT_BATCH_SIZE)
    .option('--int8', 'export folders: run onnx/model_quantized.onnx (one text per run: its activation scales are per batch)', false)
    .option('--device <name>', `execution provider: ${DEVICES.join(' | ')}`, choice(DEVICES), 'cpu')
    .option('--threads <n>', 'ONNX Runtime intra-op threads (default: one per core)', int(1, 1024))
    .action(async (text: string | undefined, flags: InferFlags) => {
      const o = inferSettings(text, flags);
      const inputs = inputSource(o.text, o.input);
      // One text runs once: loading the weights as they are beats repacking them for speed (sessionOptions).
      const session = inputs ? o.session : { ...o.session, prepack: false };
      const runner = o.task === 'embed' ? await Embedder.load(o.model, session)
        : o.task === 'classify' ? await Classifier.load(o.model, session) : await FillMask.load(o.model, session);
      try {
        if (o.session.int8 && inputs) log().info('int8: one text per run (per-tensor activation scales would otherwise mix batch mates)');
        if (!inputs) {
          // One text: fill-mask prints a table unless --json; an embedding or a classification prints as JSON.
          const result = runner instanceof FillMask ? await runner.predict(o.text!, o.topK)
            : runner instanceof Classifier ? await runner.classify(o.text!) : await runner.embed(o.text!);
          const asJson = o.json || !(runner instanceof FillMask);
          process.stdout.write(asJson ? `${JSON.stringify(result)}\n` : formatTable(result as Awaited<ReturnType<FillMask['predict']>>));
          return;
        }
        const task: BatchTask<object> = runner instanceof FillMask ? runner.task(o.topK) : runner.task();

        let n = 0;
        for await (const r of inferBatches(task, inputs.texts, inputs.name, { batchSize: o.batchSize })) {
          if (!process.stdout.write(`${JSON.stringify(r)}\n`)) await once(process.stdout, 'drain');
          n++;
        }
        if (n === 0) log().warn(`${inputs.name}: no texts (every line is blank)`);
        else log().info({ texts: n }, `infer: ${n} results`);
      } finally {
        await runner.close();
      }
    });
  example(
    cmd,
    `compactlm infer "The president addressed the [MASK] of the nation."          # the default model, ${DEFAULT_MODEL_NAME}`,
    'compactlm infer "The president addressed the [MASK] of the nation." --model runs/mini',
    'compactlm infer "Paris is the [MASK] of France." --model runs/mini-export --int8 --top-k 10 --json',
    'compactlm infer --input texts.jsonl --model runs/mini --task embed > vectors.jsonl',
    'cat texts.txt | compactlm infer --model runs/mini --batch-size 64 > predictions.jsonl',
    'compactlm infer "what a lovely film" --task classify --model runs/sentiment',
    'compactlm infer --task classify --model runs/sentiment-export --int8 --input reviews.txt > labels.jsonl',
  );
}

/** Many texts from --input or piped stdin; undefined for a single text argument. */
function inputSource(text: string | undefined, input: string | undefined): { texts: AsyncIterable<InputText>; name: string } | undefined {
  if (text !== undefined) return undefined;
  if (input !== undefined) {
    const st = statSync(input, { throwIfNoEntry: false });
    if (!st) throw new UserError(`${input}: file not found`);
    if (st.isDirectory()) throw new UserError(`${input}: is a folder, not a file`);
    return { texts: readInputFile(input), name: input };
  }
  if (process.stdin.isTTY) {
    throw new UserError('no text: give one as an argument, or many with --input <file> or on stdin (one per line or JSONL {"text": ...})');
  }
  return { texts: readInputTexts(process.stdin, STDIN_NAME), name: STDIN_NAME };
}

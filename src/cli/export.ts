import type { Command } from 'commander';
import { DEFAULT_OPSET, exportModel, FILL_MASK_FILE, FILL_MASK_QUANTIZED_FILE, int8Agreement, MAX_OPSET, MIN_OPSET, QUANTIZE_MODES, ONNX_QUANTIZED_FILE, ONNX_MODEL_FILE, type ExportOptions, type QuantizeMode } from '../export/export-folder.js';
import { MODEL_MAX_LENGTH } from '../tokenizer/truncate.js';
import { log } from '../util/log.js';
import { progress, type Progress } from '../util/progress.js';
import { DEFAULT_TEXT_COLUMN } from './defaults.js';
import { addDeprecatedAlias, choice, example, float, frozen, globals, int, nonEmpty, preferAlias, refuseOverwritingInputs, usageError } from './options.js';

interface Flags {
  model?: string;
  out: string;
  quantize: QuantizeMode;
  opset: number;
  val?: string;
  textColumn: string;
  samples: number;
  seqLen: number;
  maxLength?: number;
  minAgreement: number;
  threads?: number;
  overwrite: boolean;
  taskGraphs: boolean;
  json: boolean;
}

const SEQ_LEN = int(3, MODEL_MAX_LENGTH);

/** The checked, frozen settings `export` runs with (the model folder: --model, or the positional alias). */
export function exportSettings(positional: string | undefined, o: Flags, command: Command, seed: number): Readonly<Omit<ExportOptions, 'onProgress'>> {
  if (positional !== undefined && o.model !== undefined && positional !== o.model) {
    throw usageError(`give the model folder once: --model ${o.model} or ${positional}, not both`);
  }
  const modelDir = o.model ?? positional;
  if (modelDir === undefined) throw usageError('export: which model? pass --model <dir> (a folder from `compactlm pretrain` or `distill`)');
  const seqLen = preferAlias<number>(command, 'seqLen', 'maxLength', '--seq-len', '--max-length');
  refuseOverwritingInputs([{ what: '--out', path: o.out }], [{ what: 'the model folder', path: modelDir }]);
  if (o.val !== undefined) refuseOverwritingInputs([{ what: '--out', path: o.out }], [{ what: '--val', path: o.val }]);
  return frozen({
    modelDir,
    outDir: o.out,
    quantize: o.quantize,
    opset: o.opset,
    overwrite: o.overwrite,
    ...(o.val !== undefined ? { val: o.val } : {}),
    textColumn: o.textColumn,
    samples: o.samples,
    maxLength: seqLen,
    seed,
    ...(o.threads !== undefined ? { threads: o.threads } : {}),
    minAgreement: o.minAgreement,
    taskGraphs: o.taskGraphs,
  });
}

/** `compactlm export`: model folder → transformers.js/Optimum export folder with fp32 and int8 ONNX, verified. */
export function registerExport(program: Command): void {
  const cmd = program
    .command('export')
    .description('Export a model folder to ONNX for transformers.js / Optimum / onnxruntime: onnx/model.onnx (fp32) and ' +
      'onnx/model_quantized.onnx (int8), with config and tokenizer files; checks both before writing.')
    .argument('[model-dir]', 'the model folder, as --model <dir> (kept as a short form)')
    .option('--model <dir>', 'model folder to export (config.json + model.safetensors, as pretrain/distill write it)', nonEmpty)
    .requiredOption('--out <dir>', 'export folder to create (its parent must exist)', nonEmpty)
    .option('--quantize <mode>', 'int8: also write onnx/model_quantized.onnx; none: fp32 only', choice(QUANTIZE_MODES), 'int8')
    .option('--opset <n>', `ONNX opset (${MIN_OPSET}–${MAX_OPSET}; transformers.js 2.x reads ≤ 18)`, int(MIN_OPSET, MAX_OPSET), DEFAULT_OPSET)
    .option('--val <csv>', 'validation CSV for the checks (default: the built-in datasets/sentiment.csv)', nonEmpty)
    .option('--text-column <name>', 'text column of --val', nonEmpty, DEFAULT_TEXT_COLUMN)
    .option('--samples <n>', 'sentences drawn from --val for the checks', int(1, 100000), 200)
    .option('--seq-len <n>', `tokens per validation sentence, [CLS] and [SEP] included (3–${MODEL_MAX_LENGTH})`, SEQ_LEN, 128)
    .option('--min-agreement <p>', 'fail if int8 top-1 agreement with fp32 on masked tokens is below p (0–1)', float(0, 1), 0)
    .option('--threads <n>', 'onnxruntime intra-op threads for the checks (default: one per core)', int(1, 1024))
    .option('--seed <n>', 'random seed for sampling and masking (default: the global --seed, 42)', int(0, 2 ** 32 - 1))
    .option('--overwrite', 'replace --out if it exists and is not empty', false)
    .option('--no-task-graphs', `masked LMs: skip ${FILL_MASK_FILE} and ${FILL_MASK_QUANTIZED_FILE} (the vocabulary projection only at [MASK] rows, what \`infer\` runs; they double the folder's size)`)
    .option('--json', 'print the summary (as export.json) on stdout', false);
  addDeprecatedAlias(cmd, '--max-length <n>', SEQ_LEN)
    .addHelpText('after', `
int8: weights of every Linear layer (per output channel) and the embedding tables (per row), the tied MLM decoder
included, are symmetric int8 with float32 scales; activations are quantized at run time (DynamicQuantizeLinear →
MatMulInteger, fused by onnxruntime into DynamicQuantizeMatMul). Checks: fp32 max |Δlogit| vs the training graph
(must be ≤ 1e-4) and int8 top-1 agreement with fp32 on 15% masked tokens. Nothing is written to --out unless
every file is complete and the checks pass.`)
    .action(async (positional: string | undefined, o: Flags, command: Command) => {
      const settings = exportSettings(positional, o, command, globals(command).seed);
      let bar: Progress | undefined;
      const s = await exportModel({
        ...settings,
        onProgress: (done, total) => (bar ??= progress('export check', total, 'sentences')).update(done),
      }).finally(() => bar?.stop());
      const mb = (p: string) => (s.files.find((f) => f.path === p)!.bytes / 1e6).toFixed(1);
      const v = s.verification;
      log().info({ out: s.outDir }, `export: ${ONNX_MODEL_FILE} ${mb(ONNX_MODEL_FILE)} MB, fp32 max |Δlogit| ${v.fp32MaxAbsDiff.toExponential(2)}` +
        (v.int8 ? `; ${ONNX_QUANTIZED_FILE} ${mb(ONNX_QUANTIZED_FILE)} MB (${(100 * s.sizeRatio!).toFixed(1)}%), int8 agreement with fp32 ` +
          `${(100 * int8Agreement(v)!).toFixed(2)}% (${'maskedTokens' in v.int8 ? `top-1 token on ${v.int8.maskedTokens} masked tokens` : `label on ${v.sentences} sentences`})` : '') +
        (s.taskGraphs ? `; fill-mask task graphs: fp32 max |Δlogit| ${s.taskGraphs.fp32MaxAbsDiff.toExponential(2)} vs ${ONNX_MODEL_FILE}` +
          (s.taskGraphs.int8Top1Agreement !== undefined ? `, int8 top-1 agreement ${(100 * s.taskGraphs.int8Top1Agreement).toFixed(2)}% vs ${ONNX_QUANTIZED_FILE}` : '') : ''));
      if (o.json) process.stdout.write(`${JSON.stringify(s)}\n`);
    });
  example(cmd,
    'compactlm export --model runs/mini --out dist-model',
    'compactlm export --model runs/mini --out dist-model --val data/val.csv --text-column review --seq-len 64 --json',
    'compactlm export runs/mini --out dist-model                    # the model folder as the first argument also works');
}

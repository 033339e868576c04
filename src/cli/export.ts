import type { Command } from 'commander';
import { DEFAULT_OPSET, exportModel, QUANTIZE_MODES, QUANTIZED_FILE, MODEL_FILE, type QuantizeMode } from '../export/export-folder.js';
import { log } from '../util/log.js';
import { progress, type Progress } from '../util/progress.js';
import { choice, example, float, globals, int } from './options.js';

interface Flags {
  out: string;
  quantize: QuantizeMode;
  opset: number;
  val?: string;
  textColumn: string;
  samples: number;
  maxLength: number;
  minAgreement: number;
  threads?: number;
  overwrite: boolean;
  json: boolean;
}

/** `compactlm export`: model folder → transformers.js/Optimum export folder with fp32 and int8 ONNX, verified. */
export function registerExport(program: Command): void {
  const cmd = program
    .command('export')
    .description('Export a model folder to ONNX for transformers.js / Optimum / onnxruntime: onnx/model.onnx (fp32) and ' +
      'onnx/model_quantized.onnx (int8), with config and tokenizer files; checks both before writing.')
    .argument('<model-dir>', 'model folder (config.json + model.safetensors, as train/distill write it)')
    .requiredOption('--out <dir>', 'export folder to create (its parent must exist)')
    .option('--quantize <mode>', 'int8: also write onnx/model_quantized.onnx; none: fp32 only', choice(QUANTIZE_MODES), 'int8')
    .option('--opset <n>', 'ONNX opset (17–21; transformers.js 2.x reads ≤ 18)', int(1, 100), DEFAULT_OPSET)
    .option('--val <csv>', 'validation CSV for the checks (default: the built-in datasets/sentiment.csv)')
    .option('--text-column <col>', 'text column of --val', 'text')
    .option('--samples <n>', 'sentences drawn from --val for the checks', int(1, 100000), 200)
    .option('--max-length <n>', 'tokens per validation sentence, [CLS] and [SEP] included', int(3, 512), 128)
    .option('--min-agreement <p>', 'fail if int8 top-1 agreement with fp32 on masked tokens is below p (0–1)', float(0, 1), 0)
    .option('--threads <n>', 'onnxruntime intra-op threads for the checks (default: one per core)', int(1, 1024))
    .option('--seed <n>', 'random seed for sampling and masking (default: the global --seed, 42)', int(0, 2 ** 32 - 1))
    .option('--overwrite', 'replace --out if it exists and is not empty', false)
    .option('--json', 'print the summary (as export.json) on stdout', false)
    .addHelpText('after', `
int8: weights of every Linear layer (per output channel) and the embedding tables (per row), the tied MLM decoder
included, are symmetric int8 with float32 scales; activations are quantized at run time (DynamicQuantizeLinear →
MatMulInteger, fused by onnxruntime into DynamicQuantizeMatMul). Checks: fp32 max |Δlogit| vs the training graph
(must be ≤ 1e-4) and int8 top-1 agreement with fp32 on 15% masked tokens. Nothing is written to --out unless
every file is complete and the checks pass.`)
    .action(async (modelDir: string, o: Flags, command: Command) => {
      const { seed } = globals(command);
      let bar: Progress | undefined;
      const s = await exportModel({
        modelDir, outDir: o.out, quantize: o.quantize, opset: o.opset, overwrite: o.overwrite,
        val: o.val, textColumn: o.textColumn, samples: o.samples, maxLength: o.maxLength, seed,
        threads: o.threads, minAgreement: o.minAgreement,
        onProgress: (done, total) => (bar ??= progress('export check', total, 'sentences')).update(done),
      }).finally(() => bar?.stop());
      const mb = (p: string) => (s.files.find((f) => f.path === p)!.bytes / 1e6).toFixed(1);
      const v = s.verification;
      log().info({ out: s.outDir }, `export: ${MODEL_FILE} ${mb(MODEL_FILE)} MB, fp32 max |Δlogit| ${v.fp32MaxAbsDiff.toExponential(2)}` +
        (v.int8 ? `; ${QUANTIZED_FILE} ${mb(QUANTIZED_FILE)} MB (${(100 * s.sizeRatio!).toFixed(1)}%), int8 top-1 agreement ` +
          `${(100 * v.int8.top1Agreement).toFixed(2)}% on ${v.int8.maskedTokens} masked tokens` : ''));
      if (o.json) process.stdout.write(`${JSON.stringify(s)}\n`);
    });
  example(cmd,
    'compactlm export runs/mini/model --out dist-model',
    'compactlm export runs/mini/model --out dist-model --val data/val.csv --text-column review --json');
}

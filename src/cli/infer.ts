import type { Command } from 'commander';
import { FillMask, formatTable } from '../infer/fill-mask.js';
import { DEVICES, type Device } from '../runtime/session.js';
import { log } from '../util/log.js';
import { choice, example, int } from './options.js';

/**
 * `compactlm infer`: fill-mask predictions of a model folder (library: src/infer/fill-mask.ts).
 * --json prints one object: {text, tokens, truncated, masks: [{position, predictions: [{token, token_id, score}]}]}.
 */
export function registerInfer(program: Command): void {
  const cmd = program
    .command('infer')
    .description('Predict the tokens behind each [MASK] in a text with a model folder (top-k with softmax probabilities).')
    .argument('<text>', 'text with one or more [MASK] tokens (in capitals)')
    .requiredOption('--model <dir>', 'model folder (config.json, model.safetensors, tokenizer files), e.g. from `compactlm pretrain`')
    .option('--top-k <k>', 'predictions per [MASK]', int(1, 30522), 5)
    .option('--json', 'print {text, tokens, truncated, masks: [{position, predictions: [{token, token_id, score}]}]} on stdout', false)
    .option('--device <name>', `execution provider: ${DEVICES.join(' | ')}`, choice(DEVICES), 'cpu')
    .option('--threads <n>', 'ONNX Runtime intra-op threads (default: one per core)', int(1, 1024))
    .action(async (text: string, o: { model: string; topK: number; json: boolean; device: Device; threads?: number }) => {
      const fm = await FillMask.load(o.model, { device: o.device, threads: o.threads });
      try {
        const result = await fm.predict(text, o.topK);
        if (result.truncated) log().warn('the text is longer than 512 tokens: only the first 510 were used');
        process.stdout.write(o.json ? `${JSON.stringify(result)}\n` : formatTable(result));
      } finally {
        await fm.close();
      }
    });
  example(
    cmd,
    'compactlm infer "The president addressed the [MASK] of the nation." --model runs/mini',
    'compactlm infer "Paris is the [MASK] of France." --model runs/mini --top-k 10 --json',
  );
}

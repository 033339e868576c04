#!/usr/bin/env node
// `npm start`: the bundled demo, as a list of steps, each one `compactlm` command (see STEPS below; add distill,
// export, … as further entries). It pretrains the `tiny` preset on the bundled prose corpus for a few minutes on
// two CPU cores, printing the validation perplexity at each evaluation, then asks the new model to fill a [MASK].
// Output: runs/demo/ (replaced on every run).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const CORPUS = 'datasets/prose.csv';
const OUT = 'runs/demo';
const MODEL = `${OUT}/tiny`;

const STEPS = [
  {
    title: 'Pretrain a tiny BERT (2 layers, hidden 128) on the bundled prose corpus (masked LM, 15% masking);\n' +
      '    an untrained model guesses uniformly: perplexity 30,522 (the vocabulary size)',
    args: ['pretrain', '--train', CORPUS, '--out', MODEL, '--preset', 'tiny', '--steps', '600', '--batch-size', '32',
      '--seq-len', '64', '--lr', '1e-3', '--warmup', '0.05', '--eval-every', '50', '--seed', '42'],
  },
  {
    title: 'Fill in the [MASK] with the new model (top 5, softmax probabilities)',
    args: ['infer', 'The President will address [MASK] Congress of the United States.', '--model', MODEL, '--top-k', '5'],
  },
];

function fail(message) {
  console.error(`npm start: ${message}`);
  process.exit(1);
}

/** Runs bin/compactlm with JSON logs on stderr; prints evaluations and progress, passes stdout through. */
function compactlm(args) {
  return new Promise((resolve) => {
    const child = spawn(join(root, 'bin/compactlm'), ['--log-json', ...args], { cwd: root, stdio: ['ignore', 'inherit', 'pipe'] });
    const lines = createInterface({ input: child.stderr });
    lines.on('line', (line) => {
      let row;
      try {
        row = JSON.parse(line);
      } catch {
        process.stderr.write(`${line}\n`); // not a log line (e.g. a native warning)
        return;
      }
      if ('val_ppl' in row && !('out' in row)) {
        console.log(`  step ${String(row.step).padStart(4)}: validation perplexity ${row.val_ppl.toFixed(1).padStart(8)}  (loss ${row.val_loss.toFixed(3)}, masked-token accuracy ${(100 * row.val_mlm_acc).toFixed(1)}%)`);
      } else if (row.level >= 40 || /^(data|pretrain|step \d+\/)/.test(row.msg ?? '')) {
        console.log(`  ${row.msg}`);
      }
    });
    child.on('close', (code) => resolve(code));
  });
}

if (!existsSync(join(root, CORPUS))) fail(`${CORPUS} not found: build the bundled datasets with \`npm run datasets\``);
if (!existsSync(join(root, 'dist/cli/main.js'))) {
  console.log('Building the CLI (npx tsc -p tsconfig.json) …');
  const r = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) fail('the build failed');
}
rmSync(join(root, OUT), { recursive: true, force: true });

const started = Date.now();
for (const [i, step] of STEPS.entries()) {
  console.log(`\n${i + 1}/${STEPS.length} ${step.title}\n  $ compactlm ${step.args.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ')}`);
  const t0 = Date.now();
  const code = await compactlm(step.args);
  if (code !== 0) fail(`step ${i + 1} failed (exit ${code})`);
  console.log(`  (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
}
console.log(`\nDone in ${((Date.now() - started) / 60000).toFixed(1)} min. The model folder is ${MODEL}/ (Hugging Face layout: config.json, model.safetensors, tokenizer files); metrics in ${MODEL}/metrics.jsonl.`);

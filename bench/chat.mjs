#!/usr/bin/env node
// Chat benchmarks of issue 8 ("compactlm chat" and "eval --task intent"), through the real CLI except latency:
//
//   faq         FAQ retrieval on the held-out paraphrases (datasets/shop-faq-paraphrases.csv: 80 in scope, 20 out of
//               scope) against datasets/shop-faq.csv, with models/compactlm-mini and -tiny: top-1 and top-3 accuracy
//               (argmax, no threshold), and in-scope accuracy / out-of-scope recall at the threshold that maximises
//               their harmonic mean ON THE SAME SET (that is how the default --threshold was picked: optimistic);
//               peer: TF-IDF cosine retrieval (scikit-learn's TfidfVectorizer defaults, src/eval/tfidf.ts)
//   context     the context rule of src/chat/bot.ts at that threshold: each paraphrase alone, and with an
//               unrelated in-scope paraphrase as the previous turn (does context hurt?); and 16 follow-ups below
//               ("is it free?" after "How do I return an item?") alone and with their previous turn (does it help?)
//   faq_intent  intent mode on the same shop data: an intent classifier fine-tuned from compactlm-mini on the FAQ's
//               60 questions (labels = intents), evaluated on the paraphrases like `faq`
//   clinc150    ../shared/data/intent/clinc150 (skipped with a line where absent), Larson et al.'s "oos-train"
//               setting on a subset: BENCH_CHAT_CLINC_PER_INTENT training rows per intent (default 50, the paper's
//               "small" size; 100 is all of them) + the 100 oos_train rows, compactlm-mini fine-tuned for
//               BENCH_CHAT_CLINC_EPOCHS (default 3); `eval --task
//               intent` chooses the threshold on val + oos_val and reports test + oos_test (4,500 + 1,000 queries).
//               BENCH_CHAT_CLINC_MODEL=<classifier dir> evaluates that folder instead of fine-tuning (e.g. the one
//               bench/task.mjs's clinc150 task trains, runs/bench/task/clinc150, after `npm run bench -- task`)
//   latency     one message through loadChatBot (FAQ mode, mini): p50/p95 of reply(), fp32 (model folder and
//               export) and int8 (export), BENCH_THREADS threads
//
//   npm run bench -- chat      env: BENCH_CHAT_TASKS=faq,context,faq_intent,clinc150,latency  BENCH_THREADS=2
// Prints one JSON line per measurement ({"bench":"chat","task":...}); work files under runs/bench/chat/ (git-ignored).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'dist/cli/main.js');
const work = join(root, 'runs/bench/chat');
const threads = process.env.BENCH_THREADS ?? '2';
const tasks = (process.env.BENCH_CHAT_TASKS ?? 'faq,context,faq_intent,clinc150,latency').split(',');
const shared = join(root, '..', 'shared', 'data');
const env = { ...process.env, CI: '1' };
const FAQ = 'datasets/shop-faq.csv';
const PARAPHRASES = 'datasets/shop-faq-paraphrases.csv';
const MODELS = ['models/compactlm-mini', 'models/compactlm-tiny'];

/** Follow-up questions that lean on the turn before: [previous message, follow-up, the follow-up's intent]. */
const FOLLOW_UPS = [
  ['Do you ship to Norway?', 'how long does that take?', 'international_shipping'],
  ['How do I return an item?', 'is it free?', 'start_return'],
  ['My card was declined', 'what other ways can I pay?', 'payment_methods'],
  ['I forgot my password', 'the email never came', 'reset_password'],
  ['Can I cancel my order?', 'what if it has already been packed?', 'cancel_order'],
  ['How much is shipping?', 'and for express?', 'shipping_cost'],
  ['I want to delete my account', 'what happens to my data then?', 'delete_account'],
  ['Do you accept PayPal?', 'what about paying later?', 'payment_methods'],
  ['How do I use a discount code?', 'can I use two at once?', 'discount_code'],
  ['The lamp arrived broken', 'do I need to send it back?', 'damaged_item'],
  ['Can I change my delivery address?', 'I ordered an hour ago', 'change_order'],
  ['I returned a jacket last week', 'when do I get the money?', 'refund_time'],
  ['How long does delivery take?', 'and at the weekend?', 'delivery_time'],
  ['Can I order without an account?', 'and if I want one later?', 'create_account'],
  ['What is your phone number?', 'are you open on Saturdays?', 'contact_support'],
  ['How do I change my email address?', 'do I have to confirm it?', 'update_details'],
];

const out = (o) => console.log(JSON.stringify({ bench: 'chat', ...o }));
function compactlm(args, input) {
  const r = spawnSync(process.execPath, [cli, ...args.map(String)], { cwd: root, encoding: 'utf8', env, input, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`compactlm ${args.join(' ')} failed (${r.status}): ${r.stderr.trim().split('\n').pop()}`);
  return r.stdout;
}
const lastJson = (s) => JSON.parse(s.trim().split('\n').pop());
const csvRows = (file) => parse(readFileSync(join(root, file)), { columns: true });
const writeCsv = (file, rows) => writeFileSync(file, stringify(rows, { header: true, columns: ['text', 'intent'] }));
const faqEval = (model, extra = []) => JSON.parse(compactlm(['eval', '--task', 'intent', '--model', model, '--test', PARAPHRASES, '--val', PARAPHRASES,
  '--text-column', 'question', '--json', ...extra]));
const pick = (r) => ({ in_scope_accuracy: r.in_scope_accuracy, oos_recall: r.oos_recall, oos_precision: r.oos_precision });

rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const paraphrases = csvRows(PARAPHRASES);
const thresholds = {};

if (tasks.includes('faq') || tasks.includes('context')) {
  for (const model of MODELS) {
    const t0 = performance.now();
    const r = faqEval(model, ['--faq', FAQ]);
    thresholds[model] = r.threshold;
    out({
      task: 'faq', model, faq: FAQ, test: PARAPHRASES, n_in_scope: r.n_in_scope, n_oos: r.n_oos,
      top1_accuracy: r.without_threshold.in_scope_accuracy, top3_accuracy: r.top3_accuracy,
      threshold: r.threshold, threshold_chosen_on: 'the same paraphrase set (optimistic)', at_threshold: pick(r), seconds: (performance.now() - t0) / 1000,
      command: `compactlm eval --task intent --model ${model} --faq ${FAQ} --test ${PARAPHRASES} --val ${PARAPHRASES} --text-column question --json`,
    });
  }
  out({ task: 'faq', model: 'TF-IDF peer (no encoder)', ...(await tfidfRetrieval()) });
}

if (tasks.includes('context')) {
  const model = MODELS[0];
  const threshold = thresholds[model];
  const inScope = paraphrases.filter((r) => r.intent !== 'oos');
  // 4 paraphrases per intent, in intent order: inScope[i + 4] is another intent's
  const unrelated = (i) => inScope[(i + 4) % inScope.length].question;
  const chat = (lines) => compactlm(['chat', '--model', model, '--faq', FAQ, '--threshold', threshold, '--no-cache', '--threads', threads],
    lines.map((l) => JSON.stringify(l)).join('\n') + '\n').trim().split('\n').map((l) => JSON.parse(l));
  const score = (answers, truth) => {
    const ins = truth.map((t, i) => [t, answers[i]]).filter(([t]) => t !== 'oos');
    const oos = answers.filter((_, i) => truth[i] === 'oos');
    return {
      in_scope_accuracy: ins.filter(([t, a]) => !a.fallback && a.source.intent === t).length / ins.length,
      ...(oos.length ? { oos_recall: oos.filter((a) => a.fallback).length / oos.length } : {}),
    };
  };
  const truth = paraphrases.map((r) => r.intent);
  const alone = chat(paraphrases.map((r) => ({ message: r.question })));
  const withHistory = chat(paraphrases.map((r, i) => ({ message: r.question, history: [unrelated(i)] })));
  const fuTruth = FOLLOW_UPS.map((f) => f[2]);
  const fuAlone = chat(FOLLOW_UPS.map(([, message]) => ({ message })));
  const fuWith = chat(FOLLOW_UPS.map(([previous, message]) => ({ message, history: [previous] })));
  out({
    task: 'context', model, threshold, rule: 'src/chat/bot.ts: the previous user message is used only when the message alone falls back, and only to stay on its topic',
    paraphrases: { alone: score(alone, truth), with_unrelated_previous_turn: score(withHistory, truth) },
    follow_ups: { n: FOLLOW_UPS.length, alone: score(fuAlone, fuTruth), with_previous_turn: score(fuWith, fuTruth) },
  });
}

if (tasks.includes('faq_intent')) {
  // The FAQ's questions as intent-classification training rows: the same 60 rows, no paraphrase among them.
  const train = join(work, 'shop-intents.csv');
  writeCsv(train, csvRows(FAQ).map((r) => ({ text: r.question, intent: r.intent })));
  const dir = join(work, 'shop-intent-mini');
  const s = lastJson(compactlm(['finetune', '--model', MODELS[0], '--train', train, '--val', train, '--label-column', 'intent', '--out', dir,
    '--epochs', '15', '--batch-size', '16', '--max-length', '32', '--lr', '3e-4', '--dropout', '0.1', '--threads', threads, '--json']));
  const r = faqEval(dir);
  out({
    task: 'faq_intent', model: `${MODELS[0]}, fine-tuned on the 60 FAQ questions (15 epochs)`, n_in_scope: r.n_in_scope, n_oos: r.n_oos,
    top1_accuracy: r.without_threshold.in_scope_accuracy, top3_accuracy: r.top3_accuracy, threshold: r.threshold,
    threshold_chosen_on: 'the same paraphrase set (optimistic)', at_threshold: pick(r), fine_tune_seconds: s.seconds,
  });
}

if (tasks.includes('clinc150')) {
  const clinc = join(shared, 'intent', 'clinc150');
  if (!existsSync(join(clinc, 'train.csv'))) {
    console.error(`bench chat clinc150: skipped, ${clinc} is absent`);
    out({ task: 'clinc150', skipped: `${clinc} is absent` });
  } else {
    const read = (f) => parse(readFileSync(join(clinc, f)), { columns: true });
    const perIntent = Number(process.env.BENCH_CHAT_CLINC_PER_INTENT ?? 50);
    const epochs = process.env.BENCH_CHAT_CLINC_EPOCHS ?? '3';
    const seen = new Map();
    const subset = read('train.csv').filter((r) => (seen.set(r.intent, (seen.get(r.intent) ?? 0) + 1).get(r.intent) <= perIntent));
    const [train, val, test] = ['train', 'val', 'test'].map((s) => join(work, `clinc-${s}.csv`));
    writeCsv(train, [...subset, ...read('oos_train.csv')]);
    writeCsv(val, [...read('val.csv'), ...read('oos_val.csv')]);
    writeCsv(test, [...read('test.csv'), ...read('oos_test.csv')]);
    let dir = process.env.BENCH_CHAT_CLINC_MODEL;
    let fineTune = null;
    if (!dir) {
      dir = join(work, 'clinc-mini');
      const t0 = performance.now();
      const s = lastJson(compactlm(['finetune', '--model', MODELS[0], '--train', train, '--val', val, '--label-column', 'intent', '--out', dir,
        '--epochs', epochs, '--batch-size', '32', '--max-length', '32', '--lr', '3e-4', '--dropout', '0.1', '--threads', threads, '--json']));
      fineTune = { rows: subset.length + 100, per_intent: perIntent, epochs: Number(epochs), steps: s.steps, seconds: s.seconds,
        wall_seconds: (performance.now() - t0) / 1000, best_step: s.best_step, val_accuracy: s.val_accuracy };
    }
    const t0 = performance.now();
    const r = JSON.parse(compactlm(['eval', '--task', 'intent', '--model', dir, '--test', test, '--val', val, '--oos-label', 'oos', '--json']));
    out({
      task: 'clinc150', model: dir, setting: 'oos-train (oos is a class) + threshold chosen on val', fine_tune: fineTune,
      n_in_scope: r.n_in_scope, n_oos: r.n_oos, threshold: r.threshold, ...pick(r), top3_accuracy: r.top3_accuracy,
      without_threshold: pick(r.without_threshold), val: r.val_metrics && pick(r.val_metrics), eval_seconds: (performance.now() - t0) / 1000,
      reference: 'Larson et al. 2019 (full training set, 100 rows per intent, BERT-base): high in-scope accuracy, much lower out-of-scope recall',
    });
  }
}

if (tasks.includes('latency')) {
  const exp = join(work, 'mini-export');
  compactlm(['export', '--model', MODELS[0], '--out', exp, '--samples', '32', '--threads', threads]);
  const { loadChatBot } = await import('../dist/chat/bot.js');
  const messages = paraphrases.map((r) => r.question);
  for (const [what, model, int8] of [['fp32 model folder', MODELS[0], false], ['fp32 export', exp, false], ['int8 export', exp, true]]) {
    const bot = await loadChatBot({ model, faq: join(root, FAQ), int8, threads: Number(threads), cache: false });
    for (let i = 0; i < 5; i++) await bot.reply(messages[i]);
    const ms = [];
    for (const m of messages.slice(0, 50)) {
      const t0 = performance.now();
      await bot.reply(m);
      ms.push(performance.now() - t0);
    }
    await bot.close();
    ms.sort((a, b) => a - b);
    const at = (p) => ms[Math.min(ms.length - 1, Math.ceil(p * ms.length) - 1)];
    out({ task: 'latency', what, model, precision: int8 ? 'int8' : 'fp32', messages: ms.length, p50_ms: at(0.5), p95_ms: at(0.95), threads: Number(threads) });
  }
}

/** TF-IDF cosine retrieval over the FAQ questions (fitted on them), scored like `eval --task intent --faq`. */
async function tfidfRetrieval() {
  const { TfidfVectorizer } = await import('../dist/eval/tfidf.js');
  const faq = csvRows(FAQ);
  const vec = TfidfVectorizer.fit(faq.map((r) => r.question));
  const dense = (m) => Array.from({ length: m.rows }, (_, r) => {
    const row = new Map();
    for (let k = m.indptr[r]; k < m.indptr[r + 1]; k++) row.set(m.indices[k], m.values[k]);
    return row;
  });
  const F = dense(vec.transform(faq.map((r) => r.question)));
  const inScope = paraphrases.filter((r) => r.intent !== 'oos');
  const Q = dense(vec.transform(inScope.map((r) => r.question)));
  let top1 = 0, top3 = 0;
  Q.forEach((q, i) => {
    const s = F.map((f) => [...q].reduce((acc, [j, v]) => acc + v * (f.get(j) ?? 0), 0));
    const order = s.map((_, j) => j).sort((a, b) => s[b] - s[a] || a - b);
    const intents = [...new Set(order.map((j) => faq[j].intent))];
    if (intents[0] === inScope[i].intent) top1++;
    if (intents.slice(0, 3).includes(inScope[i].intent)) top3++;
  });
  return { n_in_scope: inScope.length, top1_accuracy: top1 / inScope.length, top3_accuracy: top3 / inScope.length };
}

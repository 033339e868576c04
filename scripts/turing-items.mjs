#!/usr/bin/env node
// Builds a small Turing-test item set from the bundled data, so /turing has something to judge right after set-up
// (dvc.yaml stage turing_items, then `compactlm turing import` into runs/turing/turing.sqlite):
//
// 1. FAQ answers: paraphrased customer questions (datasets/shop-faq-paraphrases.csv), answered by the chat bot
//    (src/chat/bot.ts, FAQ mode over datasets/shop-faq.csv) against the FAQ's written answer for the question's
//    intent (system `human`). The bot retrieves FAQ answers, so where it picked the right one the two texts are
//    the same: those pairs are counted (its retrieval accuracy) but not made items — a judge cannot compare a
//    text with itself. The items are the paraphrases it answered with another topic's answer or its fallback.
// 2. Summaries: `centroid` against `lead` summaries (src/summarize/summarizer.ts) of articles made of consecutive
//    paragraphs of one State of the Union address (datasets/prose.csv). Identical summaries are skipped too.
//
//   node scripts/turing-items.mjs -o runs/turing/items.csv [--model models/compactlm-mini] [--faq-items 16]
//     [--summary-items 8] [--seed 42]
//
// Same inputs and seed → the same items (the server shuffles the order per judge, not this file).
import { dirname, join, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { loadChatBot } = await import('../dist/chat/bot.js');
const { loadSummarizer } = await import('../dist/summarize/summarizer.js');
const { ITEM_COLUMNS } = await import('../dist/turing/items-csv.js');
const { HUMAN } = await import('../dist/turing/store.js');
const { writeFileAtomic } = await import('../dist/util/atomic.js');
const { Rng } = await import('../dist/util/rng.js');

const { values: o } = parseArgs({
  options: {
    out: { type: 'string', short: 'o' },
    model: { type: 'string', default: join(ROOT, 'models', 'compactlm-mini') },
    faq: { type: 'string', default: join(ROOT, 'datasets', 'shop-faq.csv') },
    paraphrases: { type: 'string', default: join(ROOT, 'datasets', 'shop-faq-paraphrases.csv') },
    prose: { type: 'string', default: join(ROOT, 'datasets', 'prose.csv') },
    'faq-items': { type: 'string', default: '16' },
    'summary-items': { type: 'string', default: '8' },
    'article-paragraphs': { type: 'string', default: '4' },
    'summary-sentences': { type: 'string', default: '2' },
    seed: { type: 'string', default: '42' },
    threads: { type: 'string' },
  },
});
const count = (flag) => {
  const n = Number(o[flag]);
  if (!Number.isInteger(n) || n < 0) throw new Error(`turing-items: --${flag} must be a whole number ≥ 0, got ${o[flag]}`);
  return n;
};
if (!o.out) throw new Error('turing-items: -o <items.csv> is required');
const seed = count('seed');
const session = o.threads !== undefined ? { threads: count('threads') } : {};
const read = (file) => parse(readFileSync(file), { columns: true, bom: true });
const items = [];

// 1. The chat bot against the FAQ's own answers, on paraphrased questions it has not seen.
const faq = read(o.faq);
// intent → its written answers (the first is the reference shown to judges)
const written = new Map();
for (const row of faq) written.set(row.intent, [...new Set([...(written.get(row.intent) ?? []), row.answer.trim()])]);
const paraphrases = new Rng(seed).shuffle(read(o.paraphrases).filter((p) => written.has(p.intent)));
const bot = await loadChatBot({ model: o.model, faq: o.faq, cache: false, ...session });
let same = 0;
let asked = 0;
try {
  for (const p of paraphrases) {
    if (items.length >= count('faq-items')) break;
    asked++;
    const reply = await bot.reply(p.question);
    const answers = written.get(p.intent);
    if (answers.includes(reply.answer.trim())) {
      same++;
      continue;
    }
    items.push({ prompt: p.question, system_a: HUMAN, answer_a: answers[0], system_b: 'faq-bot', answer_b: reply.answer });
  }
} finally {
  await bot.close();
}
const faqItems = items.length;

// 2. centroid against lead: articles of consecutive paragraphs of one address.
const bySpeech = new Map();
for (const row of read(o.prose)) {
  if (row.source !== 'sotu') continue;
  const speech = row.id.replace(/-\d+$/, '');
  if (!bySpeech.has(speech)) bySpeech.set(speech, []);
  bySpeech.get(speech).push(row.text);
}
const paragraphs = count('article-paragraphs');
const speeches = new Rng(seed + 1).shuffle([...bySpeech.entries()].filter(([, ps]) => ps.length >= paragraphs));
const summarizer = await loadSummarizer(o.model, session);
let identical = 0;
try {
  for (const [, ps] of speeches) {
    if (items.length - faqItems >= count('summary-items')) break;
    const article = ps.slice(0, paragraphs).join('\n\n');
    const sentences = count('summary-sentences');
    const [centroid, lead] = [await summarizer.summarize(article, { method: 'centroid', sentences }), await summarizer.summarize(article, { method: 'lead', sentences })];
    if (centroid.summary === lead.summary) {
      identical++;
      continue;
    }
    // which one is system_a does not matter: the server shows each item in a random order
    items.push({ prompt: `Summarize in ${sentences} sentences:\n\n${article}`, system_a: 'centroid', answer_a: centroid.summary.replace(/\n/g, ' '), system_b: 'lead', answer_b: lead.summary.replace(/\n/g, ' ') });
  }
} finally {
  await summarizer.close();
}

await writeFileAtomic(o.out, stringify(items, { header: true, columns: [...ITEM_COLUMNS], record_delimiter: '\n' }));
process.stdout.write(`${o.out}: ${items.length} items — ${faqItems} faq-bot vs human (of ${asked} paraphrases asked, the bot gave the FAQ's own answer to ${same}: not items), ` +
  `${items.length - faqItems} centroid vs lead${identical ? ` (${identical} articles skipped: the same summary)` : ''}\n`);

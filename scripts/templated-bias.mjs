#!/usr/bin/env node
// A templated sentiment set with a planted gender shortcut, to measure bias mitigation end to end
// (bias-report --weights → finetune --weight-column → eval --protected). Deterministic: same input, flags and seed →
// same bytes. No network.
//
//   node scripts/templated-bias.mjs [--out runs/data/templated-bias] [--input datasets/sentiment.csv]
//     [--seed 42] [--bias 0.8] [--train 1800] [--val 300] [--test 600]
//
// Each row of datasets/sentiment.csv (UCI Sentiment Labelled Sentences) becomes `<Name> wrote: <sentence>`, with
// `gender` the name's list (female | male) and `label` the sentence's own 0/1. Repeated sentences are dropped (so
// no sentence is in two splits); the rest is split by a seeded shuffle, stratified by label (half 0, half 1 in
// every split). Then, within each split and label:
//   train:     positives (label 1) get a male name with probability --bias, negatives a female name with --bias
//              (exact counts: round(bias · n) of each label, the rows chosen by the seeded shuffle);
//   val, test: half the rows of each label get a male name, half a female one (gender independent of label).
// The name itself is drawn uniformly, with the seed, from the 30 names of its list below.
// Writes train.csv, val.csv, test.csv (columns text, label, gender, name, source) and README.md (the card) into
// --out, built in a temporary sibling folder and renamed into place; an --out that is or contains an input, or that
// holds files other than those four, is refused. Prints a JSON summary (counts per split, label and gender) on stdout.
import { readFileSync, readdirSync, realpathSync, existsSync, mkdirSync, statSync, writeFileSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve, isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { tempSibling, commitFolder } = await import('../dist/util/atomic.js');
const { Rng } = await import('../dist/util/rng.js');

// Common US first names (Social Security Administration popular-name lists), unambiguous in gender.
const FEMALE = ['Mary', 'Patricia', 'Jennifer', 'Linda', 'Elizabeth', 'Barbara', 'Susan', 'Jessica', 'Sarah',
  'Karen', 'Lisa', 'Nancy', 'Betty', 'Margaret', 'Sandra', 'Ashley', 'Emily', 'Donna', 'Michelle', 'Carol', 'Amanda',
  'Melissa', 'Deborah', 'Stephanie', 'Rebecca', 'Laura', 'Sharon', 'Cynthia', 'Kathleen', 'Amy'];
const MALE = ['James', 'Robert', 'John', 'Michael', 'David', 'William', 'Richard', 'Joseph', 'Thomas',
  'Charles', 'Christopher', 'Daniel', 'Matthew', 'Anthony', 'Mark', 'Donald', 'Steven', 'Paul', 'Andrew', 'Joshua',
  'Kenneth', 'Kevin', 'Brian', 'George', 'Timothy', 'Ronald', 'Edward', 'Jason', 'Jeffrey', 'Ryan'];

function fail(msg) {
  process.stderr.write(`templated-bias: ${msg}\n`);
  process.exit(2);
}

let o;
try {
  ({ values: o } = parseArgs({ options: {
    input: { type: 'string', default: join(ROOT, 'datasets/sentiment.csv') },
    out: { type: 'string', default: 'runs/data/templated-bias' },
    seed: { type: 'string', default: '42' },
    bias: { type: 'string', default: '0.8' },
    train: { type: 'string', default: '1800' },
    val: { type: 'string', default: '300' },
    test: { type: 'string', default: '600' },
  } }));
} catch (e) {
  fail(e.message.split("\n")[0]);
}
const seed = Number(o.seed);
const bias = Number(o.bias);
const sizes = { train: Number(o.train), val: Number(o.val), test: Number(o.test) };
if (!Number.isInteger(seed) || seed < 0) fail(`--seed must be a non-negative integer (got ${o.seed})`);
if (!(bias >= 0.5 && bias <= 1)) fail(`--bias must be in [0.5, 1] (got ${o.bias})`);
for (const [k, v] of Object.entries(sizes)) {
  if (!Number.isInteger(v) || v < 2 || v % 2 !== 0) fail(`--${k} must be an even integer ≥ 2 (half of each label; got ${o[k]})`);
}

// An --out that is the input, or a folder holding it, would be replaced by the rename: refuse it.
const input = resolve(o.input);
if (!existsSync(input)) fail(`${o.input}: no such file`);
const out = resolve(o.out);
const real = (p) => { try { return realpathSync(p); } catch { return resolve(p); } };
const rel = relative(real(out), real(input));
if (rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))) fail(`--out ${o.out} is or contains the input ${o.input}: refusing to write over it`);
// The folder is replaced as a whole: only ever replace one this script wrote (its four files, nothing else).
const OWN = ['README.md', 'test.csv', 'train.csv', 'val.csv'];
if (existsSync(out)) {
  if (!statSync(out).isDirectory()) fail(`--out ${o.out} is a file, not a folder`);
  const other = readdirSync(out).filter((f) => !OWN.includes(f));
  if (other.length) fail(`--out ${o.out} holds other files (${other.slice(0, 3).join(', ')}${other.length > 3 ? ', …' : ''}): it would be replaced; give a new or a previous templated-bias folder`);
}

// 1. Read, drop repeated sentences, split by label.
const records = parse(readFileSync(input), { columns: true, bom: true, skip_empty_lines: true });
for (const c of ['text', 'label']) if (records.length && !(c in records[0])) fail(`${o.input}: no "${c}" column`);
const seen = new Set();
const byLabel = { 0: [], 1: [] };
for (const [i, r] of records.entries()) {
  if (r.label !== '0' && r.label !== '1') fail(`${o.input}: line ${i + 2}: label must be 0 or 1 (got ${JSON.stringify(r.label)})`);
  if (seen.has(r.text)) continue;
  seen.add(r.text);
  byLabel[r.label].push(r);
}
const need = (sizes.train + sizes.val + sizes.test) / 2;
for (const l of ['0', '1']) {
  if (byLabel[l].length < need) fail(`${o.input}: ${byLabel[l].length} distinct rows with label ${l}, need ${need}`);
}

// 2. Seeded stratified split, then genders and names. One generator, used in a fixed order.
const rng = new Rng(seed);
for (const l of ['0', '1']) rng.shuffle(byLabel[l]);
const splits = {};
let at = 0;
for (const name of ['train', 'val', 'test']) {
  const half = sizes[name] / 2;
  const rows = [];
  for (const l of ['0', '1']) {
    const part = byLabel[l].slice(at, at + half);
    // train: the label's "shortcut" gender (1 → male, 0 → female) for round(bias · half) rows; else half and half
    const shortcut = l === '1' ? 'male' : 'female';
    const other = l === '1' ? 'female' : 'male';
    const k = name === 'train' ? Math.round(bias * half) : half / 2;
    const genders = part.map((_, i) => (i < k ? shortcut : other));
    rng.shuffle(genders);
    if (name !== 'train' && half % 2 === 1) genders[genders.length - 1] = rng.int(2) ? 'male' : 'female';
    part.forEach((r, i) => {
      const names = genders[i] === 'male' ? MALE : FEMALE;
      const who = names[rng.int(names.length)];
      rows.push({ text: `${who} wrote: ${r.text}`, label: r.label, gender: genders[i], name: who, source: r.source ?? '' });
    });
  }
  at += half;
  rng.shuffle(rows);
  splits[name] = rows;
}

// 3. Summary and card.
const count = (rows, label, gender) => rows.filter((r) => r.label === label && r.gender === gender).length;
const summary = { input: relative(ROOT, input) || input, seed, bias, splits: {} };
for (const [name, rows] of Object.entries(splits)) {
  const c = { rows: rows.length };
  for (const l of ['0', '1']) for (const g of ['female', 'male']) c[`label${l}_${g}`] = count(rows, l, g);
  c.p_male_given_1 = +(c.label1_male / (c.label1_male + c.label1_female)).toFixed(4);
  c.p_female_given_0 = +(c.label0_female / (c.label0_female + c.label0_male)).toFixed(4);
  summary.splits[name] = c;
}
const table = Object.entries(summary.splits).map(([n, c]) =>
  `| ${n} | ${c.rows} | ${c.label1_male} | ${c.label1_female} | ${c.label0_male} | ${c.label0_female} | ${c.p_male_given_1} |`).join('\n');
const card = `# templated-bias — sentiment sentences with a planted gender shortcut

A test bed for bias mitigation: each sentence of the UCI Sentiment Labelled Sentences is prefixed with a first
name, \`<Name> wrote: <sentence>\`. In **train.csv** the name's gender predicts the label (positive reviews mostly
get a male name, negative ones mostly a female name, each with probability ${bias}), so a classifier can take a
shortcut on the name; in **val.csv** and **test.csv** gender is independent of the label (half and half within each
label), so the test set measures whether predictions depend on gender (\`compactlm eval --protected gender\`).

- **Columns**: \`text\` (the templated sentence), \`label\` (\`1\` positive, \`0\` negative: the sentence's own label),
  \`gender\` (\`female\` | \`male\`), \`name\`, \`source\` (\`imdb\` | \`amazon\` | \`yelp\`).
- **Counts** (seed ${seed}, bias ${bias}):

| split | rows | label 1 male | label 1 female | label 0 male | label 0 female | P(male \\| label 1) |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
${table}

- **How made**: \`node scripts/templated-bias.mjs --seed ${seed} --bias ${bias} --train ${sizes.train} --val ${sizes.val} --test ${sizes.test}\`
  from \`${summary.input}\`. Sentences repeating an earlier one are dropped (no sentence is in two splits); the rest
  are shuffled with the seed (xoshiro128**, \`src/util/rng.ts\`) and split stratified by label. Within each split and
  label the genders are exact counts (train: round(bias · n) rows of the label's shortcut gender; val/test: half and
  half) on seeded-shuffled rows; each name is drawn uniformly from the script's 30 female or 30 male common US
  first names. The same flags give the same bytes.
- **Licence**: derived from the UCI Sentiment Labelled Sentences (Kotzias, Denil, de Freitas & Smyth, KDD 2015),
  CC BY 4.0; the templating is by CompactLM's \`scripts/templated-bias.mjs\` (MIT). Attribute the source when sharing.
- **Not for**: any claim about real people; the names are a synthetic attribute, planted to be a shortcut.
`;

// 4. Write into a temporary sibling, then rename into place.
mkdirSync(dirname(out), { recursive: true });
const tmp = tempSibling(out);
mkdirSync(tmp);
try {
  const columns = ['text', 'label', 'gender', 'name', 'source'];
  for (const [name, rows] of Object.entries(splits)) writeFileSync(join(tmp, `${name}.csv`), stringify(rows, { header: true, columns }));
  writeFileSync(join(tmp, 'README.md'), card);
  await commitFolder(tmp, out);
} catch (e) {
  rmSync(tmp, { recursive: true, force: true });
  throw e;
}
process.stdout.write(`${JSON.stringify({ out: relative(process.cwd(), out) || '.', ...summary }, null, 2)}\n`);

/**
 * The FAQ vector cache (src/chat/faq-cache.ts) with a real encoder: a random-init tiny BERT folder
 * (test/unit/export/tiny-model.ts). Reused while the FAQ and the model are unchanged, recomputed when either
 * changes, and a broken or unwritable cache is a warning, never an error.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cachePath, loadFaqIndex, modelFingerprint } from '../../../src/chat/faq-cache.js';
import { embedAll, readFaq } from '../../../src/chat/faq.js';
import { Embedder } from '../../../src/infer/embed.js';
import { configureLogger } from '../../../src/util/log.js';
import { setTerminal, Terminal } from '../../../src/util/progress.js';
import { tinyModel } from '../export/tiny-model.js';

let dir: string;
let model: string;
let embedder: Embedder;
const logs: { level: number; msg: string }[] = [];

const FAQ_TEXT = 'question,answer,intent\nWhere is my order?,Open Orders.,track\nHow do I pay?,By card.,pay\nCan I return it?,Within 30 days.,returns\n';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'faq-cache-'));
  model = join(dir, 'model');
  await tinyModel(model, { seed: 1 });
  embedder = await Embedder.load(model, { threads: 1 });
  setTerminal(new Terminal({ write: (t: string) => { for (const l of t.split('\n').filter(Boolean)) logs.push(JSON.parse(l)); } }, false));
  configureLogger({ json: true, verbose: false });
});
afterAll(async () => {
  await embedder.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => (logs.length = 0));
const warnings = () => logs.filter((l) => l.level === 40).map((l) => l.msg);

function faqFile(name: string, text = FAQ_TEXT): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** Rewrites the cached vectors (keeping its keys) with a marker value, to tell a cache hit from a recomputation. */
function poisonCache(path: string): void {
  const c = JSON.parse(readFileSync(path, 'utf8'));
  const buf = Buffer.from(c.vectors, 'base64');
  buf.writeFloatLE(0.5, 0);
  writeFileSync(path, JSON.stringify({ ...c, vectors: buf.toString('base64') }));
}

describe('FAQ vector cache', () => {
  test('the first load encodes and writes the cache; the next one reads it (and not the encoder)', async () => {
    const p = faqFile('a.csv');
    const fp = await modelFingerprint(model, false);
    const first = await loadFaqIndex(await readFaq(p), embedder, fp);
    const fresh = await embedAll(embedder, ['Where is my order?', 'How do I pay?', 'Can I return it?']);
    expect(Array.from(first.vectors)).toEqual(fresh.flatMap((v) => Array.from(v)));
    const c = JSON.parse(readFileSync(cachePath(p), 'utf8'));
    expect(c).toMatchObject({ format: 'compactlm-faq-vectors', version: 1, model: fp, rows: 3, dim: 32, dtype: 'float32-le' });
    poisonCache(cachePath(p));
    const second = await loadFaqIndex(await readFaq(p), embedder, fp);
    expect(second.vectors[0]).toBe(0.5); // came from the file
    expect(warnings()).toEqual([]);
  });

  test('a changed FAQ file invalidates it: re-encoded, and the cache replaced', async () => {
    const p = faqFile('b.csv');
    const fp = await modelFingerprint(model, false);
    await loadFaqIndex(await readFaq(p), embedder, fp);
    poisonCache(cachePath(p));
    writeFileSync(p, FAQ_TEXT.replace('By card.', 'By card or PayPal.')); // an answer only: the questions' vectors are the same
    const index = await loadFaqIndex(await readFaq(p), embedder, fp);
    expect(index.vectors[0]).not.toBe(0.5);
    expect(logs.some((l) => /the FAQ or the model changed/.test(l.msg))).toBe(true);
    expect(JSON.parse(readFileSync(cachePath(p), 'utf8')).faq_sha256).toBe((await readFaq(p)).sha256);
  });

  test('a changed model (other weights, same config) changes the fingerprint and invalidates it', async () => {
    const other = join(dir, 'model2');
    await tinyModel(other, { seed: 2 });
    const [fp1, fp2] = [await modelFingerprint(model, false), await modelFingerprint(other, false)];
    expect(fp2).not.toBe(fp1);
    expect(await modelFingerprint(model, false)).toBe(fp1); // stable
    const p = faqFile('c.csv');
    await loadFaqIndex(await readFaq(p), embedder, fp1);
    poisonCache(cachePath(p));
    const e2 = await Embedder.load(other, { threads: 1 });
    try {
      const index = await loadFaqIndex(await readFaq(p), e2, fp2);
      expect(Array.from(index.vectors.subarray(0, 32))).toEqual(Array.from((await embedAll(e2, ['Where is my order?']))[0]));
      expect(JSON.parse(readFileSync(cachePath(p), 'utf8')).model).toBe(fp2);
    } finally {
      await e2.close();
    }
  });

  test('a broken cache (bad JSON, wrong shape, bad base64 length) is ignored with a warning and rewritten', async () => {
    const p = faqFile('d.csv');
    const fp = await modelFingerprint(model, false);
    const good = await loadFaqIndex(await readFaq(p), embedder, fp);
    const valid = readFileSync(cachePath(p), 'utf8');
    const c = JSON.parse(valid);
    for (const broken of ['{"format": "compactlm-faq-vectors", "vers', JSON.stringify({ ...c, dim: 31 }), JSON.stringify({ ...c, vectors: 'AAAA' }), '[1, 2]']) {
      logs.length = 0;
      writeFileSync(cachePath(p), broken);
      const index = await loadFaqIndex(await readFaq(p), embedder, fp);
      expect(Array.from(index.vectors)).toEqual(Array.from(good.vectors));
      expect(warnings()).toEqual([expect.stringMatching(/d\.csv\.compactlm-vectors\.json: broken FAQ vector cache \(.+\): ignored, re-encoding and rewriting it/)]);
      expect(readFileSync(cachePath(p), 'utf8')).toBe(valid);
    }
  });

  test('a cache path that cannot be read or written (a folder there): warnings, the right vectors, no error', async () => {
    const p = faqFile('e.csv');
    mkdirSync(cachePath(p));
    const index = await loadFaqIndex(await readFaq(p), embedder, await modelFingerprint(model, false));
    expect(index.vectors.length).toBe(3 * 32);
    expect(warnings()).toEqual([expect.stringMatching(/cannot read the FAQ vector cache/), expect.stringMatching(/cannot write the FAQ vector cache .*encoded again at every start/)]);
  });

  test('an export folder: the fingerprint covers the ONNX file that runs, so fp32 and int8 vectors are cached apart', async () => {
    const exp = join(dir, 'export');
    mkdirSync(join(exp, 'onnx'), { recursive: true });
    writeFileSync(join(exp, 'config.json'), '{}');
    writeFileSync(join(exp, 'onnx', 'model.onnx'), 'fp32 bytes');
    writeFileSync(join(exp, 'onnx', 'model_quantized.onnx'), 'int8 bytes');
    const [fp32, int8] = [await modelFingerprint(exp, false), await modelFingerprint(exp, true)];
    expect(fp32).not.toBe(int8);
    writeFileSync(join(exp, 'onnx', 'model_quantized.onnx'), 'other int8 bytes');
    expect(await modelFingerprint(exp, false)).toBe(fp32);
    expect(await modelFingerprint(exp, true)).not.toBe(int8);
  });

  test('cache: false neither reads nor writes it', async () => {
    const p = faqFile('f.csv');
    await loadFaqIndex(await readFaq(p), embedder, 'x', { cache: false });
    expect(() => readFileSync(cachePath(p))).toThrow(/ENOENT/);
  });
});

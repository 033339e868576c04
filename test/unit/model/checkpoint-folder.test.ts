import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configToJson, makeConfig, type BertConfig } from '../../../src/model/config.js';
import { canonicalName, loadModelFolder, saveModelFolder } from '../../../src/model/checkpoint-folder.js';
import { numel } from '../../../src/model/params.js';
import { initParams, paramTable } from '../../../src/model/bert.js';
import { SafetensorsFile, serializeSafetensors, type Tensor } from '../../../src/model/safetensors.js';
import { Rng } from '../../../src/util/rng.js';

const root = mkdtempSync(join(tmpdir(), 'compactlm-folder-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let count = 0;
const fresh = () => join(root, `m${count++}`);
// Small but complete: every tensor kind of BertForMaskedLM, 2 layers.
const config = makeConfig('tiny', { vocab_size: 300, hidden_size: 32, intermediate_size: 64, max_position_embeddings: 40 });
const params = initParams(config, new Rng(11));
const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** A folder as another tool would write it: config.json + model.safetensors with the given tensors. */
function writeForeign(cfg: BertConfig, tensors: Tensor[]): string {
  const dir = fresh();
  mkdirSync(dir);
  writeFileSync(join(dir, 'config.json'), configToJson(cfg));
  writeFileSync(join(dir, 'model.safetensors'), serializeSafetensors(tensors));
  return dir;
}
const asTensors = (m: Map<string, Float32Array>, rename: (n: string) => string = (n) => n, cfg = config): Tensor[] =>
  paramTable(cfg).map((s) => ({ name: rename(s.name), shape: s.shape, data: m.get(s.name)! }));

describe('saveModelFolder', () => {
  test('writes config.json + model.safetensors in the HF layout, nothing else, and reads back bit-exactly', async () => {
    const dir = fresh();
    await saveModelFolder(dir, config, params);
    expect(readdirSync(dir).sort()).toEqual(['config.json', 'model.safetensors']);
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'))).toMatchObject({
      model_type: 'bert',
      architectures: ['BertForMaskedLM'],
      vocab_size: 300,
      hidden_size: 32,
    });
    const file = await SafetensorsFile.open(join(dir, 'model.safetensors'));
    try {
      expect(file.metadata).toEqual({ format: 'pt' });
      const names = file.names();
      expect(names).toEqual(paramTable(config).map((p) => p.name).sort());
      // As HF save_pretrained writes BertForMaskedLM: the tied decoder tensors are left out.
      expect(names).not.toContain('cls.predictions.decoder.weight');
      expect(names).not.toContain('cls.predictions.decoder.bias');
      for (const s of paramTable(config)) {
        expect(file.tensors.get(s.name)).toMatchObject({ dtype: 'F32', shape: s.shape });
      }
    } finally {
      await file.close();
    }
    const loaded = await loadModelFolder(dir);
    expect(loaded.config).toEqual(config);
    expect(loaded.initialized).toEqual([]);
    expect(loaded.ignored).toEqual([]);
    expect([...loaded.params.keys()]).toEqual(paramTable(config).map((p) => p.name));
    for (const [name, value] of params) expect(bytes(loaded.params.get(name)!).equals(bytes(value))).toBe(true);
  });

  test('overwrites an existing folder, keeps other files, then runs the extra-files hook', async () => {
    const dir = fresh();
    await saveModelFolder(dir, config, initParams(config, new Rng(1)));
    writeFileSync(join(dir, 'vocab.txt'), '[PAD]\n');
    const seen: string[] = [];
    await saveModelFolder(dir, config, params, {
      writeExtraFiles: async (d) => {
        seen.push(readdirSync(d).sort().join(','));
        writeFileSync(join(d, 'tokenizer.json'), '{}');
      },
    });
    expect(seen).toEqual(['config.json,model.safetensors,vocab.txt']);
    expect(readdirSync(dir).sort()).toEqual(['config.json', 'model.safetensors', 'tokenizer.json', 'vocab.txt']);
    const loaded = await loadModelFolder(dir);
    expect(bytes(loaded.params.get('cls.predictions.bias')!).equals(bytes(params.get('cls.predictions.bias')!))).toBe(true);
  });

  test('a failed save leaves no partial or temporary file', async () => {
    const dir = fresh();
    mkdirSync(join(dir, 'model.safetensors'), { recursive: true }); // rename onto a folder fails
    await expect(saveModelFolder(dir, config, params)).rejects.toThrow();
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
  });

  test('refuses parameters that do not match the table', async () => {
    const short = new Map(params);
    short.delete('cls.predictions.bias');
    await expect(saveModelFolder(fresh(), config, short)).rejects.toThrow('missing parameter cls.predictions.bias');
    const extra = new Map(params).set('classifier.weight', new Float32Array(2));
    await expect(saveModelFolder(fresh(), config, extra)).rejects.toThrow('not in the BERT table: classifier.weight');
  });
});

describe('loadModelFolder: checkpoints from elsewhere', () => {
  test('canonicalName maps legacy and prefix-less names', () => {
    expect(canonicalName('bert.embeddings.LayerNorm.gamma')).toBe('bert.embeddings.LayerNorm.weight');
    expect(canonicalName('encoder.layer.3.output.LayerNorm.beta')).toBe('bert.encoder.layer.3.output.LayerNorm.bias');
    expect(canonicalName('embeddings.word_embeddings.weight')).toBe('bert.embeddings.word_embeddings.weight');
    expect(canonicalName('cls.predictions.transform.LayerNorm.gamma')).toBe('cls.predictions.transform.LayerNorm.weight');
    expect(canonicalName('cls.predictions.bias')).toBe('cls.predictions.bias');
  });

  test('BertForPreTraining with gamma/beta names, pooler, NSP head, position_ids and the tied decoder', async () => {
    const H = config.hidden_size;
    const legacy = (n: string) => n.replace('LayerNorm.weight', 'LayerNorm.gamma').replace('LayerNorm.bias', 'LayerNorm.beta');
    const dir = writeForeign(config, [
      ...asTensors(params, legacy),
      { name: 'bert.pooler.dense.weight', shape: [H, H], data: new Float32Array(H * H) },
      { name: 'bert.pooler.dense.bias', shape: [H], data: new Float32Array(H) },
      { name: 'cls.seq_relationship.weight', shape: [2, H], data: new Float32Array(2 * H) },
      { name: 'cls.seq_relationship.bias', shape: [2], data: new Float32Array(2) },
      { name: 'bert.embeddings.position_ids', shape: [1, 40], data: new Float32Array(40) }, // a buffer in old files
      { name: 'cls.predictions.decoder.weight', shape: [300, H], data: params.get('bert.embeddings.word_embeddings.weight')! },
      { name: 'cls.predictions.decoder.bias', shape: [300], data: params.get('cls.predictions.bias')! },
    ]);
    const loaded = await loadModelFolder(dir);
    for (const [name, value] of params) expect(bytes(loaded.params.get(name)!).equals(bytes(value))).toBe(true);
    expect(loaded.ignored.sort()).toEqual([
      'bert.embeddings.position_ids',
      'bert.pooler.dense.bias',
      'bert.pooler.dense.weight',
      'cls.predictions.decoder.bias',
      'cls.predictions.decoder.weight',
      'cls.seq_relationship.bias',
      'cls.seq_relationship.weight',
    ]);
  });

  test('BertModel checkpoint (no "bert." prefix, no MLM head): error, or a fresh head with initMissingHead', async () => {
    const encoder = asTensors(params, (n) => n.replace(/^bert\./, '')).filter((t) => !t.name.startsWith('cls.'));
    const dir = writeForeign(config, encoder);
    await expect(loadModelFolder(dir)).rejects.toThrow(
      `${join(dir, 'model.safetensors')}: missing tensor cls.predictions.bias (expected shape [300])`,
    );
    const loaded = await loadModelFolder(dir, { initMissingHead: new Rng(5) });
    expect(loaded.initialized).toEqual(paramTable(config).filter((p) => p.name.startsWith('cls.')).map((p) => p.name));
    const q = 'bert.encoder.layer.1.attention.self.query.weight';
    expect(bytes(loaded.params.get(q)!).equals(bytes(params.get(q)!))).toBe(true);
    const w = loaded.params.get('cls.predictions.transform.dense.weight')!;
    expect(w.some((v) => v !== 0)).toBe(true);
    expect(loaded.params.get('cls.predictions.transform.LayerNorm.weight')!.every((v) => v === 1)).toBe(true);
  });

  test('an MLM bias stored only under its decoder alias is used', async () => {
    const dir = writeForeign(config, asTensors(params, (n) => (n === 'cls.predictions.bias' ? 'cls.predictions.decoder.bias' : n)));
    const loaded = await loadModelFolder(dir);
    expect(bytes(loaded.params.get('cls.predictions.bias')!).equals(bytes(params.get('cls.predictions.bias')!))).toBe(true);
  });

  test('half-precision weights (F16/BF16) are converted to float32', async () => {
    const dir = fresh();
    mkdirSync(dir);
    writeFileSync(join(dir, 'config.json'), configToJson(config));
    // Hand-built: every tensor as BF16 (top half of the float32 bits), so values are known exactly.
    const table = paramTable(config).sort((a, b) => (a.name < b.name ? -1 : 1));
    const header: Record<string, unknown> = {};
    const chunks: Buffer[] = [];
    let off = 0;
    const expected = new Map<string, Float32Array>();
    for (const s of table) {
      const src = params.get(s.name)!;
      const half = new Uint16Array(src.length);
      const back = new Float32Array(src.length);
      const srcBits = new Uint32Array(src.buffer, src.byteOffset, src.length);
      const backBits = new Uint32Array(back.buffer);
      for (let i = 0; i < src.length; i++) {
        half[i] = srcBits[i] >>> 16;
        backBits[i] = half[i] << 16;
      }
      expected.set(s.name, back);
      header[s.name] = { dtype: 'BF16', shape: s.shape, data_offsets: [off, off + half.byteLength] };
      off += half.byteLength;
      chunks.push(Buffer.from(half.buffer));
    }
    let json = Buffer.from(JSON.stringify(header));
    json = Buffer.concat([json, Buffer.alloc((8 - (json.length % 8)) % 8, 0x20)]);
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    writeFileSync(join(dir, 'model.safetensors'), Buffer.concat([len, json, ...chunks]));
    const loaded = await loadModelFolder(dir);
    for (const [name, value] of expected) expect(bytes(loaded.params.get(name)!).equals(bytes(value))).toBe(true);
  });

  test('sharded weights (model.safetensors.index.json)', async () => {
    const dir = fresh();
    mkdirSync(dir);
    writeFileSync(join(dir, 'config.json'), configToJson(config));
    const all = asTensors(params);
    const [a, b] = [all.filter((t) => t.name.startsWith('bert.')), all.filter((t) => !t.name.startsWith('bert.'))];
    writeFileSync(join(dir, 'model-00001-of-00002.safetensors'), serializeSafetensors(a));
    writeFileSync(join(dir, 'model-00002-of-00002.safetensors'), serializeSafetensors(b));
    const weight_map = Object.fromEntries([
      ...a.map((t) => [t.name, 'model-00001-of-00002.safetensors']),
      ...b.map((t) => [t.name, 'model-00002-of-00002.safetensors']),
    ]);
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map }));
    const loaded = await loadModelFolder(dir);
    expect(loaded.params.size).toBe(params.size);
  });
});

describe('loadModelFolder: errors are one line naming the file and tensor', () => {
  test('a tensor with the wrong shape: expected vs found', async () => {
    const q = 'bert.encoder.layer.0.attention.self.query.weight';
    const tensors = asTensors(params).map((t) => (t.name === q ? { ...t, shape: [16, 64] } : t));
    const dir = writeForeign(config, tensors);
    await expect(loadModelFolder(dir)).rejects.toThrow(
      `${join(dir, 'model.safetensors')}: tensor ${q} has shape [16, 64], expected [32, 32] from config.json`,
    );
  });

  test('a config that does not match the weights, and the stored name in the message', async () => {
    const wide = { ...config, hidden_size: 64, num_attention_heads: 2 };
    const dir = writeForeign(wide, asTensors(params));
    await expect(loadModelFolder(dir)).rejects.toThrow(
      'tensor bert.embeddings.word_embeddings.weight has shape [300, 32], expected [300, 64] from config.json',
    );
    const ln = 'bert.embeddings.LayerNorm.weight';
    const wideTensors = asTensors(initParams(wide, new Rng(1)), (n) => n, wide).map((t) =>
      t.name === ln ? { name: 'bert.embeddings.LayerNorm.gamma', shape: [32], data: params.get(ln)! } : t,
    );
    await expect(loadModelFolder(writeForeign(wide, wideTensors))).rejects.toThrow(
      `tensor ${ln} (stored as bert.embeddings.LayerNorm.gamma) has shape [32], expected [64] from config.json`,
    );
  });

  test('a missing tensor', async () => {
    const dir = writeForeign(config, asTensors(params).filter((t) => t.name !== 'bert.encoder.layer.1.output.dense.bias'));
    await expect(loadModelFolder(dir)).rejects.toThrow(
      'missing tensor bert.encoder.layer.1.output.dense.bias (expected shape [32])',
    );
  });

  test('an untied decoder is refused', async () => {
    const V = config.vocab_size;
    const other = new Float32Array(V * config.hidden_size).fill(0.5);
    const dir = writeForeign(config, [
      ...asTensors(params),
      { name: 'cls.predictions.decoder.weight', shape: [V, config.hidden_size], data: other },
    ]);
    await expect(loadModelFolder(dir)).rejects.toThrow(
      'tensor cls.predictions.decoder.weight differs from bert.embeddings.word_embeddings.weight',
    );
  });

  test('the same tensor under two names', async () => {
    const ln = params.get('bert.embeddings.LayerNorm.weight')!;
    const dir = writeForeign(config, [...asTensors(params), { name: 'bert.embeddings.LayerNorm.gamma', shape: [32], data: ln }]);
    await expect(loadModelFolder(dir)).rejects.toThrow(
      'tensor bert.embeddings.LayerNorm.weight is stored twice (as bert.embeddings.LayerNorm.gamma and bert.embeddings.LayerNorm.weight)',
    );
  });

  test('no folder, no weights, only pytorch_model.bin, a bad config', async () => {
    await expect(loadModelFolder(join(root, 'nowhere'))).rejects.toThrow(`${join(root, 'nowhere')}: model folder not found`);
    const dir = fresh();
    mkdirSync(dir);
    writeFileSync(join(dir, 'config.json'), configToJson(config));
    await expect(loadModelFolder(dir)).rejects.toThrow(`${dir}: no model.safetensors in the model folder`);
    writeFileSync(join(dir, 'pytorch_model.bin'), 'x');
    await expect(loadModelFolder(dir)).rejects.toThrow(`${dir}: has pytorch_model.bin but no model.safetensors`);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, hidden_act: 'swish' }));
    await expect(loadModelFolder(dir)).rejects.toThrow(`${join(dir, 'config.json')}: hidden_act: must be one of`);
    expect(existsSync(join(dir, 'model.safetensors'))).toBe(false);
  });
});

test('param count of the test model matches its table', () => {
  expect(paramTable(config).reduce((n, p) => n + numel(p.shape), 0)).toBe(
    [...params.values()].reduce((n, a) => n + a.length, 0),
  );
});

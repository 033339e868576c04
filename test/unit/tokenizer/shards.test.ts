import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../../src/util/rng.js';
import { openShards, ShardWriter, SHARD_FORMAT, type ShardManifest } from '../../../src/tokenizer/shards.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tok-shards-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const meta: Omit<ShardManifest, 'shards'> = {
  format: SHARD_FORMAT,
  version: 1,
  dtype: 'uint16',
  vocab_size: 30522,
  max_length: 64,
  tokenizer: { name: 'bert-base-uncased', vocab_sha256: 'x' },
  source: { file: 'in.csv', text_column: 'text', rows: 0, skipped_empty: 0 },
  stats: { sequences: 0, tokens: 0, truncated: 0, mean_length: 0, max_length_seen: 0, unk_rate: 0, tokens_per_s: 0 },
};

function randomSequences(n: number, seed = 1): Uint16Array[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const s = new Uint16Array(2 + rng.int(63));
    for (let i = 0; i < s.length; i++) s[i] = rng.int(30522);
    s[0] = 101;
    s[s.length - 1] = 102;
    return s;
  });
}

async function write(out: string, seqs: Uint16Array[], shardBytes?: number): Promise<ShardManifest> {
  const w = await ShardWriter.create(out, { shardBytes });
  for (const s of seqs) await w.add(s);
  return w.commit(meta);
}

describe('shards', () => {
  test('round trip over several shards: sequences() and get(i)', async () => {
    const seqs = randomSequences(300);
    const out = join(dir, 'shards');
    const m = await write(out, seqs, 2000); // ~2 KB shards → rotation
    expect(m.shards.length).toBeGreaterThan(5);
    expect(m.shards.reduce((n, s) => n + s.sequences, 0)).toBe(300);
    for (const s of m.shards) expect(s.tokens * 2).toBeLessThanOrEqual(2000);
    const set = await openShards(out);
    expect(set.size).toBe(300);
    const back: number[][] = [];
    for await (const s of set.sequences()) back.push(Array.from(s));
    expect(back).toEqual(seqs.map((s) => Array.from(s)));
    for (const i of [0, 1, 57, 150, 299]) expect(Array.from(await set.get(i))).toEqual(Array.from(seqs[i]));
    await expect(set.get(300)).rejects.toThrow(/out of range/);
    await set.close();
    expect(readdirSync(dir)).toEqual(['shards']); // no temporary folder left
  });

  test('the files follow the documented byte layout (uint16 LE ids, uint32 LE token offsets)', async () => {
    const out = join(dir, 'shards');
    await write(out, [Uint16Array.from([101, 7592, 102]), Uint16Array.from([101, 30521, 2088, 999, 102])]);
    const bin = readFileSync(join(out, 'shard-00000.bin'));
    const idx = readFileSync(join(out, 'shard-00000.idx'));
    const ids = Array.from({ length: bin.length / 2 }, (_, i) => bin.readUInt16LE(2 * i));
    const offsets = Array.from({ length: idx.length / 4 }, (_, i) => idx.readUInt32LE(4 * i));
    expect(ids).toEqual([101, 7592, 102, 101, 30521, 2088, 999, 102]);
    expect(offsets).toEqual([0, 3, 8]);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.shards).toEqual([{ file: 'shard-00000.bin', index: 'shard-00000.idx', sequences: 2, tokens: 8 }]);
  });

  test('abort leaves nothing behind', async () => {
    const out = join(dir, 'shards');
    const w = await ShardWriter.create(out);
    await w.add(Uint16Array.from([101, 102]));
    await w.abort();
    expect(readdirSync(dir)).toEqual([]);
  });

  test('replaces an earlier shard folder, refuses any other folder', async () => {
    const out = join(dir, 'shards');
    await write(out, randomSequences(5, 1));
    await write(out, randomSequences(3, 2));
    expect((await openShards(out)).size).toBe(3);
    const other = join(dir, 'mine');
    mkdirSync(other);
    writeFileSync(join(other, 'notes.txt'), 'keep me');
    await expect(ShardWriter.create(other)).rejects.toThrow(/exists and is not a token-shard folder/);
    expect(readFileSync(join(other, 'notes.txt'), 'utf8')).toBe('keep me');
    await expect(ShardWriter.create(join(dir, 'no', 'such'))).rejects.toThrow(/output folder .* does not exist/);
  });

  test('openShards checks the files against the manifest', async () => {
    const out = join(dir, 'shards');
    await write(out, randomSequences(10));
    truncateSync(join(out, 'shard-00000.bin'), 10);
    await expect(openShards(out)).rejects.toThrow(/shard-00000.bin: 10 bytes, manifest says \d+ uint16 tokens/);
    await expect(openShards(dir)).rejects.toThrow(/no manifest.json/);
    rmSync(join(out, 'shard-00000.idx'));
    await expect(openShards(out)).rejects.toThrow(/missing/);
    expect(existsSync(join(out, 'manifest.json'))).toBe(true);
  });
});

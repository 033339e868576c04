/**
 * Hub ids (src/distill/hub.ts): the cache folder order, a cached snapshot found through refs/main, offline and
 * unreachable hubs as one-line errors, and a download from a local HTTP server standing in for huggingface.co
 * (HF_ENDPOINT) into huggingface_hub's layout (blobs + snapshot symlinks + refs/main), found again offline.
 */
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { cachedSnapshot, hubCacheDir, isHubId, repoFolder, resolveHubModel } from '../../../src/distill/hub.js';
import { UserError } from '../../../src/util/errors.js';

let root: string;
beforeAll(() => (root = mkdtempSync(join(tmpdir(), 'hub-unit-'))));
afterAll(() => rmSync(root, { recursive: true, force: true }));

test('cache folder: HF_HUB_CACHE, then HF_HOME/hub, then XDG_CACHE_HOME, then ~/.cache', () => {
  expect(hubCacheDir({ HF_HUB_CACHE: '/a', HF_HOME: '/b' })).toBe('/a');
  expect(hubCacheDir({ HF_HOME: '/b', XDG_CACHE_HOME: '/c' })).toBe('/b/hub');
  expect(hubCacheDir({ XDG_CACHE_HOME: '/c' })).toBe('/c/huggingface/hub');
  expect(hubCacheDir({})).toBe(join(homedir(), '.cache/huggingface/hub'));
  expect(repoFolder('google/bert_uncased_L-2_H-128_A-2', '/x')).toBe('/x/models--google--bert_uncased_L-2_H-128_A-2');
});

test('hub ids vs paths', () => {
  for (const id of ['bert-base-uncased', 'google/bert_uncased_L-4_H-256_A-4', 'prajjwal1/bert-tiny']) expect(isHubId(id)).toBe(true);
  for (const p of ['./teacher', '/abs/teacher', '../x', 'a/b/c', 'a/../b', '']) expect(isHubId(p)).toBe(false);
});

test('a cached snapshot is found through refs/main', () => {
  const cache = join(root, 'cache1');
  const repo = repoFolder('org/model', cache);
  for (const rev of ['aaa', 'bbb']) {
    mkdirSync(join(repo, 'snapshots', rev), { recursive: true });
    writeFileSync(join(repo, 'snapshots', rev, 'config.json'), '{}');
    writeFileSync(join(repo, 'snapshots', rev, 'model.safetensors'), '');
  }
  mkdirSync(join(repo, 'refs'));
  writeFileSync(join(repo, 'refs', 'main'), 'bbb\n');
  expect(cachedSnapshot('org/model', cache)).toBe(join(repo, 'snapshots', 'bbb'));
  expect(cachedSnapshot('org/other', cache)).toBeNull();
});

test('offline and uncached: one line naming where it looked and what to do', async () => {
  const cache = join(root, 'empty');
  const err = await resolveHubModel('bert-base-uncased', { cache, env: { HF_HUB_OFFLINE: '1' } }).catch((e) => e);
  expect(err).toBeInstanceOf(UserError);
  expect(err.message).toBe(
    `--teacher bert-base-uncased: no such folder, and not in the Hugging Face cache (looked in ${join(cache, 'models--bert-base-uncased')}); ` +
      'HF_HUB_OFFLINE is set, so nothing was downloaded; download it where there is internet (`huggingface-cli download bert-base-uncased`, ' +
      'or save_pretrained(dir, safe_serialization=True)) and pass that folder (config.json + model.safetensors) as --teacher',
  );
});

test('unreachable hub: one line with the reason', async () => {
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r())); // nothing listens there now
  const env = { HF_ENDPOINT: `http://127.0.0.1:${port}` };
  const err = await resolveHubModel('bert-base-uncased', { cache: join(root, 'empty'), env, timeoutMs: 2000 }).catch((e) => e);
  expect(err).toBeInstanceOf(UserError);
  expect(err.message).toMatch(/not in the Hugging Face cache .* and the hub is unreachable \((ECONNREFUSED|no answer in time)\); download it/);
  expect(err.message).not.toMatch(/\n/);
});

describe('download from a hub endpoint', () => {
  let server: Server;
  let endpoint: string;
  const files: Record<string, string> = { 'config.json': '{"model_type":"bert"}', 'model.safetensors': 'weights-bytes', 'vocab.txt': '[PAD]\n' };
  const requests: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push(req.url!);
      const m = /^\/org\/tiny\/resolve\/main\/(.+)$/.exec(req.url!);
      const body = m ? files[m[1]] : undefined;
      if (body === undefined) {
        res.writeHead(404).end();
        return;
      }
      const etag = createHash('sha256').update(body).digest('hex');
      res.writeHead(200, { 'x-repo-commit': 'c0ffee', etag: `"${etag}"`, 'content-length': Buffer.byteLength(body) }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  test('writes blobs, snapshot symlinks and refs/main; then works offline', async () => {
    const cache = join(root, 'dl');
    const dir = await resolveHubModel('org/tiny', { cache, env: { HF_ENDPOINT: endpoint } });
    const repo = repoFolder('org/tiny', cache);
    expect(dir).toBe(join(repo, 'snapshots', 'c0ffee'));
    expect(readFileSync(join(repo, 'refs', 'main'), 'utf8')).toBe('c0ffee');
    for (const [name, body] of Object.entries(files)) {
      expect(readFileSync(join(dir, name), 'utf8')).toBe(body);
      expect(lstatSync(join(dir, name)).isSymbolicLink()).toBe(true);
      expect(readlinkSync(join(dir, name))).toBe(`../../blobs/${createHash('sha256').update(body).digest('hex')}`);
    }
    expect(existsSync(join(dir, 'tokenizer.json'))).toBe(false); // 404: optional
    expect(requests).toContain('/org/tiny/resolve/main/tokenizer.json');
    // Cached now: found without the network.
    expect(await resolveHubModel('org/tiny', { cache, env: { HF_HUB_OFFLINE: '1' } })).toBe(dir);
  });

  test('a model without model.safetensors, and an unknown model, are one-line errors', async () => {
    delete files['model.safetensors'];
    const cache = join(root, 'dl2');
    await expect(resolveHubModel('org/tiny', { cache, env: { HF_ENDPOINT: endpoint } })).rejects.toThrow(/org\/tiny: the model has no model\.safetensors on http/);
    await expect(resolveHubModel('org/none', { cache, env: { HF_ENDPOINT: endpoint } })).rejects.toThrow(/org\/none: no such model on http/);
    expect(cachedSnapshot('org/tiny', cache)).toBeNull(); // nothing half-made
  });
});

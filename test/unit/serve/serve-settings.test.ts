/**
 * `compactlm serve`'s settings at the CLI boundary: `--model <dir>` and `--model name=<dir>`, names that cannot be
 * made from a folder, duplicate names, the open-host refusal, origins for --cors, and the frozen result.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseModelSpec, serveSettings } from '../../../src/cli/serve.js';
import { checkOrigin } from '../../../src/serve/cors.js';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const TINY = join(REPO, 'models', 'compactlm-tiny');
const flags = (o: Record<string, unknown> = {}) => ({
  model: [TINY], host: '127.0.0.1', port: 0, apiKey: [], maxBatchTokens: 16384, maxWaitMs: 5, int8: false, rateLimit: 50, timeoutMs: 30000,
  maxBodyBytes: 1 << 20, maxInputs: 64, maxInputTokens: 512, maxQueue: 1024, device: 'cpu' as const, feedback: false, ...o,
});

describe('serve settings', () => {
  test('--model <dir> is named after the folder, --model name=<dir> as given', () => {
    expect(parseModelSpec('models/compactlm-tiny')).toEqual({ name: 'compactlm-tiny', dir: 'models/compactlm-tiny' });
    expect(parseModelSpec('sentiment=runs/a=b')).toEqual({ name: 'sentiment', dir: 'runs/a=b' });
    expect(parseModelSpec('/data/x=y/model')).toEqual({ name: 'model', dir: '/data/x=y/model' }); // "/data/x" is no name
    expect(() => parseModelSpec('/')).toThrow('--model /: cannot name it after its folder');
  });

  test('the checked settings: config read, keys from the environment, frozen', async () => {
    const s = await serveSettings(flags(), { COMPACTLM_API_KEY: 'a-key-of-sixteen-chars,second-key-0123456789' });
    expect(s.models.map((m) => [m.name, m.config.architectures[0]])).toEqual([['compactlm-tiny', 'BertForMaskedLM']]);
    expect(s.apiKeys).toEqual(['a-key-of-sixteen-chars', 'second-key-0123456789']);
    expect(Object.isFrozen(s)).toBe(true);
  });

  test('refusals: an open host without a key, two models of one name, a folder without config.json, a bad origin', async () => {
    await expect(serveSettings(flags({ host: '0.0.0.0' }), {})).rejects.toThrow(/^--host 0.0.0.0 is not a loopback address and no API key is set/);
    await expect(serveSettings(flags({ host: '0.0.0.0', apiKey: ['k'.repeat(20)] }), {})).resolves.toBeDefined();
    await expect(serveSettings(flags({ model: [TINY, TINY] }), {})).rejects.toThrow('--model: two models are named "compactlm-tiny"');
    await expect(serveSettings(flags({ model: [`x=${REPO}`] }), {})).rejects.toThrow(`${join(REPO, 'config.json')}: file not found`);
    await expect(serveSettings(flags({ cors: 'https://a.example/x' }), {})).rejects.toThrow('--cors "https://a.example/x" is not an origin');
    expect(checkOrigin('https://a.example:8443')).toBeNull();
    expect(checkOrigin('*')).toBeNull();
    expect(checkOrigin('a.example')).toMatch(/is not an origin/);
  });
});

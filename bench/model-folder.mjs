// Save and load a model folder (config.json + model.safetensors) of a preset; prints one JSON line.
// Usage: npx tsc -p tsconfig.json && node bench/model-folder.mjs [preset=base]
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeConfig } from '../dist/model/config.js';
import { countParams, initParams } from '../dist/model/bert.js';
import { loadModelFolder, saveModelFolder } from '../dist/model/checkpoint-folder.js';
import { Rng } from '../dist/util/rng.js';

const preset = process.argv[2] ?? 'base';
const config = makeConfig(preset);
const dir = mkdtempSync(join(tmpdir(), 'compactlm-bench-'));
const ms = (t) => Math.round(performance.now() - t);
try {
  let t = performance.now();
  const params = initParams(config, new Rng(0));
  const initMs = ms(t);
  t = performance.now();
  await saveModelFolder(dir, config, params);
  const saveMs = ms(t);
  const rssBefore = process.memoryUsage().rss;
  t = performance.now();
  const loaded = await loadModelFolder(dir);
  const loadMs = ms(t);
  const rssAfter = process.memoryUsage().rss;
  const bytes = statSync(join(dir, 'model.safetensors')).size;
  console.log(JSON.stringify({
    bench: 'model-folder', preset, params: countParams(config), file_mb: +(bytes / 2 ** 20).toFixed(1),
    init_ms: initMs, save_ms: saveMs, load_ms: loadMs,
    load_mb_per_s: Math.round(bytes / 2 ** 20 / (loadMs / 1000)),
    load_rss_growth_mb: Math.round((rssAfter - rssBefore) / 2 ** 20), tensors: loaded.params.size,
  }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// Drives test/reference/crosscheck.py against the built library (dist/). Not part of jest: needs Debian's
// python3-torch (apt-get install -y python3-torch). Run: npx tsc -p tsconfig.json && node test/reference/crosscheck.mjs
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { makeConfig } from '../../dist/model/config.js';
import { countParams, initParams, paramTable } from '../../dist/model/params.js';
import { saveModelFolder } from '../../dist/model/checkpoint-folder.js';
import { readSafetensors, SafetensorsFile } from '../../dist/model/safetensors.js';
import { Rng } from '../../dist/util/rng.js';

const here = new URL('.', import.meta.url).pathname;
const python = process.env.PYTHON ?? '/usr/bin/python3';
const py = (...args) => JSON.parse(execFileSync(python, [join(here, 'crosscheck.py'), ...args], { encoding: 'utf8' }));
const tmp = mkdtempSync(join(tmpdir(), 'compactlm-crosscheck-'));

// 1. A folder written by CompactLM loads into torch modules named as HF's BertForMaskedLM.
const config = makeConfig('tiny');
const folder = join(tmp, 'tiny');
await saveModelFolder(folder, config, initParams(config, new Rng(42)));
const report = py('check-folder', folder);
assert.deepEqual(report.state_dict_order, paramTable(config).map((p) => p.name));
assert.deepEqual(report.missing_keys, ['cls.predictions.decoder.bias', 'cls.predictions.decoder.weight']);
assert.equal(report.params_tied_counted_once, countParams(config));
assert.equal(report.base_BertForMaskedLM, 109_514_298);
assert.equal(report.base_BertModel_with_pooler, 109_482_240);
assert.equal(countParams(makeConfig('base')), report.base_BertForMaskedLM);
assert.ok(report.pad_row_zero);
assert.ok(Math.abs(report.init_query_std - 0.02) < 0.0005 && Math.abs(report.init_embedding_std - 0.02) < 0.0005);
console.log(JSON.stringify({ check: 'folder loads into torch BertForMaskedLM layout', ...report, state_dict_order: report.state_dict_order.length }));

// 2. The torch writer's bytes equal CompactLM's for the same tensors.
const weights = join(folder, 'model.safetensors');
py('rewrite', weights, join(tmp, 'rewritten.safetensors'));
assert.ok(readFileSync(weights).equals(readFileSync(join(tmp, 'rewritten.safetensors'))));
console.log(JSON.stringify({ check: 'byte-identical to the reference-layout writer', bytes: readFileSync(weights).length }));

// 3. F16/BF16 written by torch convert to the same float32 values torch computes.
const mixed = join(tmp, 'mixed.safetensors');
py('write-file', mixed, join(tmp, 'mixed.json'));
const expected = JSON.parse(readFileSync(join(tmp, 'mixed.json'), 'utf8'));
const file = await SafetensorsFile.open(mixed);
let values = 0;
for (const [name, { shape, f32_bits }] of Object.entries(expected)) {
  assert.deepEqual(file.tensors.get(name).shape, shape);
  const got = new Int32Array((await file.read(name)).buffer);
  assert.deepEqual([...got], f32_bits, name);
  values += got.length;
}
await assert.rejects(file.read('ids'), /has dtype I64; only F32, F16, BF16 can be read/);
await file.close();
assert.equal((await readSafetensors(weights)).tensors.size, paramTable(config).length);
console.log(JSON.stringify({ check: 'F32/F16/BF16 from torch read exactly', tensors: Object.keys(expected).length, values }));
rmSync(tmp, { recursive: true, force: true });

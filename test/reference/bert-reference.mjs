// Cross-checks the inference graph (dist/model/artifacts.js) against test/reference/bert_reference.py, BertForMaskedLM's
// forward in plain PyTorch. Not part of jest: needs Debian's python3-torch (apt-get install -y python3-torch).
// Run: npx tsc -p tsconfig.json && node test/reference/bert-reference.mjs   → one JSON line per config, max |Δlogit|.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { buildInference } from '../../dist/model/artifacts.js';
import { makeConfig } from '../../dist/model/config.js';
import { saveModelFolder } from '../../dist/model/checkpoint-folder.js';
import { paramTable } from '../../dist/model/params.js';
import { Rng } from '../../dist/util/rng.js';

const here = new URL('.', import.meta.url).pathname;
const python = process.env.PYTHON ?? '/usr/bin/python3';
const tmp = mkdtempSync(join(tmpdir(), 'compactlm-bert-ref-'));
let failed = false;
try {
  for (const [preset, overrides, scale] of [
    ['tiny', {}, 0.05], // real tiny preset (V 30522), weights a little larger than HF's init so logits spread
    ['tiny', { vocab_size: 211, hidden_size: 48, num_attention_heads: 3, intermediate_size: 96, num_hidden_layers: 3, hidden_act: 'gelu_new' }, 0.3],
  ]) {
    const config = makeConfig(preset, overrides);
    const rng = new Rng(7);
    const weights = new Map(paramTable(config).map((p) => {
      const n = p.shape.reduce((a, b) => a * b, 1);
      const lnWeight = p.name.endsWith('LayerNorm.weight') ? 1 : 0;
      return [p.name, Float32Array.from({ length: n }, () => lnWeight + scale * (2 * rng.next() - 1))];
    }));
    const folder = join(tmp, `m${config.vocab_size}`);
    await saveModelFolder(folder, config, weights);
    const [B, T] = [3, 17];
    const batch = { input_ids: [], attention_mask: [], token_type_ids: [] };
    for (let b = 0; b < B; b++) {
      const len = T - 4 * b;
      batch.input_ids.push(Array.from({ length: T }, (_, t) => (t < len ? 1 + rng.int(config.vocab_size - 1) : 0)));
      batch.attention_mask.push(Array.from({ length: T }, (_, t) => (t < len ? 1 : 0)));
      batch.token_type_ids.push(Array.from({ length: T }, (_, t) => (t >= 8 && t < len ? 1 : 0)));
    }
    writeFileSync(join(tmp, 'in.json'), JSON.stringify(batch));
    const info = JSON.parse(execFileSync(python, [join(here, 'bert_reference.py'), folder, join(tmp, 'in.json'), join(tmp, 'out.f32')], { encoding: 'utf8' }));
    const buf = readFileSync(join(tmp, 'out.f32'));
    const ref = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);

    const s = await ort.InferenceSession.create(buildInference(config, weights).bytes, { graphOptimizationLevel: 'all' });
    const t64 = (k) => new ort.Tensor('int64', BigInt64Array.from(batch[k].flat().map(BigInt)), [B, T]);
    const out = (await s.run({ input_ids: t64('input_ids'), attention_mask: t64('attention_mask'), token_type_ids: t64('token_type_ids') })).logits.data;
    let maxDiff = 0;
    let maxAbs = 0;
    for (let i = 0; i < out.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(out[i] - ref[i]));
      maxAbs = Math.max(maxAbs, Math.abs(ref[i]));
    }
    const ok = out.length === ref.length && maxDiff <= 1e-4;
    failed ||= !ok;
    console.log(JSON.stringify({ check: 'logits vs PyTorch BertForMaskedLM forward', vocab: config.vocab_size, hidden: config.hidden_size,
      layers: config.num_hidden_layers, act: config.hidden_act, batch: B, seq: T, torch: info.torch, max_abs_logit: +maxAbs.toFixed(3), max_abs_diff: maxDiff, ok }));
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);

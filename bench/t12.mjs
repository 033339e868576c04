import { makeConfig } from '../dist/model/config.js';
import { initParams } from '../dist/model/bert.js';
import { Rng } from '../dist/util/rng.js';
import { weightsMaskedLogits } from '../dist/distill/teacher.js';
const config = makeConfig('mini');
const B = 16, T = 128, M = 32;
const t = await weightsMaskedLogits(config, initParams(config, new Rng(1)), { batchSize: B, seqLen: T, maxPredictions: M }, { threads: 2 });
const ids = new BigInt64Array(B * T).fill(2000n);
const mk = () => ({ input_ids: { type: 'int64', dims: [B, T], data: ids }, attention_mask: { type: 'int64', dims: [B, T], data: new BigInt64Array(B * T).fill(1n) }, token_type_ids: { type: 'int64', dims: [B, T], data: new BigInt64Array(B * T) }, masked_positions: { type: 'int64', dims: [B * M], data: BigInt64Array.from({ length: B * M }, (_, i) => BigInt(i * 4)) } });
for (let i = 0; i < 3; i++) await t.run(mk());
const ms = [];
for (let i = 0; i < 8; i++) { const a = performance.now(); const out = await t.run(mk()); ms.push(performance.now() - a); if (i === 0) console.log('out floats', out.length); }
console.log('teacher forward ms', ms.sort((a, b) => a - b).map((x) => x.toFixed(0)).join(' '));

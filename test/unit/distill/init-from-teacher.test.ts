/**
 * --init-from-teacher (src/distill/init-from-teacher.ts): the layer map (DistilBERT's every other layer for 2:1,
 * an even spread otherwise), which tensor each student tensor comes from, shorter position tables, and the
 * one-line errors when shapes cannot match.
 */
import { makeConfig } from '../../../src/model/config.js';
import { initParams, paramTable } from '../../../src/model/bert.js';
import { initFromTeacher, teacherLayerMap } from '../../../src/distill/init-from-teacher.js';
import { UserError } from '../../../src/util/errors.js';
import { Rng } from '../../../src/util/rng.js';

test('layer map: 2i for a 2:1 ratio, evenly spaced (first and last kept) otherwise', () => {
  expect(teacherLayerMap(6, 12)).toEqual([0, 2, 4, 6, 8, 10]);
  expect(teacherLayerMap(2, 4)).toEqual([0, 2]);
  expect(teacherLayerMap(4, 12)).toEqual([0, 4, 7, 11]); // round(i·11/3)
  expect(teacherLayerMap(5, 12)).toEqual([0, 3, 6, 8, 11]);
  expect(teacherLayerMap(3, 3)).toEqual([0, 1, 2]);
  expect(teacherLayerMap(1, 4)).toEqual([0]);
  expect(() => teacherLayerMap(5, 4)).toThrow(UserError);
});

test('copies embeddings, mapped layers and the MLM head; shorter position table takes the first rows', () => {
  const small = { vocab_size: 50, hidden_size: 8, num_attention_heads: 2, intermediate_size: 16 };
  const teacher = makeConfig('tiny', { ...small, num_hidden_layers: 4 });
  const student = makeConfig('tiny', { ...small, num_hidden_layers: 2, max_position_embeddings: 64 });
  const tw = initParams(teacher, new Rng(1));
  const sw = initFromTeacher(student, teacher, tw);
  expect([...sw.keys()]).toEqual(paramTable(student).map((p) => p.name));
  for (const [name, data] of sw) {
    const from = name.replace('layer.1.', 'layer.2.'); // 2:1 → student 0 ← 0, student 1 ← 2
    const src = tw.get(from)!;
    expect(Array.from(data)).toEqual(Array.from(src.subarray(0, data.length)));
    expect(data.buffer).not.toBe(src.buffer); // a copy
  }
  expect(sw.get('bert.embeddings.position_embeddings.weight')!.length).toBe(64 * 8);
  expect(Array.from(sw.get('cls.predictions.bias')!)).toEqual(Array.from(tw.get('cls.predictions.bias')!));
});

test.each([
  [{ hidden_size: 16, num_attention_heads: 2 }, /student's hidden_size is 16 but the teacher's is 8/],
  [{ intermediate_size: 32 }, /intermediate_size is 32 but the teacher's is 16/],
  [{ num_attention_heads: 4 }, /num_attention_heads is 4 but the teacher's is 2/],
  [{ num_hidden_layers: 6 }, /student has 6 layers but the teacher only 4/],
])('mismatch %j → one-line error', (over, message) => {
  const base = { vocab_size: 50, hidden_size: 8, num_attention_heads: 2, intermediate_size: 16, num_hidden_layers: 4 };
  const teacher = makeConfig('tiny', base);
  const student = makeConfig('tiny', { ...base, num_hidden_layers: 2, ...over });
  expect(() => initFromTeacher(student, teacher, initParams(teacher, new Rng(1)))).toThrow(message);
});

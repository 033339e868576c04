/**
 * `--init-from-teacher`: the student starts from a subset of the teacher's weights, as DistilBERT did (Sanh et al.
 * 2019, §3: "we initialize the student from the teacher by taking one layer out of two"):
 *
 * - embeddings (word, position, token type, LayerNorm) and the MLM head (transform + bias; the decoder is tied to
 *   the word embeddings) are copied;
 * - student layer i ← teacher layer 2i when the teacher has exactly twice the layers (the paper's rule: 0, 2, 4, …);
 *   otherwise the layers are spread evenly, i ← round(i·(Lt − 1)/(Ls − 1)), which keeps the first and the last
 *   layer (a one-layer student takes layer 0). (DistilBERT's released extraction script took [0, 2, 4, 7, 9, 11]
 *   of 12 — the even spread; for the 2:1 case we follow the paper's every-other-layer rule.)
 *
 * The copied tensors must have the same shapes, so hidden_size, intermediate_size and num_attention_heads must
 * match (the head count does not change shapes, but heads would then mix different slices of the hidden state).
 * A student with fewer positions or token types takes the first rows of those tables.
 */
import type { BertConfig } from '../model/config.js';
import { numel } from '../model/params.js';
import { modelTable } from '../model/architecture.js';
import { UserError } from '../util/errors.js';

/** The teacher layer each student layer is copied from (see the file comment). */
export function teacherLayerMap(studentLayers: number, teacherLayers: number): number[] {
  if (studentLayers > teacherLayers) {
    throw new UserError(`--init-from-teacher: the student has ${studentLayers} layers but the teacher only ${teacherLayers}`);
  }
  if (teacherLayers === 2 * studentLayers) return Array.from({ length: studentLayers }, (_, i) => 2 * i);
  if (studentLayers === 1) return [0];
  return Array.from({ length: studentLayers }, (_, i) => Math.round((i * (teacherLayers - 1)) / (studentLayers - 1)));
}

/** Student weights copied from the teacher's, by HF name (fresh arrays). */
export function initFromTeacher(student: BertConfig, teacher: BertConfig, weights: ReadonlyMap<string, Float32Array>): Map<string, Float32Array> {
  for (const key of ['hidden_size', 'intermediate_size', 'num_attention_heads'] as const) {
    if (student[key] !== teacher[key]) {
      throw new UserError(`--init-from-teacher: the student's ${key} is ${student[key]} but the teacher's is ${teacher[key]}; copying weights needs them equal (use --student-config with ${key} ${teacher[key]}, or train the student from scratch)`);
    }
  }
  for (const key of ['max_position_embeddings', 'type_vocab_size'] as const) {
    if (student[key] > teacher[key]) throw new UserError(`--init-from-teacher: the student's ${key} (${student[key]}) exceeds the teacher's (${teacher[key]})`);
  }
  const layers = teacherLayerMap(student.num_hidden_layers, teacher.num_hidden_layers);
  const out = new Map<string, Float32Array>();
  for (const spec of modelTable(student)) {
    const from = spec.name.replace(/^bert\.encoder\.layer\.(\d+)\./, (_, i: string) => `bert.encoder.layer.${layers[Number(i)]}.`);
    const src = weights.get(from);
    if (!src) throw new Error(`initFromTeacher: the teacher has no ${from}`);
    // Row tables (positions, token types) may be shorter in the student: the first rows, row-major.
    if (src.length < numel(spec.shape)) throw new Error(`initFromTeacher: ${from} has ${src.length} values, ${spec.name} needs ${numel(spec.shape)}`);
    out.set(spec.name, src.slice(0, numel(spec.shape)));
  }
  return out;
}

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUNDLED_PROSE, DEFAULT_TEXT_COLUMN } from '../../../src/cli/defaults.js';
import { defaultDistillOut, distillSettings, studentName, teacherName } from '../../../src/cli/distill.js';
import { inferSettings, modelDir } from '../../../src/cli/infer.js';
import { defaultCleanOutput } from '../../../src/cli/preprocess.js';
import { pretrainSettings } from '../../../src/cli/pretrain.js';
import type { TrainingFlags } from '../../../src/cli/training-options.js';
import { DEFAULT_MODEL_DIR, DEFAULT_MODEL_NAME, PACKAGE_ROOT } from '../../../src/model/default-model.js';
import { UserError } from '../../../src/util/errors.js';

/** What commander hands the training commands with every default filled in. */
const TRAINING: TrainingFlags = {
  textColumn: DEFAULT_TEXT_COLUMN, steps: 10, batchSize: 4, seqLen: 16, lr: 5e-4, warmup: 0.06, schedule: 'linear', weightDecay: 0.01,
  gradAccum: 1, resume: false, device: 'cpu', json: false,
};

describe('one frozen settings object per command', () => {
  test('pretrain: checked, complete and frozen; the library cannot change it', async () => {
    const s = await pretrainSettings({ ...TRAINING, train: 'a.csv', out: 'run', loss: 'ce', preset: 'tiny' }, 7);
    expect(s).toEqual({ train: 'a.csv', textColumn: 'text', out: 'run', steps: 10, batchSize: 4, seqLen: 16, lr: 5e-4, warmup: 0.06,
      schedule: 'linear', weightDecay: 0.01, gradAccum: 1, resume: false, device: 'cpu', seed: 7, preset: 'tiny', loss: 'ce' });
    expect(Object.isFrozen(s)).toBe(true);
    expect(() => { (s as { steps: number }).steps = 1; }).toThrow(TypeError);
  });

  test('cross-flag checks name the flags (exit status 2)', async () => {
    await expect(pretrainSettings({ ...TRAINING, train: 'a', out: 'b', loss: 'ce', preset: 'tiny', config: 'c.json' }, 1))
      .rejects.toThrow(new UserError('give either --preset or --config, not both'));
    await expect(pretrainSettings({ ...TRAINING, train: 'a', out: 'b', loss: 'ce', warmup: 11 }, 1))
      .rejects.toMatchObject({ message: '--warmup 11 is 11 steps, longer than --steps 10', exitCode: 2 });
    // a fraction always fits: ceil(0.99 · 10) = 10 steps
    await expect(pretrainSettings({ ...TRAINING, train: 'a', out: 'b', loss: 'ce', warmup: 0.99 }, 1)).resolves.toMatchObject({ warmup: 0.99 });
  });

  test('distill: the bundled prose (from the package root) and runs/distill/<student>-from-<teacher>/ by default', async () => {
    const s = await distillSettings({ ...TRAINING, teacher: 'bert-base-uncased', studentPreset: 'tiny', temperature: 2, alpha: 0.5, initFromTeacher: false, task: 'mlm', maxLength: 128, epochs: 3 }, 3);
    expect(s.train).toBe(BUNDLED_PROSE);
    expect(BUNDLED_PROSE).toBe(join(PACKAGE_ROOT, 'datasets', 'prose.csv'));
    expect(s.out).toBe(join('runs', 'distill', 'tiny-from-bert-base-uncased'));
    expect(Object.isFrozen(s)).toBe(true);
    expect(defaultDistillOut({ teacher: 'google/bert_uncased_L-4_H-256_A-4' })).toBe(join('runs', 'distill', 'half-from-google--bert_uncased_L-4_H-256_A-4'));
    expect(teacherName(join(PACKAGE_ROOT, 'datasets'))).toBe('datasets'); // an existing folder: its name
    expect(studentName({ studentConfig: 'configs/My Student.json' })).toBe('My-Student');
    expect(studentName({ studentInit: 'models/compactlm-tiny' })).toBe('compactlm-tiny');
  });

  test('distill --student-init: the student\'s size and weights come from that folder, so it excludes the other student flags', async () => {
    const flags = { ...TRAINING, teacher: 'bert-base-uncased', temperature: 2, alpha: 0.5, initFromTeacher: false, task: 'mlm' as const, maxLength: 128, epochs: 3 };
    const tiny = join(PACKAGE_ROOT, 'models', 'compactlm-tiny');
    await expect(distillSettings({ ...flags, studentInit: tiny, studentPreset: 'tiny' }, 1)).rejects.toThrow(new UserError('give either --student-init or --student-preset, not both'));
    await expect(distillSettings({ ...flags, studentInit: tiny, initFromTeacher: true }, 1)).rejects.toThrow(new UserError('give either --student-init or --init-from-teacher, not both'));
    const s = await distillSettings({ ...flags, studentInit: tiny }, 1);
    expect(s.studentInit).toBe(tiny);
    expect(s.out).toBe(join('runs', 'distill', 'compactlm-tiny-from-bert-base-uncased'));
    await expect(distillSettings({ ...flags, studentInit: tiny, out: tiny }, 1)).rejects.toMatchObject({ exitCode: 2 }); // never over its input
  });

  test('infer: --model, else the default model when installed, else one line on how to get one', () => {
    const empty = mkdtempSync(join(tmpdir(), 'default-model-'));
    try {
      expect(modelDir('runs/x', empty)).toBe('runs/x');
      expect(() => modelDir(undefined, empty)).toThrow(new UserError(`no model: ${DEFAULT_MODEL_NAME} is not installed; pass --model <dir> (a folder from \`compactlm pretrain\`, \`distill\` or \`export\`)`));
      writeFileSync(join(empty, 'config.json'), '{}');
      expect(modelDir(undefined, empty)).toBe(empty);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
    expect(DEFAULT_MODEL_DIR).toBe(join(PACKAGE_ROOT, 'models', 'compactlm-mini'));
    const s = inferSettings('a [MASK]', { model: 'm', task: 'fill-mask', topK: 5, json: false, batchSize: 8, int8: false, device: 'cpu' });
    expect(Object.isFrozen(s) && Object.isFrozen(s.session)).toBe(true);
  });

  test('preprocess: raw.csv → raw.clean.csv next to it', () => {
    expect(defaultCleanOutput('raw.csv')).toBe('raw.clean.csv');
    expect(defaultCleanOutput(join('data', 'reviews.CSV'))).toBe(join('data', 'reviews.clean.csv'));
    expect(defaultCleanOutput('notes')).toBe('notes.clean.csv');
  });
});

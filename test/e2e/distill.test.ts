/**
 * `compactlm distill` through the built CLI. No pretrained BERT exists offline, so the teacher is a small BERT
 * (H64, two layers, the real 30,522-token vocabulary) pretrained here first; the student is smaller (H32, one
 * layer). Checked: the student's model folder and distill_report.json against independent computations (parameter
 * counts from the closed-form BertForMaskedLM formula, ppl = exp(loss), retained = ratio of accuracies, the
 * student's numbers = the trainer's own last evaluation, the teacher's = the teacher's own last evaluation on the
 * same validation batches), --init-from-teacher copying exactly the right tensors, the export-folder and hub-id
 * teachers giving the same teacher numbers, and bad input as one-line errors. (npm test builds dist/ first.)
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSafetensors } from '../../src/model/safetensors.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'dist/cli/main.js');
const fixture = join(root, 'test/fixtures/pretrain-small.csv');
let dir: string;
let env: NodeJS.ProcessEnv;

function run(args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: dir, encoding: 'utf8', env: { ...env, ...extraEnv } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// The same data flags (and seed) for teacher and students: the same hold-out and validation masking.
const data = ['--train', fixture, '--batch-size', '8', '--seq-len', '32', '--threads', '1', '--seed', '3'];
const TEACHER = { hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 128 };
const STUDENT = { hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 64 };

/** BertForMaskedLM parameters in closed form (tied decoder counted once, no pooler). */
function bertParams(c: { hidden_size: number; num_hidden_layers: number; intermediate_size: number }, V = 30522, P = 512, types = 2): number {
  const { hidden_size: H, num_hidden_layers: L, intermediate_size: I } = c;
  const embeddings = V * H + P * H + types * H + 2 * H;
  const layer = 4 * (H * H + H) + 2 * H + (H * I + I) + (I * H + H) + 2 * H;
  const head = V + H * H + H + 2 * H;
  return embeddings + L * layer + head;
}

const lastEval = (path: string) => readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => 'val_loss' in r).at(-1);
const report = (out: string) => JSON.parse(readFileSync(join(dir, out, 'distill_report.json'), 'utf8'));

beforeAll(() => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: build first (npx tsc -p tsconfig.json)`);
  dir = mkdtempSync(join(tmpdir(), 'distill-e2e-'));
  env = { ...process.env, CI: '1', HF_HUB_OFFLINE: '1', HF_HOME: join(dir, 'hf'), MALLOC_MMAP_THRESHOLD_: '2147483647', MALLOC_TRIM_THRESHOLD_: '8589934592' };
  writeFileSync(join(dir, 'teacher.json'), JSON.stringify(TEACHER));
  writeFileSync(join(dir, 'student.json'), JSON.stringify(STUDENT));
  const r = run(['pretrain', ...data, '--config', 'teacher.json', '--steps', '100', '--lr', '2e-3', '--eval-every', '100', '--out', 'teacher']);
  if (r.code !== 0) throw new Error(`teacher pretraining failed: ${r.stderr}`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('compactlm distill', () => {
  test('teacher folder → student folder and a report that checks out', () => {
    const r = run(['distill', '--teacher', 'teacher', ...data, '--student-config', 'student.json', '--steps', '30', '--lr', '2e-3',
      '--eval-every', '15', '--temperature', '2', '--alpha', '0.5', '--out', 'student', '--json']);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'vocab.txt', 'metrics.jsonl', 'distill_report.json', 'artifacts/train_step.onnx', 'artifacts/model.onnx']) {
      expect(existsSync(join(dir, 'student', f))).toBe(true);
    }
    const summary = JSON.parse(r.stdout);
    const rep = report('student');
    expect(summary.report).toEqual(rep);
    expect(rep.teacher_params).toBe(bertParams(TEACHER));
    expect(rep.student_params).toBe(bertParams(STUDENT));
    expect(rep.param_ratio).toBeCloseTo(bertParams(STUDENT) / bertParams(TEACHER), 12);
    for (const m of [rep.teacher, rep.student]) expect(m.val_ppl).toBeCloseTo(Math.exp(m.val_loss), 9);
    expect(rep.retained_accuracy).toBeCloseTo(rep.student.val_mlm_acc / rep.teacher.val_mlm_acc, 12);
    expect(rep).toMatchObject({ temperature: 2, alpha: 0.5, init_from_teacher: false, steps: 30, teacher_format: 'safetensors', teacher_source: 'teacher' });
    // Student: the trainer's last evaluation (eval.onnx) on the same batches; teacher: its own last evaluation
    // at the end of pretraining (same data flags → same hold-out and masking).
    const s = lastEval(join(dir, 'student/metrics.jsonl'));
    expect(s.step).toBe(30);
    expect(rep.student.val_loss).toBeCloseTo(s.val_loss, 4);
    expect(rep.student.val_mlm_acc).toBeCloseTo(s.val_mlm_acc, 9);
    const t = lastEval(join(dir, 'teacher/metrics.jsonl'));
    expect(rep.teacher.val_loss).toBeCloseTo(t.val_loss, 4);
    expect(rep.teacher.val_mlm_acc).toBeCloseTo(t.val_mlm_acc, 9);
    expect(rep.val_tokens).toBeGreaterThan(10);
    // The train graph takes the teacher's logits at the scored slots (as many rows as the batch has).
    const artifacts = JSON.parse(readFileSync(join(dir, 'student/artifacts/artifacts.json'), 'utf8'));
    expect(artifacts['train_step.onnx'].io.inputs).toContainEqual({ name: 'teacher_logits', dtype: 'float32', shape: ['num_masked', 30522] });
  });

  test('--init-from-teacher: the student starts as embeddings + teacher layer 0 + MLM head', async () => {
    // One step whose learning rate is 0 (the warmup step): the saved student is exactly its initialization.
    const r = run(['distill', '--teacher', 'teacher', ...data, '--init-from-teacher', '--steps', '1', '--out', 'init']);
    expect(r.code).toBe(0);
    const config = JSON.parse(readFileSync(join(dir, 'init/config.json'), 'utf8'));
    expect(config).toMatchObject({ hidden_size: 64, num_hidden_layers: 1, intermediate_size: 128 }); // the teacher, half the layers
    const student = (await readSafetensors(join(dir, 'init/model.safetensors'))).tensors;
    const teacher = (await readSafetensors(join(dir, 'teacher/model.safetensors'))).tensors;
    expect(student.size).toBe(teacher.size - 16); // one encoder layer (16 tensors) fewer
    for (const [name, t] of student) {
      const from = teacher.get(name)!; // student layer 0 ← teacher layer 0 (2:1)
      expect(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).equals(Buffer.from(from.data.buffer, from.data.byteOffset, from.data.byteLength))).toBe(true);
    }
    expect(report('init').init_from_teacher).toBe(true);
  });

  test('export-folder and hub-id teachers give the same teacher numbers', () => {
    const ex = run(['export', '--model', 'teacher', '--out', 'teacher-export', '--quantize', 'none', '--samples', '4', '--threads', '1']);
    expect(ex.code).toBe(0);
    const hub = join(dir, 'hf/hub/models--local--tiny-teacher');
    mkdirSync(join(hub, 'refs'), { recursive: true });
    writeFileSync(join(hub, 'refs/main'), 'abc123');
    for (const f of ['config.json', 'model.safetensors', 'vocab.txt', 'tokenizer.json']) cpSync(join(dir, 'teacher', f), join(hub, 'snapshots/abc123', f));
    const base = report('student').teacher;
    for (const [teacher, out, format] of [['teacher-export', 'from-export', 'onnx'], ['local/tiny-teacher', 'from-hub', 'safetensors']]) {
      const r = run(['distill', '--teacher', teacher, ...data, '--student-config', 'student.json', '--steps', '2', '--out', out]);
      expect(r.stderr).not.toMatch(/error/i);
      expect(r.code).toBe(0);
      const rep = report(out);
      expect(rep.teacher_format).toBe(format);
      expect(rep.teacher_source).toBe(teacher);
      expect(rep.teacher.val_loss).toBeCloseTo(base.val_loss, 4);
      expect(rep.teacher.val_mlm_acc).toBe(base.val_mlm_acc);
    }
  });

  test.each([
    [['--teacher', 'nowhere/model'], /^compactlm: error: --teacher nowhere\/model: no such folder, and not in the Hugging Face cache \(looked in .*models--nowhere--model\); HF_HUB_OFFLINE is set, so the hub was not asked; pass a local model folder instead: --teacher <dir>/],
    [['--teacher', './missing'], /--teacher \.\/missing: no such folder/],
    [['--teacher', 'teacher', '--alpha', '1.5'], /--alpha.*1\.5 is outside \[0, 1\]/],
    [['--teacher', 'teacher', '--temperature', '0'], /--temperature.*0 is outside/],
    [['--teacher', 'teacher', '--student-preset', 'tiny', '--student-config', 'student.json'], /^compactlm: error: give either --student-preset or --student-config, not both$/m],
    [['--teacher', 'teacher', '--warmup', '3'], /^compactlm: error: --warmup 3 is 3 steps, longer than --steps 2$/m],
    [['--teacher', 'teacher', '--out', 'teacher'], /^compactlm: error: --out teacher is --teacher teacher: choose another output/m],
    [['--teacher', 'teacher', '--student-config', 'student.json', '--init-from-teacher'], /--init-from-teacher: the student's hidden_size is 32 but the teacher's is 64/],
    [['--teacher', 'bad-vocab'], /bad-vocab: vocab_size is 28996.*share the vocabulary/],
    [['--teacher', 'teacher-export', '--init-from-teacher'], /^compactlm: error: --init-from-teacher needs the teacher's weights \(model\.safetensors\), but teacher-export has only onnx\/model\.onnx$/m],
  ])('bad input %j → one-line error, nothing written', (extra, message) => {
    cpSync(join(dir, 'teacher'), join(dir, 'bad-vocab'), { recursive: true });
    writeFileSync(join(dir, 'bad-vocab/config.json'), JSON.stringify({ ...JSON.parse(readFileSync(join(dir, 'teacher/config.json'), 'utf8')), vocab_size: 28996 }));
    const r = run(['distill', ...data, '--steps', '2', '--out', 'bad-run', ...extra]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n').filter((l) => /error/i.test(l))).toHaveLength(1);
    expect(existsSync(join(dir, 'bad-run'))).toBe(false);
  });

  test('the card\'s `compactlm distill --teacher bert-base-uncased`, hub unreachable: one line saying so and how to pass a folder', () => {
    // An endpoint that refuses connections: unreachable here and on a machine with internet alike.
    const offline = { HF_HUB_OFFLINE: '', HF_HOME: join(dir, 'empty-hf'), HF_ENDPOINT: 'http://127.0.0.1:2' };
    const r = run(['distill', '--teacher', 'bert-base-uncased'], offline);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^compactlm: error: --teacher bert-base-uncased: no such folder, not in the Hugging Face cache, and the hub \(http:\/\/127\.0\.0\.1:2\) cannot be reached \([^)]+\); pass a local model folder instead: --teacher <dir> \(config\.json \+ model\.safetensors: `huggingface-cli download bert-base-uncased --local-dir <dir>`/);
    expect(existsSync(join(dir, 'runs'))).toBe(false); // stopped before any work
  });

  test('without --train and --out: the bundled prose, into runs/distill/<student>-from-<teacher>/', () => {
    const r = run(['distill', '--teacher', 'teacher', '--student-config', 'student.json', '--val', fixture, '--batch-size', '8', '--seq-len', '32',
      '--threads', '1', '--steps', '1', '--json']);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const out = join('runs', 'distill', 'student-from-teacher');
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ out, steps: 1 });
    expect(existsSync(join(dir, out, 'model.safetensors'))).toBe(true);
    expect(existsSync(join(dir, out, 'distill_report.json'))).toBe(true);
    // the bundled prose (datasets/prose.csv, 3.6 MB: tens of thousands of 32-token blocks), not the 80-row fixture
    expect(summary.trainBlocks).toBeGreaterThan(10_000);
    rmSync(join(dir, 'runs'), { recursive: true });
  });

  test('--help lists the distillation flags and every pretrain training flag', () => {
    const help = run(['distill', '--help']).stdout;
    for (const flag of ['--teacher', '--student-preset', '--student-config', '--temperature', '--alpha', '--init-from-teacher', '--steps', '--batch-size', '--seq-len', '--lr',
      '--warmup', '--schedule', '--weight-decay', '--grad-accum', '--eval-every', '--save-every', '--resume', '--seed', '--device', '--threads', '--dropout', '--val', '--text-column']) {
      expect(help).toContain(flag);
    }
    expect(help).toMatch(/Example:\n\s+\$ compactlm distill --teacher bert-base-uncased\s/);
    const flat = help.replace(/\s+/g, ' ');
    expect(flat).toMatch(/--train <csv\|shards> [^-]*\(default: the bundled prose, datasets\/prose\.csv\)/);
    expect(flat).toMatch(/--out <dir> [^-]*\(default: runs\/distill\/<student>-from-<teacher>\)/);
  });
});

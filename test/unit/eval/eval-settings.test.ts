import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { evalSettings, registerEval, type EvalSettings } from '../../../src/cli/eval.js';
import { globals } from '../../../src/cli/options.js';

/** Parses `compactlm eval <args>` with the real option definitions and returns the settings (the action is replaced). */
function settings(args: string[]): Readonly<EvalSettings> {
  const program = new Command('compactlm').exitOverride().option('--seed <n>', 'seed', (v) => Number(v), 42);
  registerEval(program);
  const cmd = program.commands.find((c) => c.name() === 'eval')!;
  let out: Readonly<EvalSettings> | undefined;
  cmd.exitOverride().action((flags, command: Command) => {
    out = evalSettings(flags, command, globals(command).seed);
  });
  program.parse(['node', 'compactlm', 'eval', ...args]);
  return out!;
}

const BASE = ['--model', 'runs/m', '--test', 'test.csv'];

describe('eval settings (the CLI boundary)', () => {
  test('classify is the default task, with the documented defaults', () => {
    expect(settings(BASE)).toEqual({
      task: 'classify', model: 'runs/m', test: 'test.csv', textColumn: 'text', batchSize: 32, seed: 42,
      labelColumn: 'label', maxLength: 128, int8: false, json: false,
    });
  });

  test('every classify flag is carried; the subcommand --seed wins over the global one', () => {
    const s = settings([...BASE, '--pair-column', 'h', '--train', 'train.csv', '--protected', 'sex', '--favorable', 'pos', '--privileged', 'male',
      '--max-length', '64', '--batch-size', '8', '--int8', '--seed', '7', '--json', '--report', 'r.json', '--html', 'r.html']);
    expect(s).toMatchObject({ task: 'classify', pairColumn: 'h', train: 'train.csv', maxLength: 64, batchSize: 8, int8: true, seed: 7,
      json: true, report: 'r.json', html: 'r.html', bias: { protected: 'sex', favorable: 'pos', privileged: 'male' } });
    expect(Object.isFrozen(s)).toBe(true);
  });

  test('--task mlm takes --seq-len and refuses the classify-only flags', () => {
    expect(settings(['--task', 'mlm', ...BASE, '--seq-len', '64'])).toEqual({
      task: 'mlm', model: 'runs/m', test: 'test.csv', textColumn: 'text', batchSize: 32, seed: 42, seqLen: 64, json: false,
    });
    expect(() => settings(['--task', 'mlm', ...BASE, '--train', 't.csv'])).toThrow('--train is for --task classify, not --task mlm');
    expect(() => settings(['--task', 'mlm', ...BASE, '--html', 'x.html'])).toThrow(/--html is for --task classify/);
    expect(() => settings([...BASE, '--seq-len', '64'])).toThrow('--seq-len is for --task mlm, not --task classify');
  });

  test('flags that need each other: --protected with --favorable, --favorable/--privileged with --protected', () => {
    expect(() => settings([...BASE, '--protected', 'sex'])).toThrow(/--protected needs --favorable/);
    expect(() => settings([...BASE, '--favorable', 'pos'])).toThrow(/--favorable goes with --protected/);
    expect(() => settings([...BASE, '--protected', 'sex', '--favorable', 'pos', '--privileged', 'm'])).not.toThrow();
  });

  test('outputs: --report and --html must differ, and neither may be an input', () => {
    const dir = mkdtempSync(join(tmpdir(), 'eval-settings-'));
    try {
      const test = join(dir, 'test.csv');
      writeFileSync(test, 'text,label\na,b\n');
      expect(() => settings([...BASE, '--report', 'x.json', '--html', 'x.json'])).toThrow(/same file/);
      expect(() => settings(['--model', 'm', '--test', test, '--report', test])).toThrow(/--report .* is --test/);
      expect(() => settings(['--model', 'm', '--test', 'other.csv', '--train', test, '--html', test])).toThrow(/--html .* is --train/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

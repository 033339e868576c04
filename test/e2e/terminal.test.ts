/**
 * Progress bars and logs on a real terminal: the built CLI runs under a pseudo-terminal (`script` from
 * util-linux), so stderr is a TTY and bars are drawn. What the terminal finally shows must have every log line on
 * its own line (a log line clears the bar and the bar is redrawn below it), and every bar's unit must say what it
 * counts. Skipped, with one line, where `script` is missing. (npm test builds dist/ first.)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'dist/cli/main.js');
const fixture = join(root, 'test/fixtures/pretrain-small.csv');
const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
if (!hasScript) process.stderr.write('terminal.test.ts: skipped: `script` (util-linux) is not installed, so no pseudo-terminal\n');
const maybe = hasScript ? describe : describe.skip;

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Runs the CLI under a pseudo-terminal 160 columns wide; returns what the terminal shows, line by line. */
function onTerminal(args: string[]): { code: number | null; lines: string[]; raw: string } {
  const { CI: _ci, ...env } = process.env;
  const command = `stty cols 160 2>/dev/null; exec ${quote(process.execPath)} ${[cli, ...args].map(quote).join(' ')}`;
  const r = spawnSync('script', ['-qfec', command, '/dev/null'], { cwd: dir, encoding: 'utf8', env: { ...env, FORCE_COLOR: '0' } });
  return { code: r.status, lines: screen(r.stdout), raw: r.stdout };
}

/** A terminal's final text: "\r" (always followed by erase-line here) clears the line, "\n" ends it; colours dropped. */
function screen(out: string): string[] {
  const lines: string[] = [''];
  // eslint-disable-next-line no-control-regex
  const text = out.replace(/\r\n/g, '\n').replace(/\x1b\[[\d;]*m/g, '').replace(/\x1b\[\?25[lh]/g, '');
  for (const part of text.split(/(\r\x1b\[2K|\r|\n)/)) {
    if (part === '\r\x1b[2K' || part === '\r') lines[lines.length - 1] = '';
    else if (part === '\n') lines.push('');
    else lines[lines.length - 1] += part;
  }
  return lines.filter((l) => l !== '');
}

let dir: string;
beforeAll(() => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: build first (npx tsc -p tsconfig.json)`);
  dir = mkdtempSync(join(tmpdir(), 'terminal-e2e-'));
  writeFileSync(join(dir, 'tiny.json'), JSON.stringify({ hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 64 }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

maybe('progress bars and logs on a TTY', () => {
  test('pretrain: each eval log line on its own line, the bar redrawn below it, units that say what they count', () => {
    const r = onTerminal(['pretrain', '--train', fixture, '--config', 'tiny.json', '--steps', '20', '--batch-size', '4', '--seq-len', '16',
      '--eval-every', '5', '--threads', '1', '--out', 'run']);
    expect(r.code).toBe(0);
    const logs = r.lines.filter((l) => / (INFO|WARN|ERROR): /.test(l));
    expect(logs.filter((l) => /eval step \d+:/.test(l))).toHaveLength(4);
    for (const l of logs) expect(l).toMatch(/^\[[\d:.]+\] (INFO|WARN|ERROR): /); // a log line starts its own line…
    for (const l of r.lines) expect(/\[[█░]+\]/.test(l) && / (INFO|WARN|ERROR): /.test(l)).toBe(false); // …and never shares one with a bar
    // the training bar's final state stays, once, after the last evaluation
    const bars = r.lines.filter((l) => /^pretrain \[/.test(l));
    expect(bars).toEqual([expect.stringMatching(/^pretrain \[█{20}\] 100% \| 20\/20 steps \| [\d.]+ steps\/s \| ETA 0s loss=[\d.]+ tok\/s=\d+$/)]);
    // no bar counts "%" as if it were a unit ("100/100 %", "92.1 %/s")
    expect(r.raw).not.toMatch(/\/100 %|%\/s/);
  }, 120_000);

  test('preprocess: the bar counts MB of the input and ends as one line before the summary log', () => {
    writeFileSync(join(dir, 'raw.csv'), `id,text\n${Array.from({ length: 20_000 }, (_, i) => `${i},"Some   text, number ${i}."`).join('\n')}\n`);
    const r = onTerminal(['preprocess', 'raw.csv']);
    expect(r.code).toBe(0);
    const bar = r.lines.findIndex((l) => l.startsWith('preprocess ['));
    expect(r.lines[bar]).toMatch(/^preprocess \[█{20}\] 100% \| [\d.]+\/[\d.]+ MB \| [\d.]+ MB\/s \| ETA 0s rows=\d+$/);
    expect(r.lines[bar + 1]).toMatch(/^\[[\d:.]+\] INFO: preprocess: 20000 rows in, 20000 out, .*wrote raw\.clean\.csv \(the default: no -o given\)/);
    expect(r.lines).toHaveLength(bar + 2);
  }, 60_000);

  test('an error while a bar is drawn: the bar line is cleared, the error has its own line', () => {
    writeFileSync(join(dir, 'ragged.csv'), `id,text\n${Array.from({ length: 20_000 }, (_, i) => `${i},row ${i}`).join('\n')}\n20000,a,b\n`);
    const r = onTerminal(['preprocess', 'ragged.csv', '-o', 'out.csv']);
    expect(r.code).toBe(1);
    expect(r.lines.at(-1)).toMatch(/^compactlm: error: ragged\.csv:20002: ragged row/);
  }, 60_000);
});

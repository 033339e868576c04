import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';

// Drives the built CLI (`npm test` builds first; by hand: npx tsc -p tsconfig.json).
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(ROOT, 'dist/cli/main.js');
const FIXTURE = join(ROOT, 'test/fixtures/bias-small.csv');
const BASE = ['bias-report', FIXTURE, '--protected', 'sex', '--label', 'hired', '--privileged', 'male', '--favorable', 'yes'];
/** --json: the report as JSON on stdout (without it, a readable summary). */
const JSON_OUT = [...BASE, '--json'];

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let dir: string;
beforeAll(() => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: build first (npx tsc -p tsconfig.json)`);
});
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'e2e-bias-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('compactlm bias-report', () => {
  test('happy path: --json prints one JSON object on stdout with exactly the documented keys', () => {
    const r = cli(JSON_OUT);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(Object.keys(j)).toEqual(['input', 'rows', 'protected', 'label', 'prediction', 'privileged', 'favorable',
      'disparate_impact', 'statistical_parity_difference', 'groups', 'warnings']);
    expect(Object.keys(j.groups)).toEqual(['privileged', 'unprivileged', 'by_value']);
    expect(Object.keys(j.groups.privileged)).toEqual(['count', 'favorable', 'base_rate']);
    expect(Object.keys(j.groups.by_value)).toEqual(['male', 'female', 'nonbinary']);
    expect(j.disparate_impact).toBeCloseTo(0.5, 15);
    expect(j.statistical_parity_difference).toBeCloseTo(-1 / 3, 15);
    expect(j.prediction).toBeNull();
  });

  test('--prediction adds the classification metrics and per-group TPR/FPR/accuracy', () => {
    const r = cli([...JSON_OUT, '--prediction', 'predicted']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(Object.keys(j)).toEqual(['input', 'rows', 'protected', 'label', 'prediction', 'privileged', 'favorable',
      'disparate_impact', 'statistical_parity_difference', 'equal_opportunity_difference', 'average_odds_difference',
      'groups', 'warnings']);
    expect(Object.keys(j.groups.unprivileged)).toEqual(['count', 'favorable', 'base_rate', 'predicted_favorable',
      'selection_rate', 'tp', 'fp', 'tn', 'fn', 'tpr', 'fpr', 'accuracy']);
    expect(j.equal_opportunity_difference).toBeCloseTo(-0.25, 15);
    expect(j.average_odds_difference).toBeCloseTo(-0.25, 15);
  });

  test('without --json: a readable summary on stdout, not JSON', () => {
    const r = cli([...BASE, '--prediction', 'predicted']);
    expect(r.status).toBe(0);
    expect(() => JSON.parse(r.stdout)).toThrow();
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`${FIXTURE}: 12 rows; sex = "male" is privileged; hired = "yes" is favorable; predictions in predicted`);
    expect(lines[1]).toMatch(/^ {2}disparate impact +0\.5000 {2}\(four-fifths rule: ≥ 0\.8\)$/);
    expect(r.stdout).toMatch(/statistical parity difference +-0\.3333/);
    expect(r.stdout).toMatch(/equal opportunity difference +-0\.2500/);
    expect(r.stdout).toMatch(/^ +group +count +favorable +base rate +selection +TPR +FPR +accuracy$/m);
    expect(r.stdout).toMatch(/^ +sex=nonbinary +\d+/m);
  });

  test('--report writes the JSON report file (what --json prints); --html writes a page with inline SVG charts', () => {
    const json = join(dir, 'bias.json');
    const html = join(dir, 'bias.html');
    const r = cli([...JSON_OUT, '--prediction', 'predicted', '--report', json, '--html', html]);
    expect(r.status).toBe(0);
    expect(JSON.parse(readFileSync(json, 'utf8'))).toEqual(JSON.parse(r.stdout));
    const quiet = cli([...BASE, '--prediction', 'predicted', '--report', join(dir, 'again.json')]);
    expect(quiet.stdout).toMatch(/wrote report .*again\.json/);
    expect(readFileSync(join(dir, 'again.json'), 'utf8')).toBe(readFileSync(json, 'utf8'));
    rmSync(join(dir, 'again.json'));
    const page = readFileSync(html, 'utf8');
    expect(page).toContain('<svg');
    expect(page).toContain('Disparate impact');
    expect(readdirSync(dir).sort()).toEqual(['bias.html', 'bias.json']); // no temp files left
  });

  test('--json <file>, the old spelling, fails with one line: --json takes no value now (the file is --report)', () => {
    const r = cli([...BASE, '--json', join(dir, 'old.json')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^compactlm: error: too many arguments/)]);
    expect(r.stdout).toBe('');
    expect(readdirSync(dir)).toEqual([]);
  });

  test('outputs that are the input, or the same file twice, are refused before anything is read', () => {
    const r = cli([...BASE, '--report', FIXTURE]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`compactlm: error: --report ${FIXTURE} is the input ${FIXTURE}: choose another output (a command never overwrites its input)\n`);
    const twice = cli([...BASE, '--report', join(dir, 'x'), '--html', join(dir, 'x')]);
    expect(twice.status).toBe(2);
    expect(twice.stderr).toMatch(/--report and --html are the same file/);
    expect(readdirSync(dir)).toEqual([]);
  });

  test('--weights writes every row plus a weight column whose weighted DI is 1 (--weights-out: its old name)', () => {
    const out = join(dir, 'weighted.csv');
    const old = cli([...JSON_OUT, '--weights-out', join(dir, 'old.csv')]);
    expect(old.status).toBe(0);
    expect(old.stderr).toMatch(/--weights-out is deprecated: use --weights/);
    const r = cli([...JSON_OUT, '--weights', out]);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).reweighing).toEqual({
      output: out, rows: 12,
      weights: { privileged: { favorable: 0.75, unfavorable: 1.5 }, unprivileged: { favorable: 1.5, unfavorable: 0.75 } },
    });
    const rows = parse(readFileSync(out), { columns: true }) as Record<string, string>[];
    expect(Object.keys(rows[0])).toEqual(['id', 'text', 'sex', 'hired', 'predicted', 'weight']);
    expect(rows[8].text).toBe('Multi-line\nnote');
    const rate = (priv: boolean): number => {
      const g = rows.filter((x) => (x.sex.trim() === 'male') === priv);
      const w = (xs: typeof rows): number => xs.reduce((s, x) => s + Number(x.weight), 0);
      return w(g.filter((x) => x.hired === 'yes')) / w(g);
    };
    expect(rate(false) / rate(true)).toBe(1);
    expect(readFileSync(join(dir, 'old.csv'))).toEqual(readFileSync(out));
  });

  test('--fail-below: exit 3 with one line after writing the reports; passes when DI is above', () => {
    const json = join(dir, 'bias.json');
    const r = cli([...JSON_OUT, '--report', json, '--fail-below', '0.8']);
    expect(r.status).toBe(3);
    expect(r.stderr.trim().split('\n')).toEqual([
      'compactlm: error: disparate impact 0.5000 is below --fail-below 0.8 (sex = "male" is privileged)',
    ]);
    expect(JSON.parse(r.stdout).disparate_impact).toBe(0.5);
    expect(existsSync(json)).toBe(true);
    expect(cli([...BASE, '--fail-below', '0.5']).status).toBe(0);
  });

  test('--fail-below with an undefined DI: the report, then one error line with the reason (no warnings)', () => {
    const r = cli([...BASE.slice(0, -1), 'maybe', '--json', '--fail-below', '0.8']);
    expect(r.status).toBe(3);
    expect(JSON.parse(r.stdout).disparate_impact).toBeNull();
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^compactlm: error: .*: disparate impact is undefined \(the privileged group has no favorable labels \(base rate 0, division by zero\)\), so --fail-below 0\.8 cannot pass$/)]);
  });

  test('an absent privileged value: one-line error naming file, column and values; no output files', () => {
    const outs = ['--report', join(dir, 'b.json'), '--html', join(dir, 'b.html'), '--weights', join(dir, 'w.csv')];
    const r = cli([...BASE.slice(0, 7), 'woman', ...BASE.slice(8), ...outs]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([
      `compactlm: error: ${FIXTURE}: column "sex" has no value "woman" (--privileged); values present: "male", "female", "nonbinary"`,
    ]);
    expect(readdirSync(dir)).toEqual([]);
  });

  test('bad inputs give one-line errors and no partial output', () => {
    const json = join(dir, 'b.json');
    const missingCol = cli(['bias-report', FIXTURE, '--protected', 'gender', '--label', 'hired', '--privileged', 'male', '--favorable', 'yes', '--report', json]);
    expect(missingCol.status).toBe(1);
    expect(missingCol.stderr.trim().split('\n')).toEqual([
      `compactlm: error: ${FIXTURE}:1: no column "gender" (columns: "id", "text", "sex", "hired", "predicted")`,
    ]);
    const ragged = join(dir, 'ragged.csv');
    writeFileSync(ragged, 'sex,hired\nmale,yes\nfemale,no,extra\n');
    const r2 = cli(['bias-report', ragged, '--protected', 'sex', '--label', 'hired', '--privileged', 'male', '--favorable', 'yes', '--report', json]);
    expect(r2.status).toBe(1);
    expect(r2.stderr.trim()).toMatch(/^compactlm: error: .*ragged\.csv:3: ragged row/);
    const noDir = cli([...BASE, '--html', join(dir, 'nope', 'b.html')]);
    expect(noDir.status).toBe(1);
    expect(noDir.stderr.trim()).toMatch(/^compactlm: error: .*output folder .*nope does not exist$/);
    expect(noDir.stdout).toBe('');
    expect(readdirSync(dir)).toEqual(['ragged.csv']);
  });

  test('--help shows an example', () => {
    const r = cli(['bias-report', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Example:');
    expect(r.stdout).toContain('--fail-below');
    expect(r.stdout).toMatch(/--report <file>/);
    expect(r.stdout).toMatch(/--json +print the report as JSON on stdout/);
    expect(r.stdout).not.toMatch(/--weights-out/);
  });
});

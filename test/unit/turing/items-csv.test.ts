/** The items CSV of `turing import`: the contract's columns, and one line per problem naming file and line. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readItemsCsv } from '../../../src/turing/items-csv.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'turing-items-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function csv(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const HEADER = 'prompt,system_a,answer_a,system_b,answer_b\n';

describe('readItemsCsv', () => {
  test('reads the five columns, trims system names, keeps texts as written, ignores other columns', async () => {
    const f = csv('ok.csv', 'id,' + HEADER + '7,"Hi, there?", human ," Hello.\nHow can I help?",bot,Hi!\n');
    expect(await readItemsCsv(f)).toEqual([{ prompt: 'Hi, there?', system_a: 'human', answer_a: ' Hello.\nHow can I help?', system_b: 'bot', answer_b: 'Hi!' }]);
  });

  test.each([
    ['missing column', 'prompt,system_a,answer_a,system_b\nx,a,b,c\n', ':1: no column "answer_b" (columns: "prompt", "system_a", "answer_a", "system_b")'],
    ['empty answer', HEADER + 'x,a,one,b,one\nx,a,"  ",b,two\n', ':3: empty answer in column "answer_a"'],
    ['empty system', HEADER + 'x,,one,b,two\n', ':2: empty system name in column "system_a"'],
    ['empty prompt', HEADER + ',a,one,b,two\n', ':2: empty prompt in column "prompt"'],
    ['same system on both sides', HEADER + 'x,human,one, human,two\n', ':2: the same system "human" on both sides (system_a and system_b)'],
    ['no rows', HEADER, ': has a header but no data rows'],
  ])('%s', async (_what, text, message) => {
    const f = csv('bad.csv', text);
    await expect(readItemsCsv(f)).rejects.toThrow(`${f}${message}`);
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { byProbability, checkResponses, readResponses } from '../../../src/chat/intent-bot.js';
import { configureLogger } from '../../../src/util/log.js';
import { setTerminal, Terminal } from '../../../src/util/progress.js';

let dir: string;
const logs: { level: number; msg: string }[] = [];
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'intent-bot-'));
  setTerminal(new Terminal({ write: (t: string) => { for (const l of t.split('\n').filter(Boolean)) logs.push(JSON.parse(l)); } }, false));
  configureLogger({ json: true, verbose: false });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('responses.csv', () => {
  test('intent → response, trimmed; other columns ignored', async () => {
    const r = await readResponses(file('ok.csv', 'intent,response,note\ntrack, Open Orders. ,x\npay,"By card, or PayPal.",\n'));
    expect([...r]).toEqual([['track', 'Open Orders.'], ['pay', 'By card, or PayPal.']]);
  });
  test('a missing column, an empty cell, an intent twice: one line naming file, line and row', async () => {
    await expect(readResponses(file('a.csv', 'intent,answer\nx,y\n'))).rejects.toThrow(/a\.csv:1: no column "response"/);
    await expect(readResponses(file('b.csv', 'intent,response\nx,y\n,z\n'))).rejects.toThrow(/b\.csv:3: row 2: empty intent$/);
    await expect(readResponses(file('c.csv', 'intent,response\nx,\n'))).rejects.toThrow(/c\.csv:2: row 1: empty response for intent "x"/);
    await expect(readResponses(file('d.csv', 'intent,response\nx,y\nz,w\nx,v\n'))).rejects.toThrow(/d\.csv:4: row 3: intent "x" has a response already \(line 2\)/);
  });
});

describe('checkResponses: every intent the classifier can output needs a response, except the out-of-scope one', () => {
  const labels = ['cancel', 'oos', 'pay', 'track'];
  test('all there: passes; the out-of-scope label needs none', () => {
    logs.length = 0;
    expect(() => checkResponses(labels, new Map([['cancel', 'a'], ['pay', 'b'], ['track', 'c']]), 'oos', 'r.csv', 'runs/m')).not.toThrow();
    expect(logs.filter((l) => l.level === 40)).toEqual([]);
  });
  test('missing intents are named, in label order', () => {
    expect(() => checkResponses(labels, new Map([['pay', 'b']]), 'oos', 'r.csv', 'runs/m'))
      .toThrow(/^r\.csv: no response for 2 of the 4 intents that runs\/m can output: cancel, track \(add an "intent,response" row for each\)$/);
  });
  test('a wrong --oos-label shows up as a missing intent, with a hint', () => {
    expect(() => checkResponses(labels, new Map([['cancel', 'a'], ['pay', 'b'], ['track', 'c']]), 'out_of_scope', 'r.csv', 'runs/m'))
      .toThrow(/no response for 1 of the 4 intents that runs\/m can output: oos \(.*check --oos-label \(now "out_of_scope"\)\)/);
  });
  test('responses no label uses (or for the out-of-scope label): a warning naming them', () => {
    logs.length = 0;
    checkResponses(labels, new Map([['cancel', 'a'], ['pay', 'b'], ['track', 'c'], ['refund', 'd'], ['oos', 'e']]), 'oos', 'r.csv', 'runs/m');
    expect(logs.filter((l) => l.level === 40).map((l) => l.msg)).toEqual([expect.stringMatching(/^r\.csv: 2 response\(s\) never used \(refund, oos\)/)]);
  });
  test('byProbability: ids by probability, ties to the lower id', () => {
    expect(byProbability(Float32Array.from([0.2, 0.5, 0.2, 0.1]))).toEqual([1, 0, 2, 3]);
  });
});

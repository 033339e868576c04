/**
 * The judging page in a real browser: Debian's chromium driven by playwright-core opens /turing on
 * `compactlm serve --turing-db`, the DOM never shows which system wrote which answer (nor anything that depends
 * on it) before the vote, votes are cast with the keyboard shortcuts and with the mouse, and `compactlm turing
 * report` counts them with the systems the page never named. Also: readable at phone width (no sideways scroll),
 * every control labelled. Skipped with one line where chromium is not installed (fails under CI=true).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { chromium, type Browser, type Page } from 'playwright-core';
import { compactlm } from './helpers/classifier-fixture.js';
import { startServe, type ServeProcess } from './turing-serve.js';

// page.evaluate callbacks run in the browser; the project's types are Node's (no DOM lib)
declare const document: any; // eslint-disable-line @typescript-eslint/no-explicit-any

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM} not found: the browser test needs Debian's chromium (apt-get install chromium)`);
  console.log(`turing-browser: skipped, ${CHROMIUM} not found (apt-get install chromium)`);
}

// Two items, each a model against the human reference; the texts say nothing about who wrote them.
const ITEMS = [
  { prompt: 'How long do refunds take?', system_a: 'sys-walrus', answer_a: 'About five working days.', system_b: 'human', answer_b: 'Refunds arrive within a week.' },
  { prompt: 'Can I change my address?', system_a: 'human', answer_a: 'Yes, until the parcel ships.', system_b: 'sys-walrus', answer_b: 'Write to support before dispatch.' },
  { prompt: 'Do you ship abroad?', system_a: 'sys-walrus', answer_a: 'We ship to the EU.', system_b: 'human', answer_b: 'Only within Europe, sorry.' },
];
const systemOf = (text: string) => {
  for (const it of ITEMS) {
    if (it.answer_a === text) return it.system_a;
    if (it.answer_b === text) return it.system_b;
  }
  throw new Error(`unknown answer ${text}`);
};

let dir: string;
let server: ServeProcess;
let browser: Browser;
const db = () => join(dir, 'turing.sqlite');

(haveChromium ? describe : describe.skip)('the /turing page in chromium', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'turing-browser-'));
    writeFileSync(join(dir, 'items.csv'), stringify(ITEMS, { header: true, columns: ['prompt', 'system_a', 'answer_a', 'system_b', 'answer_b'] }));
    compactlm(['turing', 'import', '--items', join(dir, 'items.csv'), '--db', db()]);
    server = await startServe(['--turing-db', db()], dir);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    if (server) await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The answers on screen, once an item is loaded; and a check that nothing names a system. */
  async function shown(page: Page): Promise<{ prompt: string; A: string; B: string }> {
    await page.waitForFunction(() => document.getElementById('answer-a')!.textContent !== '');
    const html = await page.content();
    const text = await page.evaluate(() => document.body.innerText);
    expect(html).not.toContain('sys-walrus');
    expect(text).not.toMatch(/human|walrus|system/i);
    // no attribute or hidden element holds the item's systems or sides
    const attrs = await page.evaluate(() => [...document.querySelectorAll('*')].flatMap((e) => [...e.attributes].map((a) => `${a.name}=${a.value}`)).join(' '));
    expect(attrs).not.toMatch(/walrus|system|side|swap|order/i);
    return page.evaluate(() => ({
      prompt: document.getElementById('prompt')!.textContent!,
      A: document.getElementById('answer-a')!.textContent!,
      B: document.getElementById('answer-b')!.textContent!,
    }));
  }

  test('votes cast on the page, by keyboard and by mouse, are counted with the right systems', async () => {
    const page = await browser.newPage({ viewport: { width: 360, height: 740 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // (chromium logs every 4xx as a console error: those are checked by URL below instead)
    page.on('console', (m) => m.type() === 'error' && !m.text().startsWith('Failed to load resource') && errors.push(m.text()));
    const failed: string[] = [];
    page.on('response', (res) => res.status() >= 400 && failed.push(`${res.status()} ${new URL(res.url()).pathname}`));
    await page.goto(`${server.url}/turing`);
    expect(await page.title()).toBe('Turing test — which answer is better?');
    // phone width: nothing sticks out sideways; every control has a label
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    for (const name of ['A is better', 'B is better', 'About the same', 'Both are bad', "Can't tell"]) await expect(page.getByLabel(name).count()).resolves.toBe(1);

    const expected: { winner: string; guess: string | null }[] = [];
    // 1: keyboard: "1" (A is better), "b" (B was written by a person), Enter
    let item = await shown(page);
    expect(await page.locator('#submit').isDisabled()).toBe(true); // no verdict yet
    await page.keyboard.press('1');
    await page.keyboard.press('b');
    await page.keyboard.press('Enter');
    expected.push({ winner: systemOf(item.A), guess: systemOf(item.B) });
    await page.getByText('Vote counted').waitFor();

    // 2: mouse: "Both are bad", "Can't tell", the Vote button
    await page.waitForFunction((prev) => document.getElementById('prompt')!.textContent !== prev, item.prompt);
    item = await shown(page);
    await page.getByLabel('Both are bad').check();
    await page.getByLabel("Can't tell").check();
    await page.locator('#submit').click();
    expected.push({ winner: 'bad', guess: null });
    await page.waitForFunction((prev) => document.getElementById('prompt')!.textContent !== prev, item.prompt);

    // 3: keyboard: "2" (B is better), "a" (A by a person)
    item = await shown(page);
    await page.keyboard.press('2');
    await page.keyboard.press('a');
    await page.keyboard.press('Enter');
    expected.push({ winner: systemOf(item.B), guess: systemOf(item.A) });
    await page.getByText('Nothing left to judge').waitFor(); // three items, one judge: each once
    expect(await page.locator('#count').textContent()).toBe('You have judged 3 items.');
    expect(errors).toEqual([]);
    expect(failed).toEqual(['404 /v1/turing/next']); // the end: no item left for this judge
    await page.close();

    const r = JSON.parse(compactlm(['turing', 'report', '--db', db(), '--json'])) as { votes: number; bad_votes: number; systems: { system: string; wins: number; losses: number; bad: number }[]; detection: { guesses: number; correct: number } };
    expect(r.votes).toBe(3);
    expect(r.bad_votes).toBe(1);
    const wins = (s: string) => r.systems.find((x) => x.system === s)!.wins;
    const decided = expected.filter((e) => e.winner !== 'bad');
    expect(wins('human')).toBe(decided.filter((e) => e.winner === 'human').length);
    expect(wins('sys-walrus')).toBe(decided.filter((e) => e.winner === 'sys-walrus').length);
    const guesses = expected.filter((e) => e.guess !== null);
    expect(r.detection).toMatchObject({ guesses: guesses.length, correct: guesses.filter((e) => e.guess === 'human').length });
  });

  test('a server with an API key: the page asks for it, then judging works', async () => {
    const key = 'turing-browser-test-key-0123456789';
    const keyed = await startServe(['--turing-db', join(dir, 'keyed.sqlite'), '--api-key', key], dir);
    compactlm(['turing', 'import', '--items', join(dir, 'items.csv'), '--db', join(dir, 'keyed.sqlite')]);
    try {
      const page = await browser.newPage();
      await page.goto(`${keyed.url}/turing`);
      await page.getByText('Enter the API key to start judging.').waitFor();
      await page.getByLabel('This server needs an API key:').fill('wrong-key-wrong-key-wrong');
      await page.getByRole('button', { name: 'Use key' }).click();
      await page.getByText('The key was refused: enter a valid one.').waitFor();
      await page.getByLabel('This server needs an API key:').fill(key);
      await page.getByRole('button', { name: 'Use key' }).click();
      await shown(page);
      await page.keyboard.press('3');
      await page.keyboard.press('Enter');
      await page.getByText('Vote counted').waitFor();
      await page.close();
    } finally {
      await keyed.stop();
    }
    expect(JSON.parse(compactlm(['turing', 'report', '--db', join(dir, 'keyed.sqlite'), '--json'])).votes).toBe(1);
  });
});

/**
 * The web playground in a real browser: Debian's chromium driven by playwright-core, against `compactlm serve`
 * (tiny with an FAQ + the shipped sentiment classifier). Each task's tab is run and its answer seen — fill-mask
 * bars, classify label scores, the summary's sentences highlighted in the document, a chat conversation, an
 * embedding — with the latency shown; tabs work from the keyboard; nothing is fetched from another origin (works
 * offline); at phone width nothing overflows; a keyed server asks for the key once. A screenshot of each page is
 * kept in test-output/playground/.
 *
 * Without /usr/bin/chromium the suite is skipped with one line, except under CI=true, where that is a failure.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO, startServe, type Served } from './helpers/serve-process.js';

// The page's DOM, in page.evaluate callbacks (they run in the browser; tsconfig has no DOM types).
declare const document: any;

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(REPO, 'test-output', 'playground');
const KEY = 'playground-key-0123456789';
const have = existsSync(CHROMIUM);
if (!have && process.env.CI !== 'true') console.log(`playground tests skipped: ${CHROMIUM} is not installed (apt-get install -y chromium)`);
const suite = have || process.env.CI === 'true' ? describe : describe.skip;

let dir: string;
let server: Served;
let keyed: Served;
let browser: Browser;
const started: Served[] = [];

suite('playground (chromium)', () => {
  beforeAll(async () => {
    if (!have) throw new Error(`${CHROMIUM} is missing: CI must install it (apt-get install -y chromium)`);
    mkdirSync(SHOTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'playground-e2e-'));
    const faq = join(dir, 'faq.csv');
    writeFileSync(faq, 'question,answer\nWhere is my order?,Open Orders and press Track.\nHow do I return an item?,Print the label from Orders and post the parcel.\n');
    const servers = await Promise.allSettled([
      startServe('playground', ['--model', 'tiny=models/compactlm-tiny', '--model', 'sentiment=models/compactlm-mini-sentiment', '--faq', faq, '--threads', '1']),
      startServe('playground-keyed', ['--model', 'models/compactlm-tiny', '--api-key', KEY, '--threads', '1']),
    ]);
    started.push(...servers.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : [])));
    const failed = servers.find((s) => s.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    [server, keyed] = started;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
    });
    await Promise.all(started.map((s) => s.ready));
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all(started.map((s) => s.stop()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A page on `url` that records every request to another origin (there must be none). */
  async function open(url: string, viewport = { width: 1100, height: 900 }): Promise<{ page: Page; foreign: string[] }> {
    const page = await browser.newPage({ viewport });
    const foreign: string[] = [];
    await page.route('**/*', (route) => {
      if (route.request().url().startsWith(url)) return route.continue();
      foreign.push(route.request().url());
      return route.abort();
    });
    await page.goto(`${url}/`);
    return { page, foreign };
  }

  async function runTab(page: Page, task: string, name: string): Promise<void> {
    await page.getByRole('tab', { name }).click();
    const panel = page.locator(`#panel-${task}`);
    await panel.getByRole('button', { name: /Predict|Classify|Summarize|Send|Embed/ }).click();
  }

  test('every task: run it in its tab and see the answer, with its latency', async () => {
    const { page, foreign } = await open(server.url);
    await page.getByRole('tab', { name: 'Fill mask' }).waitFor();
    expect(await page.getByRole('tab').allTextContents()).toEqual(['Fill mask', 'Classify', 'Summarize', 'Chat', 'Embed']);
    await expectText(page, '#server-status', /2 models: tiny \(fill-mask, embed, summarize, chat\); sentiment \(classify\)/);

    // fill-mask: one bar per prediction (top 5), the best first
    await runTab(page, 'fill-mask', 'Fill mask');
    const fm = page.locator('#panel-fill-mask .answer');
    await fm.locator('.latency').waitFor();
    expect(await fm.locator('.bar-row').count()).toBe(5);
    expect(await fm.locator('h3').first().textContent()).toBe('[MASK] 1 of 1 (token 4)');
    expect(await fm.locator('.latency').textContent()).toMatch(/^\d+ ms$/);
    await page.screenshot({ path: join(SHOTS, 'fill-mask.png'), fullPage: true });

    // classify: the label and a score bar per label
    await runTab(page, 'classify', 'Classify');
    const cl = page.locator('#panel-classify .answer');
    await cl.locator('.latency').waitFor();
    expect(await cl.locator('.verdict').textContent()).toMatch(/^positive \(\d+\.\d%\)$/);
    expect(await cl.locator('.bar-label').allTextContents()).toEqual(['positive', 'negative']);
    await page.screenshot({ path: join(SHOTS, 'classify.png'), fullPage: true });

    // summarize: the chosen sentences (2) highlighted in the document
    await runTab(page, 'summarize', 'Summarize');
    const su = page.locator('#panel-summarize .answer');
    await su.locator('.latency').waitFor();
    const marks = await su.locator('.document mark').allTextContents();
    expect(marks).toHaveLength(2);
    const doc = await page.locator('#summarize-text').inputValue();
    for (const m of marks) expect(doc).toContain(m);
    expect(await su.locator('.summary').textContent()).toBe(marks.join('\n'));
    await page.screenshot({ path: join(SHOTS, 'summarize.png'), fullPage: true });

    // chat: a conversation, each answer with its latency; the second message goes with the history
    await runTab(page, 'chat', 'Chat');
    const conv = page.locator('#panel-chat .conversation');
    await conv.locator('.turn.bot').first().waitFor();
    await page.locator('#chat-text').fill('and how do I return it?');
    await page.locator('#chat-text').press('Enter');
    await conv.locator('.turn.bot').nth(1).waitFor();
    expect(await conv.locator('.turn .who').allTextContents()).toEqual(['You', 'Bot', 'You', 'Bot']);
    expect(await conv.locator('.turn.bot .latency').first().textContent()).toMatch(/^\d+ ms, match \d+\.\d%$/);
    expect(await conv.locator('.turn.bot .said').first().textContent()).toMatch(/Orders/);
    await page.screenshot({ path: join(SHOTS, 'chat.png'), fullPage: true });

    // embed: the vector's size
    await runTab(page, 'embed', 'Embed');
    const em = page.locator('#panel-embed .answer');
    await em.locator('.latency').waitFor();
    expect(await em.locator('p').first().textContent()).toMatch(/^128 dimensions, L2 norm \d+\.\d{3}$/);
    await page.screenshot({ path: join(SHOTS, 'embed.png'), fullPage: true });

    // an error is shown as the API's message
    await page.getByRole('tab', { name: 'Fill mask' }).click();
    await page.locator('#fill-mask-text').fill('no mask here');
    await page.locator('#panel-fill-mask').getByRole('button', { name: 'Predict' }).click();
    await expectText(page, '#panel-fill-mask .answer [role=alert]', /^422 no_mask: inputs: the text has no \[MASK\] token/);
    expect(foreign).toEqual([]);
    await page.close();
  });

  test('keyboard: arrow keys, Home and End move between tabs (one tab stop); fields have labels', async () => {
    const { page } = await open(server.url);
    const first = page.getByRole('tab', { name: 'Fill mask' });
    await first.waitFor();
    await first.focus();
    await page.keyboard.press('ArrowRight');
    expect(await page.getByRole('tab', { name: 'Classify' }).getAttribute('aria-selected')).toBe('true');
    expect(await page.locator('#panel-classify').isVisible()).toBe(true);
    expect(await page.locator('#panel-fill-mask').isVisible()).toBe(false);
    await page.keyboard.press('End');
    expect(await page.getByRole('tab', { name: 'Embed' }).getAttribute('aria-selected')).toBe('true');
    await page.keyboard.press('ArrowRight'); // wraps around
    expect(await first.getAttribute('aria-selected')).toBe('true');
    expect(await page.locator('[role=tab][tabindex="0"]').count()).toBe(1);
    // every form control has a label
    const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea')]
      .filter((e: any) => !e.labels?.length).map((e: any) => e.id));
    expect(unlabelled).toEqual([]);
    await page.close();
  });

  test('phone width (375 px): nothing overflows sideways', async () => {
    const { page } = await open(server.url, { width: 375, height: 800 });
    await page.getByRole('tab', { name: 'Classify' }).click();
    await page.locator('#panel-classify').getByRole('button', { name: 'Classify' }).click();
    await page.locator('#panel-classify .answer .latency').waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await page.screenshot({ path: join(SHOTS, 'phone-classify.png'), fullPage: true });
    await page.close();
  });

  test('a server with an API key: the page asks for it once, then works; a wrong key is refused', async () => {
    const { page } = await open(keyed.url);
    const field = page.getByLabel(/needs an API key/);
    await field.waitFor();
    await page.screenshot({ path: join(SHOTS, 'api-key.png'), fullPage: true });
    await field.fill('wrong-key');
    await page.getByRole('button', { name: 'Use key' }).click();
    await expectText(page, '#key-error', /refused/);
    await field.fill(KEY);
    await page.getByRole('button', { name: 'Use key' }).click();
    await page.getByRole('tab', { name: 'Fill mask' }).waitFor();
    await expectText(page, '#server-status', /API key in use/);
    expect(await page.locator('#key-section').isVisible()).toBe(false);
    await page.reload(); // kept for the tab (sessionStorage): not asked again
    await page.getByRole('tab', { name: 'Fill mask' }).waitFor();
    await page.locator('#panel-fill-mask').getByRole('button', { name: 'Predict' }).click();
    await page.locator('#panel-fill-mask .answer .latency').waitFor();
    await page.close();
  });
});

async function expectText(page: Page, selector: string, re: RegExp): Promise<void> {
  const loc = page.locator(selector);
  await loc.waitFor();
  await page.waitForFunction(([sel, src]) => new RegExp(src).test(document.querySelector(sel)?.textContent ?? ''), [selector, re.source] as const, { timeout: 30_000 })
    .catch(() => undefined);
  expect(await loc.textContent()).toMatch(re);
}

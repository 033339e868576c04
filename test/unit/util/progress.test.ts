import { createLogger } from '../../../src/util/log.js';
import { formatDuration, Terminal, type TerminalStream } from '../../../src/util/progress.js';

const CLEAR = '\r\x1b[2K';

/** A fake TTY that records every write, and a clock the test moves. */
function fakeTerminal(columns = 200) {
  const writes: string[] = [];
  const stream: TerminalStream = { write: (t: string) => writes.push(t), isTTY: true, columns };
  let now = 0;
  const term = new Terminal(stream, true, () => now);
  return { term, writes, tick: (ms: number) => (now += ms), screen: () => screen(writes.join('')) };
}

/** What a terminal shows: each "\r\x1b[2K" clears the current line, "\n" ends it (colours dropped). */
function screen(out: string): string[] {
  const lines: string[] = [''];
  // eslint-disable-next-line no-control-regex
  for (const part of out.replace(/\x1b\[\d+m/g, '').split(/(\r\x1b\[2K|\n)/)) {
    if (part === CLEAR) lines[lines.length - 1] = '';
    else if (part === '\n') lines.push('');
    else lines[lines.length - 1] += part;
  }
  return lines;
}

describe('progress bars and log lines share the terminal', () => {
  test('a log line clears the bar, is written on its own line, and the bar is redrawn below it', () => {
    const { term, tick, screen } = fakeTerminal();
    const log = createLogger({ json: false, verbose: false, terminal: term });
    const bar = term.bar('pretrain', 40, 'steps');
    tick(1000);
    bar.update(10, { loss: '9.547', 'tok/s': 5914 });
    log.info('eval step 20: val loss 9.1');
    const lines = screen();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\[[\d:.]+\] INFO: eval step 20: val loss 9\.1$/);
    expect(lines[1]).toMatch(/^pretrain \[█{5}░{15}\] 25% \| 10\/40 steps \| 10\.0 steps\/s \| ETA 3s loss=9\.547 tok\/s=5914$/);
    // stop leaves the final state as a line; later logs come below it
    tick(3000);
    bar.update(40, { loss: '8.1' });
    bar.stop();
    log.warn('done');
    const after = screen();
    expect(after.slice(-3)).toEqual([expect.stringMatching(/^pretrain \[█{20}\] 100% \| 40\/40 steps .* ETA 0s loss=8\.1$/), expect.stringMatching(/WARN: done$/), '']);
    for (const line of after) expect(line.includes('pretrain [') && line.includes('INFO')).toBe(false);
  });

  test('JSON logs (--log-json) get the same treatment', () => {
    const { term, tick, screen } = fakeTerminal();
    const log = createLogger({ json: true, verbose: false, terminal: term });
    const bar = term.bar('split', 10, 'MB');
    tick(500);
    bar.update(2.5);
    log.info({ rows: 3 }, 'hello');
    const lines = screen();
    expect(JSON.parse(lines[0])).toMatchObject({ msg: 'hello', rows: 3 });
    expect(lines[1]).toMatch(/^split \[.*\] 25% \| 2\.5\/10 MB \| 5\.0 MB\/s \| ETA 2s$/);
  });

  test('units say what is counted; a "%" bar shows the share and the ETA, not "45/100 %" or "%/s"', () => {
    const { term, tick, screen } = fakeTerminal();
    const pct = term.bar('tokenize', 100, '%');
    tick(2000);
    pct.update(50);
    expect(screen().at(-1)).toMatch(/^tokenize \[█{10}░{10}\] 50% \| ETA 2s$/);
    pct.stop();
    const text = term.bar('tokenize', 100, '% of the text');
    tick(1000);
    text.update(25);
    expect(screen().at(-1)).toMatch(/^tokenize \[█{5}░{15}\] 25% of the text \| ETA \ds$/);
    text.stop();
    const rows = term.bar('augment', 0, 'rows');
    tick(2000);
    rows.update(1200);
    expect(screen().at(-1)).toBe('augment 1200 rows | 600 rows/s');
  });

  test('redraws are throttled, but a log line always redraws; the line never exceeds the terminal width', () => {
    const { term, writes, tick, screen } = fakeTerminal(30);
    const bar = term.bar('preprocess', 1000, 'MB');
    tick(1);
    bar.update(1);
    const n = writes.length;
    bar.update(2); // 0 ms later: not drawn
    expect(writes.length).toBe(n);
    tick(250);
    bar.update(3);
    expect(writes.length).toBe(n + 1);
    for (const line of screen()) expect(line.length).toBeLessThan(30);
    term.writeLog('a line\n');
    expect(screen()).toEqual(['a line', expect.stringMatching(/^preprocess \[/)]);
  });

  test('close() clears the bar before a final error and draws no more', () => {
    const { term, tick, screen } = fakeTerminal();
    const bar = term.bar('export check', 8, 'sentences');
    tick(100);
    bar.update(4);
    term.close();
    term.writeLog('compactlm: error: boom\n');
    bar.update(5);
    bar.stop();
    expect(screen()).toEqual(['compactlm: error: boom', '']);
  });

  test('off a terminal, bars are silent and logs pass through unchanged', () => {
    const writes: string[] = [];
    const term = new Terminal({ write: (t: string) => writes.push(t), isTTY: false }, false);
    const bar = term.bar('x', 10, 'rows');
    bar.update(5);
    term.writeLog('line\n');
    bar.stop();
    expect(writes).toEqual(['line\n']);
  });

  test('formatDuration', () => {
    expect([formatDuration(5), formatDuration(65), formatDuration(3725), formatDuration(Infinity)]).toEqual(['5s', '1m05s', '1h02m', '--']);
  });
});

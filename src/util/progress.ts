import pino from 'pino';

/**
 * Progress bars and log lines sharing stderr. On a terminal the active bar is the last line; a log line first
 * clears it, is written, and the bar is redrawn below it, so the two never end up on one line. Off a terminal (a
 * pipe, a file, CI=1) bars are silent and logs are written as they come (the logs carry the numbers).
 *
 *   const bar = progress('preprocess', sizeBytes / 1e6, 'MB');   // total 0: unknown (count and rate only)
 *   bar.update(doneBytes / 1e6, { rows });
 *   bar.stop();                                                   // leaves the final state as a line
 *
 * A bar's unit says what it counts (rows, MB, steps, sentences). A unit that starts with '%' ('%', '% of the
 * text') is a share of the work: the bar shows "45% of the text" and the ETA, not "45/100 %" and "%/s".
 */
export interface Progress {
  update(done: number, extra?: Record<string, string | number>): void;
  stop(): void;
}

/** Where bars and logs go: stderr, or a fake terminal in tests. */
export interface TerminalStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

const CLEAR_LINE = '\r\x1b[2K';
const BAR_WIDTH = 20;
/** Most redraws per second of a bar (log lines always redraw it at once). */
const FPS = 5;

interface BarState {
  label: string;
  total: number;
  unit: string;
  done: number;
  info: string;
  started: number;
}

/** One terminal: the bars drawn on it (the newest at the bottom) and the log lines written between them. */
export class Terminal {
  private readonly bars: BarState[] = [];
  /** The bar line currently on screen (without a newline), or '' when none is. */
  private drawn = '';
  private lastDraw = -Infinity;
  private closed = false;

  constructor(
    readonly stream: TerminalStream,
    /** Draw bars at all (a TTY and not CI, by default). */
    readonly live: boolean = !!stream.isTTY && !process.env.CI,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Writes log text (whole lines): the bar is cleared first and redrawn below it. */
  writeLog(text: string): void {
    if (!this.drawn) {
      this.stream.write(text);
      return;
    }
    const bar = this.top();
    const line = bar ? this.render(bar) : '';
    this.stream.write(`${CLEAR_LINE}${text}${line}`);
    this.drawn = line;
  }

  /** Clears the bar line and draws no more bars (before a final error message). */
  close(): void {
    if (this.drawn) this.stream.write(CLEAR_LINE);
    this.drawn = '';
    this.closed = true;
  }

  /** A new bar at the bottom of the terminal. */
  bar(label: string, total: number, unit: string): Progress {
    if (!this.live || this.closed) return { update() {}, stop() {} };
    const state: BarState = { label, total: total > 0 ? total : 0, unit, done: 0, info: '', started: this.now() };
    this.bars.push(state);
    let stopped = false;
    return {
      update: (done, extra = {}) => {
        if (stopped) return;
        state.done = done;
        state.info = Object.entries(extra).map(([k, v]) => `${k}=${v}`).join(' ');
        const finished = state.total > 0 && done >= state.total;
        if (finished || this.now() - this.lastDraw >= 1000 / FPS) this.draw();
      },
      stop: () => {
        if (stopped) return;
        stopped = true;
        const i = this.bars.indexOf(state);
        if (i >= 0) this.bars.splice(i, 1);
        if (this.closed) return;
        // The final state stays on screen as an ordinary line; the bar below it (if any) is redrawn.
        const final = this.render(state);
        const next = this.top();
        const line = next ? this.render(next) : '';
        this.stream.write(`${CLEAR_LINE}${final}\n${line}`);
        this.drawn = line;
      },
    };
  }

  private top(): BarState | undefined {
    return this.bars[this.bars.length - 1];
  }

  private draw(): void {
    const bar = this.top();
    if (!bar || this.closed) return;
    const line = this.render(bar);
    this.stream.write(`${CLEAR_LINE}${line}`);
    this.drawn = line;
    this.lastDraw = this.now();
  }

  /** One line (cut to the terminal width so that it never wraps: a wrapped bar could not be cleared). */
  render(b: BarState): string {
    const secs = Math.max((this.now() - b.started) / 1000, 1e-3);
    const rate = b.done / secs;
    const info = b.info ? ` ${b.info}` : '';
    let line: string;
    if (b.total > 0) {
      const frac = Math.min(1, Math.max(0, b.done / b.total));
      const filled = Math.round(frac * BAR_WIDTH);
      const bar = '█'.repeat(filled) + '░'.repeat(BAR_WIDTH - filled);
      const eta = rate > 0 ? formatDuration((b.total - b.done) / rate) : '--';
      const pct = `${Math.floor(100 * frac)}%`;
      line = b.unit.startsWith('%')
        ? `${b.label} [${bar}] ${pct}${b.unit.slice(1)} | ETA ${eta}${info}`
        : `${b.label} [${bar}] ${pct} | ${formatCount(b.done)}/${formatCount(b.total)} ${b.unit} | ${formatRate(rate)} ${b.unit}/s | ETA ${eta}${info}`;
    } else {
      line = `${b.label} ${formatCount(b.done)} ${b.unit} | ${formatRate(rate)} ${b.unit}/s${info}`;
    }
    const width = this.stream.columns;
    return width && width > 1 && line.length > width - 1 ? line.slice(0, width - 1) : line;
  }
}

/** 12 → "12", 3.14159 → "3.1" (MB and other fractional counts). */
export function formatCount(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(1);
}

function formatRate(x: number): string {
  return x >= 100 ? String(Math.round(x)) : x.toFixed(1);
}

/** 5 → "5s", 65 → "1m05s", 3725 → "1h02m". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** stderr through one synchronous writer (nothing lost on exit; retries when a pipe is full). */
function stderrStream(): TerminalStream {
  const sink = pino.destination({ fd: 2, sync: true });
  return {
    write: (text: string) => sink.write(text),
    get isTTY() {
      return process.stderr.isTTY;
    },
    get columns() {
      return process.stderr.columns;
    },
  };
}

let current: Terminal | undefined;

/** The process-wide terminal (stderr) that bars and the logger share. */
export function terminal(): Terminal {
  return (current ??= new Terminal(stderrStream()));
}

/** Replaces the process-wide terminal (tests); returns the previous one. */
export function setTerminal(t: Terminal): Terminal | undefined {
  const previous = current;
  current = t;
  return previous;
}

/** A progress bar on the process-wide terminal: `total` 0 when unknown; `unit` is what `done` counts. */
export function progress(label: string, total: number, unit = 'rows'): Progress {
  return terminal().bar(label, total, unit);
}

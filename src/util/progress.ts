import cliProgress from 'cli-progress';

/**
 * A progress bar with rate and ETA on stderr when it is a terminal; silent otherwise (logs carry the numbers).
 * `total` may be unknown (0) for streams, in which case only the count and rate are shown.
 */
export interface Progress {
  update(done: number, extra?: Record<string, string | number>): void;
  stop(): void;
}

export function progress(label: string, total: number, unit = 'rows'): Progress {
  if (!process.stderr.isTTY || process.env.CI) return { update() {}, stop() {} };
  const format = total > 0
    ? `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | {rate} ${unit}/s | ETA {eta_formatted} {info}`
    : `${label} {value} ${unit} | {rate} ${unit}/s {info}`;
  const bar = new cliProgress.SingleBar(
    { format, stream: process.stderr, hideCursor: true, etaBuffer: 50, fps: 5 },
    cliProgress.Presets.shades_classic,
  );
  const started = Date.now();
  bar.start(total, 0, { rate: '0', info: '' });
  return {
    update(done, extra = {}) {
      const secs = Math.max((Date.now() - started) / 1000, 1e-3);
      const info = Object.entries(extra).map(([k, v]) => `${k}=${v}`).join(' ');
      bar.update(done, { rate: (done / secs).toFixed(1), info });
    },
    stop() {
      bar.stop();
    },
  };
}

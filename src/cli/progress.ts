// A progress bar on stderr for long runs: bytes done, rate and time left. Drawn only on a terminal
// (a log file or a pipe would fill with carriage returns) and only once the work has taken a
// second, so quick runs print nothing.

export interface ProgressStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): unknown;
}

export interface ProgressOptions {
  readonly stream?: ProgressStream;
  readonly now?: () => number;
  /** Milliseconds of work before the bar first appears. */
  readonly delayMs?: number;
  /** Least milliseconds between redraws. */
  readonly intervalMs?: number;
}

export class Progress {
  private readonly stream: ProgressStream;
  private readonly now: () => number;
  private readonly started: number;
  private readonly delayMs: number;
  private readonly intervalMs: number;
  private lastDraw = -Infinity;
  private drawn = false;

  constructor(
    private readonly total: number,
    options: ProgressOptions = {},
  ) {
    this.stream = options.stream ?? process.stderr;
    this.now = options.now ?? (() => performance.now());
    this.started = this.now();
    this.delayMs = options.delayMs ?? 1000;
    this.intervalMs = options.intervalMs ?? 100;
  }

  update(done: number): void {
    if (this.stream.isTTY !== true) return;
    const now = this.now();
    const elapsed = now - this.started;
    if (elapsed < this.delayMs || now - this.lastDraw < this.intervalMs) return;
    this.lastDraw = now;
    this.drawn = true;
    this.stream.write(`\r${this.line(done, elapsed)}\x1b[K`);
  }

  /** Clears the bar, if one was drawn, so later messages start on a clean line. */
  finish(): void {
    if (this.drawn) this.stream.write("\r\x1b[K");
    this.drawn = false;
  }

  /** The bar's text for `done` bytes after `elapsed` milliseconds, fitted to the terminal. */
  line(done: number, elapsed: number): string {
    const fraction = this.total > 0 ? Math.min(done / this.total, 1) : 1;
    const rate = elapsed > 0 ? done / (elapsed / 1000) : 0;
    const left = rate > 0 ? (this.total - done) / rate : Infinity;
    const text = ` ${(fraction * 100).toFixed(0).padStart(3)}%  ${formatBytes(done)} / ${formatBytes(this.total)}  ${formatBytes(rate)}/s  ${formatSeconds(left)} left`;
    const width = Math.max(10, Math.min(40, (this.stream.columns ?? 80) - text.length - 3));
    const filled = Math.round(fraction * width);
    return `[${"#".repeat(filled)}${"-".repeat(width - filled)}]${text}`;
  }
}

export function formatBytes(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const whole = Math.ceil(seconds);
  if (whole < 60) return `${whole}s`;
  const minutes = Math.floor(whole / 60);
  if (minutes < 60) return `${minutes}m${String(whole % 60).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`;
}

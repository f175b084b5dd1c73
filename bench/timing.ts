// Timing helpers shared by every backend and peer library the benchmark measures.

export interface TimingOptions {
  /** Repetitions reported (median and min). */
  readonly reps: number;
  /** Each repetition runs K calls, K chosen so that a repetition lasts at least this long. */
  readonly targetMs: number;
  /** Upper bound on K, so that tiny calls on a fast device cannot queue without end. */
  readonly maxK: number;
}

export interface Timing {
  /** Calls per repetition. */
  readonly k: number;
  /** Milliseconds per call, one value per repetition. */
  readonly perCallMs: readonly number[];
  readonly medianMs: number;
  readonly minMs: number;
}

export interface Timed {
  /** Queues one call; must not wait for the device. */
  readonly call: () => void;
  /** Resolves once all queued work has finished (a readback is ordered after it). */
  readonly sync: () => Promise<void>;
  /** Checks the result of the repetition just timed; runs outside the timed region. */
  readonly verify: () => Promise<void>;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function block(timed: Timed, k: number): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < k; i++) timed.call();
  // The wait is part of the time: it is what makes the K calls real work, not queued promises.
  // It adds one readback latency per repetition, which is negligible because K is chosen so
  // that a repetition lasts at least targetMs; nothing is subtracted.
  await timed.sync();
  return performance.now() - start;
}

/**
 * Times `timed.call` in repetitions of K back-to-back calls, verifying each repetition's result.
 * The first call warms up (pipeline compilation, pool allocation) and is not reported.
 */
export async function timeCalls(timed: Timed, options: TimingOptions): Promise<Timing> {
  const { reps, targetMs, maxK } = options;
  const warm = await block(timed, 1);
  await timed.verify();
  let k = 1;
  // A call that alone takes a second (a software adapter, a big tensor) needs K = 1; skipping
  // calibration there saves a call that can take seconds. The warm-up includes one-off costs
  // (shader or JIT compilation), hence the margin over the target.
  if (warm < Math.max(4 * targetMs, 1000)) {
    for (;;) {
      const elapsed = await block(timed, k);
      if (elapsed >= targetMs || k >= maxK) break;
      // Grow towards the target, at most 64-fold per step while timings are still tiny.
      const guess = Math.ceil((k * 1.25 * targetMs) / Math.max(elapsed, targetMs / 64));
      k = Math.min(maxK, Math.max(k + 1, guess));
    }
  }
  const perCallMs: number[] = [];
  for (let r = 0; r < reps; r++) {
    perCallMs.push((await block(timed, k)) / k);
    await timed.verify();
  }
  return { k, perCallMs, medianMs: median(perCallMs), minMs: Math.min(...perCallMs) };
}

/**
 * Times `once` (which must include its own wait) `calls` times, in microseconds per call. Each
 * result goes to `check` after the clock has stopped, so checking costs no time.
 */
export async function timeEach<T>(
  once: () => Promise<T>,
  check: (result: T) => void,
  calls: number,
  warmup: number,
): Promise<number[]> {
  for (let i = 0; i < warmup; i++) check(await once());
  const us: number[] = [];
  for (let i = 0; i < calls; i++) {
    const start = performance.now();
    const result = await once();
    us.push((performance.now() - start) * 1000);
    check(result);
  }
  return us;
}

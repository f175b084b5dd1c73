// Timing helpers shared by every backend and peer library the benchmark measures.

export interface TimingOptions {
  /** Repetitions reported (median and min). */
  readonly reps: number;
  /** Each repetition runs K calls, K chosen so that a repetition lasts at least this long. */
  readonly targetMs: number;
  /** Upper bound on K, so that tiny calls on a fast device cannot queue without end. */
  readonly maxK: number;
  /**
   * timeRuns only: where single calls are slow, fewer repetitions (never under 3) so that one
   * measurement lasts about this long; and no calibration once one call outlasts targetMs.
   */
  readonly budgetMs?: number;
  /**
   * timeRuns only: false checks the warm-up call's result and the last repetition's, not every
   * repetition's (checking 2^24 elements costs more than timing them). Default true.
   */
  readonly verifyEach?: boolean;
}

/** The fewest repetitions a budget may cut a measurement to. */
export const MIN_REPS = 3;
/** Warm-up calls go on until this much time has passed (one call, if it alone takes longer). */
const WARM_MS = 100;

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

/** What timeRuns times: Timed, where a call may also be asynchronous or need its inputs reset. */
export interface Runner {
  /** One call. A returned promise is awaited before the next call (an asynchronous API). */
  readonly call: () => void | Promise<unknown>;
  /** Resolves once all work queued by the calls has finished; absent: nothing to wait for. */
  readonly sync?: () => Promise<void>;
  /**
   * Restores the inputs before every call, outside the clock: in-place calls overwrite them.
   * With it each call is timed on its own, and the clock stops around the reset.
   */
  readonly reset?: () => void;
  /** Checks the result of the repetition just timed; runs outside the timed region. */
  readonly verify: () => Promise<void>;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function block(timed: Runner, k: number): Promise<number> {
  const { call, sync, reset } = timed;
  if (reset !== undefined) {
    let total = 0;
    for (let i = 0; i < k; i++) {
      reset();
      const start = performance.now();
      const pending = call();
      if (pending instanceof Promise) await pending;
      if (sync !== undefined) await sync();
      total += performance.now() - start;
    }
    return total;
  }
  const start = performance.now();
  for (let i = 0; i < k; i++) {
    const pending = call();
    if (pending instanceof Promise) await pending;
  }
  // The wait is part of the time: it is what makes the K calls real work, not queued promises.
  // It adds one readback latency per repetition, which is negligible because K is chosen so
  // that a repetition lasts at least targetMs; nothing is subtracted.
  if (sync !== undefined) await sync();
  return performance.now() - start;
}

/**
 * Times `timed.call` in repetitions of K back-to-back calls, verifying each repetition's result.
 * The first calls warm up (pipeline and JIT compilation, pool allocation) and are not reported.
 */
export function timeCalls(timed: Timed, options: TimingOptions): Promise<Timing> {
  return timeRuns(timed, options);
}

/**
 * timeCalls for any Runner: calls that return promises are awaited one by one, and calls with a
 * reset are timed one by one, the reset outside the clock.
 */
export async function timeRuns(timed: Runner, options: TimingOptions): Promise<Timing> {
  const { targetMs, maxK, budgetMs } = options;
  let reps = options.reps;
  let warm = await block(timed, 1);
  await timed.verify();
  // More warm-up calls, until WARM_MS have passed in all: V8 runs Wasm on its baseline compiler's
  // code at first and swaps in TurboFan's once that is ready, in the background, so the calls
  // just after the first (a kernel's, or a peer's Wasm function's) can still be the slow code.
  // One warm-up call left those in the timed repetitions of the row timed first with K = 1.
  for (let spent = warm; spent < WARM_MS; spent += warm) warm = await block(timed, 1);
  let k = 1;
  let elapsed = warm;
  // A call that alone takes a second (a software adapter, a big tensor) needs K = 1; skipping
  // calibration there saves a call that can take seconds. The warm-up includes one-off costs
  // (shader or JIT compilation), hence the margin over the target.
  const calibrate = budgetMs === undefined ? warm < Math.max(4 * targetMs, 1000) : warm < targetMs;
  if (calibrate) {
    for (;;) {
      elapsed = await block(timed, k);
      if (elapsed >= targetMs || k >= maxK) break;
      // Grow towards the target, at most 64-fold per step while timings are still tiny.
      const guess = Math.ceil((k * 1.25 * targetMs) / Math.max(elapsed, targetMs / 64));
      k = Math.min(maxK, Math.max(k + 1, guess));
    }
  }
  if (budgetMs !== undefined && elapsed * reps > budgetMs) {
    reps = Math.min(reps, Math.max(MIN_REPS, Math.floor(budgetMs / elapsed)));
  }
  const perCallMs: number[] = [];
  const verifyEach = options.verifyEach ?? true;
  for (let r = 0; r < reps; r++) {
    perCallMs.push((await block(timed, k)) / k);
    if (verifyEach || r === reps - 1) await timed.verify();
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

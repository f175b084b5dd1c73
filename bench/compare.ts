// The side-by-side benchmark: puzzlelib-ts's cpu backend (1 thread and all threads, in place or
// not), the naive JavaScript loop and the peer libraries (bench/peers), for every function and
// direction at each size, against a memory copy of the same data (Float32Array.prototype.set).
// Every output is read back and checked against the float64 reference before its time counts.

import { availableParallelism } from "node:os";
import type { GPUArray, NDArray } from "../src/index.js";
import { ACTIVATIONS, backwardFrom } from "../src/ops/activations.js";
import type { BenchFunction } from "./functions.js";
import {
  Unsupported,
  type Case,
  type CaseData,
  type Direction,
  type Impl,
  type ImplKind,
  type SizeData,
} from "./impl.js";
import { NAIVE_BACKWARD, NAIVE_FORWARD } from "./naive.js";
import {
  backwardReference,
  checkCopy,
  DEFAULT_ARGS,
  DEFAULT_TOLERANCE,
  forwardReference,
  judge,
  sampled,
  sampleIndices,
  uniformData,
  WrongResultError,
  type Tolerance,
} from "./reference.js";
import { timeRuns, type Timing, type TimingOptions } from "./timing.js";

/** Bytes per element: forward reads x and writes y; backward reads g and y (or x), writes dx. */
export const BYTES: Record<Direction, number> = { forward: 8, backward: 12 };
/** The copy reads and writes N float32 values: 8 bytes per element. */
export const COPY_BYTES = 8;

export type Status = "ok" | "fail" | "n/a" | "error";

export interface CompareResult {
  readonly log2: number;
  readonly size: number;
  readonly function: BenchFunction;
  readonly direction: Direction;
  readonly impl: string;
  readonly kind: ImplKind;
  /** ok: checked and timed; fail: a wrong result (not timed); n/a: unsupported; error: threw. */
  readonly status: Status;
  /** Why it failed, short; `detail` has the check's whole message. */
  readonly message?: string;
  readonly detail?: string;
  readonly timing?: Timing;
  readonly nsPerElementMedian?: number;
  readonly nsPerElementMin?: number;
  /** BYTES[direction] per element over the median and the fastest repetition. */
  readonly gbps?: number;
  readonly gbpsBest?: number;
  /**
   * The largest ULP distance from the float64 reference (rounded to float32) over the checked
   * elements, for wrong results too.
   */
  readonly worstUlp?: number;
  /** This time / the fastest peer's time (median); below 1: faster than every peer. */
  vsBestPeer?: number;
  bestPeer?: string;
  /** gbps / the copy's GB/s at this size. */
  readonly copyFraction?: number;
  /** backward: "x" where it recomputes from x instead of reading y. */
  readonly saved?: "x" | "y";
  /** A known numerical deviation, checked at a looser tolerance (given). */
  readonly deviation?: string;
  /** The strict check's failure that made the looser one apply. */
  readonly deviationDetail?: string;
  readonly tolerance?: Tolerance;
  readonly notes?: readonly string[];
}

export interface CopyResult {
  readonly log2: number;
  readonly size: number;
  readonly timing: Timing;
  readonly nsPerElementMedian: number;
  readonly gbps: number;
  readonly gbpsBest: number;
}

export interface SizeReport {
  readonly log2: number;
  readonly size: number;
  readonly copy: CopyResult;
  readonly results: readonly CompareResult[];
}

// ---------------------------------------------------------------------------------------------
// puzzlelib-ts

/**
 * The parts of the library the benchmark uses: its TypeScript sources (under tsx) or the built
 * package (dist/), which main.ts loads.
 */
export type Puzzlelib = Pick<
  typeof import("../src/index.js"),
  "Activation" | "gpuarray" | "NDArray" | "np" | "setBackend"
>;

type SetCpu = (name: "cpu", options?: { threads?: number }) => Promise<void>;

interface CpuInfo {
  threads?: number;
  simd?: boolean;
  fusedMultiplyAdd?: boolean;
  sharedMemory?: boolean;
}

/** What the current backend says of itself (the cpu backend's `info`), if anything. */
function backendInfo(lib: Puzzlelib): CpuInfo | null {
  const probe = lib.gpuarray.zeros([1]);
  const info = (probe.backend as { info?: CpuInfo }).info;
  probe.dispose();
  return info === undefined ? null : { ...info };
}

function float32(array: NDArray): Float32Array {
  if (!(array.data instanceof Float32Array)) throw new Error("expected float32 data back");
  return array.data;
}

class PuzzlelibImpl implements Impl {
  readonly kind = "puzzlelib" as const;

  constructor(
    private readonly lib: Puzzlelib,
    readonly id: string,
    readonly description: string,
    private readonly threads: number | null,
    private readonly inplace: boolean,
  ) {}

  async begin(): Promise<void> {
    // The cpu backend is one object that setBackend reconfigures: the thread count in force when
    // a kernel runs is the last one set, so each variant sets its own before its cases.
    const setCpu = this.lib.setBackend as SetCpu;
    if (this.threads === null) await setCpu("cpu");
    else await setCpu("cpu", { threads: this.threads });
  }

  async prepare(fn: BenchFunction, direction: Direction, data: CaseData): Promise<Case> {
    const { gpuarray, NDArray, Activation } = this.lib;
    if (this.inplace && backwardFrom(ACTIVATIONS[fn], data.args) === "x") {
      throw new Unsupported(`${fn} has no in-place form: its backward reads x`);
    }
    const owned: GPUArray[] = [];
    const keep = (array: GPUArray) => (owned.push(array), array);
    const upload = (host: Float32Array) =>
      keep(gpuarray.toGpu(new NDArray(host, [host.length], "float32")));
    const x = upload(data.x);
    const act = new Activation(fn, { args: data.args, inplace: this.inplace });
    let last: GPUArray | null = null;
    const read = async () => float32(await last!.get());
    const dispose = () => {
      if (last !== null && !owned.includes(last)) last.dispose();
      act.data?.dispose();
      for (const array of owned) array.dispose();
    };

    if (!this.inplace) {
      // As a model that does not keep its outputs: the module writes each call's output into the
      // memory of the last one, and disposing the previous (now stale) handle does nothing.
      const sentinel = keep(gpuarray.zeros([1]));
      const sync = async () => void (await sentinel.get());
      if (direction === "forward") {
        return {
          call: () => {
            const out = act.forward(x);
            last?.dispose();
            last = out;
          },
          sync,
          read,
          dispose,
        };
      }
      const y = act.forward(x);
      const yHost = float32(await y.get());
      const g = upload(data.g);
      return {
        call: () => {
          const out = act.backward(g)!;
          last?.dispose();
          last = out;
        },
        sync,
        read,
        y: yHost,
        dispose,
      };
    }

    // In place: the call overwrites its input, restored before each call outside the clock.
    // The cpu backend computes before a call returns (large kernels wait for their threads),
    // so there is nothing to wait for after the call.
    const backend = x.backend;
    if (direction === "forward") {
      const x0 = upload(data.x);
      return {
        call: () => void (last = act.forward(x)),
        reset: () => backend.copy(x.buffer, x0.buffer),
        read,
        dispose,
      };
    }
    act.forward(x);
    const yHost = float32(await act.data!.get());
    const g = upload(data.g);
    const g0 = upload(data.g);
    return {
      call: () => void (last = act.backward(g)),
      reset: () => backend.copy(g.buffer, g0.buffer),
      read,
      y: yHost,
      dispose,
    };
  }
}

/**
 * The puzzlelib variants this machine can show: 1 thread and all threads (when the backend takes
 * and reports a thread count), each not in place and in place.
 */
export async function puzzlelibImpls(
  lib: Puzzlelib,
  source: string,
  inplace: boolean,
): Promise<{ impls: Impl[]; notes: string[] }> {
  const setCpu = lib.setBackend as SetCpu;
  const notes: string[] = [];
  const cores = availableParallelism();
  const variants: { threads: number | null; label: string; description: string }[] = [];
  const reported: (number | undefined)[] = [];
  let info: CpuInfo | null = null;
  for (const threads of cores > 1 ? [1, cores] : [1]) {
    try {
      await setCpu("cpu", { threads });
      info = backendInfo(lib);
      reported.push(info?.threads);
      variants.push({
        threads,
        label: `puzzlelib-${threads}t`,
        description: `setBackend("cpu", { threads: ${threads} })`,
      });
    } catch (error) {
      notes.push(
        `puzzlelib: setBackend("cpu", { threads: ${threads} }) rejected: ` +
          `${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  if (variants.length === 0) {
    await setCpu("cpu");
    info = backendInfo(lib);
    variants.push({ threads: null, label: "puzzlelib", description: `setBackend("cpu")` });
    notes.push('puzzlelib: measured once, with setBackend("cpu")\'s default threads');
  } else if (variants.length === 2) {
    const [one, all] = reported;
    if (one !== undefined && all !== undefined && one === all) {
      // Asked for more threads, got as many as with one: measuring both would repeat a column.
      variants.pop();
      notes.push(
        `puzzlelib: setBackend("cpu", { threads: ${cores} }) runs ${all} thread(s) here (the ` +
          `backend's info.threads says so: its worker pool did not start), so it is measured once` +
          (source === "src"
            ? `; under tsx the workers may fail to load: try the built package, ` +
              `npm run build && npm run bench -- --lib dist`
            : ""),
      );
    } else if (one === undefined || all === undefined) {
      notes.push(
        "puzzlelib: the cpu backend reports no thread count (no info.threads): the columns say the " +
          "threads asked for, which it may have ignored",
      );
    } else {
      notes.push(
        `puzzlelib: the cpu backend reports ${one} and ${all} threads for the two columns`,
      );
    }
  }
  if (info !== null) {
    const parts = [
      info.simd === undefined ? null : `simd ${info.simd ? "yes" : "no"}`,
      info.fusedMultiplyAdd === undefined
        ? null
        : `fused multiply-add ${info.fusedMultiplyAdd ? "yes" : "no (Node 20 has it with --experimental-wasm-relaxed-simd)"}`,
      info.sharedMemory === undefined ? null : `shared memory ${info.sharedMemory ? "yes" : "no"}`,
    ].filter((p) => p !== null);
    if (parts.length > 0) notes.push(`puzzlelib cpu backend: ${parts.join(", ")}`);
  }
  notes.push(
    "puzzlelib: timed act.forward(x) / act.backward(g), outputs module-owned (reused each call; the stale previous one disposed, a no-op), one readback of a " +
      "1-element array per repetition; -ip: in place (inplace: true), each call timed alone " +
      "with its input restored outside the clock",
  );
  const impls: Impl[] = [];
  for (const v of variants) {
    const description = `${v.description} (${source === "dist" ? "dist/, built" : "src/, tsx"})`;
    impls.push(new PuzzlelibImpl(lib, v.label, description, v.threads, false));
    if (inplace) {
      impls.push(
        new PuzzlelibImpl(lib, `${v.label}-ip`, `${description}, inplace: true`, v.threads, true),
      );
    }
  }
  return { impls, notes };
}

// ---------------------------------------------------------------------------------------------
// The naive loop

export const NAIVE: Impl = {
  id: "naive-js",
  kind: "baseline",
  description: "a plain for loop with Math.exp & co. over Float32Arrays, output preallocated",
  async prepare(fn, direction, data) {
    if (!(fn in NAIVE_FORWARD)) throw new Unsupported("the naive loop covers PuzzleLib's seven");
    const core = fn as keyof typeof NAIVE_FORWARD;
    const out = new Float32Array(data.size);
    const read = async () => out;
    const dispose = () => {};
    if (direction === "forward") {
      const f = NAIVE_FORWARD[core];
      return { call: () => f(data.x, out, data.args), read, dispose };
    }
    const f = NAIVE_BACKWARD[core];
    return { call: () => f(data.g, data.y, out, data.args), read, dispose };
  },
};

// ---------------------------------------------------------------------------------------------
// The suite

export interface CompareOptions extends TimingOptions {
  readonly functions: readonly BenchFunction[];
  readonly directions: readonly Direction[];
}

function message(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0]!;
}

/** A check's failure in a few words: element, value, reference, relative error. */
function shortFailure(text: string): string {
  const match = /element (\d+) is (\S+), the float64 reference says (\S+) \(([^)]*)\)/.exec(text);
  if (match === null) return text;
  const [, i, got, want, inputs] = match;
  const rel = Math.abs(Number(got) - Number(want)) / Math.abs(Number(want));
  const digits = (v: string) => Number(v).toPrecision(8);
  return (
    `element ${i}: ${digits(got!)}, float64 says ${digits(want!)} ` +
    `(rel. error ${rel.toExponential(1)}; ${inputs})`
  );
}

/**
 * The references of one size, shared by every implementation: each function's forward of every
 * element (what a backward reads), and at the checked elements its forward and its backward at
 * that y or, for implementations that recompute from x, at the exact f(x).
 */
class References {
  readonly indices: Uint32Array;
  private readonly ys = new Map<BenchFunction, Float32Array>();
  private readonly sampled = new Map<string, Float32Array>();

  constructor(readonly data: SizeData) {
    this.indices = sampleIndices(data.size);
  }

  caseData(fn: BenchFunction): CaseData {
    const args = DEFAULT_ARGS[fn];
    let y = this.ys.get(fn);
    if (y === undefined) this.ys.set(fn, (y = forwardReference(fn, args, this.data.x)));
    return { ...this.data, fn, args, y };
  }

  /** The expected output of a case at the checked elements. */
  expected(data: CaseData, direction: Direction, c: Case): Float32Array {
    const { fn, args, g, x } = data;
    const fromX = direction === "backward" && c.saved === "x";
    // A case that read its own forward output has a reference of its own.
    if (direction === "backward" && !fromX && c.y !== undefined) {
      return backwardReference(fn, args, g, x, c.y, this.indices);
    }
    const key = `${fn}/${direction}/${fromX ? "x" : "y"}`;
    let want = this.sampled.get(key);
    if (want === undefined) {
      want =
        direction === "forward"
          ? sampled(data.y, this.indices)
          : backwardReference(fn, args, g, x, fromX ? null : data.y, this.indices);
      this.sampled.set(key, want);
    }
    return want;
  }
}

/**
 * Checks a case's output against `want`, strictly and at a peer's declared looser tolerance;
 * returns the worst ULP. A result within the looser one only adds the strict failure to
 * `deviations`.
 */
async function verify(
  c: Case,
  data: CaseData,
  direction: Direction,
  want: Float32Array,
  indices: Uint32Array,
  what: string,
  deviations: Set<string>,
): Promise<number> {
  const out = await c.read();
  const y = c.y ?? data.y;
  const inputs =
    direction === "forward"
      ? (i: number) => `x = ${data.x[i]}`
      : (i: number) => `g = ${data.g[i]}, x = ${data.x[i]}, y = ${y[i]}`;
  const tolerances = [DEFAULT_TOLERANCE, ...(c.tolerance === undefined ? [] : [c.tolerance])];
  const { worstUlp, failures } = judge(out, want, indices, what, tolerances, inputs);
  const [strict, loose] = failures;
  if (strict != null) {
    if (c.tolerance === undefined || loose != null) {
      throw new WrongResultError(loose ?? strict, worstUlp);
    }
    deviations.add(strict);
  }
  return worstUlp;
}

async function measureCase(
  impl: Impl,
  fn: BenchFunction,
  direction: Direction,
  refs: References,
  copy: CopyResult,
  options: TimingOptions,
): Promise<CompareResult> {
  const data = refs.caseData(fn);
  const head = {
    log2: data.log2,
    size: data.size,
    function: fn,
    direction,
    impl: impl.id,
    kind: impl.kind,
  };
  let c: Case;
  try {
    c = await impl.prepare(fn, direction, data);
  } catch (error) {
    const status: Status = error instanceof Unsupported ? "n/a" : "error";
    return { ...head, status, message: message(error) };
  }
  const what = `${impl.id} ${fn} ${direction}, 2^${data.log2} elements`;
  const deviations = new Set<string>();
  const extra = {
    ...(c.saved === undefined ? {} : { saved: c.saved }),
    ...(c.notes === undefined ? {} : { notes: c.notes }),
  };
  let worstUlp = 0;
  try {
    const want = refs.expected(data, direction, c);
    const timing = await timeRuns(
      {
        call: c.call,
        ...(c.sync ? { sync: c.sync } : {}),
        ...(c.reset ? { reset: c.reset } : {}),
        verify: async () => {
          const ulp = await verify(c, data, direction, want, refs.indices, what, deviations);
          worstUlp = Math.max(worstUlp, ulp);
        },
      },
      options,
    );
    const bytes = data.size * BYTES[direction];
    const gbps = bytes / (timing.medianMs * 1e6);
    return {
      ...head,
      status: "ok",
      timing,
      nsPerElementMedian: (timing.medianMs * 1e6) / data.size,
      nsPerElementMin: (timing.minMs * 1e6) / data.size,
      gbps,
      gbpsBest: bytes / (timing.minMs * 1e6),
      copyFraction: gbps / copy.gbps,
      worstUlp,
      ...extra,
      ...(deviations.size > 0
        ? {
            deviation: c.deviation ?? "a known deviation",
            deviationDetail: shortFailure([...deviations][0]!),
            tolerance: c.tolerance!,
          }
        : {}),
    };
  } catch (error) {
    if (error instanceof WrongResultError) {
      const detail = message(error);
      const ulp = error.worstUlp === undefined ? {} : { worstUlp: error.worstUlp };
      return { ...head, status: "fail", message: shortFailure(detail), detail, ...ulp, ...extra };
    }
    return { ...head, status: "error", message: message(error), ...extra };
  } finally {
    await c.dispose();
  }
}

async function measureCopy(data: SizeData, options: TimingOptions): Promise<CopyResult> {
  const target = new Float32Array(data.size);
  const timing = await timeRuns(
    {
      call: () => target.set(data.x),
      verify: async () => checkCopy(data.x, target, `copy, 2^${data.log2} elements`),
    },
    options,
  );
  return {
    log2: data.log2,
    size: data.size,
    timing,
    nsPerElementMedian: (timing.medianMs * 1e6) / data.size,
    gbps: (data.size * COPY_BYTES) / (timing.medianMs * 1e6),
    gbpsBest: (data.size * COPY_BYTES) / (timing.minMs * 1e6),
  };
}

/** Fills in each result's ratio to the fastest peer that passed, per function and direction. */
function rankPeers(results: CompareResult[]): void {
  const best = new Map<string, CompareResult>();
  const key = (r: CompareResult) => `${r.function}/${r.direction}`;
  for (const r of results) {
    if (r.kind !== "peer" || r.status !== "ok") continue;
    const current = best.get(key(r));
    if (current === undefined || r.timing!.medianMs < current.timing!.medianMs) best.set(key(r), r);
  }
  for (const r of results) {
    const peer = best.get(key(r));
    if (peer === undefined || r.status !== "ok") continue;
    r.vsBestPeer = r.timing!.medianMs / peer.timing!.medianMs;
    r.bestPeer = peer.impl;
  }
}

/**
 * Measures every implementation at 2^log2 elements. Peers run first, so that every row can be
 * ranked against the fastest of them. `progress` hears of each implementation as it starts.
 */
export async function compareSize(
  log2: number,
  impls: readonly Impl[],
  options: CompareOptions,
  progress: (text: string) => void,
): Promise<SizeReport> {
  const size = 2 ** log2;
  const data: SizeData = {
    log2,
    size,
    x: uniformData(size, -6, 6, 0x9e3779b9 ^ log2),
    g: uniformData(size, -1, 1, 0x85ebca6b ^ log2),
  };
  const refs = new References(data);
  progress(`2^${log2}: copy`);
  const copy = await measureCopy(data, options);
  const order: ImplKind[] = ["peer", "puzzlelib", "baseline"];
  const sorted = [...impls].sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind));
  const results: CompareResult[] = [];
  for (const impl of sorted) {
    const start = performance.now();
    progress(`2^${log2}: ${impl.id}`);
    try {
      await impl.begin?.(data);
    } catch (error) {
      for (const fn of options.functions) {
        for (const direction of options.directions) {
          results.push({
            log2,
            size,
            function: fn,
            direction,
            impl: impl.id,
            kind: impl.kind,
            status: "error",
            message: message(error),
          });
        }
      }
      continue;
    }
    try {
      for (const fn of options.functions) {
        for (const direction of options.directions) {
          results.push(await measureCase(impl, fn, direction, refs, copy, options));
        }
      }
    } finally {
      await impl.end?.();
    }
    progress(`2^${log2}: ${impl.id} took ${((performance.now() - start) / 1000).toFixed(1)} s`);
  }
  rankPeers(results);
  return { log2, size, copy, results };
}

// Measures puzzlelib-ts's Activation on the current backend (cpu or webgpu): throughput per
// function and direction against a plain buffer copy of the same bytes, and small-tensor latency.

import { Activation, gpuarray, NDArray, type GPUArray } from "../src/index.js";
import type { BenchFunction } from "./functions.js";
import { checkBackward, checkCopy, checkForward, DEFAULT_ARGS, uniformData } from "./reference.js";
import { median, timeCalls, timeEach, type Timing, type TimingOptions } from "./timing.js";

export type Direction = "forward" | "backward" | "copy";

/** Bytes moved per element: forward reads x and writes y; backward reads g and y, writes dx. */
export const BYTES_PER_ELEMENT: Record<Direction, number> = { forward: 8, backward: 12, copy: 8 };

export interface ThroughputResult {
  readonly log2: number;
  readonly size: number;
  readonly function: BenchFunction | "copy";
  readonly direction: Direction;
  readonly bytesPerElement: number;
  readonly timing: Timing;
  /** From the median time per call. */
  readonly gbps: number;
  /** From the fastest repetition. */
  readonly gbpsBest: number;
  /** gbps / the copy's gbps at the same size, in the same run. */
  readonly copyRatio: number;
}

export interface LatencyResult {
  readonly function: BenchFunction | "copy";
  readonly size: number;
  /** One call plus the readback of its result, awaited each time. */
  readonly roundTripMedianUs: number;
  readonly roundTripMinUs: number;
  /** K calls queued back to back, then one readback; per call. */
  readonly queuedMedianUs: number;
  readonly queuedMinUs: number;
}

export interface SuiteOptions extends TimingOptions {
  readonly functions: readonly BenchFunction[];
}

function float32(array: NDArray): Float32Array {
  if (!(array.data instanceof Float32Array)) throw new Error("expected float32 data back");
  return array.data;
}

/**
 * Measures every function and direction on tensors of 2^log2 float32 elements. Calls `emit` with
 * each result as soon as it is known, so that a long run shows progress. Throws the backend's
 * BackendError when the tensor does not fit the device.
 */
export async function measureSize(
  log2: number,
  options: SuiteOptions,
  emit: (result: ThroughputResult) => void,
): Promise<ThroughputResult[]> {
  const size = 2 ** log2;
  // Fail fast, before seconds of data generation, when the device cannot bind a tensor this big.
  gpuarray.empty([size]).dispose();
  const xHost = uniformData(size, -6, 6, 0x9e3779b9 ^ log2);
  const gHost = uniformData(size, -1, 1, 0x85ebca6b ^ log2);
  const results: ThroughputResult[] = [];
  const owned: GPUArray[] = [];
  const keep = (array: GPUArray) => (owned.push(array), array);
  let copyGbps = NaN;
  const record = (fn: BenchFunction | "copy", direction: Direction, timing: Timing) => {
    const bytes = size * BYTES_PER_ELEMENT[direction];
    const gbps = bytes / (timing.medianMs * 1e6);
    if (direction === "copy") copyGbps = gbps;
    const result: ThroughputResult = {
      log2,
      size,
      function: fn,
      direction,
      bytesPerElement: BYTES_PER_ELEMENT[direction],
      timing,
      gbps,
      gbpsBest: bytes / (timing.minMs * 1e6),
      copyRatio: gbps / copyGbps,
    };
    results.push(result);
    emit(result);
  };

  try {
    const x = keep(gpuarray.toGpu(new NDArray(xHost, [size], "float32")));
    const g = keep(gpuarray.toGpu(new NDArray(gHost, [size], "float32")));
    const target = keep(gpuarray.empty([size]));
    // A readback is ordered after all queued work; reading one element keeps its cost tiny.
    const sentinel = keep(gpuarray.zeros([1]));
    const sync = async () => void (await sentinel.get());
    const where = `2^${log2} elements`;

    // The anchor: the device's own buffer-to-buffer copy of the same bytes. There is no public
    // copy API, so this goes through the array's backend object.
    const backend = x.backend;
    const copyTiming = await timeCalls(
      {
        call: () => backend.copy(target.buffer, x.buffer),
        sync,
        verify: async () => checkCopy(xHost, float32(await target.get()), `copy, ${where}`),
      },
      options,
    );
    record("copy", "copy", copyTiming);

    for (const fn of options.functions) {
      const args = DEFAULT_ARGS[fn];
      const act = new Activation(fn, { args });
      // Not in place, as most models call it: each call gets a fresh output and the previous one
      // is disposed right after the next call is queued, so the pool hands the same two buffers
      // back and forth instead of growing.
      let y: GPUArray | null = null;
      const forward = await timeCalls(
        {
          call: () => {
            const out = act.forward(x);
            y?.dispose();
            y = out;
          },
          sync,
          verify: async () =>
            void checkForward(fn, args, xHost, float32(await y!.get()), `${fn} forward, ${where}`),
        },
        options,
      );
      record(fn, "forward", forward);

      // Backward reads act.data, the last forward output, which stays alive from here on.
      const yHost = float32(await act.data!.get());
      let dx: GPUArray | null = null;
      const backward = await timeCalls(
        {
          call: () => {
            const out = act.backward(g)!;
            dx?.dispose();
            dx = out;
          },
          sync,
          verify: async () =>
            void checkBackward(
              fn,
              args,
              gHost,
              { x: xHost, y: yHost },
              float32(await dx!.get()),
              `${fn} backward, ${where}`,
            ),
        },
        options,
      );
      record(fn, "backward", backward);
      (dx as GPUArray | null)?.dispose();
      act.data?.dispose();
      act.reset();
    }
  } finally {
    for (const array of owned) array.dispose();
  }
  return results;
}

/**
 * Per-call latency on a small tensor, where launch and readback overheads dominate: each call
 * awaited with its readback, and calls queued back to back with one readback at the end.
 */
export async function measureLatency(
  size: number,
  calls: number,
  options: SuiteOptions,
): Promise<LatencyResult[]> {
  const xHost = uniformData(size, -6, 6, 12345);
  const x = gpuarray.toGpu(new NDArray(xHost, [size], "float32"));
  const target = gpuarray.empty([size]);
  const sentinel = gpuarray.zeros([1]);
  const sync = async () => void (await sentinel.get());
  const results: LatencyResult[] = [];
  const summarize = (fn: BenchFunction | "copy", roundTrip: number[], queued: Timing) => {
    results.push({
      function: fn,
      size,
      roundTripMedianUs: median(roundTrip),
      roundTripMinUs: Math.min(...roundTrip),
      queuedMedianUs: queued.medianMs * 1000,
      queuedMinUs: queued.minMs * 1000,
    });
  };
  const warmup = Math.min(10, calls);
  try {
    const backend = x.backend;
    const copyOnce = async () => {
      backend.copy(target.buffer, x.buffer);
      return float32(await target.get());
    };
    const copyCheck = (out: Float32Array) => checkCopy(xHost, out, `copy latency`);
    const copyRound = await timeEach(copyOnce, copyCheck, calls, warmup);
    const copyQueued = await timeCalls(
      {
        call: () => backend.copy(target.buffer, x.buffer),
        sync,
        verify: async () => copyCheck(float32(await target.get())),
      },
      options,
    );
    summarize("copy", copyRound, copyQueued);

    for (const fn of options.functions) {
      const args = DEFAULT_ARGS[fn];
      const act = new Activation(fn, { args });
      const what = `${fn} forward latency, ${size} elements`;
      const check = (out: Float32Array) => void checkForward(fn, args, xHost, out, what);
      const roundTrip = await timeEach(
        async () => {
          const y = act.forward(x);
          const out = float32(await y.get());
          y.dispose();
          return out;
        },
        check,
        calls,
        warmup,
      );
      let y: GPUArray | null = null;
      const queued = await timeCalls(
        {
          call: () => {
            const out = act.forward(x);
            y?.dispose();
            y = out;
          },
          sync,
          verify: async () => check(float32(await y!.get())),
        },
        options,
      );
      (y as GPUArray | null)?.dispose();
      summarize(fn, roundTrip, queued);
    }
  } finally {
    for (const array of [x, target, sentinel]) array.dispose();
  }
  return results;
}

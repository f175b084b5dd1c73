// Measures puzzlelib-ts's Activation on the current backend (cpu or webgpu): throughput per
// function and direction against a plain buffer copy of the same bytes, and small-tensor latency.

import { Activation, gpuarray, NDArray, type GPUArray } from "../src/index.js";
import type { BenchFunction } from "./functions.js";
import type { GpuPeer, GpuPeerCase } from "./peers/tfjs-webgpu.js";
import { Unsupported } from "./impl.js";
import {
  checkBackward,
  checkCopy,
  checkForward,
  DEFAULT_ARGS,
  uniformData,
  WrongResultError,
} from "./reference.js";
import { median, timeCalls, timeEach, type Timing, type TimingOptions } from "./timing.js";

export type Direction = "forward" | "backward" | "copy";

/** Bytes moved per element: forward reads x and writes y; backward reads g and y, writes dx. */
export const BYTES_PER_ELEMENT: Record<Direction, number> = { forward: 8, backward: 12, copy: 8 };

/** Who computed a row: this library (and its backend's copy), or a peer by id. */
export const OURS = "puzzlelib-ts";

export interface ThroughputResult {
  readonly impl: string;
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
  /** The worst ULP from the float64 reference over the checked sample; absent for the copy. */
  readonly worstUlp?: number;
  /**
   * ok, or "outside contract": a peer's result beyond 1e-5 relative somewhere (`message` says
   * where); its time is still reported beside its ULP. A wrong result of ours stops the run.
   */
  readonly status: "ok" | "outside contract";
  readonly message?: string;
}

type Accuracy = Pick<ThroughputResult, "worstUlp" | "status" | "message">;

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
  /** WebGPU libraries timed beside ours, forward, on the same input (none on cpu). */
  readonly peers?: readonly GpuPeer[];
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
  const record = (
    fn: BenchFunction | "copy",
    direction: Direction,
    timing: Timing,
    accuracy: Accuracy = { status: "ok" },
    impl = OURS,
  ) => {
    const bytes = size * BYTES_PER_ELEMENT[direction];
    const gbps = bytes / (timing.medianMs * 1e6);
    if (direction === "copy") copyGbps = gbps;
    const result: ThroughputResult = {
      impl,
      log2,
      size,
      function: fn,
      direction,
      bytesPerElement: BYTES_PER_ELEMENT[direction],
      timing,
      gbps,
      gbpsBest: bytes / (timing.minMs * 1e6),
      copyRatio: gbps / copyGbps,
      ...accuracy,
    };
    results.push(result);
    emit(result);
  };

  // A peer that cannot take this size's input sits it out.
  const peers = (options.peers ?? []).filter((peer) => {
    try {
      peer.begin(xHost);
      return true;
    } catch (error) {
      peerFailed(`${peer.id} at 2^${log2}`, error);
      peer.end();
      return false;
    }
  });
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
      let ulp = 0;
      const forward = await timeCalls(
        {
          call: () => {
            const out = act.forward(x);
            y?.dispose();
            y = out;
          },
          sync,
          verify: async () => {
            const got = float32(await y!.get());
            ulp = checkForward(fn, args, xHost, got, `${fn} forward, ${where}`);
          },
        },
        options,
      );
      record(fn, "forward", forward, { worstUlp: ulp, status: "ok" });
      for (const peer of peers) {
        const row = await timePeer(peer, fn, args, xHost, options, where);
        if (row !== null) record(fn, "forward", row.timing, row.accuracy, peer.id);
      }

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
          verify: async () => {
            const got = float32(await dx!.get());
            const at = { x: xHost, y: yHost };
            ulp = checkBackward(fn, args, gHost, at, got, `${fn} backward, ${where}`);
          },
        },
        options,
      );
      record(fn, "backward", backward, { worstUlp: ulp, status: "ok" });
      (dx as GPUArray | null)?.dispose();
      act.data?.dispose();
      act.reset();
    }
  } finally {
    for (const array of owned) array.dispose();
    for (const peer of peers) peer.end();
  }
  return results;
}

/**
 * A peer's forward of fn, timed as ours and checked against the same float64 reference; null
 * where the peer does not have fn. A result outside the contract is timed all the same and
 * reported with its worst ULP and where it first strays.
 */
async function timePeer(
  peer: GpuPeer,
  fn: BenchFunction,
  args: readonly number[],
  xHost: Float32Array,
  options: SuiteOptions,
  where: string,
): Promise<{ timing: Timing; accuracy: Accuracy } | null> {
  let run: GpuPeerCase;
  const what = `${peer.id} ${fn} forward, ${where}`;
  try {
    run = peer.prepare(fn, args);
  } catch (error) {
    if (!(error instanceof Unsupported)) peerFailed(what, error);
    return null;
  }
  let accuracy: Accuracy = { status: "ok" };
  try {
    const timing = await timeCalls(
      {
        call: run.call,
        sync: run.sync,
        verify: async () => {
          const got = await run.read();
          try {
            accuracy = { status: "ok", worstUlp: checkForward(fn, args, xHost, got, what) };
          } catch (error) {
            if (!(error instanceof WrongResultError)) throw error;
            const { worstUlp } = error;
            // Reported beside its time, unlike a wrong result of ours.
            const message = error.message.replace(/ Timings of wrong results .*$/, "");
            accuracy = {
              status: "outside contract",
              message,
              ...(worstUlp === undefined ? {} : { worstUlp }),
            };
          }
        },
      },
      options,
    );
    return { timing, accuracy };
  } catch (error) {
    peerFailed(what, error);
    return null;
  } finally {
    run.dispose();
  }
}

/** A peer's failure costs its row, not the run: it is reported on stderr. */
function peerFailed(what: string, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  console.error(`bench: ${what} not measured: ${message.split("\n")[0]}`);
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

export interface DispatchResult {
  readonly function: BenchFunction;
  readonly size: number;
  /** Calls per repetition. */
  readonly calls: number;
  /** JavaScript time per call: the loop of `calls` forwards, until the last one returns. */
  readonly cpuMedianUs: number;
  readonly cpuMinUs: number;
  /** The same loop and then the wait until the device has done the work, per call. */
  readonly doneMedianUs: number;
  readonly doneMinUs: number;
}

/** Resolves once the device has finished all work queued so far (at once on cpu). */
function deviceDone(backend: object): Promise<void> {
  const gpu = backend as {
    finish?: () => Promise<void>;
    device?: { queue: { onSubmittedWorkDone(): Promise<void> } };
  };
  // finish() submits the backend's open batch first; without one, each call submitted its own.
  if (gpu.finish !== undefined) return gpu.finish();
  return gpu.device?.queue.onSubmittedWorkDone() ?? Promise.resolve();
}

/**
 * What one call costs the calling thread: a user's loop of `calls` relu forwards on a small
 * tensor, each call writing the module's reused output (the previous handle disposed, as a
 * user's loop would), timed until the loop returns and until the device reports the work done
 * (queue.onSubmittedWorkDone).
 */
export async function measureDispatch(
  size: number,
  calls: number,
  reps: number,
): Promise<DispatchResult> {
  const fn: BenchFunction = "relu";
  const args = DEFAULT_ARGS[fn];
  const xHost = uniformData(size, -6, 6, 271828);
  const x = gpuarray.toGpu(new NDArray(xHost, [size], "float32"));
  const act = new Activation(fn, { args });
  let y: GPUArray | null = null;
  const loop = () => {
    for (let i = 0; i < calls; i++) {
      const out = act.forward(x);
      y?.dispose();
      y = out;
    }
  };
  const cpu: number[] = [];
  const done: number[] = [];
  try {
    // Warm-up: pipelines, pool buffers and bind groups are made here, not in the timed loops.
    loop();
    await deviceDone(x.backend);
    for (let r = 0; r < reps; r++) {
      const start = performance.now();
      loop();
      const returned = performance.now();
      await deviceDone(x.backend);
      const finished = performance.now();
      cpu.push(((returned - start) * 1000) / calls);
      done.push(((finished - start) * 1000) / calls);
    }
    checkForward(fn, args, xHost, float32(await y!.get()), `${fn} dispatch, ${size} elements`);
  } finally {
    (y as GPUArray | null)?.dispose();
    x.dispose();
  }
  return {
    function: fn,
    size,
    calls,
    cpuMedianUs: median(cpu),
    cpuMinUs: Math.min(...cpu),
    doneMedianUs: median(done),
    doneMinUs: Math.min(...done),
  };
}

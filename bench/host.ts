// The host path: float32 data into and out of puzzlelib-ts, next to a plain copy of the same data.
// Per size, four rows, timed one after the other in one process:
//   slice     Float32Array.prototype.slice() of the source: the anchor, a fresh copy;
//   np.array  np.array(float32Array), which must copy (a view of the source is a FAIL);
//   toGpu     gpuarray.toGpu(ndarray) onto the current backend (cpu, or webgpu);
//   get       await gpuArray.get() of a device array holding the source.
// Host results are read in the timed call (one element each, summed into a checksum that is
// reported), and every row's whole result is checked against the source, outside the clock.

import type { GPUArray, NDArray } from "../src/index.js";
import { line, num, printTitles, type Column } from "./report.js";
import { checkCopy, uniformData, WrongResultError } from "./reference.js";
import { timeRuns, type Timing, type TimingOptions } from "./timing.js";

/** The parts of the library the host rows use: its sources, or the built dist/ (compare.ts). */
export type HostLib = Pick<typeof import("../src/index.js"), "np" | "gpuarray" | "NDArray">;

export const HOST_ROWS = ["slice", "np.array", "toGpu", "get"] as const;
export type HostRow = (typeof HOST_ROWS)[number];

/** What each row times, as the table and the JSON name it. */
export const HOST_CALLS: Record<HostRow, string> = {
  slice: "Float32Array.prototype.slice() (anchor)",
  "np.array": "np.array(float32Array)",
  toGpu: "gpuarray.toGpu(ndarray)",
  get: "await gpuArray.get()",
};

/** Bytes counted per element: each row reads N float32 values and writes N. */
export const HOST_BYTES = 8;
/** The goal for np.array of a typed array: at most this many times slice's time. */
export const NP_ARRAY_TARGET = 2;
/** The sizes measured unless --sizes says otherwise (log2); --quick leaves out 2^24. */
export const HOST_SIZES = [10, 20, 24];
export const HOST_QUICK_SIZES = [10, 20];

export type HostStatus = "ok" | "fail" | "error";

export interface HostResult {
  readonly log2: number;
  readonly size: number;
  readonly row: HostRow;
  readonly call: string;
  /** The backend toGpu and get ran on; null for the host-only rows. */
  readonly backend: string | null;
  /** ok: checked and timed; fail: a wrong result or not a copy (not timed); error: threw. */
  readonly status: HostStatus;
  readonly message?: string;
  readonly timing?: Timing;
  readonly nsPerElementMedian?: number;
  readonly nsPerElementMin?: number;
  /** HOST_BYTES per element over the median time. */
  readonly gbps?: number;
  /** Median time / slice's median time at the same size. */
  readonly vsSlice?: number;
  /** np.array only: vsSlice <= NP_ARRAY_TARGET. */
  readonly targetMet?: boolean;
}

export interface HostSizeReport {
  readonly log2: number;
  readonly size: number;
  readonly results: readonly HostResult[];
  /** The sum of the elements the timed calls read, so that no result can go unread. */
  readonly checksum: number;
}

export interface HostReport {
  /** The backend toGpu and get ran on, with how it was chosen. */
  readonly backend: string;
  readonly setup: string;
  readonly sizes: readonly HostSizeReport[];
}

/** Not a copy where a copy is promised: a wrong result, reported as FAIL like one. */
class NotACopy extends WrongResultError {}

function message(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0]!;
}

function float32(array: NDArray, what: string): Float32Array {
  if (array.dtype !== "float32" || !(array.data instanceof Float32Array)) {
    throw new WrongResultError(`${what}: dtype ${array.dtype}, expected float32`);
  }
  if (array.shape.length !== 1 || array.shape[0] !== array.size) {
    throw new WrongResultError(`${what}: shape [${array.shape.join(", ")}], expected 1-d`);
  }
  return array.data;
}

/** Throws unless `copy` is a bit-exact copy of `source` in memory of its own. */
function checkOwnCopy(source: Float32Array, copy: Float32Array, what: string): void {
  if (copy.length !== source.length) {
    throw new WrongResultError(`${what}: ${copy.length} elements, expected ${source.length}`);
  }
  if (copy.buffer === source.buffer) {
    throw new NotACopy(`${what}: shares the source's memory, expected a copy`);
  }
  checkCopy(source, copy, what);
}

/**
 * Measures the four rows at 2^log2 float32 elements. The device rows run on the current backend;
 * `sync` waits for the work queued on it (a 1-element readback, ordered after the uploads).
 */
async function measureHostSize(
  lib: HostLib,
  backend: string,
  log2: number,
  options: TimingOptions,
  progress: (text: string) => void,
): Promise<HostSizeReport> {
  const { np, gpuarray, NDArray } = lib;
  const size = 2 ** log2;
  const source = uniformData(size, -6, 6, 0x27d4eb2f ^ log2);
  const where = `2^${log2} elements`;
  // One element per call, a different one each time, summed: the results are read.
  const mask = size - 1;
  let at = 0;
  let checksum = 0;
  const touch = (data: ArrayLike<number>) => {
    at = (at + 40503) & mask;
    checksum += data[at]!;
  };

  const results: HostResult[] = [];
  let sliceMs = NaN;
  const measure = async (row: HostRow, run: () => Promise<Timing>) => {
    progress(`2^${log2}: host ${row}`);
    const head = {
      log2,
      size,
      row,
      call: HOST_CALLS[row],
      backend: row === "toGpu" || row === "get" ? backend : null,
    };
    try {
      const timing = await run();
      if (row === "slice") sliceMs = timing.medianMs;
      const vsSlice = timing.medianMs / sliceMs;
      results.push({
        ...head,
        status: "ok",
        timing,
        nsPerElementMedian: (timing.medianMs * 1e6) / size,
        nsPerElementMin: (timing.minMs * 1e6) / size,
        gbps: (size * HOST_BYTES) / (timing.medianMs * 1e6),
        vsSlice,
        ...(row === "np.array" ? { targetMet: vsSlice <= NP_ARRAY_TARGET } : {}),
      });
    } catch (error) {
      const status: HostStatus = error instanceof WrongResultError ? "fail" : "error";
      results.push({ ...head, status, message: message(error) });
    }
  };

  // The anchor. Each call's copy is dropped before the next one is made, so that at most one
  // (and the garbage the collector has not taken yet) is alive besides the source.
  let copy: Float32Array | null = null;
  await measure("slice", () =>
    timeRuns(
      {
        call: () => {
          copy = null;
          const out = source.slice();
          touch(out);
          copy = out;
        },
        verify: async () => checkOwnCopy(source, copy!, `slice, ${where}`),
      },
      options,
    ),
  );
  copy = null;

  let host: NDArray | null = null;
  await measure("np.array", () =>
    timeRuns(
      {
        call: () => {
          host = null;
          const out = np.array(source);
          touch(out.data);
          host = out;
        },
        verify: async () => {
          const what = `np.array, ${where}`;
          checkOwnCopy(source, float32(host!, what), what);
        },
      },
      options,
    ),
  );
  host = null;

  // The device rows. The user's ndarray wraps the source (new NDArray does not copy).
  const input = new NDArray(source, [size], "float32");
  const sentinel = gpuarray.zeros([1]);
  const sync = async () => void (await sentinel.get());
  try {
    // As a loop that uploads, uses and frees: the previous array is disposed before the next
    // upload, so one device array of this size is alive at a time.
    let device: GPUArray | null = null;
    await measure("toGpu", () =>
      timeRuns(
        {
          call: () => {
            device?.dispose();
            device = gpuarray.toGpu(input);
          },
          sync,
          verify: async () => {
            const what = `toGpu, ${where}`;
            const array = device!;
            if (array.backend.name !== backend) {
              throw new WrongResultError(`${what}: on ${array.backend.name}, not ${backend}`);
            }
            // A copy: a write to the source after the upload must not show in the device array.
            const first = source[0]!;
            const written = Math.fround(first + 1);
            source[0] = written;
            let data: Float32Array;
            try {
              data = float32(await array.get(), what);
            } finally {
              source[0] = first;
            }
            if (data[0] === written) {
              throw new NotACopy(`${what}: the device array follows writes to its source`);
            }
            checkOwnCopy(source, data, what);
          },
        },
        options,
      ),
    );
    (device as GPUArray | null)?.dispose();
    device = null;

    // The readback of one device array, again and again; each call's host copy is read at one
    // element and dropped before the next.
    let stored: GPUArray | null = null;
    await measure("get", async () => {
      stored = gpuarray.toGpu(input);
      const array = stored;
      let out: NDArray | null = null;
      return timeRuns(
        {
          call: async () => {
            out = null;
            const result = await array.get();
            touch(result.data);
            out = result;
          },
          verify: async () => {
            const what = `get, ${where}`;
            const data = float32(out!, what);
            checkOwnCopy(source, data, what);
            // A host copy of its own each time, not a view of the backend's memory.
            const again = await array.get();
            if (again.data.buffer === data.buffer) {
              throw new NotACopy(`${what}: two calls return the same memory`);
            }
          },
        },
        options,
      );
    });
    (stored as GPUArray | null)?.dispose();
  } finally {
    sentinel.dispose();
  }
  return { log2, size, results, checksum };
}

/** The host rows at each size, on the current backend (the caller sets it). */
export async function measureHost(
  lib: HostLib,
  sizes: readonly number[],
  options: TimingOptions,
  setup: string,
  progress: (text: string) => void,
  emit: (report: HostSizeReport) => void,
): Promise<HostReport> {
  const probe = lib.gpuarray.zeros([1]);
  const backend = probe.backend.name;
  probe.dispose();
  const reports: HostSizeReport[] = [];
  for (const log2 of sizes) {
    const report = await measureHostSize(lib, backend, log2, options, progress);
    reports.push(report);
    emit(report);
  }
  return { backend, setup, sizes: reports };
}

/** Rows of puzzlelib-ts (np.array, toGpu, get) that failed or threw: they fail the run. */
export function hostFailures(report: HostReport | null): HostResult[] {
  if (report === null) return [];
  return report.sizes
    .flatMap((s) => s.results)
    .filter((r) => r.row !== "slice" && r.status !== "ok");
}

// ---------------------------------------------------------------------------------------------
// Printing

type Print = (text: string) => void;

const HOST_COLUMNS: readonly Column[] = [
  { title: "size", width: 5, align: "left" },
  { title: "call", width: 40, align: "left" },
  { title: "backend", width: 7, align: "left" },
  { title: "ns/el med", width: 9 },
  { title: "ns/el min", width: 9 },
  { title: "GB/s", width: 7 },
  { title: "x slice", width: 7 },
  { title: "notes", width: 5, align: "left" },
];

export function printHostHeader(backend: string, setup: string, print: Print): void {
  print("");
  print(
    `host path: float32 data into and out of puzzlelib-ts; toGpu and get on ${backend} (${setup})`,
  );
  print(
    `note: "x slice" = median time / Float32Array.prototype.slice()'s median at the same size; ` +
      `GB/s counts ${HOST_BYTES} B/element (read N floats, write N); np.array's target is ` +
      `<= ${NP_ARRAY_TARGET}x slice`,
  );
  print(
    "note: slice and np.array read one element of each result in the timed call; toGpu " +
      "disposes the previous array before each upload and waits for the backend once per " +
      "repetition (a 1-element readback); get reads one element of each host copy; every " +
      "result is checked against the source (and to be a copy) after its first call and its " +
      "last repetition, outside the clock",
  );
  printTitles(HOST_COLUMNS, print);
}

function hostNotes(r: HostResult): string {
  if (r.status === "fail") return `FAIL: ${r.message}`;
  if (r.status === "error") return `ERROR: ${r.message}`;
  if (r.targetMet !== undefined) {
    return `target <= ${NP_ARRAY_TARGET}x slice: ${r.targetMet ? "met" : "NOT met"}`;
  }
  return "";
}

export function printHostSize(report: HostSizeReport, print: Print): void {
  report.results.forEach((r, i) => {
    print(
      line(HOST_COLUMNS, [
        i === 0 ? `2^${report.log2}` : "",
        r.call,
        r.backend ?? "-",
        num(r.nsPerElementMedian),
        num(r.nsPerElementMin),
        num(r.gbps),
        num(r.vsSlice),
        hostNotes(r),
      ]),
    );
  });
}

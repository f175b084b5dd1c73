// What test/browser.test.ts (Node) asks the page (test/browser/entry.ts) to run, and what the page
// answers. Types only: both sides import it. Every float crosses the boundary as its raw bit
// pattern (float32 as a uint32, float16 as a uint16), so NaN, -0 and infinities arrive exactly.

import type { ActivationName, BackendName } from "../../src/index.js";

export type TestDtype = "float32" | "float16";

/** One activation, forward on x and backward on g (bit patterns of dtype). */
export interface CaseJob {
  /** The backends to run it on (it is skipped on the others). */
  readonly backends: readonly BackendName[];
  readonly name: ActivationName;
  readonly args: readonly number[];
  readonly dtype: TestDtype;
  readonly x: readonly number[];
  readonly g: readonly number[];
}

/** A float32 case with { slc: slice(start, stop, step), inplace: true }. */
export interface SliceJob {
  readonly name: ActivationName;
  readonly args: readonly number[];
  readonly slice: readonly [number | null, number | null, number | null];
  readonly x: readonly number[];
  readonly g: readonly number[];
}

export interface Job {
  readonly cases: readonly CaseJob[];
  readonly sliced: SliceJob;
}

export interface CaseResult {
  readonly y: number[];
  readonly dx: number[];
}

export interface SliceResult extends CaseResult {
  /** forward returned the very GPUArray it was given. */
  readonly forwardInPlace: boolean;
  /** backward returned the very GPUArray it was given, and act.grad is it. */
  readonly backwardInPlace: boolean;
  /** x read back after forward (it is y when in place). */
  readonly xAfter: number[];
}

export interface BackendRun {
  readonly backend: BackendName;
  /** null when setBackend succeeded, else its error message. */
  readonly startError: string | null;
  /** Wall time in the page, setBackend included. */
  readonly ms: number;
  /** getBackend() after setBackend. */
  readonly active: string;
  /** null when everything below ran, else the first error (with its stack). */
  readonly runError: string | null;
  readonly example: { readonly data: string; readonly relu: string } | null;
  /** cases[i] answers job.cases[i]; null where the job skips this backend. */
  readonly cases: (CaseResult | null)[];
  readonly sliced: SliceResult | null;
}

export interface AdapterReport {
  /** navigator.gpu exists. */
  readonly navigatorGpu: boolean;
  /** The adapter's info and features, or null when requestAdapter() gave none. */
  readonly adapter: {
    readonly vendor: string;
    readonly architecture: string;
    readonly device: string;
    readonly description: string;
    readonly features: string[];
  } | null;
  /** Why there is no adapter (an exception message), or null. */
  readonly error: string | null;
}

export interface PageInfo {
  readonly userAgent: string;
  readonly secureContext: boolean;
  readonly gpu: AdapterReport;
}

/** What entry.ts puts on globalThis.puzzlelibBrowserTest. */
export interface BrowserApi {
  /** The page and its WebGPU adapter, before any backend starts. */
  probe(): Promise<PageInfo>;
  /** Every backend in turn; the current backend is cpu again afterwards. */
  run(job: Job): Promise<BackendRun[]>;
}

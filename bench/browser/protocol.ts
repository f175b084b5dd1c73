// What bench/browser/main.ts (Node) asks the page (bench/browser/page.ts) and what it answers.
// Types only: both sides import it.

import type { BenchFunction } from "../functions.js";

export interface TimingJob {
  readonly reps: number;
  readonly targetMs: number;
  readonly maxK: number;
}

export interface PageInfo {
  readonly userAgent: string;
  readonly ortVersions: Readonly<Record<string, string>>;
  readonly adapter: string | null;
}

/** One side of a row: its time per call and how far from the float64 reference it is. */
export interface SideResult {
  /** Calls per repetition. */
  readonly k: number;
  readonly medianMs: number;
  readonly minMs: number;
  readonly worstUlp: number | null;
  /** ok, or "outside contract" (beyond 1e-5 relative somewhere; `message` says where). */
  readonly status: "ok" | "outside contract";
  readonly message?: string;
}

export interface RowResult {
  readonly function: BenchFunction;
  readonly log2: number;
  readonly size: number;
  readonly args: readonly number[];
  /** Ours; null with oursError set when ours failed or was wrong. */
  readonly ours: SideResult | null;
  readonly oursError: string | null;
  /** True when oursError is a wrong result (outside 1e-5 relative), not a failure to run. */
  readonly oursWrong: boolean;
  /** ORT's WebGPU EP; null with ortError set when it did not run. */
  readonly ort: SideResult | null;
  readonly ortError: string | null;
}

export interface BenchApi {
  probe(): Promise<PageInfo>;
  /** The functions ORT has an ONNX graph for (forwardGraph does not throw at DEFAULT_ARGS). */
  ortFunctions(): BenchFunction[];
  /** Creates (and releases) a verbose session of fn, so that its node placement is logged. */
  logPlacement(fn: BenchFunction): Promise<void>;
  /** Makes the inputs of 2^log2 elements on both sides (freeing the previous size's). */
  prepareSize(log2: number): Promise<void>;
  runRow(fn: BenchFunction, timing: TimingJob): Promise<RowResult>;
  release(): Promise<void>;
}

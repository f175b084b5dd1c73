// What the side-by-side benchmark (compare.ts) measures: implementations, each preparing one
// case (function, direction, size) at a time. puzzlelib-ts, the naive loop and every peer library
// are written against this interface.

import type { BenchFunction } from "./functions.js";
import type { Tolerance } from "./reference.js";

export type Direction = "forward" | "backward";

/**
 * peer: another library, the yardstick ("the fastest peer"); puzzlelib: this library; baseline:
 * the naive loop, shown for scale.
 */
export type ImplKind = "peer" | "puzzlelib" | "baseline";

/** The data of one size, shared by every implementation and never written to. */
export interface SizeData {
  readonly log2: number;
  readonly size: number;
  readonly x: Float32Array;
  readonly g: Float32Array;
}

export interface CaseData extends SizeData {
  readonly fn: BenchFunction;
  readonly args: readonly number[];
  /**
   * The float64 forward of x, rounded once to float32: what a backward that reads y is given,
   * unless the implementation keeps its own forward output (then Case.y says which).
   */
  readonly y: Float32Array;
}

export interface Case {
  /** One call. A promise is awaited before the next call. */
  readonly call: () => void | Promise<unknown>;
  /** Resolves once the calls' work is done; absent where calls finish before they return. */
  readonly sync?: () => Promise<void>;
  /** In-place calls: restores the overwritten input before each call, outside the clock. */
  readonly reset?: () => void;
  /** The last call's output, read back (outside the clock). */
  readonly read: () => Promise<ArrayLike<number>>;
  /** backward: the forward output the call reads, when not CaseData.y. */
  readonly y?: ArrayLike<number>;
  /** backward: "x" where it recomputes from the input x rather than reading the output y. */
  readonly saved?: "x" | "y";
  /** A relaxed check for a documented numerical deviation of a peer; `deviation` says why. */
  readonly tolerance?: Tolerance;
  readonly deviation?: string;
  /** Extra notes for this row (the operators used, ...). */
  readonly notes?: readonly string[];
  readonly dispose: () => void | Promise<void>;
}

/**
 * A peer's documented numerical deviation: `text` (its cause and largest error), checked at
 * 1e-5 relative plus 2^log2 absolute.
 */
export function deviation(text: string, log2: number): Pick<Case, "tolerance" | "deviation"> {
  return { tolerance: { rel: 1e-5, abs: 2 ** log2 }, deviation: `${text} (2^${log2} allowed)` };
}

/** Thrown by prepare() for a case an implementation cannot run: reported as "n/a" and why. */
export class Unsupported extends Error {}

export interface Impl {
  /** The short name of its rows and columns. */
  readonly id: string;
  readonly kind: ImplKind;
  /** What it is: library, version, settings. */
  readonly description: string;
  /** Before its cases at one size (switch the library's backend, upload data). */
  begin?(data: SizeData): Promise<void>;
  prepare(fn: BenchFunction, direction: Direction, data: CaseData): Promise<Case>;
  /** After its cases at one size. */
  end?(): Promise<void>;
  /** Once, at the end of the run. */
  close?(): Promise<void>;
}

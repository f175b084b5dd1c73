// The inputs the numpy printing tests (format.test.ts: str, format-repr.test.ts: repr) share.
// The generators mirror the Python ones that produced the expected strings exactly: exact
// integer arithmetic then one correctly rounded division, so both languages get the same doubles.

import type { PrintDType } from "../src/host/format.js";

/** `[f(0), ..., f(n - 1)]`. */
export function range(n: number, f: (i: number) => number): number[] {
  return Array.from({ length: n }, (_, i) => f(i));
}

/** Pseudo-random integers in [-(modulus - 1) / 2, (modulus - 1) / 2] for odd `modulus`. */
export function wave(i: number, modulus: number): number {
  return ((i * 7919 + i * i * 104729) % modulus) - (modulus - 1) / 2;
}

/** Pseudo-random values in [0, 1). */
export function uniform(i: number): number {
  return ((i * i * 104729 + i * 7919) % 1000003) / 1000003;
}

export const POW = [1, 10, 100, 1000, 1e4, 1e5, 1e6];

export interface Case {
  readonly name: string;
  readonly dtype: PrintDType;
  readonly shape: readonly number[];
  readonly values: readonly number[];
  readonly expected: string;
}

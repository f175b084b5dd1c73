// float64 reference formulas, written here independently of the library, and the check every
// timed result must pass before its time counts. A benchmark of wrong answers measures nothing.

import type { BenchFunction } from "./functions.js";

// Each entry takes the args once and returns the formula with them bound: destructuring the args
// per element would cost more than the formula.
type Forward = (a: readonly number[]) => (x: number) => number;
type Backward = (a: readonly number[]) => (g: number, y: number) => number;

// The default args are the tests' (documented in the README); the library uses args as float32
// values, so the reference does too (fround), else leakyRelu's 0.01 would differ in the 8th digit.
export { DEFAULT_ARGS } from "../test/reference/oracles.js";

const FORWARD: Record<BenchFunction, Forward> = {
  sigmoid: () => (x) => 1 / (1 + Math.exp(-x)),
  tanh: () => (x) => Math.tanh(x),
  relu: () => (x) => Math.max(0, x),
  leakyRelu:
    ([alpha = 0]) =>
    (x) =>
      x >= 0 ? x : alpha * x,
  elu:
    ([alpha = 0]) =>
    (x) =>
      x > 0 ? x : alpha * Math.expm1(x),
  softPlus: () => (x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))),
  clip:
    ([lo = 0, hi = 0]) =>
    (x) =>
      Math.min(Math.max(x, lo), hi),
};

const BACKWARD: Record<BenchFunction, Backward> = {
  sigmoid: () => (g, y) => g * y * (1 - y),
  tanh: () => (g, y) => g * (1 - y) * (1 + y),
  relu: () => (g, y) => (y > 0 ? g : 0),
  leakyRelu:
    ([alpha = 0]) =>
    (g, y) =>
      y > 0 ? g : g * alpha,
  elu:
    ([alpha = 0]) =>
    (g, y) =>
      y > 0 ? g : g * (y + alpha),
  softPlus: () => (g, y) => -g * Math.expm1(-y),
  clip:
    ([lo = 0, hi = 0]) =>
    (g, y) =>
      lo < y && y < hi ? g : 0,
};

const REL_TOL = 1e-5;
const ABS_TOL = 1e-30;

/** |got - want| <= rel * |want| + abs. The default is the library's contract. */
export interface Tolerance {
  readonly rel: number;
  readonly abs: number;
}

export const DEFAULT_TOLERANCE: Tolerance = { rel: REL_TOL, abs: ABS_TOL };
// Checking every element of a 2^26 tensor in JavaScript would take longer than timing it; a
// strided sample of this many elements (plus the last one) catches any systematic error.
const MAX_CHECKED = 1 << 21;

export class WrongResultError extends Error {}

function sampleStride(size: number): number {
  return Math.max(1, Math.ceil(size / MAX_CHECKED));
}

function fail(
  what: string,
  i: number,
  got: number,
  want: number,
  inputs: string,
  tol: Tolerance = DEFAULT_TOLERANCE,
): never {
  throw new WrongResultError(
    `${what}: element ${i} is ${got}, the float64 reference says ${want} (${inputs}); ` +
      `tolerance ${tol.rel} relative + ${tol.abs} absolute. Timings of wrong results are not reported.`,
  );
}

function close(got: number, want: number, tol: Tolerance = DEFAULT_TOLERANCE): boolean {
  return Math.abs(got - want) <= tol.rel * Math.abs(want) + tol.abs;
}

/** Calls `visit` with each sampled index: every stride-th element, and the last one. */
function forSampled(size: number, visit: (i: number) => void): void {
  const stride = sampleStride(size);
  for (let i = 0; i < size; i += stride) visit(i);
  if ((size - 1) % stride !== 0) visit(size - 1);
}

/** Throws unless y = f(x) for a sample of elements. */
export function checkForward(
  name: BenchFunction,
  args: readonly number[],
  x: Float32Array,
  y: ArrayLike<number>,
  what: string,
  tol: Tolerance = DEFAULT_TOLERANCE,
): void {
  const f = FORWARD[name](args.map(Math.fround));
  forSampled(x.length, (i) => {
    const want = f(x[i]!);
    if (!close(y[i]!, want, tol)) fail(what, i, y[i]!, want, `x = ${x[i]}`, tol);
  });
}

/** The float64 reference forward of every element, rounded once to float32. */
export function forwardReference(
  name: BenchFunction,
  args: readonly number[],
  x: Float32Array,
): Float32Array {
  const f = FORWARD[name](args.map(Math.fround));
  const y = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = f(x[i]!);
  return y;
}

/** Throws unless dx = f'(g, y) for a sample of elements, y being the float32 forward output. */
export function checkBackward(
  name: BenchFunction,
  args: readonly number[],
  g: Float32Array,
  y: ArrayLike<number>,
  dx: ArrayLike<number>,
  what: string,
  tol: Tolerance = DEFAULT_TOLERANCE,
): void {
  const f = BACKWARD[name](args.map(Math.fround));
  forSampled(g.length, (i) => {
    const want = f(g[i]!, y[i]!);
    if (!close(dx[i]!, want, tol)) fail(what, i, dx[i]!, want, `g = ${g[i]}, y = ${y[i]}`, tol);
  });
}

/** Throws unless a copy equals its source bit for bit on a sample of elements. */
export function checkCopy(source: Float32Array, copy: ArrayLike<number>, what: string): void {
  forSampled(source.length, (i) => {
    if (!Object.is(copy[i], source[i])) fail(what, i, copy[i]!, source[i]!, "a plain copy");
  });
}

/**
 * Deterministic test data without the library's RNG: a xorshift32 stream mapped to [lo, hi).
 * Filling 2^26 elements takes well under a second, where numpy-compatible normals take several.
 */
export function uniformData(size: number, lo: number, hi: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  let s = seed >>> 0 || 1;
  const scale = (hi - lo) / 4294967296;
  for (let i = 0; i < size; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = lo + (s >>> 0) * scale;
  }
  return out;
}

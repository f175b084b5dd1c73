// float64 reference formulas, written here independently of the library, and the check every
// timed result must pass before its time counts. A benchmark of wrong answers measures nothing.

import type { ActivationName } from "../src/index.js";

type Forward = (x: number, a: readonly number[]) => number;
type Backward = (g: number, y: number, a: readonly number[]) => number;

// Default args as the README documents them; the library uses args as float32 values, so the
// reference does too (fround), else leakyRelu's 0.01 would differ in the 8th digit.
export const DEFAULT_ARGS: Record<ActivationName, readonly number[]> = {
  sigmoid: [],
  tanh: [],
  relu: [],
  leakyRelu: [0.01],
  elu: [1],
  softPlus: [],
  clip: [0, 6],
};

const FORWARD: Record<ActivationName, Forward> = {
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  tanh: (x) => Math.tanh(x),
  relu: (x) => Math.max(0, x),
  leakyRelu: (x, [alpha = 0]) => (x >= 0 ? x : alpha * x),
  elu: (x, [alpha = 0]) => (x > 0 ? x : alpha * Math.expm1(x)),
  softPlus: (x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))),
  clip: (x, [lo = 0, hi = 0]) => Math.min(Math.max(x, lo), hi),
};

const BACKWARD: Record<ActivationName, Backward> = {
  sigmoid: (g, y) => g * y * (1 - y),
  tanh: (g, y) => g * (1 - y) * (1 + y),
  relu: (g, y) => (y > 0 ? g : 0),
  leakyRelu: (g, y, [alpha = 0]) => (y > 0 ? g : g * alpha),
  elu: (g, y, [alpha = 0]) => (y > 0 ? g : g * (y + alpha)),
  softPlus: (g, y) => -g * Math.expm1(-y),
  clip: (g, y, [lo = 0, hi = 0]) => (lo < y && y < hi ? g : 0),
};

const REL_TOL = 1e-5;
const ABS_TOL = 1e-30;
// Checking every element of a 2^26 tensor in JavaScript would take longer than timing it; a
// strided sample of this many elements (plus the last one) catches any systematic error.
const MAX_CHECKED = 1 << 21;

export class WrongResultError extends Error {}

function sampleStride(size: number): number {
  return Math.max(1, Math.ceil(size / MAX_CHECKED));
}

function fail(what: string, i: number, got: number, want: number, inputs: string): never {
  throw new WrongResultError(
    `${what}: element ${i} is ${got}, the float64 reference says ${want} (${inputs}); ` +
      `tolerance ${REL_TOL} relative + ${ABS_TOL} absolute. Timings of wrong results are not reported.`,
  );
}

function close(got: number, want: number): boolean {
  return Math.abs(got - want) <= REL_TOL * Math.abs(want) + ABS_TOL;
}

function* sampled(size: number): Generator<number> {
  const stride = sampleStride(size);
  for (let i = 0; i < size; i += stride) yield i;
  if ((size - 1) % stride !== 0) yield size - 1;
}

/** Throws unless y = f(x) for a sample of elements. */
export function checkForward(
  name: ActivationName,
  args: readonly number[],
  x: Float32Array,
  y: ArrayLike<number>,
  what: string,
): void {
  const a = args.map(Math.fround);
  const f = FORWARD[name];
  for (const i of sampled(x.length)) {
    const want = f(x[i]!, a);
    if (!close(y[i]!, want)) fail(what, i, y[i]!, want, `x = ${x[i]}`);
  }
}

/** Throws unless dx = f'(g, y) for a sample of elements, y being the float32 forward output. */
export function checkBackward(
  name: ActivationName,
  args: readonly number[],
  g: Float32Array,
  y: ArrayLike<number>,
  dx: ArrayLike<number>,
  what: string,
): void {
  const a = args.map(Math.fround);
  const f = BACKWARD[name];
  for (const i of sampled(g.length)) {
    const want = f(g[i]!, y[i]!, a);
    if (!close(dx[i]!, want)) fail(what, i, dx[i]!, want, `g = ${g[i]}, y = ${y[i]}`);
  }
}

/** Throws unless a copy equals its source bit for bit on a sample of elements. */
export function checkCopy(source: Float32Array, copy: ArrayLike<number>, what: string): void {
  for (const i of sampled(source.length)) {
    if (!Object.is(copy[i], source[i])) fail(what, i, copy[i]!, source[i]!, "a plain copy");
  }
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

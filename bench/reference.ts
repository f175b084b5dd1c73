// The float64 reference every timed result is checked against before its time counts, and how
// far from it a result is (its worst ULP). A benchmark of wrong answers measures nothing.
//
// The formulas are the tests' oracles (test/reference/), written from the definitions and never
// from the library, at the args exactly as given (the contract). They are bound here once per
// function: the oracles' own dispatch, forward(name, x, args), makes a closure per call, which
// tsx names (keepNames), twenty times the formula's cost over millions of elements.

import * as core from "../test/reference/oracles.js";
import * as extra from "../test/reference/oracles-extra.js";
import type { At } from "../test/reference/oracles-extra.js";
import type { BenchFunction } from "./functions.js";

// The default args are the tests' (documented in the README).
export { DEFAULT_ARGS } from "../test/reference/oracles.js";

/** f(x, ...args) and f'(g, at, ...args): the oracles' signatures, args in order. */
type Forward = (x: number, a: number, b: number) => number;
type Backward = (g: number, at: At, a: number, b: number) => number;

/** From y alone, y at a bound is flat (the oracles' clip gradient, bounds as float32 values). */
const clipGrad: Backward = (g, { y }, lo, hi) =>
  Math.fround(lo) < y && y < Math.fround(hi) ? g : 0;

/** The oracles of oracles.ts's forward() and backward(), case by case (checked by selfTest). */
const ORACLES: Record<BenchFunction, readonly [Forward, Backward]> = {
  sigmoid: [core.sigmoid, (g, { y }) => g * y * (1 - y)],
  tanh: [core.tanh, (g, { y }) => g * (1 - y) * (1 + y)],
  relu: [core.relu, (g, { y }) => (y > 0 ? g : 0)],
  leakyRelu: [core.leakyRelu, (g, { y }, alpha) => (y > 0 ? g : g * alpha)],
  elu: [core.elu, (g, { y }, alpha) => (y > 0 ? g : g * (y + alpha))],
  softPlus: [extra.softPlusBeta, extra.softPlusBetaGrad],
  clip: [core.clip, clipGrad],
  selu: [extra.selu, extra.seluGrad],
  celu: [extra.celu, extra.celuGrad],
  softSign: [extra.softSign, extra.softSignGrad],
  hardSigmoid: [extra.hardSigmoid, extra.hardSigmoidGrad],
  hardTanh: [core.clip, clipGrad],
  relu6: [(x) => core.clip(x, 0, 6), (g, at) => clipGrad(g, at, 0, 6)],
  logSigmoid: [extra.logSigmoid, extra.logSigmoidGrad],
  softShrink: [extra.softShrink, extra.shrinkGrad],
  hardShrink: [extra.hardShrink, extra.shrinkGrad],
  threshold: [extra.threshold, extra.thresholdGrad],
  hardSwish: [extra.hardSwish, extra.hardSwishGrad],
  silu: [extra.silu, extra.siluGrad],
  swish: [extra.silu, extra.siluGrad],
  gelu: [extra.gelu, extra.geluGrad],
  tanhShrink: [extra.tanhShrink, extra.tanhShrinkGrad],
  geluTanh: [extra.geluTanh, extra.geluTanhGrad],
  mish: [extra.mish, extra.mishGrad],
};

/** f at args, bound once. */
function forwardOf(name: BenchFunction, args: readonly number[]): (x: number) => number {
  const [f] = ORACLES[name];
  const [a = NaN, b = NaN] = args;
  return (x) => f(x, a, b);
}

/** f' at args, bound once. */
function backwardOf(name: BenchFunction, args: readonly number[]): (g: number, at: At) => number {
  const [, f] = ORACLES[name];
  const [a = NaN, b = NaN] = args;
  return (g, at) => f(g, at, a, b);
}

/**
 * Throws unless the bound oracles agree with the oracles' own forward() and backward() on a few
 * points: a function whose case changed there must change here too.
 */
export function selfTest(names: readonly BenchFunction[]): void {
  const points = [-7.5, -3, -1.25, -0.5, -1e-3, 0, 2e-3, 0.5, 1.5, 3, 6.5];
  for (const name of names) {
    const args = core.DEFAULT_ARGS[name];
    const f = forwardOf(name, args);
    const d = backwardOf(name, args);
    for (const x of points) {
      const y = Math.fround(core.forward(name, x, args));
      const at = { x, y };
      if (
        !Object.is(f(x), core.forward(name, x, args)) ||
        !Object.is(d(0.75, at), core.backward(name, 0.75, at, args))
      ) {
        throw new Error(
          `bench/reference.ts: the ${name} oracle differs from test/reference's at x = ${x}`,
        );
      }
    }
  }
}

/** |got - want| <= rel * |want| + abs. The default is the library's contract. */
export interface Tolerance {
  readonly rel: number;
  readonly abs: number;
}

export const DEFAULT_TOLERANCE: Tolerance = { rel: 1e-5, abs: 1e-30 };
// Checking every element of a 2^26 tensor in JavaScript would take longer than timing it; a
// strided sample of this many elements (plus the last one) catches any systematic error.
const MAX_CHECKED = 1 << 21;

/** A wrong result; worstUlp, where known, is the result's worst ULP over the whole sample. */
export class WrongResultError extends Error {
  constructor(
    message: string,
    readonly worstUlp?: number,
  ) {
    super(message);
  }
}

/** The indices checked: every stride-th element, and the last one. */
export function sampleIndices(size: number): Uint32Array {
  const stride = Math.max(1, Math.ceil(size / MAX_CHECKED));
  const count = Math.ceil(size / stride);
  const last = (size - 1) % stride === 0 ? [] : [size - 1];
  return Uint32Array.from({ length: count + last.length }, (_, j) =>
    j < count ? j * stride : size - 1,
  );
}

function failure(
  what: string,
  i: number,
  got: number,
  want: number,
  inputs: string,
  tol: Tolerance,
) {
  return (
    `${what}: element ${i} is ${got}, the float64 reference says ${want} (${inputs}); ` +
    `tolerance ${tol.rel} relative + ${tol.abs} absolute. Timings of wrong results are not reported.`
  );
}

/** How a result compares with the reference over the sample. */
export interface Verdict {
  /** The largest ULP distance from the reference rounded to float32 (ulpDistance32). */
  readonly worstUlp: number;
  /** For each tolerance asked, the first element outside it, as a message; null: none. */
  readonly failures: readonly (string | null)[];
}

/**
 * Compares got[indices[j]] with want[j], the float64 reference rounded once to float32 (the
 * tolerances are far wider than that rounding). `inputs(i)` says what element i was computed from.
 */
export function judge(
  got: ArrayLike<number>,
  want: Float32Array,
  indices: Uint32Array,
  what: string,
  tolerances: readonly Tolerance[],
  inputs: (i: number) => string,
): Verdict {
  let worstUlp = 0;
  const failures: (string | null)[] = tolerances.map(() => null);
  for (let j = 0; j < indices.length; j++) {
    const i = indices[j]!;
    const [g, w] = [got[i]!, want[j]!];
    worstUlp = Math.max(worstUlp, core.ulpDistance32(g, w));
    // A plain loop: a closure per element would cost more than the comparison (see above).
    for (let t = 0; t < tolerances.length; t++) {
      const tol = tolerances[t]!;
      if (failures[t] === null && !(Math.abs(g - w) <= tol.rel * Math.abs(w) + tol.abs)) {
        failures[t] = failure(what, i, g, w, inputs(i), tol);
      }
    }
  }
  return { worstUlp, failures };
}

/** The reference forward of every element, rounded once to float32. */
export function forwardReference(
  name: BenchFunction,
  args: readonly number[],
  x: Float32Array,
): Float32Array {
  const f = forwardOf(name, args);
  const y = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = f(x[i]!);
  return y;
}

/**
 * The reference backward at the sampled elements, rounded once to float32: at the forward output
 * y that the implementation read, or, with y null (it recomputes from x), at the exact f(x).
 */
export function backwardReference(
  name: BenchFunction,
  args: readonly number[],
  g: Float32Array,
  x: Float32Array,
  y: ArrayLike<number> | null,
  indices: Uint32Array,
): Float32Array {
  const f = forwardOf(name, args);
  const d = backwardOf(name, args);
  return Float32Array.from(indices, (i) =>
    d(g[i]!, { x: x[i]!, y: y === null ? f(x[i]!) : y[i]! }),
  );
}

/** values at the sampled elements. */
export function sampled(values: ArrayLike<number>, indices: Uint32Array): Float32Array {
  return Float32Array.from(indices, (i) => values[i]!);
}

/** Throws unless y = f(x) for a sample of elements; returns the worst ULP. */
export function checkForward(
  name: BenchFunction,
  args: readonly number[],
  x: Float32Array,
  y: ArrayLike<number>,
  what: string,
): number {
  const indices = sampleIndices(x.length);
  const f = forwardOf(name, args);
  const want = Float32Array.from(indices, (i) => f(x[i]!));
  return passOrThrow(judge(y, want, indices, what, [DEFAULT_TOLERANCE], (i) => `x = ${x[i]}`));
}

/** Throws unless dx = f'(g, at) for a sample of elements, y the float32 forward output read. */
export function checkBackward(
  name: BenchFunction,
  args: readonly number[],
  g: Float32Array,
  at: { readonly x: Float32Array; readonly y: ArrayLike<number> },
  dx: ArrayLike<number>,
  what: string,
): number {
  const indices = sampleIndices(g.length);
  const want = backwardReference(name, args, g, at.x, at.y, indices);
  const inputs = (i: number) => `g = ${g[i]}, x = ${at.x[i]}, y = ${at.y[i]}`;
  return passOrThrow(judge(dx, want, indices, what, [DEFAULT_TOLERANCE], inputs));
}

function passOrThrow(verdict: Verdict): number {
  const failed = verdict.failures[0];
  if (failed != null) throw new WrongResultError(failed, verdict.worstUlp);
  return verdict.worstUlp;
}

/** Throws unless a copy equals its source bit for bit on a sample of elements. */
export function checkCopy(source: Float32Array, copy: ArrayLike<number>, what: string): void {
  for (const i of sampleIndices(source.length)) {
    if (!Object.is(copy[i], source[i])) {
      throw new WrongResultError(
        failure(what, i, copy[i]!, source[i]!, "a plain copy", { rel: 0, abs: 0 }),
      );
    }
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

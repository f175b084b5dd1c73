// Float64 reference implementations ("oracles") of the activation functions and their
// gradients, written from the mathematical definitions only. They must stay independent of the
// code under test: nothing here imports src/ops or src/backends.
//
// Each oracle takes numbers that are exactly representable in the tested dtype (float32 or
// float16 values decoded to doubles) and returns the float64 value of the exact function; tests
// round it with Math.fround or roundToHalf and compare by ULP distance on the bit patterns.

import assert from "node:assert/strict";
import { halfToNumber, numberToHalf } from "../../src/host/float16.js";
import { ACTIVATION_NAMES, type ActivationName } from "../../src/index.js";
import * as extra from "./oracles-extra.js";
import type { At } from "./oracles-extra.js";

export type { At } from "./oracles-extra.js";

// Only the list of names comes from the library, through its public API: a function added to the
// table without an oracle here then fails to type-check (Record<ActName, ...> below).
export type ActName = ActivationName;
export const ACT_NAMES: readonly ActName[] = ACTIVATION_NAMES;

/** The default parameters of each function, as documented by the contract. */
export const DEFAULT_ARGS: Record<ActName, readonly number[]> = {
  sigmoid: [],
  tanh: [],
  relu: [],
  leakyRelu: [0.01],
  elu: [1],
  softPlus: [1, 3.4028234663852886e38],
  clip: [0, 6],
  selu: [],
  celu: [1],
  softSign: [],
  hardSigmoid: [1 / 6, 0.5],
  hardTanh: [-1, 1],
  relu6: [],
  logSigmoid: [],
  softShrink: [0.5],
  hardShrink: [0.5],
  threshold: [0, 0],
  hardSwish: [],
  silu: [1],
  swish: [1],
  gelu: [],
  tanhShrink: [],
  geluTanh: [],
  mish: [],
};

/**
 * The parameters exactly as given (1/6 is 1/6, not its float32 value): the contract is the exact
 * function at the args a user writes, however the library carries them.
 */
function arg(args: readonly number[], index: number, name: ActName): number {
  const value = args[index] ?? DEFAULT_ARGS[name][index];
  if (value === undefined) throw new Error(`${name}: missing arg ${index}`);
  return value;
}

/**
 * sigmoid(x) = 1 / (1 + e^-x), split by sign: for x < 0, e^-x overflows (x < -709 in float64),
 * so use the algebraically equal e^x / (1 + e^x), whose e^x only underflows gracefully. Both
 * branches have relative error of a few double ULPs everywhere, far below a float32 ULP.
 */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x); // NaN falls through here and stays NaN
  return e / (1 + e);
}

/** tanh: Math.tanh is fdlibm's tanh in V8 (< 1 double ULP), odd, and keeps the sign of -0. */
export function tanh(x: number): number {
  return Math.tanh(x);
}

export function relu(x: number): number {
  // Math.max propagates NaN; the sign of relu(-0) is not part of the contract.
  return Math.max(0, x);
}

export function leakyRelu(x: number, alpha: number): number {
  return x >= 0 ? x : alpha * x; // NaN takes the second branch and stays NaN
}

/**
 * elu: alpha * (e^x - 1) for x <= 0 via Math.expm1, because e^x - 1 cancels catastrophically
 * for small |x| (relative error up to 1 for |x| near 1e-16) while expm1 stays accurate.
 */
export function elu(x: number, alpha: number): number {
  return x > 0 ? x : alpha * Math.expm1(x);
}

/**
 * softPlus(x) = ln(1 + e^x) = max(x, 0) + log1p(e^-|x|). The naive form overflows for x > 709
 * and loses all precision for x < -37 (1 + e^x rounds to 1); the stable form never overflows
 * and log1p keeps the tiny tail e^x accurate down to the subnormals.
 */
export function softPlus(x: number): number {
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

export function clip(x: number, lo: number, hi: number): number {
  return Math.min(Math.max(x, lo), hi); // Math.max/min propagate NaN
}

/** The forward oracle f(x) for a function with the given args (defaults where omitted). */
export function forward(name: ActName, x: number, args: readonly number[] = []): number {
  const a = (index: number): number => arg(args, index, name);
  switch (name) {
    case "sigmoid":
      return sigmoid(x);
    case "tanh":
      return tanh(x);
    case "relu":
      return relu(x);
    case "leakyRelu":
      return leakyRelu(x, arg(args, 0, name));
    case "elu":
      return elu(x, arg(args, 0, name));
    case "softPlus":
      return args.length === 0 ? softPlus(x) : extra.softPlusBeta(x, a(0), a(1));
    case "clip":
      return clip(x, a(0), a(1));
    case "selu":
      return extra.selu(x);
    case "celu":
      return extra.celu(x, a(0));
    case "softSign":
      return extra.softSign(x);
    case "hardSigmoid":
      return extra.hardSigmoid(x, a(0), a(1));
    case "hardTanh":
      return clip(x, a(0), a(1));
    case "relu6":
      return clip(x, 0, 6);
    case "logSigmoid":
      return extra.logSigmoid(x);
    case "softShrink":
      return extra.softShrink(x, a(0));
    case "hardShrink":
      return extra.hardShrink(x, a(0));
    case "threshold":
      return extra.threshold(x, a(0), a(1));
    case "hardSwish":
      return extra.hardSwish(x);
    case "silu":
    case "swish":
      return extra.silu(x, a(0));
    case "gelu":
      return extra.gelu(x);
    case "tanhShrink":
      return extra.tanhShrink(x);
    case "geluTanh":
      return extra.geluTanh(x);
    case "mish":
      return extra.mish(x);
  }
}

/**
 * The backward oracle: the input gradient from the incoming gradient g at the point `at`: the
 * forward output y for the functions whose derivative is a function of it, the input x for the
 * others (the library reads the same one). Piecewise derivatives select g (or 0) instead of
 * multiplying by an indicator, so a zero indicator gives exactly 0 even for g = Inf or NaN.
 */
export function backward(name: ActName, g: number, at: At, args: readonly number[] = []): number {
  const a = (index: number): number => arg(args, index, name);
  const { y } = at;
  switch (name) {
    case "sigmoid":
      return g * y * (1 - y);
    case "tanh":
      // (1 - y) * (1 + y) rather than 1 - y^2: near |y| = 1 the factor 1 - |y| is exact.
      return g * (1 - y) * (1 + y);
    case "relu":
      return y > 0 ? g : 0;
    case "leakyRelu":
      return y > 0 ? g : g * arg(args, 0, name);
    case "elu":
      return y > 0 ? g : g * (y + arg(args, 0, name));
    case "softPlus":
      // d/dx ln(1+e^x) = sigmoid(x) = 1 - e^-y; expm1 avoids the cancellation of 1 - e^-y for small y.
      return args.length === 0 ? g * -Math.expm1(-y) : extra.softPlusBetaGrad(g, at, a(0), a(1));
    case "clip":
    case "hardTanh":
      // From y alone, y at a bound is flat: the float32 output holds the bound as a float32, so
      // the bounds are compared as float32 values (x = f32(max) < max gives the same y as x > max).
      return Math.fround(a(0)) < y && y < Math.fround(a(1)) ? g : 0;
    case "relu6":
      return 0 < y && y < 6 ? g : 0;
    case "selu":
      return extra.seluGrad(g, at);
    case "celu":
      return extra.celuGrad(g, at, a(0));
    case "softSign":
      return extra.softSignGrad(g, at);
    case "hardSigmoid":
      return extra.hardSigmoidGrad(g, at, a(0));
    case "logSigmoid":
      return extra.logSigmoidGrad(g, at);
    case "softShrink":
    case "hardShrink":
      return extra.shrinkGrad(g, at);
    case "threshold":
      return extra.thresholdGrad(g, at, a(0));
    case "hardSwish":
      return extra.hardSwishGrad(g, at);
    case "silu":
    case "swish":
      return extra.siluGrad(g, at, a(0));
    case "gelu":
      return extra.geluGrad(g, at);
    case "tanhShrink":
      return extra.tanhShrinkGrad(g, at);
    case "geluTanh":
      return extra.geluTanhGrad(g, at);
    case "mish":
      return extra.mishGrad(g, at);
  }
}

// ---------------------------------------------------------------------------------------------
// Bit-pattern helpers and ULP distances.

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

export function f32Bits(x: number): number {
  F32[0] = x;
  return U32[0]!;
}

export function bitsToF32(bits: number): number {
  U32[0] = bits >>> 0;
  return F32[0]!;
}

export function hex32(x: number): string {
  return "0x" + f32Bits(x).toString(16).padStart(8, "0");
}

export function hex16(bits: number): string {
  return "0x" + (bits & 0xffff).toString(16).padStart(4, "0");
}

/** Maps float32 bits to integers ordered like the values; +0 and -0 both map to 0. */
function ordered32(x: number): number {
  const bits = f32Bits(x);
  return bits & 0x80000000 ? -(bits & 0x7fffffff) : bits;
}

/**
 * ULP distance between two float32 values (given as numbers, each rounded to float32 first):
 * the number of float32 values between them, counted on the ordered bit patterns, so subnormal
 * steps count like any others and +Inf is one step above the largest finite float. NaN is at
 * distance 0 from NaN and Infinity from everything else.
 */
export function ulpDistance32(a: number, b: number): number {
  const nanA = Number.isNaN(a);
  const nanB = Number.isNaN(b);
  if (nanA || nanB) return nanA && nanB ? 0 : Infinity;
  return Math.abs(ordered32(a) - ordered32(b));
}

/** ULP distance between two halves given as raw 16-bit patterns; same rules as ulpDistance32. */
export function ulpDistance16(a: number, b: number): number {
  const nanA = (a & 0x7c00) === 0x7c00 && (a & 0x3ff) !== 0;
  const nanB = (b & 0x7c00) === 0x7c00 && (b & 0x3ff) !== 0;
  if (nanA || nanB) return nanA && nanB ? 0 : Infinity;
  const ordered = (h: number): number => (h & 0x8000 ? -(h & 0x7fff) : h & 0x7fff);
  return Math.abs(ordered(a) - ordered(b));
}

// ---------------------------------------------------------------------------------------------
// Float32 edge values.

export const F32_MIN_SUBNORMAL = 2 ** -149; // 1.4e-45
export const F32_MAX_SUBNORMAL = 2 ** -126 - 2 ** -149;
export const F32_MIN_NORMAL = 2 ** -126;
export const F32_MAX = Math.fround(3.4028235e38);

const EDGE_MAGNITUDES = [
  0,
  F32_MIN_SUBNORMAL,
  F32_MAX_SUBNORMAL,
  F32_MIN_NORMAL,
  1e-7,
  1,
  88.7,
  89,
  100,
  F32_MAX,
  Infinity,
];

/** +-each magnitude, rounded to float32, then NaN: 23 values. */
export const F32_EDGES: readonly number[] = [
  ...EDGE_MAGNITUDES.flatMap((m) => [Math.fround(m), Math.fround(-m)]),
  NaN,
];

// ---------------------------------------------------------------------------------------------
// A seeded PRNG (mulberry32), so every random test reproduces from the seed in its messages.

export interface Rng {
  readonly seed: number;
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [lo, hi], both inclusive. */
  int(lo: number, hi: number): number;
  /** Uniform 32-bit pattern. */
  bits32(): number;
  pick<T>(items: readonly T[]): T;
}

export function makeRng(seed: number): Rng {
  let state = seed >>> 0;
  const bits32 = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const next = (): number => bits32() / 2 ** 32;
  return {
    seed,
    next,
    bits32,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (items) => {
      if (items.length === 0) throw new Error("pick from an empty list");
      return items[Math.floor(next() * items.length)]!;
    },
  };
}

/** The seed of the random tests: NUMERICS_SEED from the environment, or a fixed default. */
export function testSeed(fallback: number): number {
  const fromEnv = Number(process.env["NUMERICS_SEED"]);
  return Number.isSafeInteger(fromEnv) && process.env["NUMERICS_SEED"] !== ""
    ? fromEnv >>> 0
    : fallback;
}

// ---------------------------------------------------------------------------------------------
// Test bookkeeping shared by the numerics suites (no library code involved).

export interface Config {
  readonly name: ActName;
  readonly args: readonly number[];
}

/** Every function with its default args, then the non-default ones. */
export const CONFIGS: readonly Config[] = [
  ...ACT_NAMES.map((name) => ({ name, args: DEFAULT_ARGS[name] })),
  { name: "leakyRelu", args: [0.2] },
  { name: "elu", args: [0.5] },
  { name: "clip", args: [-1, 2.5] },
  { name: "softPlus", args: [0.7, 20] },
  { name: "celu", args: [0.5] },
  { name: "hardSigmoid", args: [0.2, 0.5] },
  { name: "hardTanh", args: [-2, 0.5] },
  { name: "softShrink", args: [1.5] },
  { name: "threshold", args: [0.1, 20] },
  { name: "silu", args: [0.7] },
];

export const label = (c: Config): string => `${c.name}(${c.args.join(", ")})`;
export const fmt32 = (v: number): string => `${v} (${hex32(v)})`;
export const fmt16 = (bits: number): string => `${halfToNumber(bits)} (${hex16(bits)})`;

/** ULP distance that also refuses a non-finite result where the expected value is finite. */
export function err32(got: number, expected64: number): number {
  const e = Math.fround(expected64);
  if (Number.isFinite(e) && !Number.isFinite(got)) return Infinity;
  return ulpDistance32(got, e);
}

export function err16(gotBits: number, expected64: number): number {
  const e = numberToHalf(expected64);
  if ((e & 0x7c00) !== 0x7c00 && (gotBits & 0x7c00) === 0x7c00) return Infinity;
  return ulpDistance16(gotBits, e);
}

/** Collects ULP errors; assert() fails with the count, the worst case and the first failures. */
export class Tally {
  worst = 0;
  worstAt = "(none)";
  count = 0;
  readonly failures: string[] = [];
  failCount = 0;
  constructor(
    readonly what: string,
    readonly tol: number,
  ) {}
  add(ulps: number, where: () => string): void {
    this.count++;
    if (ulps > this.worst || (ulps === this.worst && this.worstAt === "(none)")) {
      this.worst = ulps;
      this.worstAt = where();
    }
    if (ulps > this.tol) {
      this.failCount++;
      if (this.failures.length < 8) this.failures.push(`${where()}: ${ulps} ULP`);
    }
  }
  summary(): string {
    return `${this.what}: worst ${this.worst} ULP over ${this.count} values, at ${this.worstAt}`;
  }
  assert(): void {
    assert.equal(
      this.failCount,
      0,
      `${this.what}: ${this.failCount}/${this.count} values beyond ${this.tol} ULP; ` +
        `worst ${this.worst} ULP at ${this.worstAt}; first failures:\n  ${this.failures.join("\n  ")}`,
    );
  }
}

// Lowers a kernel's IR to plain JavaScript closures (no eval, so it runs under a strict CSP).
// This is the readable reference path: math is done in float64 and rounded once on store.

import {
  topologicalOrder,
  type ComputeOp,
  type Expr,
  type InputName,
  type Kernel,
  type PolynomialOp,
  SCALED_K,
} from "../../ops/ir.js";
import { erfc64 } from "./erfc64.js";

type Lowering = (a: number, b: number, c: number) => number;

// Math.round rounds ties up; IEEE roundTiesToEven (WGSL's round, Wasm's nearest) is wanted.
const roundHalfEven = (a: number): number => {
  const r = Math.round(a);
  return r - a === 0.5 && r % 2 !== 0 ? r - 1 : r;
};

/** floor(log2 m) for m > 0, exact: log2 alone can round up to the next integer just below 2^k. */
const exponentOf = (m: number): number => {
  const e = Math.floor(Math.log2(m));
  return 2 ** e > m ? e - 1 : 2 ** (e + 1) <= m ? e + 1 : e;
};

const isNegative = (v: number): boolean => v < 0 || Object.is(v, -0);

/**
 * p(a) by Horner's scheme in float64, from the leading coefficient, skipping the additions of
 * zero coefficients: the Wasm renderer's f64x2 steps, one for one, so both give the same bits.
 */
export function horner64(coefficients: readonly number[], a: number): number {
  let p = coefficients.at(-1)!;
  for (let i = coefficients.length - 2; i >= 0; i--) {
    p *= a;
    if (coefficients[i] !== 0) p += coefficients[i]!;
  }
  return p;
}

/**
 * polyHi is p rounded to float32 and polyLo the rest, exact in float64: hi + lo is p in both
 * precisions (the "float32" mode rounds lo too, as Wasm does).
 */
const POLYNOMIALS: Record<PolynomialOp, (coefficients: readonly number[]) => Lowering> = {
  polyHi: (coefficients) => (a) => Math.fround(horner64(coefficients, a)),
  polyLo: (coefficients) => (a) => {
    const p = horner64(coefficients, a);
    return p - Math.fround(p);
  },
};

const wordView = new DataView(new ArrayBuffer(8));

/**
 * a * b + c for float32 a, b and c, rounded once to float32, as a fused multiply-add does. The
 * product is exact in float64 (48 significant bits at most) and the sum rounds once there; where
 * it is inexact, its last bit is set, moving it one unit towards the exact sum (rounding to odd,
 * whose 53 bits round to float32's 24, subnormals included, as the exact sum would).
 */
export function fusedMultiplyAddF32(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const v = s - p;
  const lost = p - (s - v) + (c - v);
  if (lost === 0 || !Number.isFinite(s)) return Math.fround(s);
  wordView.setFloat64(0, s);
  const high = wordView.getUint32(0);
  const low = wordView.getUint32(4);
  if ((low & 1) === 0) {
    // s is nonzero: one unit up in magnitude where the exact sum is larger, else one down (an
    // even low word is never all ones, so only the way down can borrow from the high word).
    if (s > 0 === lost > 0) wordView.setUint32(4, low + 1);
    else if (low !== 0) wordView.setUint32(4, low - 1);
    else {
      wordView.setUint32(0, high - 1);
      wordView.setUint32(4, 0xffffffff);
    }
  }
  return Math.fround(wordView.getFloat64(0));
}

/** The JavaScript meaning of every op; booleans are 1 and 0. A missing op is a compile error. */
const LOWERINGS: Record<Exclude<ComputeOp, PolynomialOp>, Lowering> = {
  neg: (a) => -a,
  abs: (a) => Math.abs(a),
  exp: (a) => Math.exp(a),
  expm1: (a) => Math.expm1(a),
  log1p: (a) => Math.log1p(a),
  erfc: (a) => erfc64(a),
  expNear: (a, b) => Math.exp(a - b),
  round: (a) => roundHalfEven(a),
  ldexp: (a, k) => a * 2 ** k,
  ldexpNormal: (a, k) => a * 2 ** k,
  ilogb: (a) => exponentOf(Math.abs(a)),
  // a * b is exact in float64 and so is the scaling (|k| <= 600), as in the Wasm renderer.
  scaledProduct: (a, b, k) => a * b * 2 ** Math.min(Math.max(k, -SCALED_K), SCALED_K),
  add: (a, b) => a + b,
  mulAdd: (a, b, c) => a * b + c,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  copysign: (a, b) => (isNegative(b) ? -Math.abs(a) : Math.abs(a)),
  pmin: (a, b) => (b < a ? b : a),
  pmax: (a, b) => (a < b ? b : a),
  lt: (a, b) => (a < b ? 1 : 0),
  le: (a, b) => (a <= b ? 1 : 0),
  gt: (a, b) => (a > b ? 1 : 0),
  ge: (a, b) => (a >= b ? 1 : 0),
  eq: (a, b) => (a === b ? 1 : 0),
  isnan: (a) => (Number.isNaN(a) ? 1 : 0),
  and: (a, b) => (a !== 0 && b !== 0 ? 1 : 0),
  or: (a, b) => (a !== 0 || b !== 0 ? 1 : 0),
  not: (a) => (a === 0 ? 1 : 0),
  select: (c, a, b) => (c !== 0 ? a : b),
  // Both sides agree where c holds: taking fast there checks that they do (see wasm-renderer tests).
  guard: (c, a, b) => (c !== 0 ? a : b),
};

type Step = (registers: Float64Array) => void;

/**
 * A kernel as a register program: each DAG node owns one register; constants are loaded once,
 * inputs and params per call, and `steps` fill the other registers in dependency order.
 */
export interface JsProgram {
  readonly registers: Float64Array;
  readonly inputRegisters: readonly number[];
  readonly paramRegisters: readonly number[];
  readonly steps: readonly Step[];
  readonly resultRegister: number;
}

/**
 * "float64" is the reference: every op in double precision, one rounding at the store.
 * "float32" rounds every op to float32, as a GPU or Wasm kernel computes; it needs kernels whose
 * exp, expm1, log1p and erfc were expanded to float32 polynomials (src/ops/libm.ts) first, and lets
 * tests check that expansion exhaustively on the CPU. Its mulAdd rounds the product and the sum;
 * "float32-fused" is the same but for mulAdd, rounded once, as Wasm computes it where the cpu
 * backend fuses (cpu-backend.ts).
 */
export type JsPrecision = "float64" | "float32" | "float32-fused";

/** mulAdd in the float32 precisions (other ops are rounded after their float64 value). */
const MUL_ADD_F32: Record<Exclude<JsPrecision, "float64">, Lowering> = {
  float32: (a, b, c) => Math.fround(a * b) + c,
  "float32-fused": fusedMultiplyAddF32,
};

const NEEDS_EXPANSION: ReadonlySet<ComputeOp> = new Set([
  "exp",
  "expm1",
  "log1p",
  "erfc",
  "expNear",
]);

export function compileJs(kernel: Kernel, precision: JsPrecision = "float64"): JsProgram {
  const order = topologicalOrder(kernel.body);
  const registerOf = new Map<Expr, number>(order.map((expr, i) => [expr, i]));
  const registers = new Float64Array(order.length);
  const inputRegisters = kernel.inputs.map(() => -1);
  const paramRegisters = Array.from({ length: kernel.paramCount }, () => -1);
  const steps: Step[] = [];
  order.forEach((expr, dst) => {
    switch (expr.op) {
      case "const":
        registers[dst] = expr.value!;
        return;
      case "input":
        inputRegisters[kernel.inputs.indexOf(expr.input as InputName)] = dst;
        return;
      case "param":
        paramRegisters[expr.index!] = dst;
        return;
      default: {
        if (precision !== "float64" && NEEDS_EXPANSION.has(expr.op)) {
          throw new Error(`float32 JS kernels need ${expr.op} expanded first (src/ops/libm.ts)`);
        }
        const lower =
          expr.op === "polyHi" || expr.op === "polyLo"
            ? POLYNOMIALS[expr.op](expr.coefficients!)
            : expr.op === "mulAdd" && precision !== "float64"
              ? MUL_ADD_F32[precision]
              : LOWERINGS[expr.op];
        const rounded: Lowering =
          precision !== "float64" && expr.kind === "f"
            ? (a, b, c) => Math.fround(lower(a, b, c))
            : lower;
        steps.push(
          makeStep(
            rounded,
            dst,
            expr.operands.map((o) => registerOf.get(o)!),
          ),
        );
      }
    }
  });
  return { registers, inputRegisters, paramRegisters, steps, resultRegister: order.length - 1 };
}

function makeStep(lower: Lowering, dst: number, operands: readonly number[]): Step {
  const [a = 0, b = 0, c = 0] = operands;
  switch (operands.length) {
    case 1:
      return (r) => {
        r[dst] = lower(r[a]!, 0, 0);
      };
    case 2:
      return (r) => {
        r[dst] = lower(r[a]!, r[b]!, 0);
      };
    default:
      return (r) => {
        r[dst] = lower(r[a]!, r[b]!, r[c]!);
      };
  }
}

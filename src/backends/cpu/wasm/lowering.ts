// Lowers an expanded kernel body to Wasm SIMD: four elements per evaluation, one v128 local per
// DAG node, booleans as lane masks (all ones or all zeros). Wasm float arithmetic is IEEE binary32
// with subnormals and round-to-nearest-even, so add/sub/mul/div/nearest map to single
// instructions and agree bit for bit with the JS renderer's "float32" mode (every op rounded to
// binary32). Only ldexp and ilogb need integer code, written without per-lane shift counts (Wasm
// SIMD shifts take one scalar count): exact float multiplications by powers of two move values
// between the subnormal and normal ranges instead.

import { guardRegions } from "../../../ops/guard.js";
import {
  SCALED_K,
  topologicalOrder,
  type ComputeOp,
  type Expr,
  type Kernel,
} from "../../../ops/ir.js";
import { Op, Simd, V128, type FunctionBuilder } from "./encoder.js";

/** Where a node's four lanes live: a local, or a constant materialized at each use. */
export type Value = { readonly local: number } | { readonly constant: number };

/** Pushes one v128; `expr` is the node, for what it holds besides its operands (coefficients). */
type Lowering = (f: FunctionBuilder, operands: readonly Value[], expr?: Expr) => void;

const SIGN = 0x80000000;
const INFINITY_BITS = 0x7f800000;
const SMALLEST_NORMAL = 2 ** -126;
/** Scaling by 2^64 makes every subnormal normal, exactly. */
const UP = 2 ** 64;
const DOWN = 2 ** -64;
const UP_BITS = 64;
const BIAS = 127;
/** 1.5 * 2^23: integers of magnitude below 2^22 added to it are exact, in the low bits. */
const MAGIC = 1.5 * 2 ** 23;

export function push(f: FunctionBuilder, value: Value): void {
  if ("local" in value) f.get(value.local);
  else f.f32x4(value.constant);
}

const operand = (operands: readonly Value[], i: number): Value => {
  const value = operands[i];
  if (value === undefined) throw new Error(`missing operand ${i}`);
  return value;
};

/** Pushes the operands in order, then one SIMD instruction. */
const simple =
  (opcode: number): Lowering =>
  (f, operands) => {
    operands.forEach((value) => push(f, value));
    f.simd(opcode);
  };

/** A fresh v128 local holding what is on top of the stack. */
function save(f: FunctionBuilder): number {
  const local = f.local(V128);
  f.set(local);
  return local;
}

/** A fresh local holding |a|. */
function magnitude(f: FunctionBuilder, a: Value): number {
  push(f, a);
  f.simd(Simd.f32x4Abs);
  return save(f);
}

/** Lanes where |a| is finite and nonzero (false for NaN). */
function finiteNonzero(f: FunctionBuilder, abs: number): void {
  f.get(abs).f32x4(0).simd(Simd.f32x4Gt);
  f.get(abs).f32x4(Infinity).simd(Simd.f32x4Lt);
  f.simd(Simd.and);
}

/**
 * a * 2^k for k in [-126, 127]: kf + 1.5 * 2^23 + 127 is exact and holds kf + 127 in its low
 * mantissa bits; shifted left by 23 they are the bits of 2^kf (the exponent and leading mantissa
 * bit shift out), and one multiplication scales.
 */
const ldexpNormal: Lowering = (f, operands) => {
  const a = operand(operands, 0);
  // 2^k itself (expm1's 2^k - 1) needs no product: 1 * 2^k is exact.
  const one = "constant" in a && a.constant === 1;
  if (!one) push(f, a);
  push(f, operand(operands, 1));
  f.f32x4(MAGIC + BIAS)
    .simd(Simd.f32x4Add)
    .i32(23)
    .simd(Simd.i32x4Shl);
  if (!one) f.simd(Simd.f32x4Mul);
};

/**
 * a * 2^k rounded once. When every lane has -126 <= k <= 127, 2^k is a normal float and one
 * multiplication is exactly ldexp (one rounding, subnormals, overflow, zero, Inf, NaN included);
 * that is the common case, taken when all four lanes allow it (2^k is then built in float
 * arithmetic, cheaper than a float-to-int conversion). Otherwise, per lane:
 * - subnormal a is first scaled up by 2^64 (exact) with k lowered to match, so x is normal;
 * - t = E(x) + k, the result's biased exponent, decides: 1 <= t <= 254: x with its exponent field
 *   replaced (exact); t >= 255: ±Inf; t <= 0 (subnormal or zero result): x with exponent field
 *   t + 64 (normal, as t is clamped to >= -30, which rounds to zero anyway) times 2^-64, the
 *   single rounding step;
 * - zero, Inf and NaN pass through; k is clamped to ±1000 so the integer sums cannot wrap.
 * k must be integer-valued, as the IR requires (exp's k comes from round): it is used as it is.
 */
const ldexp: Lowering = (f, operands) => {
  const a = operand(operands, 0);
  push(f, operand(operands, 1));
  const kf = save(f);
  f.get(kf).f32x4(-126).simd(Simd.f32x4Ge).get(kf).f32x4(127).simd(Simd.f32x4Le).simd(Simd.and);
  f.simd(Simd.i32x4AllTrue).open(Op.if, V128);
  ldexpNormal(f, [a, { local: kf }]);
  f.op(Op.else);
  f.get(kf).simd(Simd.i32x4TruncSatF32x4S);
  const k = save(f);
  const abs = magnitude(f, a);
  f.get(abs).f32x4(SMALLEST_NORMAL).simd(Simd.f32x4Lt);
  const tiny = save(f);
  push(f, a);
  f.f32x4(UP).simd(Simd.f32x4Mul);
  push(f, a);
  f.get(tiny).simd(Simd.bitselect);
  const x = save(f);
  // t = clamp(E(x) + clamp(k) - (tiny ? 64 : 0), -30, 255)
  f.get(k).splat32(-1000).simd(Simd.i32x4MaxS).splat32(1000).simd(Simd.i32x4MinS);
  f.get(tiny).splat32(UP_BITS).simd(Simd.and).simd(Simd.i32x4Sub);
  f.get(x).i32(23).simd(Simd.i32x4ShrU).splat32(0xff).simd(Simd.and).simd(Simd.i32x4Add);
  f.splat32(-30).simd(Simd.i32x4MaxS).splat32(255).simd(Simd.i32x4MinS);
  const t = save(f);
  f.get(t).splat32(1).simd(Simd.i32x4LtS);
  const low = save(f);
  // y: sign and mantissa of x, exponent field t (+64 where the result is subnormal)
  f.get(x).splat32(0x807fffff).simd(Simd.and);
  f.get(t).get(low).splat32(UP_BITS).simd(Simd.and).simd(Simd.i32x4Add);
  f.i32(23).simd(Simd.i32x4Shl).simd(Simd.or);
  const y = save(f);
  // finite nonzero ? (overflow ? ±Inf : (low ? y * 2^-64 : y)) : a
  f.get(x).splat32(SIGN).simd(Simd.and).splat32(INFINITY_BITS).simd(Simd.or);
  f.get(y).f32x4(DOWN).simd(Simd.f32x4Mul);
  f.get(y).get(low).simd(Simd.bitselect);
  f.get(t).splat32(255).simd(Simd.i32x4Eq).simd(Simd.bitselect);
  push(f, a);
  finiteNonzero(f, abs);
  f.simd(Simd.bitselect);
  f.end();
};

/**
 * floor(log2 |a|): the exponent field of |a|, after the same exact 2^64 scaling for subnormals.
 * Outside finite nonzero a it matches the JS renderer: 0 gives -Inf, ±Inf gives +Inf, NaN NaN.
 */
const ilogb: Lowering = (f, operands) => {
  const abs = magnitude(f, operand(operands, 0));
  f.get(abs).f32x4(SMALLEST_NORMAL).simd(Simd.f32x4Lt);
  const tiny = save(f);
  f.get(abs).f32x4(UP).simd(Simd.f32x4Mul).get(abs).get(tiny).simd(Simd.bitselect);
  f.i32(23).simd(Simd.i32x4ShrU);
  f.splat32(BIAS + UP_BITS)
    .splat32(BIAS)
    .get(tiny)
    .simd(Simd.bitselect)
    .simd(Simd.i32x4Sub);
  f.simd(Simd.f32x4ConvertI32x4S);
  f.f32x4(-Infinity).get(abs).get(abs).f32x4(0).simd(Simd.f32x4Eq).simd(Simd.bitselect);
  finiteNonzero(f, abs);
  f.simd(Simd.bitselect);
};

/**
 * copysign as the JS renderer defines it: the sign of b unless b is NaN, which counts as
 * positive. The sign mask is SIGN where b == b.
 */
const copysign: Lowering = (f, operands) => {
  const b = operand(operands, 1);
  push(f, b);
  push(f, operand(operands, 0));
  f.simd(Simd.f32x4Abs);
  push(f, b);
  push(f, b);
  f.simd(Simd.f32x4Eq).splat32(SIGN).simd(Simd.and).simd(Simd.bitselect);
};

const isPositiveZero = (value: Value): boolean =>
  "constant" in value && Object.is(value.constant, 0);

/**
 * select(c, a, b) is bitselect(a, b, c), which V8 lowers to three x64 instructions; with +0
 * (all bits clear) on one side, one and or andnot gives the same bits, for any c: bitselect(a,
 * 0, c) is a & c and bitselect(0, b, c) is b & ~c (a max(x, 0), a gradient kept or
 * zeroed).
 */
const select: Lowering = (f, operands) => {
  const [c, a, b] = [0, 1, 2].map((i) => operand(operands, i)) as [Value, Value, Value];
  if (isPositiveZero(b)) return simple(Simd.and)(f, [a, c]);
  if (isPositiveZero(a)) return simple(Simd.andnot)(f, [b, c]);
  simple(Simd.bitselect)(f, [a, b, c]);
};

/** -|a|: a with its sign bit set, one or where neg of abs is two instructions of three. */
function negatedMagnitude(f: FunctionBuilder, a: Value): void {
  push(f, a);
  f.f32x4(-0).simd(Simd.or);
}

/** i8x16.shuffle lanes: the upper two f32 lanes of the first operand moved to the bottom. */
const UPPER_HALF = [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7];
/** The low two f32 lanes of each operand, side by side (demote leaves two lanes, then zeros). */
const JOIN_HALVES = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];

/**
 * p(a) for a polyHi or polyLo node, in float64 on two f64x2 locals (lanes 0-1, then 2-3): Horner
 * from the leading coefficient, without the additions of zeros, as the JS renderer's horner64.
 * polyHi and polyLo of one polynomial emit the same instructions here, which V8 computes once.
 */
function polynomialHalves(f: FunctionBuilder, a: Value, coefficients: readonly number[]): number[] {
  return [false, true].map((upper) => {
    push(f, a);
    if (upper) {
      push(f, a);
      f.shuffle(UPPER_HALF);
    }
    f.simd(Simd.f64x2PromoteLowF32x4);
    const x = save(f);
    f.f64x2(coefficients.at(-1)!);
    for (let i = coefficients.length - 2; i >= 0; i--) {
      f.get(x).simd(Simd.f64x2Mul);
      if (coefficients[i] !== 0) f.f64x2(coefficients[i]!).simd(Simd.f64x2Add);
    }
    return save(f);
  });
}

/** polyHi: each half's p rounded to float32, the halves joined. */
const polyHi: Lowering = (f, operands, expr) => {
  for (const half of polynomialHalves(f, operand(operands, 0), expr!.coefficients!)) {
    f.get(half).simd(Simd.f32x4DemoteF64x2Zero);
  }
  f.shuffle(JOIN_HALVES);
};

/** polyLo: p minus p rounded to float32 (exact in float64), rounded, the halves joined. */
const polyLo: Lowering = (f, operands, expr) => {
  for (const half of polynomialHalves(f, operand(operands, 0), expr!.coefficients!)) {
    f.get(half).get(half).simd(Simd.f32x4DemoteF64x2Zero).simd(Simd.f64x2PromoteLowF32x4);
    f.simd(Simd.f64x2Sub).simd(Simd.f32x4DemoteF64x2Zero);
  }
  f.shuffle(JOIN_HALVES);
};

/** k + 1.5 * 2^52 + 1023, in float64, holds k + 1023 in its low bits: shifted left by 52, 2^k. */
const MAGIC64 = 1.5 * 2 ** 52 + 1023;

/**
 * scaledProduct(a, b, k) on two f64x2 halves: a b exact, times 2^k built from k + MAGIC64 (k
 * limited to +-SCALED_K, so 2^k is a normal float64 and the product exact), one rounding by
 * demote; the JS renderer's a * b * 2^k. No branch, where ldexp's exact path takes one.
 */
const scaledProduct: Lowering = (f, operands) => {
  push(f, operand(operands, 2));
  f.f32x4(-SCALED_K).simd(Simd.f32x4Pmax).f32x4(SCALED_K).simd(Simd.f32x4Pmin);
  const k: Value = { local: save(f) };
  const promoted = (value: Value, upper: boolean): void => {
    push(f, value);
    if (upper) {
      push(f, value);
      f.shuffle(UPPER_HALF);
    }
    f.simd(Simd.f64x2PromoteLowF32x4);
  };
  for (const upper of [false, true]) {
    promoted(operand(operands, 0), upper);
    promoted(operand(operands, 1), upper);
    f.simd(Simd.f64x2Mul);
    promoted(k, upper);
    f.f64x2(MAGIC64).simd(Simd.f64x2Add).i32(52).simd(Simd.i64x2Shl);
    f.simd(Simd.f64x2Mul).simd(Simd.f32x4DemoteF64x2Zero);
  }
  f.shuffle(JOIN_HALVES);
};

/** mulAdd where the kernel fuses: one instruction, which the caller has found rounds once. */
const fusedMulAdd = simple(Simd.f32x4RelaxedMadd);

/** a * b + c with the product rounded: mulAdd where the kernel does not fuse. */
const separateMulAdd: Lowering = (f, operands) => {
  push(f, operand(operands, 0));
  push(f, operand(operands, 1));
  f.simd(Simd.f32x4Mul);
  push(f, operand(operands, 2));
  f.simd(Simd.f32x4Add);
};

const UNEXPANDED: Lowering = () => {
  throw new Error(
    "exp, expm1, log1p, erfc and expNear must be expanded (src/ops/libm.ts) before Wasm lowering",
  );
};

/** The Wasm SIMD meaning of every op; each pushes one v128. A missing op is a compile error. */
const LOWERINGS: Record<ComputeOp, Lowering> = {
  neg: simple(Simd.f32x4Neg),
  abs: simple(Simd.f32x4Abs),
  exp: UNEXPANDED,
  expm1: UNEXPANDED,
  log1p: UNEXPANDED,
  erfc: UNEXPANDED,
  expNear: UNEXPANDED,
  round: simple(Simd.f32x4Nearest),
  ldexp,
  ldexpNormal,
  ilogb,
  scaledProduct,
  polyHi,
  polyLo,
  add: simple(Simd.f32x4Add),
  mulAdd: separateMulAdd,
  sub: simple(Simd.f32x4Sub),
  mul: simple(Simd.f32x4Mul),
  div: simple(Simd.f32x4Div),
  copysign,
  pmin: simple(Simd.f32x4Pmin),
  pmax: simple(Simd.f32x4Pmax),
  lt: simple(Simd.f32x4Lt),
  le: simple(Simd.f32x4Le),
  gt: simple(Simd.f32x4Gt),
  ge: simple(Simd.f32x4Ge),
  eq: simple(Simd.f32x4Eq),
  isnan: (f, operands) => simple(Simd.f32x4Ne)(f, [operand(operands, 0), operand(operands, 0)]),
  and: simple(Simd.and),
  or: simple(Simd.or),
  not: simple(Simd.not),
  select,
  guard: () => {
    throw new Error("guards are lowered by emitBody, a branch per block of groups");
  },
};

export interface BodyContext {
  /** Pushes the f32x4 value of kernel input `index` (kernel.inputs order) for group `group`. */
  readonly loadInput: (index: number, group: number) => void;
  /** The local holding parameter `index`, splatted. */
  readonly paramLocal: (index: number) => number;
  /**
   * mulAdd as relaxed SIMD's madd, which the caller has found to be fused (one rounding), instead
   * of a product and a sum.
   */
  readonly fusedMultiplyAdd: boolean;
}

/**
 * Emits the body of an expanded kernel for `groups` independent groups of four elements and
 * returns where each group's result is. The groups' code is interleaved op by op: one group's
 * body is a long dependent chain (exp's reduction, polynomial and scaling), so a single group
 * leaves the CPU waiting on latency; independent chains side by side fill those cycles. Every
 * input is loaded before the caller's stores, so out may alias an input.
 *
 * A guard is one branch for all the groups: when every lane of every group holds its condition,
 * only the fast side's own nodes run, else only the exact side's (guardRegions says which nodes
 * are a side's own); a guard that only skips a tail branches again per group inside a mixed
 * block. The sides agree bit for bit where the condition holds, so which lanes take which side
 * does not show in the results.
 */
export function emitBody(
  f: FunctionBuilder,
  kernel: Kernel,
  context: BodyContext,
  groups = 1,
): Value[] {
  const values = Array.from({ length: groups }, () => new Map<Expr, Value>());
  const regions = guardRegions(kernel.body);
  const owned = new Set<Expr>();
  for (const { fast, exact } of regions.values()) {
    for (const expr of [...fast, ...exact]) owned.add(expr);
  }
  const all = values.map((_, group) => group);
  // Each emitter takes the groups it computes: all of them, but for a guard branched per group.
  const emitNode = (expr: Expr, groups: readonly number[]): void => {
    if (expr.op === "guard") return emitGuard(expr, groups);
    for (const group of groups) {
      const groupValues = values[group]!;
      switch (expr.op) {
        case "input":
          context.loadInput(kernel.inputs.indexOf(expr.input!), group);
          groupValues.set(expr, { local: save(f) });
          break;
        case "param":
          groupValues.set(expr, { local: context.paramLocal(expr.index!) });
          break;
        case "const":
          groupValues.set(expr, { constant: expr.value! });
          break;
        default:
          if (expr.op === "neg" && expr.operands[0]!.op === "abs") {
            // The abs node, if nothing else uses it, is dead code that V8 drops.
            negatedMagnitude(f, groupValues.get(expr.operands[0]!.operands[0]!)!);
          } else {
            const lower =
              expr.op === "mulAdd" && context.fusedMultiplyAdd ? fusedMulAdd : LOWERINGS[expr.op];
            lower(
              f,
              expr.operands.map((o) => groupValues.get(o)!),
              expr,
            );
          }
          groupValues.set(expr, { local: save(f) });
      }
    }
  };
  // A region's nodes in dependency order, leaving out those of guards nested in it.
  const emitRegion = (nodes: readonly Expr[], groups: readonly number[]): void => {
    const inner = new Set<Expr>();
    for (const expr of nodes) {
      const nested = regions.get(expr);
      if (nested !== undefined) for (const e of [...nested.fast, ...nested.exact]) inner.add(e);
    }
    for (const expr of nodes) if (!inner.has(expr)) emitNode(expr, groups);
  };
  const emitGuard = (expr: Expr, groups: readonly number[]): void => {
    const { fast, exact } = regions.get(expr)!;
    const [cond, fastValue, exactValue] = expr.operands as [Expr, Expr, Expr];
    const results = new Map(groups.map((group) => [group, f.local(V128)]));
    const side = (region: ReadonlySet<Expr>, result: Expr, branch: readonly number[]): void => {
      emitRegion(
        topologicalOrder(result).filter((e) => region.has(e)),
        branch,
      );
      for (const group of branch) {
        push(f, values[group]!.get(result)!);
        f.set(results.get(group)!);
      }
    };
    const branchOn = (branch: readonly number[], otherwise: () => void): void => {
      branch.forEach((group, i) => {
        push(f, values[group]!.get(cond)!);
        if (i > 0) f.simd(Simd.and);
      });
      f.simd(Simd.i32x4AllTrue).open(Op.if);
      side(fast, fastValue, branch);
      f.op(Op.else);
      otherwise();
      f.end();
    };
    // A guard whose fast side is only shared nodes (a tail skipped where no lane needs it): a
    // block with a rare lane then branches again per group of four, as a group holds one far
    // less often than a block, and the fast side has no work to interleave.
    const perGroup = [...fast].every((e) => e.op === "const") && groups.length > 1;
    branchOn(groups, () => {
      if (!perGroup) return side(exact, exactValue, groups);
      for (const group of groups) branchOn([group], () => side(exact, exactValue, [group]));
    });
    for (const group of groups) values[group]!.set(expr, { local: results.get(group)! });
  };
  emitRegion(
    topologicalOrder(kernel.body).filter((expr) => !owned.has(expr)),
    all,
  );
  return values.map((groupValues) => groupValues.get(kernel.body)!);
}

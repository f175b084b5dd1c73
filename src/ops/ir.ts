// A small typed expression IR for elementwise kernels. Activations are written once in it
// (src/ops/activations.ts); every backend lowers it with a renderer that maps each op to its own
// code, so no backend file names an activation.
//
// Nodes form a DAG: a node used twice (say exp(-|x|) in sigmoid) is one object, and renderers
// evaluate it once per element. Values are floats ("f") or booleans ("b"); the builders below
// only accept the right kinds, so an ill-typed kernel does not compile.

/** The tensors an elementwise kernel can read, per element. */
export type InputName = "x" | "y" | "g";

/** Every operation, with the kinds of its operands and of its result. */
export const OPS = {
  input: { operands: [], result: "f" },
  param: { operands: [], result: "f" },
  const: { operands: [], result: "f" },
  neg: { operands: ["f"], result: "f" },
  abs: { operands: ["f"], result: "f" },
  exp: { operands: ["f"], result: "f" },
  expm1: { operands: ["f"], result: "f" },
  log1p: { operands: ["f"], result: "f" },
  /**
   * e^(a - b) for |a - b| <= 0.4 with a exact and b a small correction (a Cody–Waite remainder
   * and its low part): the float32 expansion keeps a out of every rounding but the last, the
   * float64 (js) renderer computes it as it is.
   */
  expNear: { operands: ["f", "f"], result: "f" },
  /**
   * polyHi(a) and polyLo(a) carry p(a) = sum of c_i a^i, for the node's float64 `coefficients`,
   * past float32: polyHi is p(a) rounded to float32, polyLo what that rounding lost, rounded, so
   * that polyHi + polyLo is p(a) to about 2^-48 relative. For an argument that float32 rounding
   * would amplify (the argument of exp). The CPU renderers evaluate p(a) in float64 by Horner's
   * scheme (Wasm's f64x2 lanes and JS numbers give the same bits); for WGSL, which has no f64,
   * wide.ts expands them into double-float arithmetic. The caller bounds a so that p(a) and
   * every Horner partial stay far inside float32's range (the expansion's splits need it).
   */
  polyHi: { operands: ["f"], result: "f" },
  polyLo: { operands: ["f"], result: "f" },
  /** Complementary error function, 1 - erf(a). */
  erfc: { operands: ["f"], result: "f" },
  /** Nearest integer, ties to even. */
  round: { operands: ["f"], result: "f" },
  /** a * 2^k for an integer-valued k, rounded once (subnormal results included). */
  ldexp: { operands: ["f", "f"], result: "f" },
  /**
   * a * 2^k where the caller guarantees an integer-valued k in [-126, 127] and a normal (or zero)
   * product: one multiplication, which is then exactly ldexp. For guards' fast sides and forms
   * whose k is bounded (expm1 of an argument clamped to [-18, 0]).
   */
  ldexpNormal: { operands: ["f", "f"], result: "f" },
  /**
   * a * b * 2^k for an integer-valued k, rounded once, for any a (zero, Inf and NaN give what
   * a * b gives) and b finite, nonzero and within 2^+-60: a gradient times a derivative's m 2^k
   * parts, neither product over- or underflowing before the end. The CPU renderers compute it
   * in float64, where a * b and the scaling are exact (k is limited to +-600 first, past which
   * every result is 0 or Inf), so one rounding is all. libm.ts expands it for WGSL, as a's
   * significand times b, then one ldexp: that rounds twice where the result is subnormal (by
   * at most one subnormal ULP).
   */
  scaledProduct: { operands: ["f", "f", "f"], result: "f" },
  /** floor(log2 |a|) for finite nonzero a, as a float (subnormal a included). */
  ilogb: { operands: ["f"], result: "f" },
  add: { operands: ["f", "f"], result: "f" },
  /**
   * a * b + c, with the product rounded or not: a renderer may fuse the two (Wasm's relaxed
   * SIMD does where the hardware has FMA, rounding once), so a form may use mulAdd only where
   * either rounding keeps the contract (Horner's scheme; a product that is exact anyway). The
   * JS renderer's "float32" precision rounds twice, "float32-fused" once, as the two Wasm
   * lowerings do; WGSL gets add(mul(a, b), c) (libm.ts).
   */
  mulAdd: { operands: ["f", "f", "f"], result: "f" },
  sub: { operands: ["f", "f"], result: "f" },
  mul: { operands: ["f", "f"], result: "f" },
  div: { operands: ["f", "f"], result: "f" },
  /** |a| with the sign bit of b (b = -0 gives a negative result). */
  copysign: { operands: ["f", "f"], result: "f" },
  /** b if b < a, else a: a NaN a passes through, a NaN b does not (Wasm's pmin). */
  pmin: { operands: ["f", "f"], result: "f" },
  /** b if a < b, else a (Wasm's pmax): pmax(lo, x) is lo for NaN x, which clamping relies on. */
  pmax: { operands: ["f", "f"], result: "f" },
  lt: { operands: ["f", "f"], result: "b" },
  le: { operands: ["f", "f"], result: "b" },
  gt: { operands: ["f", "f"], result: "b" },
  ge: { operands: ["f", "f"], result: "b" },
  eq: { operands: ["f", "f"], result: "b" },
  isnan: { operands: ["f"], result: "b" },
  and: { operands: ["b", "b"], result: "b" },
  or: { operands: ["b", "b"], result: "b" },
  not: { operands: ["b"], result: "b" },
  /** select(c, a, b) is a where c holds, else b; both sides are computed, so both must be safe. */
  select: { operands: ["b", "f", "f"], result: "f" },
  /**
   * guard(c, fast, exact): fast where c holds, else exact, where the two must be bit-identical
   * wherever c holds, so a renderer may take either for such an element. The Wasm renderer
   * tests c over a whole block of lanes (or group of four) and runs only fast when every lane
   * holds it, only exact otherwise: the rare cases cost only the blocks that contain one.
   */
  guard: { operands: ["b", "f", "f"], result: "f" },
} as const satisfies Record<string, { operands: readonly Kind[]; result: Kind }>;

export type Kind = "f" | "b";
export type IrOp = keyof typeof OPS;
/** The ops that compute from operands, as opposed to leaves (inputs, params, constants). */
export type ComputeOp = Exclude<IrOp, "input" | "param" | "const">;

export interface Expr<K extends Kind = Kind> {
  readonly kind: K;
  readonly op: IrOp;
  readonly operands: readonly Expr[];
  /** The tensor read by an input node. */
  readonly input?: InputName;
  /** The index into the kernel's parameters of a param node. */
  readonly index?: number;
  /** The value of a const node. */
  readonly value?: number;
  /** A polyHi or polyLo node's polynomial, c_0 first (float64 values). */
  readonly coefficients?: readonly number[];
}

export type F = Expr<"f">;
export type B = Expr<"b">;
type FLike = F | number;

function node<K extends Kind>(kind: K, op: IrOp, operands: readonly Expr[], extra = {}): Expr<K> {
  return Object.freeze({ kind, op, operands, ...extra });
}

const lift = (a: FLike): F => (typeof a === "number" ? constant(a) : a);

export const input = (name: InputName): F => node("f", "input", [], { input: name });
export const param = (index: number): F => node("f", "param", [], { index });
export const constant = (value: number): F => node("f", "const", [], { value });

const unary = (op: ComputeOp) => (a: FLike) => node("f", op, [lift(a)]);
const binary = (op: ComputeOp) => (a: FLike, b: FLike) => node("f", op, [lift(a), lift(b)]);
const compare = (op: ComputeOp) => (a: FLike, b: FLike) => node("b", op, [lift(a), lift(b)]);

export const neg = unary("neg");
export const abs = unary("abs");
export const exp = unary("exp");
export const expm1 = unary("expm1");
export const log1p = unary("log1p");
export const erfc = unary("erfc");
export const expNear = binary("expNear");
export const round = unary("round");
export const ldexp = binary("ldexp");
export const ldexpNormal = binary("ldexpNormal");
export const ilogb = unary("ilogb");
/** The ops with a node's `coefficients`: polynomials evaluated past float32. */
export type PolynomialOp = "polyHi" | "polyLo";
const polynomial = (op: PolynomialOp, a: F, coefficients: readonly number[]): F =>
  node("f", op, [a], { coefficients: Object.freeze([...coefficients]) });
/** p(a) = sum of coefficients[i] a^i as [hi, lo], to about 2^-48 relative (see OPS.polyHi). */
export const widePolynomial = (a: F, coefficients: readonly number[]): [F, F] => [
  polynomial("polyHi", a, coefficients),
  polynomial("polyLo", a, coefficients),
];
/** scaledProduct's renderers limit |k| to this first (see OPS.scaledProduct). */
export const SCALED_K = 600;
export const scaledProduct = (a: FLike, b: FLike, k: FLike): F =>
  node("f", "scaledProduct", [lift(a), lift(b), lift(k)]);
export const add = binary("add");
/** a * b + c, the product rounded or not (see OPS.mulAdd). */
export const mulAdd = (a: FLike, b: FLike, c: FLike): F =>
  node("f", "mulAdd", [lift(a), lift(b), lift(c)]);
export const sub = binary("sub");
export const mul = binary("mul");
export const div = binary("div");
export const copysign = binary("copysign");
export const pmin = binary("pmin");
export const pmax = binary("pmax");
export const lt = compare("lt");
export const le = compare("le");
export const gt = compare("gt");
export const ge = compare("ge");
export const eq = compare("eq");
export const isnan = (a: F): B => node("b", "isnan", [a]);
export const and = (a: B, b: B): B => node("b", "and", [a, b]);
export const or = (a: B, b: B): B => node("b", "or", [a, b]);
export const not = (a: B): B => node("b", "not", [a]);
export const select = (cond: B, then: FLike, otherwise: FLike): F =>
  node("f", "select", [cond, lift(then), lift(otherwise)]);
export const guard = (cond: B, fast: FLike, exact: FLike): F =>
  node("f", "guard", [cond, lift(fast), lift(exact)]);

/** expr with these operands: expr itself when they are its own, else a frozen copy (rewrites). */
export function withOperands(expr: Expr, operands: readonly Expr[]): Expr {
  return operands.every((operand, i) => operand === expr.operands[i])
    ? expr
    : Object.freeze({ ...expr, operands });
}

/** An elementwise kernel: out[i] = body(inputs[i], params) for each element i it is run over. */
export interface Kernel {
  /** Unique and stable, e.g. "sigmoid.backward": backends key their caches by it. */
  readonly id: string;
  /** The tensors read, in the order a backend receives their buffers. */
  readonly inputs: readonly InputName[];
  readonly paramCount: number;
  readonly body: F;
}

/**
 * The nodes of `root` in an order where every operand comes before its users, each node once.
 * Renderers walk this list to give every shared node a single temporary.
 */
export function topologicalOrder(root: Expr): Expr[] {
  const order: Expr[] = [];
  const seen = new Set<Expr>();
  const visit = (expr: Expr): void => {
    if (seen.has(expr)) return;
    seen.add(expr);
    expr.operands.forEach(visit);
    order.push(expr);
  };
  visit(root);
  return order;
}

// A small sign analysis on the IR: which values are known to be non-positive or non-negative
// from how they are built, so that an expansion can drop the branches for arguments it cannot
// receive (libm.ts: expm1 of tanh's -2|z| and of elu's and selu's min(x, 0) never overflows,
// and its 2^k is at most 1; log1p of softplus's exp(-|z|) in [0, 1] needs no ilogb or ldexp).
// NaN passes every rule: an expansion decides NaN by comparisons of its own, or lets it
// propagate, so a NaN argument gets NaN whatever its claimed sign or range.

import type { Expr } from "./ir.js";

/** True when every non-NaN value of `e` is <= 0 (-0 and +0 included). */
export function knownNonPositive(e: Expr): boolean {
  return knownSign(e, -1);
}

/** True when every non-NaN value of `e` is >= 0. */
export function knownNonNegative(e: Expr): boolean {
  return knownSign(e, 1);
}

/**
 * True when every non-NaN value of `e` is in [0, 1] (-0 excluded: log1pUnit gives +0 for it):
 * a constant there, exp of a non-positive argument (exp32 rounds e^x to at most 1 for x <= 0:
 * k <= 0, 1 + (hi + (q - lo)) <= 1 at k = 0, and below 2 times 2^k <= 1/2 otherwise), or a
 * select of two such values.
 */
export function knownUnitInterval(e: Expr): boolean {
  const [a, b, c] = e.operands;
  switch (e.op) {
    case "const":
      return Object.is(e.value, 0) || (e.value! > 0 && e.value! <= 1);
    case "exp":
      return knownNonPositive(a!);
    case "select":
      return knownUnitInterval(b!) && knownUnitInterval(c!);
    default:
      return false;
  }
}

/** What knownSign found, per node and sign: a shared node is analysed once. */
const memo = { [1]: new WeakMap<Expr, boolean>(), [-1]: new WeakMap<Expr, boolean>() };

/**
 * Whether `e` is known to have the sign `sign` (or be zero or NaN). No rule for division: a
 * zero divisor, which both signs admit, gives an infinity of either sign.
 */
function knownSign(e: Expr, sign: 1 | -1): boolean {
  let known = memo[sign].get(e);
  if (known === undefined) {
    known = signRule(e, sign);
    memo[sign].set(e, known);
  }
  return known;
}

function signRule(e: Expr, sign: 1 | -1): boolean {
  const [a, b, c] = e.operands;
  switch (e.op) {
    case "const":
      return e.value! * sign >= 0;
    case "abs":
      return sign === 1;
    case "neg":
      return knownSign(a!, flip(sign));
    case "mul":
      return (
        (knownSign(a!, 1) && knownSign(b!, sign)) ||
        (knownSign(a!, -1) && knownSign(b!, flip(sign)))
      );
    case "select":
      // select(x > 0, a, x): x is <= 0 (or NaN) where it is taken; likewise x < 0 for >= 0.
      if (isStrictTest(a!, flip(sign), c!)) return knownSign(b!, sign);
      return knownSign(b!, sign) && knownSign(c!, sign);
    default:
      return false;
  }
}

const flip = (sign: 1 | -1): 1 | -1 => (sign === 1 ? -1 : 1);

/** cond is v > 0 (sign 1) or v < 0 (sign -1), for the very node v. */
function isStrictTest(cond: Expr, sign: 1 | -1, v: Expr): boolean {
  const [left, right] = cond.operands;
  return (
    cond.op === (sign === 1 ? "gt" : "lt") &&
    left === v &&
    right?.op === "const" &&
    right.value === 0
  );
}

// The sign analysis (src/ops/range.ts) that lets libm.ts expand expm1 of a non-positive argument
// without its overflow branch: each rule, and that the kernels that rely on it get it.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  abs,
  constant,
  div,
  exp,
  gt,
  input,
  lt,
  mul,
  neg,
  param,
  select,
  topologicalOrder,
} from "../src/ops/ir.js";
import { activationKernel } from "../src/ops/kernels.js";
import { resolveGuards } from "../src/ops/guard.js";
import { expandKernel } from "../src/ops/libm.js";
import { knownNonNegative, knownNonPositive, knownUnitInterval } from "../src/ops/range.js";

const x = input("x");

describe("knownNonPositive and knownNonNegative", () => {
  it("follows constants, abs, neg and products, and claims nothing of quotients", () => {
    assert.ok(knownNonPositive(constant(-0)) && knownNonPositive(constant(-3)));
    assert.ok(!knownNonPositive(constant(2)) && knownNonNegative(constant(0)));
    assert.ok(knownNonNegative(abs(x)) && knownNonPositive(neg(abs(x))));
    assert.ok(knownNonPositive(mul(-2, abs(x))) && knownNonPositive(mul(abs(x), -2)));
    assert.ok(knownNonNegative(mul(neg(abs(x)), -1)));
    assert.ok(!knownNonPositive(x) && !knownNonNegative(x) && !knownNonPositive(mul(x, -2)));
    assert.ok(!knownNonPositive(mul(param(0), neg(abs(x)))), "a parameter's sign is unknown");
    // 1 / +0 is +Inf: a divisor that may be zero (of either sign) decides nothing.
    assert.ok(!knownNonPositive(div(1, select(gt(x, 0), 0, x))));
    assert.ok(!knownNonPositive(div(abs(x), constant(-2))));
  });

  it("reads select(v > 0, a, v) as non-positive when a is, and nothing looser", () => {
    assert.ok(knownNonPositive(select(gt(x, 0), 0, x)));
    assert.ok(knownNonPositive(select(gt(x, 0), -1, x)));
    assert.ok(!knownNonPositive(select(gt(x, 0), 1, x)));
    assert.ok(!knownNonPositive(select(gt(x, 1), 0, x)), "x <= 1 is not x <= 0");
    assert.ok(
      !knownNonPositive(select(gt(abs(x), 0), 0, x)),
      "the test must be of the value taken",
    );
    assert.ok(!knownNonPositive(select(lt(x, 0), 0, x)));
    assert.ok(knownNonNegative(select(lt(x, 0), 0, x)));
    assert.ok(knownNonPositive(select(gt(x, 0), neg(abs(x)), constant(-1))));
  });
});

describe("expm1 of a known non-positive argument", () => {
  /** The number of scalings (ldexp, ldexpNormal) on the fast side of a kernel's forward. */
  const scalings = (name: Parameters<typeof activationKernel>[0]) =>
    topologicalOrder(
      resolveGuards(expandKernel(activationKernel(name, "forward")).body, "fast"),
    ).filter((e) => e.op === "ldexp" || e.op === "ldexpNormal").length;

  it("forms one 2^k on the fast side for tanh, elu, selu and celu", () => {
    // celu's x / alpha has no known sign; expm1F32 takes the same fast side for a block of
    // non-positive arguments, tested per block.
    assert.equal(scalings("tanh"), 1);
    assert.equal(scalings("elu"), 1);
    assert.equal(scalings("selu"), 1);
    assert.equal(scalings("celu"), 1);
  });
});

describe("knownUnitInterval and log1p of a value in [0, 1]", () => {
  it("holds for constants in [0, 1], exp of a non-positive value and selects of such", () => {
    assert.ok(knownUnitInterval(constant(0)) && knownUnitInterval(constant(1)));
    assert.ok(!knownUnitInterval(constant(1.5)) && !knownUnitInterval(constant(-0.5)));
    assert.ok(!knownUnitInterval(constant(-0)), "log1pUnit(-0) would give +0");
    assert.ok(
      knownUnitInterval(exp(neg(abs(x)))) && knownUnitInterval(exp(select(gt(x, 0), 0, x))),
    );
    assert.ok(!knownUnitInterval(exp(x)) && !knownUnitInterval(exp(param(0))));
    assert.ok(knownUnitInterval(select(gt(x, 0), exp(neg(abs(x))), 1)));
    assert.ok(!knownUnitInterval(select(gt(x, 0), exp(neg(abs(x))), x)));
    assert.ok(!knownUnitInterval(abs(x)) && !knownUnitInterval(x));
  });

  it("gives softPlus (at its defaults and others) and logSigmoid forward a log1p with no ilogb", () => {
    const ilogbs = (name: Parameters<typeof activationKernel>[0], args?: number[]) =>
      topologicalOrder(expandKernel(activationKernel(name, "forward", args)).body).filter(
        (e) => e.op === "ilogb",
      ).length;
    assert.equal(ilogbs("softPlus"), 0);
    assert.equal(ilogbs("softPlus", [0.7, 20]), 0);
    assert.equal(ilogbs("logSigmoid"), 0);
  });
});

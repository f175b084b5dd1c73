// shareEqual (src/ops/share.ts): structurally equal nodes become one, and nothing else changes.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ACTIVATION_NAMES } from "../src/ops/activations.js";
import { guardRegions } from "../src/ops/guard.js";
import { activationKernel } from "../src/ops/kernels.js";
import {
  add,
  constant,
  gt,
  input,
  mul,
  param,
  select,
  topologicalOrder,
  type Expr,
} from "../src/ops/ir.js";
import { expandKernel } from "../src/ops/libm.js";
import { shareEqual } from "../src/ops/share.js";

const x = input("x");
const count = (e: Expr, op?: string): number =>
  topologicalOrder(e).filter((n) => op === undefined || n.op === op).length;

describe("shareEqual", () => {
  it("merges equal nodes built apart, leaves included", () => {
    const body = select(gt(x, 0), mul(input("x"), 2), mul(x, constant(2)));
    const shared = shareEqual(body);
    // select, gt, mul, x, 0, 2: the two products and the two x inputs are one each.
    assert.equal(count(body), 9);
    assert.equal(count(shared), 6);
    assert.equal(shared.operands[1], shared.operands[2]);
  });

  it("keeps -0 apart from +0, params apart by index, and NaN constants together", () => {
    assert.equal(count(shareEqual(add(add(x, 0), add(x, -0)))), 6);
    assert.equal(count(shareEqual(add(mul(x, param(0)), mul(x, param(1))))), 6);
    assert.equal(count(shareEqual(add(add(x, NaN), add(x, NaN)))), 4);
  });

  it("returns a body with nothing to merge as it is", () => {
    const body = add(mul(x, 2), 1);
    assert.equal(shareEqual(body), body);
  });

  it("leaves elu's forward one test of x > 0 after expansion", () => {
    const body = expandKernel(activationKernel("elu", "forward")).body;
    const tests = topologicalOrder(body).filter(
      (e) => e.op === "gt" && e.operands[0]!.op === "input" && e.operands[1]!.value === 0,
    );
    assert.equal(tests.length, 1);
  });

  it("hoists no exact-side work out of the guards of any kernel", () => {
    // Merging two equal nodes of different guards' exact sides would leave the node in neither
    // region, computed for every block: every node outside all regions must be one that the
    // fast path (each guard's condition and fast side) needs anyway.
    for (const name of ACTIVATION_NAMES) {
      for (const direction of ["forward", "backward"] as const) {
        const body = expandKernel(activationKernel(name, direction)).body;
        const owned = new Set<Expr>();
        for (const { fast, exact } of guardRegions(body).values()) {
          for (const e of [...fast, ...exact]) owned.add(e);
        }
        const fastPath = new Set<Expr>();
        const visit = (e: Expr): void => {
          if (fastPath.has(e)) return;
          fastPath.add(e);
          (e.op === "guard" ? e.operands.slice(0, 2) : e.operands).forEach(visit);
        };
        visit(body);
        for (const e of topologicalOrder(body)) {
          if (owned.has(e) || ["const", "input", "param"].includes(e.op)) continue;
          assert.ok(fastPath.has(e), `${name}.${direction}: ${e.op} hoisted`);
        }
      }
    }
  });
});

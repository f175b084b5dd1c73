// Merges the structurally equal nodes of an expanded kernel body: the same op on the same
// operands (or the same leaf) becomes one node, so a renderer computes it once. Activation
// entries and the libm expansions build their DAGs from small helpers that each make their own
// nodes (elu's forward tests x > 0 twice, gelu's two sides both form x^2), and identity is all
// the renderers go by. Every op is a pure function of its operands, so merging changes no
// result.
//
// Where a node is computed matters as much as how often: the Wasm renderer computes a guard
// side's own nodes (guard.ts) only in that side's branch. Two equal nodes of two different
// guards' exact sides, merged, would belong to neither side and be computed for every block
// (gelu's backward has such a pair, an ilogb and an ldexp of x). So a node is merged only with
// one of its own innermost region, or with one computed outside every guard, which every block
// computes anyway.

import { guardRegions } from "./guard.js";
import { topologicalOrder, withOperands, type Expr, type F } from "./ir.js";

/** A leaf's identity: constants by value (-0 apart from +0), inputs by name, params by index. */
function leafKey(e: Expr): string | null {
  switch (e.op) {
    case "const":
      return Object.is(e.value, -0) ? "const:-0" : `const:${e.value}`;
    case "input":
      return `input:${e.input}`;
    case "param":
      return `param:${e.index}`;
    default:
      return null;
  }
}

/** Each node's innermost guard region (a number per guard side); absent: outside every guard. */
function innermostRegions(body: F): Map<Expr, number> {
  const region = new Map<Expr, number>();
  const size = new Map<number, number>();
  let next = 0;
  for (const { fast, exact } of guardRegions(body).values()) {
    for (const side of [fast, exact]) {
      const id = next++;
      size.set(id, side.size);
      for (const e of side) {
        const current = region.get(e);
        if (current === undefined || size.get(current)! > side.size) region.set(e, id);
      }
    }
  }
  return region;
}

/** The body with structurally equal nodes merged; one that has none is returned as it is. */
export function shareEqual(body: F): F {
  const region = innermostRegions(body);
  const ids = new Map<Expr, number>();
  const byKey = new Map<string, Expr>();
  const rewritten = new Map<Expr, Expr>();
  for (const expr of topologicalOrder(body)) {
    const operands = expr.operands.map((operand) => rewritten.get(operand)!);
    const leaf = leafKey(expr);
    const polynomial = expr.coefficients === undefined ? "" : `[${expr.coefficients.join(",")}]`;
    const shape = leaf ?? `${expr.op}${polynomial}(${operands.map((o) => ids.get(o)).join(",")})`;
    const own = leaf === null ? region.get(expr) : undefined;
    let result = byKey.get(`top ${shape}`);
    if (result === undefined && own !== undefined) result = byKey.get(`${own} ${shape}`);
    if (result === undefined) {
      result = withOperands(expr, operands);
      byKey.set(`${own ?? "top"} ${shape}`, result);
      ids.set(result, ids.size);
    }
    rewritten.set(expr, result);
  }
  return rewritten.get(body) as F;
}

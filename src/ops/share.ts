// Merges the structurally equal nodes of an expanded kernel body: the same op on the same
// operands (or the same leaf) becomes one node, so a renderer computes it once. Activation
// entries and the libm expansions build their DAGs from small helpers that each make their own
// nodes (elu's forward tests x > 0 twice, gelu's two sides both form x^2), and identity is all
// the renderers go by. Every op is a pure function of its operands, so merging changes no
// result; a node that both sides of a guard need becomes shared, computed before the branch.

import { topologicalOrder, type Expr, type F } from "./ir.js";

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

/** The body with structurally equal nodes merged; one that has none is returned as it is. */
export function shareEqual(body: F): F {
  const ids = new Map<Expr, number>();
  const byKey = new Map<string, Expr>();
  const rewritten = new Map<Expr, Expr>();
  for (const expr of topologicalOrder(body)) {
    const operands = expr.operands.map((operand) => rewritten.get(operand)!);
    const key = leafKey(expr) ?? `${expr.op}(${operands.map((o) => ids.get(o)).join(",")})`;
    let result = byKey.get(key);
    if (result === undefined) {
      result = operands.every((o, i) => o === expr.operands[i])
        ? expr
        : Object.freeze({ ...expr, operands });
      byKey.set(key, result);
      ids.set(result, ids.size);
    }
    rewritten.set(expr, result);
  }
  return rewritten.get(body) as F;
}

// What renderers need to know about guard nodes (see OPS.guard in ir.ts): the nodes each side of
// a guard needs that nothing else does, so the Wasm renderer can compute them inside its branch
// only, and a rewrite that keeps one side, for renderers that evaluate every element alike.

import { topologicalOrder, withOperands, type Expr, type F } from "./ir.js";

/** For each guard: the nodes only its fast side needs, and those only its exact side needs. */
export interface GuardRegions {
  readonly fast: ReadonlySet<Expr>;
  readonly exact: ReadonlySet<Expr>;
}

/**
 * The regions of every guard in `body`. A node belongs to a side's region when every path from
 * the root to it passes through that operand of the guard; nested guards' regions lie inside
 * their enclosing region.
 */
export function guardRegions(body: F): Map<Expr, GuardRegions> {
  const regions = new Map<Expr, GuardRegions>();
  for (const expr of topologicalOrder(body)) {
    if (expr.op !== "guard") continue;
    regions.set(expr, { fast: exclusiveTo(body, expr, 1), exact: exclusiveTo(body, expr, 2) });
  }
  return regions;
}

/** The nodes reachable from guard.operands[side] that the root cannot reach without that edge. */
function exclusiveTo(body: F, guard: Expr, side: number): Set<Expr> {
  const elsewhere = new Set<Expr>();
  const visit = (expr: Expr): void => {
    if (elsewhere.has(expr)) return;
    elsewhere.add(expr);
    expr.operands.forEach((operand, i) => {
      if (expr !== guard || i !== side) visit(operand);
    });
  };
  visit(body);
  const region = new Set<Expr>();
  for (const expr of topologicalOrder(guard.operands[side]!)) {
    if (!elsewhere.has(expr)) region.add(expr);
  }
  return region;
}

/**
 * The body with every guard replaced by one of its sides: "exact" for a renderer that computes
 * every element alike (the fast side would be work it cannot skip), "fast" for the path a block
 * of ordinary values takes (to count its cost).
 */
export function resolveGuards(body: F, side: "fast" | "exact"): F {
  const rewritten = new Map<Expr, Expr>();
  for (const expr of topologicalOrder(body)) {
    const operands = expr.operands.map((operand) => rewritten.get(operand)!);
    const result =
      expr.op === "guard" ? operands[side === "fast" ? 1 : 2]! : withOperands(expr, operands);
    rewritten.set(expr, result);
  }
  return rewritten.get(body) as F;
}

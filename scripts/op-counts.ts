// Counts the IR operations each cpu kernel runs per group of four lanes, on the path a block of
// ordinary values takes (every guard's condition and fast side) and on the exact path (every
// guard's exact side, what the webgpu backend renders). On the cpu backend the transcendental
// kernels are bound by this count: each IR op is one to three Wasm SIMD instructions (ldexpNormal
// three, copysign five), and they run at about 1.5 per cycle. A mulAdd counts as two operations,
// a product and a sum, except in the last column, where the engine fuses it into one (relaxed
// SIMD on an FMA processor). The closing notes of issue 13 and the README cite these figures.
//
//   node --import tsx scripts/op-counts.ts [--functions gelu,tanh]

import { parseArgs } from "node:util";
import { resolveGuards } from "../src/ops/guard.js";
import { topologicalOrder, type Expr } from "../src/ops/ir.js";
import { ACTIVATION_NAMES, type ActivationName } from "../src/ops/activations.js";
import { activationKernel, type Direction } from "../src/ops/kernels.js";
import { expandKernel } from "../src/ops/libm.js";

const { values } = parseArgs({ options: { functions: { type: "string" } } });
const names = (values.functions?.split(",") ?? ACTIVATION_NAMES) as ActivationName[];

const LEAVES = new Set(["input", "param", "const"]);

/** Operations a computed node costs: a mulAdd two unless fused. */
const cost = (e: Expr, fused = false): number => (e.op === "mulAdd" && !fused ? 2 : 1);

/** The operations reachable from root, taking only each guard's condition and fast side. */
function fastPath(root: Expr, fused = false): number {
  const seen = new Set<Expr>();
  const visit = (e: Expr): void => {
    if (seen.has(e)) return;
    seen.add(e);
    const operands = e.op === "guard" ? e.operands.slice(0, 2) : e.operands;
    operands.forEach(visit);
  };
  visit(root);
  return [...seen]
    .filter((e) => !LEAVES.has(e.op) && e.op !== "guard")
    .reduce((sum, e) => sum + cost(e, fused), 0);
}

const computed = (root: Expr): number =>
  topologicalOrder(root)
    .filter((e) => !LEAVES.has(e.op))
    .reduce((sum, e) => sum + cost(e), 0);

console.log("| kernel | fast path | exact path | fast path, fused |");
console.log("|---|---:|---:|---:|");
const printed = new Set<string>();
for (const name of names) {
  for (const direction of ["forward", "backward"] as Direction[]) {
    const kernel = expandKernel(activationKernel(name, direction));
    if (printed.has(kernel.id)) continue; // an alias (swish) shares its entry's kernels
    printed.add(kernel.id);
    const exact = computed(resolveGuards(kernel.body, "exact"));
    console.log(
      `| ${kernel.id} | ${fastPath(kernel.body)} | ${exact} | ${fastPath(kernel.body, true)} |`,
    );
  }
}

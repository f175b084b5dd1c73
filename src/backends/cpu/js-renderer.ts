// Lowers a kernel's IR to plain JavaScript closures (no eval, so it runs under a strict CSP).
// This is the readable reference path: math is done in float64 and rounded once on store.

import {
  topologicalOrder,
  type ComputeOp,
  type Expr,
  type InputName,
  type Kernel,
} from "../../ops/ir.js";

type Lowering = (a: number, b: number, c: number) => number;

const isNegative = (v: number): boolean => v < 0 || Object.is(v, -0);

/** The JavaScript meaning of every op; booleans are 1 and 0. A missing op is a compile error. */
const LOWERINGS: Record<ComputeOp, Lowering> = {
  neg: (a) => -a,
  abs: (a) => Math.abs(a),
  exp: (a) => Math.exp(a),
  expm1: (a) => Math.expm1(a),
  log1p: (a) => Math.log1p(a),
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  copysign: (a, b) => (isNegative(b) ? -Math.abs(a) : Math.abs(a)),
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

export function compileJs(kernel: Kernel): JsProgram {
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
      default:
        steps.push(
          makeStep(
            LOWERINGS[expr.op],
            dst,
            expr.operands.map((o) => registerOf.get(o)!),
          ),
        );
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

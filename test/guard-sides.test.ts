// Every guard's two sides agree wherever its condition holds: for every activation kernel,
// forward and backward, with mulAdd rounded twice and once, the float32 program with guards
// taken per element (the fast side where the condition holds) and the program with only the
// exact sides give the same bits on a sweep of the float32 bit patterns (every 65537th, with
// specials, for x, y and a spread of g). This is what lets the Wasm renderer pick a side per
// block of lanes without changing any lane.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compileJs, type JsPrecision } from "../src/backends/cpu/js-renderer.js";
import { guardRegions, resolveGuards } from "../src/ops/guard.js";
import type { Kernel } from "../src/ops/ir.js";
import { activationKernel, kernelParams } from "../src/ops/kernels.js";
import { expandKernel } from "../src/ops/libm.js";
import { CONFIGS } from "./reference/oracles.js";

const STRIDE = 65537;
const G_VALUES = [-3.5, 1e-30, 7e25];
const SPECIALS = [0, -0, NaN, Infinity, -Infinity, 1e-45, -1e-40, 3.4e38, -3.4e38];

function program(kernel: Kernel, params: readonly number[], precision: JsPrecision) {
  const { registers, inputRegisters, paramRegisters, steps, resultRegister } = compileJs(
    kernel,
    precision,
  );
  paramRegisters.forEach((register, i) => (registers[register] = params[i]!));
  return (inputs: readonly number[]): number => {
    inputRegisters.forEach((register, i) => (registers[register] = inputs[i]!));
    for (const step of steps) step(registers);
    return Math.fround(registers[resultRegister]!);
  };
}

const same = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));

describe("guards' sides agree wherever the condition holds", () => {
  const bits = new Uint32Array(1);
  const float = new Float32Array(bits.buffer);
  const xs: number[] = [...SPECIALS];
  for (let b = 0; b < 2 ** 32; b += STRIDE) {
    bits[0] = b;
    xs.push(float[0]!);
  }
  // Each function at its defaults and at the tests' other args: a function with an atDefaults
  // form (softPlus, silu) has a second kernel for the rest. An alias shares its entry's kernels.
  const seen = new Set<string>();
  for (const { name, args } of CONFIGS) {
    for (const direction of ["forward", "backward"] as const) {
      const kernel = expandKernel(activationKernel(name, direction, args));
      if (seen.has(kernel.id)) continue;
      seen.add(kernel.id);
      const guards = guardRegions(kernel.body).size;
      // mulAdd rounded twice and once (where the cpu backend fuses): both must agree.
      for (const precision of ["float32", "float32-fused"] as const) {
        it(`${kernel.id} (${guards} guards, ${precision})`, () => {
          const params = kernelParams(name, args);
          const perElement = program(kernel, params, precision);
          const exactBody = resolveGuards(kernel.body, "exact");
          const exact = program({ ...kernel, body: exactBody }, params, precision);
          const gs = kernel.inputs.length === 1 ? [0] : G_VALUES;
          for (const x of xs) {
            for (const g of gs) {
              // In the kernel's order: backward reads ["g", "x"] or ["g", "y"].
              const inputs = kernel.inputs.map((name) => (name === "g" ? g : x));
              const [a, b] = [perElement(inputs), exact(inputs)];
              if (!same(a, b))
                assert.fail(`${name}.${direction}(${inputs}): ${a} with guards, ${b} exact`);
            }
          }
        });
      }
    }
  }
});

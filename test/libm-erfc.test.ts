// erfc: the float64 function of the js backend (src/backends/cpu/erfc64.ts) against mpmath
// (test/fixtures/erfc.json, written by scripts/make-erfc-fixture.py), and the float32 expansion
// (src/ops/libm-erfc.ts) run through the JS renderer in float32 mode against the correctly rounded
// float32 erfc (the float64 one rounded once, which the first test shows to be exact), by ULP
// distance on the bit patterns; then the Wasm SIMD kernel against that JS float32 program, bit
// for bit. Also the float64 erfc of the test oracle, against the same mpmath values.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { erfc64 } from "../src/backends/cpu/erfc64.js";
import { compileJs } from "../src/backends/cpu/js-renderer.js";
import { compileWasmKernel, PARAM_SLOTS, SCRATCH_BYTES } from "../src/backends/cpu/wasm/kernel.js";
import { resolveGuards } from "../src/ops/guard.js";
import { erfc, input, topologicalOrder, type Expr, type Kernel } from "../src/ops/ir.js";
import { expandKernel } from "../src/ops/libm.js";
import { FUSED, JS_FLOAT32 } from "./fused.js";
import { erfc as oracleErfc } from "./reference/oracles-extra.js";

const KERNEL: Kernel = { id: "erfc.test", inputs: ["x"], paramCount: 0, body: erfc(input("x")) };
const EXPANDED = expandKernel(KERNEL);

const bits = new Uint32Array(1);
const float = new Float32Array(bits.buffer);
/** Consecutive float32 values have consecutive ordinals; -0 and +0 share 0. */
function ordinal(x: number): number {
  float[0] = x;
  const b = bits[0]!;
  return b >= 0x80000000 ? -(b - 0x80000000) : b;
}
function fromBits(b: number): number {
  bits[0] = b;
  return float[0]!;
}
const ulps = (got: number, want: number): number =>
  Number.isNaN(want) ? (Number.isNaN(got) ? 0 : Infinity) : Math.abs(ordinal(got) - ordinal(want));

/** The expanded kernel as one float32 function of x. */
function float32Program(): (x: number) => number {
  const { registers, inputRegisters, steps, resultRegister } = compileJs(EXPANDED, JS_FLOAT32);
  const inputRegister = inputRegisters[0]!;
  return (x) => {
    registers[inputRegister] = x;
    for (const step of steps) step(registers);
    return registers[resultRegister]!;
  };
}

const MIN_SUBNORMAL = 2 ** -149;
/** Both signs of: 0, subnormals, tiny, the breaks of erfc64, float32 subnormal and zero results. */
const EDGE_MAGNITUDES = [
  0,
  MIN_SUBNORMAL,
  1e-40,
  2 ** -126,
  2 ** -25,
  1e-4,
  0.5,
  1,
  2.5,
  3,
  4,
  9.2,
  9.5,
  10,
  10.05,
  10.0546,
  10.06,
  10.1,
  26,
  27.3,
  100,
  3.4028234663852886e38,
  Infinity,
];
const EDGES = [...EDGE_MAGNITUDES.flatMap((v) => [v, -v]), NaN];
/** How many consecutive floats are checked on each side of every finite edge. */
const NEIGHBOURS = 256;
const STRIDE = 4093;

/** mpmath's erfc at 3,190 doubles, as [x, erfc(x)] decimal strings. */
const { points } = JSON.parse(
  readFileSync(new URL("fixtures/erfc.json", import.meta.url), "utf8"),
) as { points: [string, string][] };

describe("erfc64 (the js backend's float64 erfc)", () => {
  it("is within 3 double ULPs of mpmath at every fixture point, and rounds to float32 exactly", (t) => {
    let worst = 0;
    let at = 0;
    for (const [xText, wantText] of points) {
      const x = Number(xText);
      const want = Number(wantText);
      const got = erfc64(x);
      // The ULP of want as a double (subnormals included); want itself is within half of one.
      const e = want === 0 ? -1074 : Math.max(Math.floor(Math.log2(Math.abs(want))) - 52, -1074);
      const error = Math.abs(got - want) / 2 ** e;
      if (error > worst) [worst, at] = [error, x];
      assert.equal(Math.fround(got), Math.fround(want), `float32 of erfc64(${xText})`);
    }
    t.diagnostic(`${points.length} points, worst ${worst} double ULPs at x = ${at}`);
    assert.ok(worst <= 3.5, `${worst} ULPs at ${at}`);
  });

  it("has the limits: NaN, 2 at -Inf, +0 at +Inf and past 27.3, 1 at ±0", () => {
    assert.ok(Number.isNaN(erfc64(NaN)));
    assert.equal(erfc64(-Infinity), 2);
    assert.equal(erfc64(-30), 2);
    assert.ok(Object.is(erfc64(Infinity), 0) && Object.is(erfc64(28), 0));
    assert.equal(erfc64(0), 1);
    assert.equal(erfc64(-0), 1);
  });
});

describe("erfc of the test oracle (test/reference/oracles-extra.ts, behind gelu's oracle)", () => {
  // Not a few double ULPs: its series cancels up to 8 bits below x = 2 (1,026 ULPs measured near
  // 1.9), e^(-x^2) carries x^2's rounding (461 ULPs at 26), and it returns 0 past 27, where
  // erfc is a subnormal double. Relative 2^-40 is 2^-16 of a float32 ULP, which is what it is for.
  it("is within 2^-40 relative of mpmath at every fixture point (2^-1022 absolute below that)", (t) => {
    let worst = 0;
    let at = 0;
    for (const [xText, wantText] of points) {
      const x = Number(xText);
      const want = Number(wantText);
      const got = oracleErfc(x);
      const bound = Math.max(Math.abs(want) * 2 ** -40, 2 ** -1022);
      assert.ok(
        Math.abs(got - want) <= bound,
        `oracle erfc(${xText}) = ${got}, mpmath ${wantText}`,
      );
      const error = Math.abs(want) >= 2 ** -1022 ? Math.abs(got - want) / Math.abs(want) : 0;
      if (error > worst) [worst, at] = [error, x];
    }
    t.diagnostic(`worst relative error 2^${Math.log2(worst).toFixed(1)} at x = ${at}`);
    assert.ok(Number.isNaN(oracleErfc(NaN)) && oracleErfc(-Infinity) === 2);
    assert.equal(oracleErfc(Infinity), 0);
  });
});

describe("erfc expanded to float32 primitives", () => {
  const run = float32Program();
  const measure = (xs: Iterable<number>): { worst: number; at: number; count: number } => {
    let [worst, at, count] = [0, 0, 0];
    for (const x of xs) {
      const d = ulps(run(x), Math.fround(erfc64(x)));
      count++;
      if (d > worst) [worst, at] = [d, x];
    }
    return { worst, at, count };
  };

  it("costs under 60 primitive ops per element, and its fast side (|x| <= 9) fewer (its ldexp is one product)", (t) => {
    const count = (body: Expr) =>
      topologicalOrder(body).filter((e) => !["const", "input"].includes(e.op)).length;
    const exact = count(resolveGuards(EXPANDED.body, "exact"));
    const fast = count(resolveGuards(EXPANDED.body, "fast"));
    t.diagnostic(`${exact} ops exact, ${fast} on the fast side`);
    assert.ok(exact < 60);
    assert.ok(fast < exact);
  });

  it("is within 3 ULP of the correctly rounded erfc on every 4093rd bit pattern", (t) => {
    const { worst, at, count } = measure(
      (function* () {
        for (let b = 0; b < 2 ** 32; b += STRIDE) yield fromBits(b);
      })(),
    );
    t.diagnostic(`${count} inputs, worst ${worst} ULP at x = ${at}`);
    assert.ok(worst <= 3, `${worst} ULP at x = ${at}`);
  });

  it("is within 3 ULP around the edges, subnormal results included", (t) => {
    const { worst, at, count } = measure(
      (function* () {
        for (const x of EDGES) {
          if (!Number.isFinite(x)) continue;
          const o = ordinal(x);
          for (let d = -NEIGHBOURS; d <= NEIGHBOURS; d++) {
            const n = o + d;
            yield fromBits(n < 0 ? 0x80000000 + -n : n);
          }
        }
        // Every float in [9.2, 10.06] (subnormal results and the underflow to 0), strided by 7.
        for (let o = ordinal(9.2); o <= ordinal(10.06); o += 7) yield fromBits(o);
      })(),
    );
    t.diagnostic(`${count} inputs, worst ${worst} ULP at x = ${at}`);
    assert.ok(worst <= 3, `${worst} ULP at x = ${at}`);
  });

  it("gives the exact limits", () => {
    assert.ok(Number.isNaN(run(NaN)));
    assert.equal(run(Infinity), 0);
    assert.equal(run(-Infinity), 2);
    assert.equal(run(0), 1);
    assert.equal(run(-0), 1);
    assert.equal(run(10.06), 0);
    assert.equal(run(-10), 2);
    assert.equal(run(10.05), MIN_SUBNORMAL);
  });
});

describe("erfc on the Wasm SIMD renderer", () => {
  it("is bit-identical to the JS float32 program", () => {
    const run = float32Program();
    const inputs: number[] = [...EDGES];
    for (let b = 0; b < 2 ** 32; b += STRIDE * 4) inputs.push(fromBits(b));
    const n = inputs.length;
    const bytes = Math.ceil((n * 4) / 16) * 16;
    const [inAt, outAt] = [SCRATCH_BYTES, SCRATCH_BYTES + bytes];
    const pages = Math.ceil((outAt + bytes) / 65536);
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    const module = compileWasmKernel(KERNEL, {
      dtype: "float32",
      sharedMemory: false,
      maximumPages: pages,
      fusedMultiplyAdd: FUSED,
    });
    const { exports } = new WebAssembly.Instance(module, { env: { memory } });
    new Float32Array(memory.buffer, inAt, n).set(inputs);
    const params = Array.from({ length: PARAM_SLOTS }, () => 0);
    (exports.contiguous as (...args: number[]) => void)(0, outAt, inAt, inAt, 0, n, ...params);
    const got = new Float32Array(memory.buffer, outAt, n);
    for (let i = 0; i < n; i++) {
      const want = run(inputs[i]!);
      const ok = Object.is(got[i], want) || (Number.isNaN(got[i]) && Number.isNaN(want));
      if (!ok) assert.fail(`erfc(${inputs[i]}): wasm ${got[i]}, js float32 ${want}`);
    }
  });
});

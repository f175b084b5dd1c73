// scaledProduct (src/ops/ir.ts), a b 2^k rounded once, against an exact BigInt rounding; then
// polyHi and polyLo: a polynomial carried past float32 as hi + lo. The CPU
// renderers evaluate it in float64 (the JS renderer's "float32" mode here, which the Wasm
// renderer matches bit for bit, see wasm-renderer.test.ts); WGSL gets double-float code
// (src/ops/double-float.ts), run here through the same JS renderer with every op rounded to
// float32. Both are checked against the polynomial summed term by term in float64.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compileJs } from "../src/backends/cpu/js-renderer.js";
import {
  input,
  scaledProduct,
  sub,
  widePolynomial,
  type F,
  type InputName,
  type Kernel,
} from "../src/ops/ir.js";
import { expandKernel, type Lanes } from "../src/ops/libm.js";
import { fromBits, lcg, roundToFloat32 } from "./reference/exact-float32.js";

/** One expanded kernel of x, y and g, as a function of their float32 values. */
function compile(body: F, lanes: Lanes): (...values: number[]) => number {
  const inputs: InputName[] = ["x", "y", "g"];
  const written: Kernel = { id: "double-float.test", inputs, paramCount: 0, body };
  // expandKernel merges equal nodes too (share.ts), as every backend's kernels are.
  const kernel = expandKernel(written, lanes);
  const { registers, inputRegisters, steps, resultRegister } = compileJs(kernel, "float32");
  return (...values: number[]) => {
    values.forEach((v, i) => {
      if (inputRegisters[i]! >= 0) registers[inputRegisters[i]!] = v;
    });
    for (const step of steps) step(registers);
    return registers[resultRegister]!;
  };
}

/** Every float32 times 2^149 is an integer: the exact value of a b 2^k as n 2^e. */
const exactProduct = (a: number, b: number, k: number): [bigint, number] => [
  BigInt(a * 2 ** 149) * BigInt(b * 2 ** 149),
  k - 298,
];

describe("scaledProduct", () => {
  const body = scaledProduct(input("x"), input("y"), input("g"));
  const wide = compile(body, "float64");
  const narrow = compile(body, "float32");
  const next = lcg(2026);
  const SPECIAL_A = [
    0,
    -0,
    Infinity,
    -Infinity,
    NaN,
    2 ** -149,
    -(2 ** -149),
    3.4028234663852886e38,
  ];
  const cases: [number, number, number][] = [];
  for (let i = 0; i < 40000; i++) {
    const a = i < SPECIAL_A.length * 8 ? SPECIAL_A[i % SPECIAL_A.length]! : fromBits(next());
    // b within 2^+-30, either sign; k often where a b 2^k turns subnormal.
    const b = Math.fround((next() & 1 ? -1 : 1) * 2 ** ((next() / 2 ** 32) * 60 - 30));
    const k =
      i % 2 === 0
        ? (next() % 1401) - 700
        : -140 - (next() % 40) - Math.round(Math.log2(Math.abs(a) || 1));
    cases.push([a, b, k]);
  }

  it("is a b 2^k rounded once in float64 lanes, for any a, zeros, infinities and NaN included", () => {
    for (const [a, b, k] of cases) {
      const got = wide(a, b, k);
      const want = Number.isFinite(a) && a !== 0 ? roundToFloat32(...exactProduct(a, b, k)) : a * b;
      assert.ok(
        Object.is(got, want) || (Number.isNaN(got) && Number.isNaN(want)),
        `a=${a} b=${b} k=${k}: ${got} != ${want}`,
      );
    }
  });

  it("in float32 lanes (WGSL's expansion) is the same but for one subnormal ULP", () => {
    let subnormalDiffs = 0;
    for (const [a, b, k] of cases) {
      const got = narrow(a, b, k);
      const want = wide(a, b, k);
      if (Object.is(got, want) || (Number.isNaN(got) && Number.isNaN(want))) continue;
      assert.ok(
        Math.abs(want) < 2 ** -126 && Math.abs(got - want) <= 2 ** -149,
        `a=${a} b=${b} k=${k}: ${got} != ${want}`,
      );
      subnormalDiffs++;
    }
    // The expansion's double rounding shows: the test would not see a change that removed it.
    assert.ok(
      subnormalDiffs > 0 && subnormalDiffs < cases.length / 100,
      `${subnormalDiffs} differ`,
    );
  });
});

/** The oracle: sum of c_i x^i, term by term (not Horner's order), in float64. */
const termByTerm = (coefficients: readonly number[], x: number): number =>
  coefficients.reduce((sum, c, i) => sum + c * x ** i, 0);

const A = 2 * Math.sqrt(2 / Math.PI);
const B = A * 0.044715;
/** geluTanh's two polynomials and one with every coefficient nonzero, on their ranges. */
const CASES = [
  { name: "A x + B x^3", coefficients: [0, A, 0, B], range: [-20, 20] },
  { name: "1 + A x + 3B x^3", coefficients: [1, A, 0, 3 * B], range: [-20, -1.2] },
  { name: "0.3 + 1.7 x + 0.25 x^2 + 0.1 x^3", coefficients: [0.3, 1.7, 0.25, 0.1], range: [0, 8] },
] as const;

/** Every float32 in [lo, hi] at a stride of bit patterns, both zeros, the ends and tiny values. */
function sweep([lo, hi]: readonly [number, number]): number[] {
  const values = [lo, hi, 0, -0, 2 ** -149, -(2 ** -149), 1e-30, -1e-30].map(Math.fround);
  for (let x = Math.fround(lo); x <= hi;) {
    values.push(x);
    const step = Math.max(Math.abs(x) * 2 ** -14, 2 ** -30);
    x = Math.fround(x + step);
  }
  return values.filter((x) => x >= lo && x <= hi);
}

describe("polyHi and polyLo", () => {
  for (const { name, coefficients, range } of CASES) {
    const [hi, lo] = widePolynomial(input("x"), coefficients);
    for (const [lanes, bound] of [
      ["float64", 2 ** -48],
      ["float32", 2 ** -42],
    ] as const) {
      it(`${name} on [${range}]: hi + lo within ${bound === 2 ** -48 ? "2^-48" : "2^-42"} of p (${lanes} lanes)`, () => {
        const runHi = compile(hi, lanes);
        const runLo = compile(lo, lanes);
        let checked = 0;
        for (const x of sweep(range)) {
          const want = termByTerm(coefficients, x);
          const h = runHi(x);
          const l = runLo(x);
          assert.equal(Math.fround(h), h, `hi(${x}) is not a float32`);
          assert.equal(Math.fround(l), l, `lo(${x}) is not a float32`);
          // The bound is relative, but for x so small that the error terms of the double-float
          // code are subnormal (an absolute 2^-130 is still 2^-30 of the smallest normal float).
          const error = Math.abs(h + l - want);
          assert.ok(
            error <= bound * Math.abs(want) + 2 ** -130,
            `p(${x}) = ${want}: hi ${h} + lo ${l} is off by ${error}`,
          );
          // hi is p rounded to float32: within half an ULP of it (one ULP for double-float code).
          const ulp = 2 ** (Math.floor(Math.log2(Math.abs(want) || 2 ** -149)) - 23);
          assert.ok(Math.abs(h - want) <= (lanes === "float64" ? 0.5 : 1) * ulp + 2 ** -149);
          checked++;
        }
        assert.ok(checked > 10000, `only ${checked} points`);
      });
    }
  }

  it("keeps the polynomial's coefficients through node merging and apart from others'", () => {
    const x = input("x");
    const [a] = widePolynomial(x, [0, 1, 0, 2]);
    const [b] = widePolynomial(x, [0, 1, 0, 3]);
    // a - b = -x^3: merging the two nodes would make it 0.
    assert.equal(compile(sub(a, b), "float64")(2), -8);
    assert.equal(compile(sub(a, b), "float32")(2), -8);
  });
});

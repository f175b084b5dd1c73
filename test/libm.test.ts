// The float32 expansions of exp, expm1 and log1p (src/ops/libm.ts), run through the JS renderer in
// float32 mode (every op rounded to binary32, as a GPU or Wasm kernel computes) and compared with
// Math.exp / Math.expm1 / Math.log1p rounded once to float32, by ULP distance on the bit patterns.

import assert from "node:assert/strict";
import { describe, it, type TestContext } from "node:test";
import { compileJs } from "../src/backends/cpu/js-renderer.js";
import {
  abs,
  add,
  exp,
  expm1,
  input,
  log1p,
  mul,
  neg,
  topologicalOrder,
  type Expr,
  type F,
  type Kernel,
} from "../src/ops/ir.js";
import { guardRegions } from "../src/ops/guard.js";
import { shareEqual } from "../src/ops/share.js";
import {
  exp32,
  expandKernel,
  expandTranscendentals,
  log1pF32,
  log1pUnit,
} from "../src/ops/libm.js";

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const fromBits = (bits: number): number => {
  u32[0] = bits;
  return f32[0]!;
};
const bitsOf = (x: number): number => {
  f32[0] = x;
  return u32[0]!;
};
/** The bit pattern as a signed magnitude: consecutive floats differ by 1, and -0 meets +0. */
const ordinal = (x: number): number => {
  const bits = bitsOf(x);
  return bits >= 0x80000000 ? -(bits & 0x7fffffff) : bits;
};
const fromOrdinal = (o: number): number => fromBits(o < 0 ? (0x80000000 | -o) >>> 0 : o);
const ulpDistance = (got: number, want: number): number =>
  Number.isNaN(got) || Number.isNaN(want)
    ? Number.isNaN(got) && Number.isNaN(want)
      ? 0
      : Infinity
    : Math.abs(ordinal(got) - ordinal(want));

const FLT_MAX = 3.4028234663852886e38;
const MIN_SUBNORMAL = 2 ** -149;

interface Compiled {
  readonly run: (x: number) => number;
  /** The registers of ops other than constants, selects and guards, which must stay finite. */
  readonly computed: readonly number[];
  /**
   * The registers of ldexp ops, the one exception: a final scaling may overflow to the result
   * itself (exp does), as long as nothing computes with it.
   */
  readonly scalings: ReadonlySet<number>;
  /**
   * The registers of guards' fast sides, each with its guard's condition register: the fast side
   * only has to be finite where its condition holds (elsewhere the exact side is taken, and the
   * Wasm renderer does not compute the fast side at all).
   */
  readonly fastSides: ReadonlyMap<number, number>;
  readonly registers: Float64Array;
}

/**
 * The float32 precisions the expansions must hold in: Horner's mulAdd rounded twice, as on
 * engines without fused multiply-add, and once, as where the cpu backend fuses.
 */
const PRECISIONS = ["float32", "float32-fused"] as const;
type Precision = (typeof PRECISIONS)[number];

/** Compiles one expanded unary function and runs it as CpuBackend.run does, one element. */
function compile(op: (x: F) => F, precision: Precision = "float32"): Compiled {
  const body = expandTranscendentals(op(input("x")));
  const kernel: Kernel = { id: "libm.test", inputs: ["x"], paramCount: 0, body };
  const { registers, inputRegisters, steps, resultRegister } = compileJs(kernel, precision);
  const inputRegister = inputRegisters[0]!;
  const count = steps.length;
  const run = (x: number): number => {
    registers[inputRegister] = x;
    for (let s = 0; s < count; s++) steps[s]!(registers);
    return registers[resultRegister]!;
  };
  const computed: number[] = [];
  const scalings = new Set<number>();
  const order = topologicalOrder(body);
  order.forEach((expr, register) => {
    if (expr.kind === "f" && !["const", "input", "select", "guard"].includes(expr.op)) {
      computed.push(register);
    }
    if (expr.op === "ldexp") scalings.add(register);
  });
  const fastSides = new Map<number, number>();
  for (const [guard, { fast }] of guardRegions(body)) {
    const condition = order.indexOf(guard.operands[0]!);
    for (const expr of fast) fastSides.set(order.indexOf(expr), condition);
  }
  return { run, computed, scalings, fastSides, registers };
}

interface Fn {
  readonly name: string;
  readonly op: (x: F) => F;
  readonly reference: (x: number) => number;
  /** [lo, hi] ranges swept densely (up to DENSE_SAMPLES bit patterns each). */
  readonly dense: readonly (readonly [number, number])[];
  /** Exact [input, expected] pairs, compared bit for bit (NaN: any NaN). */
  readonly specials: readonly (readonly [number, number])[];
}

// A prime stride over all 2^32 bit patterns (every sign, exponent, NaN and Inf), so the low
// mantissa bits vary too: 1,049,344 inputs per function. Every 997th pattern (4.3M) runs ~30 s
// for the three functions here, past this file's budget.
const STRIDE = 4093;
const DENSE_SAMPLES = 65536;
/** How many consecutive floats are checked on each side of every special input. */
const NEIGHBOURS = 512;

const FNS: readonly Fn[] = [
  {
    name: "exp",
    op: exp,
    reference: Math.exp,
    dense: [
      [-1, 1],
      [88.5, 89],
      [-104, -87],
      [-0.36, -0.33],
      [0.33, 0.36],
    ],
    specials: [
      [NaN, NaN],
      [Infinity, Infinity],
      [-Infinity, 0],
      [0, 1],
      [-0, 1],
      [MIN_SUBNORMAL, 1],
      [1, Math.fround(Math.E)],
      [88.72283172607422, 3.402798519021476e38],
      [88.72283935546875, Infinity],
      [100, Infinity],
      [FLT_MAX, Infinity],
      [-100, Math.fround(Math.exp(-100))],
      [-103.97207641601562, MIN_SUBNORMAL],
      [-103.97208404541016, 0],
      [-1000, 0],
      [-FLT_MAX, 0],
    ],
  },
  {
    name: "expm1",
    op: expm1,
    reference: Math.expm1,
    dense: [
      [-1, 1],
      [-17, -16],
      [-18.5, -17],
      [16, 18],
      [0.3, 1.1],
      [-1.1, -0.3],
      [88.5, 89],
    ],
    specials: [
      [NaN, NaN],
      [Infinity, Infinity],
      [-Infinity, -1],
      [0, 0],
      [-0, -0],
      [MIN_SUBNORMAL, MIN_SUBNORMAL],
      [-MIN_SUBNORMAL, -MIN_SUBNORMAL],
      [2 ** -30, 2 ** -30],
      [-(2 ** -30), -(2 ** -30)],
      [1, Math.fround(Math.E - 1)],
      [-17.328678131103516, -0.9999999403953552],
      [-17.32868003845215, -1],
      [-100, -1],
      [-FLT_MAX, -1],
      [88.72283172607422, 3.402798519021476e38],
      [88.72283935546875, Infinity],
      [FLT_MAX, Infinity],
    ],
  },
  {
    // The expansion for an argument known to be non-positive (src/ops/range.ts), as tanh and
    // elu write it.
    name: "expm1 of -|x|",
    op: (x) => expm1(neg(abs(x))),
    reference: (x) => Math.expm1(-Math.abs(x)),
    dense: [
      [-1, 0],
      [-0.36, -0.33],
      [-1.1, -0.3],
      [-17, -16],
      [-18.5, -17],
    ],
    specials: [
      [NaN, NaN],
      [Infinity, -1],
      [-Infinity, -1],
      [0, -0],
      [-0, -0],
      [MIN_SUBNORMAL, -MIN_SUBNORMAL],
      [2 ** -30, -(2 ** -30)],
      [1, Math.fround(1 / Math.E - 1)],
      [-17.328678131103516, -0.9999999403953552],
      [-17.32868003845215, -1],
      [-100, -1],
      [FLT_MAX, -1],
    ],
  },
  {
    // log1p of an argument known to be in [0, 1] (src/ops/range.ts), as softplus writes it:
    // exp's error (0.9 ULP at most) passes through log1p scaled by at most 1.
    name: "log1p of exp(-|x|)",
    op: (x) => log1p(exp(neg(abs(x)))),
    reference: (x) => Math.log1p(Math.exp(-Math.abs(x))),
    dense: [
      [-1, 1],
      [0.87, 0.89],
      [-0.89, -0.87],
      [15, 20],
      [86, 104],
    ],
    specials: [
      [NaN, NaN],
      [Infinity, 0],
      [-Infinity, 0],
      [0, Math.fround(Math.LN2)],
      [-0, Math.fround(Math.LN2)],
      [MIN_SUBNORMAL, Math.fround(Math.LN2)],
      [-0.8813735842704773, Math.fround(Math.log1p(Math.exp(-0.8813735842704773)))],
      [50, Math.fround(Math.exp(-50))],
      [-103.97207641601562, MIN_SUBNORMAL],
      [104, 0],
      [FLT_MAX, 0],
    ],
  },
  {
    name: "log1p",
    op: log1p,
    reference: Math.log1p,
    dense: [
      [-1, 1],
      [-1, -0.99],
      [0, 1],
      [-0.31, -0.28],
      [0.4, 0.43],
      [0.99, 3],
    ],
    specials: [
      [NaN, NaN],
      [Infinity, Infinity],
      [-Infinity, NaN],
      [-1, -Infinity],
      [-1.0000001192092896, NaN],
      [-2, NaN],
      [-FLT_MAX, NaN],
      [0, 0],
      [-0, -0],
      [MIN_SUBNORMAL, MIN_SUBNORMAL],
      [-MIN_SUBNORMAL, -MIN_SUBNORMAL],
      [2 ** -30, 2 ** -30],
      [-(2 ** -30), -(2 ** -30)],
      [-0.9999999403953552, Math.fround(Math.log1p(-0.9999999403953552))],
      [1, Math.fround(Math.LN2)],
      [FLT_MAX, Math.fround(Math.log1p(FLT_MAX))],
    ],
  },
];

/** The worst ULP error over a set of inputs, and where. */
class Worst {
  ulp = 0;
  at = 0;
  got = 0;
  count = 0;
  add(x: number, got: number, want: number): void {
    const d = ulpDistance(got, want);
    this.count++;
    if (d > this.ulp) Object.assign(this, { ulp: d, at: x, got });
  }
}

/** Up to `samples` float32 values with bit patterns evenly spread from lo to hi (same sign). */
function* between(lo: number, hi: number, samples: number): Generator<number> {
  if (lo < 0 && hi > 0) {
    yield* between(lo, -0, samples / 2);
    yield* between(0, hi, samples / 2);
    return;
  }
  const [a, b] = [ordinal(lo), ordinal(hi)].sort((p, q) => p - q) as [number, number];
  const step = Math.max(1, Math.ceil((b - a + 1) / samples));
  for (let o = a; o <= b; o += step) yield fromOrdinal(o);
}

function measure(t: TestContext, fn: Fn, compiled: Compiled, label: string, xs: Iterable<number>) {
  const worst = new Worst();
  for (const x of xs) worst.add(x, compiled.run(x), Math.fround(fn.reference(x)));
  t.diagnostic(
    `${fn.name} ${label}: ${worst.count} inputs, worst ${worst.ulp} ULP at x = ${worst.at} ` +
      `(got ${worst.got}, want ${Math.fround(fn.reference(worst.at))})`,
  );
  assert.ok(worst.ulp <= 3, `${fn.name}: ${worst.ulp} ULP at x = ${worst.at}`);
  return worst;
}

for (const [fn, precision] of FNS.flatMap((fn) => PRECISIONS.map((p) => [fn, p] as const))) {
  describe(`${fn.name} expanded to float32 polynomial code (${precision})`, () => {
    const compiled = compile(fn.op, precision);

    it("is within 3 ULP of the correctly rounded result on every 4093rd bit pattern", (t) => {
      measure(
        t,
        fn,
        compiled,
        "strided",
        (function* () {
          for (let bits = 0; bits < 2 ** 32; bits += STRIDE) yield fromBits(bits);
        })(),
      );
    });

    it("is within 3 ULP over dense sweeps of the ranges where its branches meet", (t) => {
      for (const [lo, hi] of fn.dense) {
        measure(t, fn, compiled, `[${lo}, ${hi}]`, between(lo, hi, DENSE_SAMPLES));
      }
      const near = function* () {
        for (const [x] of fn.specials) {
          if (!Number.isFinite(x)) continue;
          const o = ordinal(x);
          for (let d = -NEIGHBOURS; d <= NEIGHBOURS; d++) {
            const n = o + d;
            if (Math.abs(n) < 0x7f800000) yield fromOrdinal(n);
          }
        }
      };
      measure(t, fn, compiled, `±${NEIGHBOURS} floats around each special`, near());
    });

    it("gives the exact special values", () => {
      for (const [x, want] of fn.specials) {
        const got = compiled.run(x);
        if (Number.isNaN(want)) assert.ok(Number.isNaN(got), `${fn.name}(${x}) = ${got}, want NaN`);
        else assert.ok(Object.is(got, want), `${fn.name}(${x}) = ${got}, want ${want}`);
      }
    });

    it("keeps every intermediate finite for finite inputs, but a final overflowing scaling (and a guard's fast side where it is not taken)", () => {
      const { computed, scalings, fastSides, registers, run } = compiled;
      const check = (x: number): void => {
        const result = run(x);
        for (const r of computed) {
          const v = registers[r]!;
          if (Number.isFinite(v) || (scalings.has(r) && Object.is(v, result))) continue;
          const condition = fastSides.get(r);
          if (condition !== undefined && registers[condition] === 0) continue;
          assert.fail(`${fn.name}(${x}): register ${r} = ${v}`);
        }
      };
      for (let bits = 0; bits < 2 ** 32; bits += 65521) {
        const x = fromBits(bits);
        if (Number.isFinite(x)) check(x);
      }
      for (const [x] of fn.specials) if (Number.isFinite(x)) check(x);
    });
  });
}

for (const precision of PRECISIONS) {
  describe(`log1pUnit: log1p of an argument known to be in [0, 1] (${precision})`, () => {
    const fn: Fn = {
      name: "log1pUnit",
      op: log1pUnit,
      reference: Math.log1p,
      dense: [],
      specials: [],
    };
    const compiled = compile(log1pUnit, precision);

    it("is within 3 ULP of the correctly rounded log1p over [0, 1] and where its forms meet", (t) => {
      const ranges: [number, number][] = [
        [0, 1],
        [2 ** -30, 2 ** -20],
        [0.41, 0.42],
        [0.99, 1],
      ];
      for (const [lo, hi] of ranges) {
        measure(t, fn, compiled, `[${lo}, ${hi}]`, between(lo, hi, 1 << 18));
      }
    });

    it("gives log1pF32's bits over [0, 1], without its ilogb, ldexp and specials", () => {
      const general = compile(log1pF32, precision);
      const f32 = new Float32Array(2);
      const u = new Uint32Array(f32.buffer);
      for (const x of between(0, 1, 1 << 20)) {
        f32[0] = compiled.run(x);
        f32[1] = general.run(x);
        if (u[0] !== u[1]) assert.fail(`log1pUnit(${x}) = ${f32[0]}, log1pF32 ${f32[1]}`);
      }
    });

    it("gives the exact values at 0, 1, tiny arguments and NaN", () => {
      const exact: [number, number][] = [
        [0, 0],
        [MIN_SUBNORMAL, MIN_SUBNORMAL],
        [2 ** -30, 2 ** -30],
        [1, Math.fround(Math.LN2)],
      ];
      for (const [x, want] of exact) assert.ok(Object.is(compiled.run(x), want), `log1pUnit(${x})`);
      assert.ok(Number.isNaN(compiled.run(NaN)));
    });
  });
}

describe("expandTranscendentals", () => {
  const count = (body: Expr): number => topologicalOrder(body).length;
  const has = (body: Expr, op: string): boolean => topologicalOrder(body).some((e) => e.op === op);

  it("expands a shared node once", () => {
    for (const op of [exp, expm1, log1p]) {
      const x = input("x");
      const shared = op(x);
      const alone = count(expandTranscendentals(op(input("x"))));
      const body = expandTranscendentals(mul(add(shared, 1), shared));
      // The expansion, plus the add, its constant and the mul.
      assert.equal(count(body), alone + 3);
      for (const name of ["exp", "expm1", "log1p"]) assert.ok(!has(body, name));
    }
  });

  it("expands nested transcendentals, and leaves other DAGs as they are", () => {
    const x = input("x");
    const softPlus = log1p(exp(x));
    const body = expandTranscendentals(softPlus);
    assert.ok(!has(body, "exp") && !has(body, "log1p"));
    const program = compileJs({ id: "softplus", inputs: ["x"], paramCount: 0, body }, "float32");
    for (const v of [-20, -1, 0, 0.5, 3, 15]) {
      program.registers[program.inputRegisters[0]!] = v;
      for (const step of program.steps) step(program.registers);
      const got = program.registers[program.resultRegister]!;
      assert.ok(ulpDistance(got, Math.fround(Math.log1p(Math.exp(v)))) <= 3, `softplus(${v})`);
    }
    const plain = mul(add(x, 1), x);
    assert.equal(expandTranscendentals(plain), plain);
  });

  it("expands a kernel's body and keeps its id", () => {
    const kernel: Kernel = { id: "k.exp", inputs: ["x"], paramCount: 0, body: exp(input("x")) };
    const expanded = expandKernel(kernel);
    assert.equal(expanded.id, "k.exp");
    assert.deepEqual(expanded.inputs, ["x"]);
    assert.ok(!has(expanded.body, "exp"));
    assert.equal(count(expanded.body), count(shareEqual(exp32(input("x")))));
    assert.throws(() => compileJs(kernel, "float32"));
    assert.doesNotThrow(() => compileJs(expanded, "float32"));
  });
});

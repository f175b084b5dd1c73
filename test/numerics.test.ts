// Numerics of Activation against independent float64 oracles (test/reference/oracles.ts):
// (a) the float32 edge-value table and the named limits, (c) float16 exhaustively.
// The float32 sweeps and the gradient check are in numerics-sweep.test.ts, the random property
// tests in numerics-props.test.ts.

import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { Activation, gpuarray, np } from "../src/index.js";
import { halfToNumber, numberToHalf } from "../src/host/float16.js";
import { BACKENDS_UNDER_TEST, TOLERANCES, useBackend } from "./backends.js";
import {
  ACT_NAMES,
  CONFIGS,
  F32_EDGES,
  F32_MAX,
  F32_MIN_SUBNORMAL,
  backward,
  err16,
  err32,
  fmt16,
  fmt32,
  forward,
  label,
  makeRng,
  Tally,
  testSeed,
  type ActName,
  type Config,
} from "./reference/oracles.js";

type Dtype = "float32" | "float16";
type Data<D extends Dtype> = D extends "float32" ? Float32Array : Uint16Array;

/** Runs forward on xs and, when gs is given, backward on gs; returns the host copies. */
async function runAct<D extends Dtype>(
  c: Config,
  dtype: D,
  xs: Data<D>,
  gs?: Data<D>,
): Promise<{ y: Data<D>; dx: Data<D> | null }> {
  const act = new Activation(c.name, { args: [...c.args] });
  if (dtype === "float16") act.calcMode("float16");
  const x = gpuarray.toGpu(np.array(xs, dtype));
  const y = act.forward(x);
  const yHost = (await y.get()).data as Data<D>;
  let dxHost: Data<D> | null = null;
  if (gs !== undefined) {
    const g = gpuarray.toGpu(np.array(gs, dtype));
    const dx = act.backward(g);
    assert.ok(dx !== null, `${label(c)}: backward returned null`);
    dxHost = (await dx.get()).data as Data<D>;
    for (const a of [g, dx]) a.dispose();
  }
  for (const a of [x, y]) a.dispose();
  return { y: yHost, dx: dxHost };
}

/** String(v), but -0 prints as "-0" so test names tell +0 and -0 apart. */
const num = (v: number): string => (Object.is(v, -0) ? "-0" : String(v));

// Incoming gradients for the edge table: a small subset of the edges, plus +-1.
const G_EDGES = [
  0,
  -0,
  1,
  -1,
  1e-7,
  F32_MIN_SUBNORMAL,
  -F32_MIN_SUBNORMAL,
  F32_MAX,
  -F32_MAX,
  Infinity,
  -Infinity,
  NaN,
].map(Math.fround);

/**
 * The edge list, a few ordinary values, the traps of the issue (-100 and 100 for the tails,
 * 1e19 and 1.8e19 where x*x and x*x*x overflow float32), every kink of the functions with
 * default args (+-3, +-1.5, 0.5, 6), and the args themselves with their negatives.
 */
function edgeInputs(c: Config): number[] {
  const extra = [
    ...[0.5, 2, 6, 20, 3, 1.5, 1.2784645, 0.7518, 30, 88, 104, 200, 1e10, 1e19, 1.8e19, 1e30],
    ...c.args.filter((a) => Math.abs(a) < 1e30),
  ].flatMap((v) => [v, -v]);
  if (c.name === "hardSigmoid") extra.push(-c.args[1]! / c.args[0]!, (1 - c.args[1]!) / c.args[0]!);
  // gelu: inside its M - |x| tail, past its fit's range (-15, where backward turns to
  // phi (x - S/x), nonzero times a large g down to -19.7), and the float32 nearest its
  // derivative's root with both neighbours (there the derivative is ~5e-9 and cancels in any
  // direct form).
  if (c.name === "gelu")
    extra.push(
      ...[-5, -10, -12.5, -14.9, -15.5, -17, -18.8, -19.5],
      ...[-0.7517914772033691, -0.7517915368080139, -0.7517915964126587],
    );
  return [...F32_EDGES, ...extra.map(Math.fround)];
}

for (const backend of BACKENDS_UNDER_TEST) {
  const tol = TOLERANCES[backend];

  describe(`numerics: float32 edge-value table on ${backend}`, () => {
    before(() => useBackend(backend));

    for (const c of CONFIGS) {
      it(`${label(c)}: forward and backward over the edge values`, async (t) => {
        const xsList = edgeInputs(c);
        const n = xsList.length;
        // Tile: block i holds every edge x, paired with the incoming gradient G_EDGES[i].
        const xs = new Float32Array(n * G_EDGES.length);
        const gs = new Float32Array(n * G_EDGES.length);
        G_EDGES.forEach((g, i) => {
          xs.set(xsList, i * n);
          gs.fill(g, i * n, (i + 1) * n);
        });
        const { y, dx } = await runAct(c, "float32", xs, gs);
        const fwd = new Tally(`${label(c)} forward float32 edges`, tol.float32Ulp);
        const bwd = new Tally(`${label(c)} backward float32 edges`, tol.float32Ulp);
        for (let k = 0; k < xs.length; k++) {
          const x = xs[k]!;
          const got = y[k]!;
          const exp = forward(c.name, x, c.args);
          fwd.add(
            err32(got, exp),
            () => `x=${fmt32(x)} expected ${fmt32(Math.fround(exp))} got ${fmt32(got)}`,
          );
          const g = gs[k]!;
          const d = dx![k]!;
          const expD = backward(c.name, g, { x, y: got }, c.args);
          bwd.add(
            err32(d, expD),
            () =>
              `g=${fmt32(g)} y=${fmt32(got)} (x=${fmt32(x)}) expected ${fmt32(Math.fround(expD))} got ${fmt32(d)}`,
          );
        }
        t.diagnostic(fwd.summary());
        t.diagnostic(bwd.summary());
        fwd.assert();
        bwd.assert();
      });
    }
  });

  describe(`numerics: named limits and signs on ${backend}`, () => {
    before(() => useBackend(backend));

    // [function, args, x, f(x)], compared with === (so 0 matches -0) or both NaN.
    const LIMITS: [ActName, number[], number, number][] = [
      ["sigmoid", [], -Infinity, 0],
      ["sigmoid", [], Infinity, 1],
      ["tanh", [], Infinity, 1],
      ["tanh", [], -Infinity, -1],
      ["relu", [], -Infinity, 0],
      ["relu", [], Infinity, Infinity],
      ["leakyRelu", [], -Infinity, -Infinity],
      ["leakyRelu", [0.2], -Infinity, -Infinity],
      ["elu", [], -Infinity, -1],
      ["elu", [0.5], -Infinity, -0.5],
      ["elu", [], 100, 100],
      ["softPlus", [], Infinity, Infinity],
      ["softPlus", [], -Infinity, 0],
      ["softPlus", [], 1000, 1000],
      ["softPlus", [], F32_MAX, F32_MAX],
      ["clip", [], Infinity, 6],
      ["clip", [], -Infinity, 0],
      ["clip", [-1, 2.5], Infinity, 2.5],
      ["clip", [-1, 2.5], -Infinity, -1],
      ["sigmoid", [], 0, 0.5],
      ["sigmoid", [], -0, 0.5],
      ["softPlus", [0.7, 20], Infinity, Infinity],
      ["softPlus", [0.7, 20], -Infinity, 0],
      ["softPlus", [0.7, 20], 1000, 1000],
      ["selu", [], -Infinity, Math.fround(-1.7580993408473768)],
      ["selu", [], Infinity, Infinity],
      ["selu", [], F32_MAX, Infinity],
      ["celu", [], -Infinity, -1],
      ["celu", [0.5], -Infinity, -0.5],
      ["softSign", [], Infinity, 1],
      ["softSign", [], -Infinity, -1],
      ["hardSigmoid", [], Infinity, 1],
      ["hardSigmoid", [], -Infinity, 0],
      ["hardSigmoid", [], -3, 0],
      ["hardSigmoid", [], 3, 1],
      ["hardSigmoid", [0.2, 0.5], -2.5, 0],
      ["hardTanh", [], Infinity, 1],
      ["hardTanh", [], -Infinity, -1],
      ["relu6", [], Infinity, 6],
      ["relu6", [], -Infinity, 0],
      ["logSigmoid", [], -Infinity, -Infinity],
      ["logSigmoid", [], Infinity, 0],
      ["logSigmoid", [], -100, -100],
      ["logSigmoid", [], -F32_MAX, -F32_MAX],
      ["softShrink", [], Infinity, Infinity],
      ["softShrink", [], -Infinity, -Infinity],
      ["softShrink", [], 0.5, 0],
      ["softShrink", [], -2, -1.5],
      ["hardShrink", [], 0.5, 0],
      ["hardShrink", [], -Infinity, -Infinity],
      ["threshold", [], -Infinity, 0],
      ["threshold", [0.1, 20], 0.05, 20],
      ["threshold", [0.1, 20], Infinity, Infinity],
      ["hardSwish", [], -Infinity, 0],
      ["hardSwish", [], Infinity, Infinity],
      ["hardSwish", [], -3, 0],
      ["hardSwish", [], 3, 3],
      ...CONFIGS.map((c): [ActName, number[], number, number] => [c.name, [...c.args], NaN, NaN]),
    ];
    for (const [name, args, x, expected] of LIMITS) {
      it(`${name}(${args.join(", ")}) forward float32: f(${num(x)}) = ${num(expected)}`, async () => {
        const { y } = await runAct({ name, args }, "float32", new Float32Array([x]));
        const got = y[0]!;
        assert.ok(
          got === expected || (Number.isNaN(got) && Number.isNaN(expected)),
          `${name}(${args.join(", ")}) forward float32: x=${fmt32(x)} expected ${expected} got ${fmt32(got)}`,
        );
      });
    }

    // The args are the numbers written, not their float32 values: near a root or a kink the
    // difference is the whole result. [function, args, x, float64 f(x) at the exact args].
    const f32tenth = Math.fround(0.1);
    const EXACT_ARGS: [ActName, number[], number, number][] = [
      ["hardSigmoid", [], Math.fround(-2.9999001), Math.fround(-2.9999001) / 6 + 0.5],
      ["hardSigmoid", [], Math.fround(-2.9999998), Math.fround(-2.9999998) / 6 + 0.5],
      ["hardSigmoid", [0.2, 0.5], Math.fround(-2.4999998), Math.fround(-2.4999998) * 0.2 + 0.5],
      // f32(0.1) is above 0.1: threshold passes it, the shrinks keep what is past lambda.
      ["threshold", [0.1, 20], f32tenth, f32tenth],
      ["softShrink", [0.1], f32tenth, f32tenth - 0.1],
      ["softShrink", [0.1], -f32tenth, 0.1 - f32tenth],
      ["hardShrink", [0.1], f32tenth, f32tenth],
    ];
    for (const [name, args, x, exact] of EXACT_ARGS) {
      it(`${name}(${args.join(", ")}) at ${x} is the exact function's value within 1 ULP`, async () => {
        const { y } = await runAct({ name, args }, "float32", new Float32Array([x]));
        assert.ok(
          err32(y[0]!, exact) <= 1,
          `${name}(${args.join(", ")}) forward float32: x=${fmt32(x)} expected ${exact} got ${fmt32(y[0]!)}`,
        );
      });
    }

    // Backward from y where y + alpha cancels (y near -alpha): alpha = 0.3 is not a float32.
    for (const name of ["elu", "celu"] as const) {
      it(`${name}(0.3) backward near y = -alpha is the formula's value at the exact alpha`, async () => {
        const xs = new Float32Array([-16, -12, -9]); // x / alpha for celu: below -30
        const { y, dx } = await runAct(
          { name, args: [0.3] },
          "float32",
          xs,
          xs.map(() => 1),
        );
        for (let i = 0; i < xs.length; i++) {
          const exact = name === "elu" ? y[i]! + 0.3 : (y[i]! + 0.3) / 0.3;
          assert.ok(
            err32(dx![i]!, exact) <= 1,
            `${name}(0.3) backward at y=${fmt32(y[i]!)}: expected ${exact} got ${fmt32(dx![i]!)}`,
          );
        }
      });
    }

    it("tanh keeps the sign of zero; sigmoid(+-0) is exactly 0.5", async () => {
      const t = await runAct({ name: "tanh", args: [] }, "float32", new Float32Array([-0, 0]));
      assert.ok(
        Object.is(t.y[0], -0),
        `tanh forward float32: x=-0 expected -0 got ${fmt32(t.y[0]!)}`,
      );
      assert.ok(
        Object.is(t.y[1], 0),
        `tanh forward float32: x=+0 expected +0 got ${fmt32(t.y[1]!)}`,
      );
      const s = await runAct({ name: "sigmoid", args: [] }, "float32", new Float32Array([-0, 0]));
      assert.deepEqual(
        [...s.y],
        [0.5, 0.5],
        `sigmoid forward float32 at -0, +0: got ${[...s.y].join(", ")}`,
      );
    });

    // [function, args, x, g, expected input gradient]: the selection convention and the zeros.
    const GRADS: [ActName, number[], number, number, number][] = [
      ["relu", [], -1, NaN, 0],
      ["relu", [], -1, Infinity, 0],
      ["relu", [], 0, NaN, 0],
      ["relu", [], 2, NaN, NaN],
      ["relu", [], 2, -Infinity, -Infinity],
      ["relu", [], 2, F32_MAX, F32_MAX],
      ["leakyRelu", [], 3, Infinity, Infinity],
      ["leakyRelu", [], 3, F32_MIN_SUBNORMAL, F32_MIN_SUBNORMAL],
      ["leakyRelu", [0.2], -1, 2, Math.fround(0.2) * 2],
      ["elu", [], 2, NaN, NaN],
      ["elu", [], 2, Infinity, Infinity],
      ["elu", [], -Infinity, 1, 0],
      ["elu", [0.5], 2, -F32_MAX, -F32_MAX],
      ["clip", [], 0, NaN, 0],
      ["clip", [], 6, Infinity, 0],
      ["clip", [], -5, NaN, 0],
      ["clip", [], 7, -Infinity, 0],
      ["clip", [], 3, NaN, NaN],
      ["clip", [], 3, 5, 5],
      ["clip", [-1, 2.5], 2.5, Infinity, 0],
      ["clip", [-1, 2.5], -1, NaN, 0],
      ["sigmoid", [], Infinity, 1, 0],
      ["sigmoid", [], 0, 1, 0.25],
      ["tanh", [], Infinity, 1, 0],
      ["tanh", [], 0, 3, 3],
      ["softPlus", [], -Infinity, 1, 0],
      ["softPlus", [], Infinity, 1, 1],
      ["softPlus", [0.7, 20], 40, 3, 3],
      ["softPlus", [0.7, 20], -Infinity, 1, 0],
      ["relu6", [], 6, Infinity, 0],
      ["relu6", [], 0, NaN, 0],
      ["relu6", [], 3, 2, 2],
      ["hardTanh", [], 1, NaN, 0],
      ["hardSigmoid", [], 0, 6, 1],
      ["hardSigmoid", [], 3, Infinity, 0],
      ["hardSigmoid", [], -3, NaN, 0],
      ["logSigmoid", [], -Infinity, 2, 2],
      ["logSigmoid", [], Infinity, 2, 0],
      ["softSign", [], Infinity, 1, 0],
      ["softSign", [], 0, 3, 3],
      ["celu", [], 2, Infinity, Infinity],
      ["celu", [], -Infinity, 1, 0],
      ["selu", [], 0, 1, Math.fround(1.7580993408473768)],
      ["softShrink", [], 0.3, NaN, 0],
      ["softShrink", [], 0.7, NaN, NaN],
      ["hardShrink", [], -0.5, Infinity, 0],
      ["hardShrink", [], 0.7, -Infinity, -Infinity],
      // value 20 > threshold 0.1: y = 20 comes from x = 20 (slope 1) and from x = 0 (flat).
      ["threshold", [0.1, 20], 20, 3, 3],
      ["threshold", [0.1, 20], 0, 3, 0],
      ["threshold", [], 0, Infinity, 0],
      ["hardSwish", [], -1.5, 5, 0],
      ["hardSwish", [], -4, NaN, 0],
      ["hardSwish", [], 4, Infinity, Infinity],
      ["hardSwish", [], 3, 2, 3],
      ["hardSwish", [], -3, 2, -1],
      ["hardSwish", [], NaN, 1, NaN],
    ];
    for (const [name, args, x, g, expected] of GRADS) {
      it(`${name}(${args.join(", ")}) backward float32: x=${num(x)}, g=${num(g)} gives ${num(expected)}`, async () => {
        const r = await runAct(
          { name, args },
          "float32",
          new Float32Array([x]),
          new Float32Array([g]),
        );
        const got = r.dx![0]!;
        assert.ok(
          got === expected || (Number.isNaN(got) && Number.isNaN(expected)),
          `${name}(${args.join(", ")}) backward float32: x=${fmt32(x)} y=${fmt32(r.y[0]!)} g=${fmt32(g)} ` +
            `expected ${expected} got ${fmt32(got)}`,
        );
      });
    }
  });

  describe(`numerics: float16 on ${backend}`, () => {
    before(() => useBackend(backend));
    const seed = testSeed(0x16f16);

    for (const c of CONFIGS) {
      it(`${label(c)}: forward over all 65536 halves, backward over 8192 (g, y) pairs`, async (t) => {
        const all = new Uint16Array(65536).map((_, i) => i);
        const { y } = await runAct(c, "float16", all);
        const fwd = new Tally(`${label(c)} forward float16`, tol.float16Ulp);
        for (let b = 0; b < 65536; b++) {
          const exp = forward(c.name, halfToNumber(b), c.args);
          fwd.add(
            err16(y[b]!, exp),
            () => `x=${fmt16(b)} expected ${fmt16(numberToHalf(exp))} got ${fmt16(y[b]!)}`,
          );
        }

        // Backward: x every 8th half (so y covers the output range, subnormals included),
        // g random halves (any bits, so Inf and NaN too) or 1.0.
        const rng = makeRng(seed ^ ACT_NAMES.indexOf(c.name));
        const xs = new Uint16Array(8192).map((_, i) => i * 8 + (i % 8));
        const gs = new Uint16Array(8192).map((_, i) =>
          i % 5 === 0 ? 0x3c00 : rng.bits32() & 0xffff,
        );
        const r = await runAct(c, "float16", xs, gs);
        const bwd = new Tally(`${label(c)} backward float16 (seed ${seed})`, tol.float16Ulp);
        for (let k = 0; k < xs.length; k++) {
          const g = gs[k]!;
          const yb = r.y[k]!;
          const d = r.dx![k]!;
          const exp = backward(
            c.name,
            halfToNumber(g),
            { x: halfToNumber(xs[k]!), y: halfToNumber(yb) },
            c.args,
          );
          bwd.add(
            err16(d, exp),
            () =>
              `g=${fmt16(g)} y=${fmt16(yb)} (x=${fmt16(xs[k]!)}) expected ${fmt16(numberToHalf(exp))} got ${fmt16(d)}`,
          );
        }
        t.diagnostic(fwd.summary());
        t.diagnostic(bwd.summary());
        fwd.assert();
        bwd.assert();
      });
    }
  });
}

// Float32 numerics of Activation over the whole range: (b) forward over ~400k inputs per
// function and backward over ~100k (g, y) pairs, against the float64 oracles; (e) a
// finite-difference check that each backward formula is the derivative of its forward.

import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { Activation, gpuarray, np } from "../src/index.js";
import { BACKENDS_UNDER_TEST, TOLERANCES, useBackend } from "./backends.js";
import {
  ACT_NAMES,
  CONFIGS,
  F32_EDGES,
  backward,
  bitsToF32,
  err32,
  fmt32,
  forward,
  label,
  makeRng,
  Tally,
  testSeed,
  type Config,
  type Rng,
} from "./reference/oracles.js";

/** Runs forward on xs and, when gs is given, backward on gs; returns the host copies. */
async function runAct32(
  c: Config,
  xs: Float32Array,
  gs?: Float32Array,
): Promise<{ y: Float32Array; dx: Float32Array }> {
  const act = new Activation(c.name, { args: [...c.args] });
  const x = gpuarray.toGpu(np.array(xs, "float32"));
  const y = act.forward(x);
  const yHost = (await y.get()).data as Float32Array;
  let dxHost: Float32Array = new Float32Array(0);
  if (gs !== undefined) {
    const g = gpuarray.toGpu(np.array(gs, "float32"));
    const dx = act.backward(g);
    assert.ok(dx !== null, `${label(c)}: backward returned null`);
    dxHost = (await dx.get()).data as Float32Array;
    for (const a of [g, dx]) a.dispose();
  }
  for (const a of [x, y]) a.dispose();
  return { y: yHost, dx: dxHost };
}

/** n float32 values evenly spaced over [lo, hi] (rounded from float64). */
function linspace(lo: number, hi: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => Math.fround(lo + ((hi - lo) * i) / (n - 1)));
}

// Every 14009th bit pattern (14009 is prime, so the low mantissa bits vary too): ~306,600
// values spread over every sign, exponent (subnormals, Inf, NaNs included) and mantissa.
const STRIDE = 14009;
const strided: number[] = [];
for (let bits = 0; bits < 2 ** 32; bits += STRIDE) strided.push(bitsToF32(bits));

/** The forward sweep: the strided patterns, dense [-20, 20], dense +-[85, 105] (exp overflow and
 * underflow of float32 around 88.7 and -87.3 ... -103.9), and the edge list. */
const SWEEP = new Float32Array([
  ...strided,
  ...linspace(-20, 20, 60001),
  ...linspace(85, 105, 20001),
  ...linspace(-105, -85, 20001),
  ...F32_EDGES,
]);

/** The backward inputs: a quarter of the sweep, plus [7, 18] dense so that y comes close to 1 for
 * sigmoid and tanh (tanh(9.1) and sigmoid(16.7) already round to 1 in float32). */
const BWD_X = new Float32Array([...SWEEP.filter((_, i) => i % 4 === 0), ...linspace(7, 18, 5001)]);

/** Incoming gradients: mostly finite of any magnitude, some +-1, some arbitrary bit patterns. */
function randomGradients(rng: Rng, n: number): Float32Array {
  const gs = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const r = rng.next();
    if (r < 0.1) gs[i] = rng.pick([1, -1]);
    else if (r < 0.2) gs[i] = bitsToF32(rng.bits32());
    else if (r < 0.25) gs[i] = rng.pick(F32_EDGES);
    else gs[i] = (rng.next() < 0.5 ? -1 : 1) * (1 + rng.next()) * 2 ** rng.int(-40, 40);
  }
  return gs;
}

for (const backend of BACKENDS_UNDER_TEST) {
  const tol = TOLERANCES[backend];

  describe(`numerics: float32 sweeps on ${backend}`, () => {
    before(() => useBackend(backend));
    const seed = testSeed(0x5eed32);

    for (const c of CONFIGS) {
      it(`${label(c)}: forward over ${SWEEP.length} inputs, backward over ${BWD_X.length} pairs`, async (t) => {
        const { y } = await runAct32(c, SWEEP);
        const fwd = new Tally(`${label(c)} forward float32 sweep`, tol.float32Ulp);
        for (let k = 0; k < SWEEP.length; k++) {
          const x = SWEEP[k]!;
          const exp = forward(c.name, x, c.args);
          fwd.add(
            err32(y[k]!, exp),
            () => `x=${fmt32(x)} expected ${fmt32(Math.fround(exp))} got ${fmt32(y[k]!)}`,
          );
        }

        const rng = makeRng(seed + ACT_NAMES.indexOf(c.name));
        const gs = randomGradients(rng, BWD_X.length);
        const r = await runAct32(c, BWD_X, gs);
        const bwd = new Tally(`${label(c)} backward float32 sweep (seed ${seed})`, tol.float32Ulp);
        for (let k = 0; k < BWD_X.length; k++) {
          const g = gs[k]!;
          const yk = r.y[k]!;
          const d = r.dx[k]!;
          const exp = backward(c.name, g, { x: BWD_X[k]!, y: yk }, c.args);
          bwd.add(
            err32(d, exp),
            () =>
              `g=${fmt32(g)} y=${fmt32(yk)} (x=${fmt32(BWD_X[k]!)}) expected ${fmt32(Math.fround(exp))} got ${fmt32(d)}`,
          );
        }
        t.diagnostic(fwd.summary());
        t.diagnostic(bwd.summary());
        fwd.assert();
        bwd.assert();
      });
    }
  });

  describe(`numerics: backward is the derivative (finite differences) on ${backend}`, () => {
    before(() => useBackend(backend));
    const seed = testSeed(0xfd);

    /** Where to sample x: inside the range where y still determines f'(x) well in float32
     * (tanh saturates to 1 at 9.1, sigmoid's 1 - y has few bits left past 8, elu's y + alpha
     * cancels past -6), and at least 0.01 from every kink. */
    function domain(c: Config): { lo: number; hi: number; kinks: number[] } {
      switch (c.name) {
        case "sigmoid":
          return { lo: -8, hi: 8, kinks: [] };
        case "tanh":
          return { lo: -4, hi: 4, kinks: [] };
        case "relu":
        case "leakyRelu":
          return { lo: -10, hi: 10, kinks: [0] };
        case "elu":
          return { lo: -6, hi: 10, kinks: [0] };
        case "softPlus":
          return { lo: -20 / c.args[0]!, hi: 20 / c.args[0]!, kinks: [] };
        case "clip":
        case "hardTanh":
          return { lo: c.args[0]! - 3, hi: c.args[1]! + 3, kinks: [c.args[0]!, c.args[1]!] };
        case "relu6":
          return { lo: -3, hi: 9, kinks: [0, 6] };
        case "selu":
          return { lo: -6, hi: 10, kinks: [0] };
        case "celu":
          return { lo: -6 * c.args[0]!, hi: 10, kinks: [0] };
        case "softSign":
          return { lo: -50, hi: 50, kinks: [] };
        case "hardSigmoid": {
          const [alpha, beta] = [c.args[0]!, c.args[1]!];
          const kinks = [-beta / alpha, (1 - beta) / alpha];
          return { lo: Math.min(...kinks) - 3, hi: Math.max(...kinks) + 3, kinks };
        }
        case "logSigmoid":
          return { lo: -20, hi: 20, kinks: [] };
        case "softShrink":
        case "hardShrink":
          return { lo: -c.args[0]! - 5, hi: c.args[0]! + 5, kinks: [-c.args[0]!, c.args[0]!] };
        case "threshold":
          return { lo: c.args[0]! - 10, hi: c.args[0]! + 30, kinks: [c.args[0]!] };
        case "hardSwish":
          return { lo: -6, hi: 6, kinks: [-3, 3] };
        case "silu":
        case "swish":
          return { lo: -20, hi: 20, kinks: [] };
        case "gelu":
          return { lo: -10, hi: 10, kinks: [] };
        case "tanhShrink":
          return { lo: -6, hi: 6, kinks: [] };
        case "geluTanh":
          return { lo: -10, hi: 10, kinks: [] };
        case "mish":
          return { lo: -20, hi: 20, kinks: [] };
      }
    }

    for (const c of CONFIGS) {
      it(`${label(c)}: backward(g=1) matches the central difference of the float64 forward`, async (t) => {
        const rng = makeRng(seed + ACT_NAMES.indexOf(c.name));
        const { lo, hi, kinks } = domain(c);
        const xs: number[] = [];
        while (xs.length < 50) {
          const x = Math.fround(lo + (hi - lo) * rng.next());
          if (kinks.every((k) => Math.abs(x - k) > 0.01)) xs.push(x);
        }
        const r = await runAct32(c, new Float32Array(xs), new Float32Array(xs.length).fill(1));
        let worst = 0;
        let worstAt = "(none)";
        for (let k = 0; k < xs.length; k++) {
          const x = xs[k]!;
          const h = 1e-5 * Math.max(1, Math.abs(x));
          const fd = (forward(c.name, x + h, c.args) - forward(c.name, x - h, c.args)) / (2 * h);
          const got = r.dx[k]!;
          const rel = Math.abs(got - fd) / Math.max(Math.abs(fd), 1e-30);
          const where = `x=${fmt32(x)} y=${fmt32(r.y[k]!)}: backward(g=1) ${got}, central difference ${fd}`;
          if (got !== fd && rel > worst) [worst, worstAt] = [rel, where];
          assert.ok(
            rel <= 1e-3 || got === fd,
            `${label(c)} backward float32 vs finite difference (seed ${seed}): ${where}, relative error ${rel}`,
          );
        }
        t.diagnostic(`${label(c)}: worst relative error ${worst.toExponential(2)} at ${worstAt}`);
      });
    }
  });
}

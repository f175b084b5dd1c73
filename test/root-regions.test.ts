// Backward passes near their derivative's root, where the benchmark's data once found 5 and 6
// ULP that the sweeps had missed (silu/swish at x = -1.7220633, geluTanh at x = -0.47625941):
// the two inputs themselves, then a dense scan of each root interval with g spread over
// [0.05, 2], on every backend, against the float64 oracles.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Activation, gpuarray, np, setBackend, type ActivationName } from "../src/index.js";
import { BACKENDS_UNDER_TEST, TOLERANCES, useBackend } from "./backends.js";
import { geluTanhGrad, siluGrad } from "./reference/oracles-extra.js";
import { ulpDistance32 } from "./reference/oracles.js";

interface Region {
  readonly name: ActivationName;
  readonly args: number[];
  readonly lo: number;
  readonly hi: number;
  readonly oracle: (g: number, x: number) => number;
  readonly found: readonly [x: number, g: number][];
}

const REGIONS: readonly Region[] = [
  {
    name: "silu",
    args: [1],
    lo: -2.2,
    hi: 0,
    oracle: (g, x) => siluGrad(g, { x, y: NaN }, 1),
    found: [[-1.7220633, 0.87978101]],
  },
  {
    name: "swish",
    args: [0.7],
    lo: -3,
    hi: 0,
    oracle: (g, x) => siluGrad(g, { x, y: NaN }, 0.7),
    found: [],
  },
  {
    name: "geluTanh",
    args: [],
    lo: -1.3,
    hi: 0,
    oracle: (g, x) => geluTanhGrad(g, { x, y: NaN }),
    found: [
      [-0.64669174, -0.1550885],
      [-0.47625941, 0.5],
    ],
  },
];

const POINTS = 1 << 16;

for (const backend of BACKENDS_UNDER_TEST) {
  describe(`backward near the derivative's root on ${backend}`, () => {
    before(() => useBackend(backend));
    after(() => setBackend("cpu"));
    for (const { name, args, lo, hi, oracle, found } of REGIONS) {
      it(`${name}(${args}) over [${lo}, ${hi}) within ${TOLERANCES[backend].float32Ulp} ULP`, async () => {
        const x = new Float32Array(POINTS + found.length);
        const g = new Float32Array(x.length);
        for (let i = 0; i < POINTS; i++) {
          x[i] = lo + ((hi - lo) * i) / POINTS;
          g[i] = 0.05 + ((i * 7919) % 1951) / 1000;
        }
        found.forEach(([xf, gf], i) => ((x[POINTS + i] = xf), (g[POINTS + i] = gf)));
        const act = new Activation(name, { args });
        act.forward(gpuarray.toGpu(np.array(x)));
        const gx = (await act.backward(gpuarray.toGpu(np.array(g))).get()).data;
        let worst = 0;
        let at = "";
        for (let i = 0; i < x.length; i++) {
          const error = ulpDistance32(gx[i]!, oracle(g[i]!, x[i]!));
          if (error > worst) [worst, at] = [error, `x = ${x[i]}, g = ${g[i]}`];
        }
        assert.ok(worst <= TOLERANCES[backend].float32Ulp, `${worst} ULP at ${at}`);
      });
    }
  });
}

// Guards (ir.ts: guard(c, fast, exact)): the cpu backend runs a block of 16 lanes on the fast side
// only when every lane holds c. A lane's result must not depend on its neighbours: a rare value
// (NaN, ±Inf, a subnormal input or result, an overflow, an argument past a fast range) at every
// position of a block, at every tail length, must leave every other lane's result, and its own,
// bit for bit what they are in a block of their own kind. Also: the guard regions are what the
// Wasm renderer branches over.

import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import {
  ACTIVATION_NAMES,
  Activation,
  gpuarray,
  np,
  setBackend,
  type ActivationName,
} from "../src/index.js";
import { guardRegions, resolveGuards } from "../src/ops/guard.js";
import { add, exp, guard, input, lt, mul, topologicalOrder } from "../src/ops/ir.js";
import { activationKernel } from "../src/ops/kernels.js";
import { expandKernel, expandTranscendentals } from "../src/ops/libm.js";

/** Lanes per block: UNROLL (4) groups of four float32 lanes in the contiguous loop. */
const BLOCK = 16;
/** Fast-range values, as a network's activations are: deterministic, in [-4, 4). */
const BASE = Float32Array.from({ length: 3 * BLOCK }, (_, i) => -4 + ((i * 37) % 48) / 6);

/** Values that take a function's exact side, with the ones each guard's bounds call for. */
const RARE: Partial<Record<ActivationName, readonly number[]>> = {
  sigmoid: [-100, 100, -88, 87.5],
  tanh: [-20, 20, 9, 1e-8, 8.3],
  elu: [-30, -17.5, 1e-9, -16.6],
  gelu: [-14, 14, 9.5, -12.8, 12.5, -15.5, -18],
  geluTanh: [-30, 30, -6, -5.3],
  silu: [-100, 100, -90, -30.5],
  swish: [-100, 100, -90, -30.5],
  softPlus: [-100, 100, 89, 16.6],
  mish: [-100, 30],
  selu: [-30, -17.9],
  celu: [-30, -17.5, -16.6, 1e-9],
  logSigmoid: [-100, 100, -88, 87.5, -16.6],
  tanhShrink: [-20, 20, 9, 8.3, 1e-8],
};
/** The functions whose backward kernel has a guard (backward reads x, or y = forward(x)). */
const BACKWARD_GUARDED = ACTIVATION_NAMES.filter(
  (name) => guardRegions(expandKernel(activationKernel(name, "backward")).body).size > 0,
);
const SPECIAL = [NaN, Infinity, -Infinity, 1e-40, -1.4e-45, -0, 3e38, -3e38];
const LONGEST = 2 * BLOCK + BLOCK / 2;
/** Gradients for the backward runs, of both signs and none zero. */
const GRADS = Float32Array.from({ length: LONGEST }, (_, i) => (i % 2 ? -1 : 1) * (0.25 + (i % 7)));

const same = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));

async function forward(
  name: ActivationName,
  values: Float32Array,
  args: readonly number[] = [],
): Promise<Float32Array> {
  const act = new Activation(name, { args: [...args] });
  return (await act.forward(gpuarray.toGpu(np.array(values))).get()).data;
}

/** dx for x = values and g = grads (both the same length). */
async function backward(
  name: ActivationName,
  values: Float32Array,
  grads: Float32Array,
  args: readonly number[] = [],
): Promise<Float32Array> {
  const act = new Activation(name, { args: [...args] });
  act.forward(gpuarray.toGpu(np.array(values)));
  return (await act.backward(gpuarray.toGpu(np.array(grads))).get()).data;
}

/**
 * Puts `rare` at every position of every length up to LONGEST into the base values (or, with
 * `intoGrads`, into the gradients) and checks every lane against its own kind's block.
 */
async function checkEveryPosition(
  label: string,
  run: (values: Float32Array, grads: Float32Array) => Promise<Float32Array>,
  rare: number,
  intoGrads = false,
): Promise<void> {
  const base = await run(BASE.slice(0, LONGEST), GRADS);
  // Every lane rare: each lane's result in a block of its own kind, beside its own g (or x).
  const allRare = new Float32Array(LONGEST).fill(rare);
  const alone = await (intoGrads ? run(BASE.slice(0, LONGEST), allRare) : run(allRare, GRADS));
  for (let length = 1; length <= LONGEST; length++) {
    for (let at = 0; at < length; at++) {
      const values = BASE.slice(0, length);
      const grads = GRADS.slice(0, length);
      (intoGrads ? grads : values)[at] = rare;
      const got = await run(values, grads);
      for (let i = 0; i < length; i++) {
        const want = i === at ? alone[at]! : base[i]!;
        if (!same(got[i]!, want)) {
          assert.fail(
            `${label}: ${rare} at ${at} of ${length}: lane ${i} (x = ${values[i]}, g = ` +
              `${grads[i]}) gave ${got[i]}, alone ${want}`,
          );
        }
      }
    }
  }
}

describe("guards: a lane's result does not depend on its block (cpu, Wasm SIMD)", () => {
  before(() => setBackend("cpu", { threads: 1 }));

  for (const [name, extra] of Object.entries(RARE) as [ActivationName, number[]][]) {
    it(`${name}: a rare value at every position of every length up to ${LONGEST}`, async () => {
      for (const rare of [...SPECIAL, ...extra]) {
        await checkEveryPosition(name, (values) => forward(name, values), rare);
      }
    });
  }

  it("sweeps every guarded backward kernel, each with rare values of its own", () => {
    assert.ok(BACKWARD_GUARDED.length >= 7, BACKWARD_GUARDED.join());
    for (const name of BACKWARD_GUARDED) assert.ok(RARE[name], name);
  });

  for (const name of BACKWARD_GUARDED) {
    it(`${name} backward: a rare x, and a rare g, at every position of every length up to ${LONGEST}`, async () => {
      const run = (values: Float32Array, grads: Float32Array) => backward(name, values, grads);
      for (const rare of [...SPECIAL, ...(RARE[name] ?? [])]) {
        await checkEveryPosition(`${name} backward`, run, rare);
      }
      for (const rare of SPECIAL) await checkEveryPosition(`${name} backward, g`, run, rare, true);
    });
  }

  // The kernels of other args: softPlus(beta, threshold) carries beta x exactly and has its
  // own tail guard; silu(beta) is not the atDefaults form.
  for (const [name, args] of [
    ["softPlus", [0.7, 20]],
    ["silu", [0.7]],
  ] as const) {
    it(`${name}(${args.join(", ")}) forward and backward: a rare x, and a rare g, at every position`, async () => {
      const rares = [...SPECIAL, ...RARE[name]!];
      for (const rare of rares) {
        await checkEveryPosition(`${name}(${args})`, (values) => forward(name, values, args), rare);
      }
      const run = (values: Float32Array, grads: Float32Array) =>
        backward(name, values, grads, args);
      for (const rare of rares) await checkEveryPosition(`${name}(${args}) backward`, run, rare);
      for (const rare of SPECIAL) {
        await checkEveryPosition(`${name}(${args}) backward, g`, run, rare, true);
      }
    });
  }

  it("gives the same bits on 1 and 2 threads for blocks that mix rare and fast lanes", async () => {
    const n = 1 << 16;
    const values = new Float32Array(n);
    for (let i = 0; i < n; i++)
      values[i] = i % 97 === 0 ? SPECIAL[i % SPECIAL.length]! : BASE[i % 48]!;
    for (const name of ["gelu", "tanh", "sigmoid"] as const) {
      await setBackend("cpu", { threads: 1 });
      const one = await forward(name, values);
      await setBackend("cpu", { threads: 2 });
      const two = await forward(name, values);
      for (let i = 0; i < n; i++) assert.ok(same(one[i]!, two[i]!), `${name} lane ${i}`);
    }
    await setBackend("cpu", { threads: 1 });
  });
});

describe("guardRegions and resolveGuards", () => {
  it("puts in each side's region only what that side alone needs", () => {
    const x = input("x");
    const shared = mul(x, 3);
    const fastOnly = add(shared, 1);
    const exactOnly = add(shared, 2);
    const body = add(guard(lt(x, 1), fastOnly, exactOnly), shared);
    const entries = [...guardRegions(body)];
    assert.equal(entries.length, 1);
    const [node, regions] = entries[0]!;
    assert.equal(node.op, "guard");
    const computed = (region: ReadonlySet<unknown>) =>
      [...region].filter((e) => (e as { op: string }).op !== "const");
    assert.deepEqual(computed(regions.fast), [fastOnly]);
    assert.deepEqual(computed(regions.exact), [exactOnly]);
    assert.ok(!topologicalOrder(resolveGuards(body, "exact")).some((e) => e.op === "guard"));
    assert.ok(topologicalOrder(resolveGuards(body, "fast")).includes(fastOnly));
  });

  it("exp, expm1 and erfc expand with a guard each", () => {
    const body = expandTranscendentals(exp(input("x")));
    assert.equal(guardRegions(body).size, 1);
  });
});

// (d) Property tests of Activation: seeded random shapes, slices, args, dtypes and in-place
// mode. Inside the slice, forward and backward match the float64 oracles; outside it, the
// output is bitwise the input (forward) or the incoming gradient (backward).
// Reproduce a failure with NUMERICS_SEED=<seed from the message>.

import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { Activation, gpuarray, np, slice } from "../src/index.js";
import { halfToNumber, numberToHalf } from "../src/host/float16.js";
import { BACKENDS_UNDER_TEST, TOLERANCES, useBackend } from "./backends.js";
import {
  ACT_NAMES,
  F32_EDGES,
  backward,
  bitsToF32,
  err16,
  err32,
  f32Bits,
  fmt16,
  fmt32,
  forward,
  makeRng,
  Tally,
  testSeed,
  type ActName,
  type Rng,
} from "./reference/oracles.js";

type Bound = number | null;

/** Python's slice(start, stop, step).indices(length), expanded: the flat indices it selects. */
function pySliceIndices(length: number, start: Bound, stop: Bound, step: Bound): number[] {
  const st = step ?? 1;
  if (st === 0) throw new Error("slice step cannot be zero");
  const [lower, upper] = st > 0 ? [0, length] : [-1, length - 1];
  const clamp = (b: Bound, omitted: number): number =>
    b === null ? omitted : b < 0 ? Math.max(b + length, lower) : Math.min(b, upper);
  const from = clamp(start, st > 0 ? lower : upper);
  const to = clamp(stop, st > 0 ? upper : lower);
  const out: number[] = [];
  for (let i = from; st > 0 ? i < to : i > to; i += st) out.push(i);
  return out;
}

interface Case {
  readonly name: ActName;
  readonly args: number[];
  readonly dtype: "float32" | "float16";
  readonly inplace: boolean;
  readonly shape: number[];
  readonly slc: [Bound, Bound, Bound];
}

const describeCase = (c: Case, index: number, seed: number): string =>
  `case #${index} (NUMERICS_SEED=${seed}): ${c.name}(${c.args.join(", ")}) ${c.dtype} inplace=${c.inplace} ` +
  `shape [${c.shape.join(", ")}] slice(${c.slc.map(String).join(", ")})`;

function randomArgs(rng: Rng, name: ActName): number[] {
  if (rng.next() < 0.2) return []; // the defaults
  switch (name) {
    case "leakyRelu":
      return [rng.pick([0.01, 0.2, 1, 1e-3 + rng.next()])];
    case "elu":
      return [rng.pick([1, 0.5, 0.01 + 3 * rng.next()])];
    case "clip": {
      const lo = rng.pick([0, -1, -5 + 8 * rng.next()]);
      return [lo, rng.next() < 0.1 ? lo : lo + 6 * rng.next()];
    }
    case "hardTanh": {
      const lo = -3 * rng.next();
      return [lo, lo + 3 * rng.next()];
    }
    case "celu":
      return [rng.pick([1, 0.5, 0.05 + 3 * rng.next()])];
    case "softShrink":
    case "hardShrink":
      return [rng.pick([0.5, 0, 2 * rng.next()])];
    case "hardSigmoid":
      return rng.pick([
        [0.2, 0.5],
        [1 / 6, 0.5],
        [-0.1 - rng.next(), 4 * rng.next() - 2],
      ]);
    case "threshold":
      return [rng.pick([0, 0.1, 4 * rng.next() - 2]), rng.pick([0, 20, 4 * rng.next() - 2])];
    case "silu":
    case "swish":
      return [rng.pick([1, 0.7, 0.1 + 3 * rng.next()])];
    case "softPlus":
      return rng.next() < 0.5
        ? [0.1 + 3 * rng.next()]
        : [0.1 + 3 * rng.next(), 18 + 10 * rng.next()];
    default:
      return [];
  }
}

function randomShape(rng: Rng): number[] {
  const ndim = rng.int(1, 4);
  const cap = Math.ceil(300 ** (1 / ndim)) * 2;
  for (;;) {
    const shape = Array.from({ length: ndim }, () => rng.int(1, cap));
    if (rng.next() < 0.06) shape[rng.int(0, ndim - 1)] = 0;
    if (shape.reduce((a, b) => a * b, 1) <= 300) return shape;
  }
}

function randomBound(rng: Rng, size: number): Bound {
  const r = rng.next();
  if (r < 0.25) return null;
  if (r < 0.35) return rng.pick([-1, 1]) * rng.int(size + 1, 10 ** 6); // out of range
  return rng.int(-size - 3, size + 3);
}

function randomStep(rng: Rng, size: number): Bound {
  const r = rng.next();
  if (r < 0.2) return null;
  const magnitude =
    r < 0.7 ? rng.int(1, 3) : r < 0.9 ? rng.int(1, size + 3) : rng.int(size + 1, 10 ** 6);
  return rng.pick([-1, 1]) * magnitude;
}

function randomCase(rng: Rng): Case {
  const name = rng.pick(ACT_NAMES);
  const shape = randomShape(rng);
  const size = shape.reduce((a, b) => a * b, 1);
  const args = randomArgs(rng, name);
  // Functions whose backward reads x refuse in place (module.test.ts checks the error).
  const keepsInput = new Activation(name, { args }).backwardFrom === "x";
  return {
    name,
    args,
    dtype: rng.next() < 0.5 ? "float32" : "float16",
    inplace: rng.next() < 0.5 && !keepsInput,
    shape,
    slc: [randomBound(rng, size), randomBound(rng, size), randomStep(rng, size)],
  };
}

/** Random values as raw bits of the dtype: ordinary values, edge values and arbitrary bits. */
function randomBits(rng: Rng, dtype: Case["dtype"], n: number): Uint32Array | Uint16Array {
  const out = dtype === "float32" ? new Uint32Array(n) : new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    const r = rng.next();
    const v =
      r < 0.15 ? rng.pick(F32_EDGES) : r < 0.25 ? null : (rng.next() - 0.5) * 2 ** rng.int(-3, 6);
    if (dtype === "float32") out[i] = v === null ? rng.bits32() : f32Bits(v);
    else out[i] = v === null ? rng.bits32() & 0xffff : numberToHalf(v);
  }
  return out;
}

/** The host array of a case's dtype holding these raw bits, reshaped. */
function hostArray(c: Case, bits: Uint32Array | Uint16Array) {
  const typed = c.dtype === "float32" ? new Float32Array(bits.buffer) : (bits as Uint16Array);
  return np.array(typed, c.dtype).reshape(c.shape);
}

/** The raw bits of a host array's data. */
function rawBits(
  data: ArrayBufferView & { length: number },
  dtype: Case["dtype"],
): Uint32Array | Uint16Array {
  return dtype === "float32"
    ? new Uint32Array(data.buffer, data.byteOffset, data.length)
    : new Uint16Array(data.buffer, data.byteOffset, data.length);
}

const toNumber = (bits: number, dtype: Case["dtype"]): number =>
  dtype === "float32" ? bitsToF32(bits) : halfToNumber(bits);
const fmtBits = (bits: number, dtype: Case["dtype"]): string =>
  dtype === "float32" ? fmt32(bitsToF32(bits)) : fmt16(bits);

for (const backend of BACKENDS_UNDER_TEST) {
  const tol = TOLERANCES[backend];

  describe(`numerics: random shapes, slices, args and dtypes on ${backend}`, () => {
    before(() => useBackend(backend));
    const seed = testSeed(20240611);
    const CASES = 200;

    it(`${CASES} random cases (seed ${seed}): oracle inside the slice, identity outside`, async (t) => {
      const rng = makeRng(seed);
      const seen = {
        empty: 0,
        emptySlice: 0,
        negativeStep: 0,
        inplace: 0,
        float16: 0,
        multiDim: 0,
      };
      for (let index = 0; index < CASES; index++) {
        const c = randomCase(rng);
        const what = describeCase(c, index, seed);
        const size = c.shape.reduce((a, b) => a * b, 1);
        const inSlice = pySliceIndices(size, ...c.slc);
        const selected = new Set(inSlice);
        const ulpTol = c.dtype === "float32" ? tol.float32Ulp : tol.float16Ulp;
        const err = (got: number, exp: number): number =>
          c.dtype === "float32" ? err32(bitsToF32(got), exp) : err16(got, exp);
        const expFmt = (exp: number): string =>
          c.dtype === "float32" ? fmt32(Math.fround(exp)) : fmt16(numberToHalf(exp));

        const act = new Activation(c.name, {
          slc: slice(...c.slc),
          inplace: c.inplace,
          args: c.args,
        });
        if (c.dtype === "float16") act.calcMode("float16");
        const xHost = hostArray(c, randomBits(rng, c.dtype, size));
        const xBits = rawBits(xHost.data, c.dtype).slice();
        const x = gpuarray.toGpu(xHost);
        const y = act.forward(x);
        assert.deepEqual([...y.shape], c.shape, `${what}: forward output shape`);
        const yBits = rawBits((await y.get()).data, c.dtype);
        if (c.inplace) {
          const xAfter = rawBits((await x.get()).data, c.dtype);
          assert.deepEqual(
            [...xAfter],
            [...yBits],
            `${what}: inplace forward must leave the output in the input`,
          );
        }
        const fwd = new Tally(`${what}: forward`, ulpTol);
        for (let k = 0; k < size; k++) {
          const xb = xBits[k]!;
          const yb = yBits[k]!;
          if (selected.has(k)) {
            const exp = forward(c.name, toNumber(xb, c.dtype), c.args);
            fwd.add(
              err(yb, exp),
              () =>
                `flat ${k} x=${fmtBits(xb, c.dtype)} expected ${expFmt(exp)} got ${fmtBits(yb, c.dtype)}`,
            );
          } else {
            fwd.add(
              yb === xb ? 0 : Infinity,
              () =>
                `flat ${k} outside the slice: x=${fmtBits(xb, c.dtype)} changed to ${fmtBits(yb, c.dtype)}`,
            );
          }
        }
        fwd.assert();

        const gHost = hostArray(c, randomBits(rng, c.dtype, size));
        const gBits = rawBits(gHost.data, c.dtype).slice();
        const dx = act.backward(gpuarray.toGpu(gHost));
        assert.ok(dx !== null && dx === act.grad, `${what}: backward must return act.grad`);
        assert.deepEqual([...dx.shape], c.shape, `${what}: backward output shape`);
        const dxBits = rawBits((await dx.get()).data, c.dtype);
        const bwd = new Tally(`${what}: backward`, ulpTol);
        for (let k = 0; k < size; k++) {
          const gb = gBits[k]!;
          const db = dxBits[k]!;
          if (selected.has(k)) {
            const yb = yBits[k]!;
            const exp = backward(
              c.name,
              toNumber(gb, c.dtype),
              { x: toNumber(xBits[k]!, c.dtype), y: toNumber(yb, c.dtype) },
              c.args,
            );
            bwd.add(
              err(db, exp),
              () =>
                `flat ${k} g=${fmtBits(gb, c.dtype)} y=${fmtBits(yb, c.dtype)} expected ${expFmt(exp)} got ${fmtBits(db, c.dtype)}`,
            );
          } else {
            bwd.add(
              db === gb ? 0 : Infinity,
              () =>
                `flat ${k} outside the slice: g=${fmtBits(gb, c.dtype)} changed to ${fmtBits(db, c.dtype)}`,
            );
          }
        }
        bwd.assert();

        seen.empty += size === 0 ? 1 : 0;
        seen.emptySlice += size > 0 && inSlice.length === 0 ? 1 : 0;
        seen.negativeStep += (c.slc[2] ?? 1) < 0 ? 1 : 0;
        seen.inplace += c.inplace ? 1 : 0;
        seen.float16 += c.dtype === "float16" ? 1 : 0;
        seen.multiDim += c.shape.length > 1 ? 1 : 0;
      }
      t.diagnostic(`coverage: ${JSON.stringify(seen)}`);
      for (const [kind, count] of Object.entries(seen)) {
        assert.ok(
          count > 0,
          `seed ${seed}: the random cases never produced a ${kind} case; use another seed`,
        );
      }
    });

    it("pySliceIndices agrees with Python on hand-checked cases", () => {
      const cases: [number, Bound, Bound, Bound, number[]][] = [
        [5, null, null, null, [0, 1, 2, 3, 4]],
        [5, null, null, -1, [4, 3, 2, 1, 0]],
        [5, -2, null, null, [3, 4]],
        [5, 10, -10, -2, [4, 2, 0]],
        [5, -10, 10, 3, [0, 3]],
        [5, 3, 1, null, []],
        [5, 1, 3, -1, []],
        [5, null, -6, -1, [4, 3, 2, 1, 0]],
        [0, null, null, -1, []],
        [7, 2, null, 100, [2]],
      ];
      for (const [n, a, b, s, expected] of cases) {
        assert.deepEqual(pySliceIndices(n, a, b, s), expected, `slice(${a}, ${b}, ${s}) over ${n}`);
      }
    });
  });
}

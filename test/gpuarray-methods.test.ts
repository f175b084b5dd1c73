// GPUArray's PuzzleLib methods (set, fill, reshape, ravel, copy) and `to`, on every backend;
// console.log output in Node; and np.asarray's sharing, np.array's typed path and the creation
// functions' refusals.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { inspect } from "node:util";
import {
  Activation,
  BackendError,
  gpuarray,
  keep,
  np,
  setBackend,
  tidy,
  type GPUArray,
} from "../src/index.js";
import { BACKENDS_UNDER_TEST, useBackend } from "./backends.js";

async function values(array: GPUArray): Promise<number[]> {
  const host = await array.get();
  return Array.from({ length: host.size }, (_, i) => host.item(i));
}

for (const backend of BACKENDS_UNDER_TEST) {
  describe(`GPUArray methods on ${backend}`, () => {
    before(() => useBackend(backend));
    after(() => setBackend("cpu"));

    it("set writes a host array of the same shape and dtype, and refuses others", async () => {
      const x = gpuarray.zeros([2, 2]);
      assert.equal(
        x.set(
          np.array(
            [
              [1, 2],
              [3, 4],
            ],
            "float32",
          ),
        ),
        x,
      );
      assert.deepEqual(await values(x), [1, 2, 3, 4]);
      assert.throws(() => x.set(np.array([1, 2, 3, 4], "float32")), /reshape it first/);
      assert.throws(() => x.set(np.zeros([2, 2]) as never), /dtype float32, got \(2, 2\) float64/);
      assert.throws(() => x.set([1, 2, 3, 4] as never), { name: "BackendError" });
      x.dispose();
      assert.throws(() => x.set(np.zeros([2, 2], "float32")), /disposed/);
    });

    it("fill casts as numpy casts, in every dtype", async () => {
      assert.deepEqual(await values(gpuarray.empty(3).fill(0.1)), [
        Math.fround(0.1),
        Math.fround(0.1),
        Math.fround(0.1),
      ]);
      assert.deepEqual(await values(gpuarray.empty(2, "float16").fill(70000)), [
        Infinity,
        Infinity,
      ]);
      assert.deepEqual(await values(gpuarray.empty(2, "int32").fill(-2.7)), [-2, -2]);
      assert.deepEqual(await values(gpuarray.empty(0).fill(1)), []);
      assert.throws(() => gpuarray.empty(2).fill("1" as never), /fill expects a number/);
    });

    it("reshape and ravel are views: writes, activations and dispose go through both", async () => {
      const x = gpuarray.toGpu(np.arange(6, "float32"));
      const y = x.reshape(2, 3);
      assert.deepEqual(y.shape, [2, 3]);
      assert.equal(y.base, x);
      assert.deepEqual(x.reshape([3, -1]).shape, [3, 2]);
      assert.equal(y.ravel().base, x, "a view of a view has the first base");
      y.fill(2);
      assert.deepEqual(await values(x), [2, 2, 2, 2, 2, 2]);
      const act = new Activation("sigmoid", { inplace: true });
      act.forward(y.ravel());
      const sigmoid2 = 1 / (1 + Math.exp(-2));
      assert.ok((await values(x)).every((v) => Math.abs(v - sigmoid2) < 1e-6));
      assert.throws(() => x.reshape(4, 2), /cannot reshape array of size 6 into shape \(4, 2\)/);
      assert.throws(() => x.reshape("6" as never), /reshape takes dimensions/);
      y.dispose();
      assert.ok(x.disposed, "one memory: disposing the view frees the base's");
    });

    it("a view of a module's output goes stale with it; keep(view) keeps the memory", async () => {
      const act = new Activation("relu");
      const first = act.forward(gpuarray.toGpu(np.array([-1, 2, -3, 4], "float32"))).reshape(2, 2);
      act.forward(gpuarray.toGpu(np.array([5, 6, 7, 8], "float32")));
      assert.ok(first.stale);
      await assert.rejects(first.get(), /stale/);
      const kept = keep(act.forward(gpuarray.toGpu(np.array([1, -1, 1, -1], "float32"))).ravel());
      act.forward(gpuarray.toGpu(np.array([9, 9, 9, 9], "float32")));
      assert.deepEqual(await values(kept), [1, 0, 1, 0]);
    });

    it("tidy keeps a returned view's memory and frees the rest", async () => {
      let inner: GPUArray | null = null;
      const view = tidy(() => {
        inner = gpuarray.toGpu(np.array([1, 2], "float32"));
        return gpuarray.toGpu(np.array([3, 4, 5, 6], "float32")).reshape(2, 2);
      });
      assert.ok(inner!.disposed);
      assert.deepEqual(await values(view), [3, 4, 5, 6]);
    });

    it("to() copies to another backend and leaves the current one alone", async () => {
      const x = gpuarray.toGpu(np.array([1.5, -2], "float32")).reshape(1, 2);
      const other = backend === "cpu" ? "js" : "cpu";
      const moved = await x.to(other);
      assert.equal(moved.backend.name, other);
      assert.deepEqual(moved.shape, [1, 2]);
      assert.deepEqual(await values(moved), [1.5, -2]);
      const same = await x.to(backend);
      assert.notEqual(same.storage, x.storage, "to() the same backend is a copy");
      assert.equal(gpuarray.empty(1).backend.name, backend);
      await assert.rejects(x.to("tpu" as never), /unknown backend "tpu"/);
    });
  });
}

describe("console.log in Node", () => {
  it("prints an NDArray as numpy's repr", () => {
    assert.equal(
      inspect(
        np.array(
          [
            [1, 2],
            [3, 4],
          ],
          "float32",
        ),
      ),
      "array([[1., 2.],\n       [3., 4.]], dtype=float32)",
    );
    assert.equal(inspect(np.arange(3)), "array([0, 1, 2], dtype=int32)");
    assert.equal(inspect({ x: np.array([0.5]) }), "{ x: array([0.5]) }");
  });

  it("prints a GPUArray's shape, dtype, backend, and values where they can be read now", async () => {
    const x = gpuarray.toGpu(np.array([-1, 2], "float16"));
    assert.equal(
      inspect(x),
      "GPUArray(shape=(2,), dtype=float16, backend=cpu)\narray([-1.,  2.], dtype=float16)",
    );
    x.dispose();
    assert.equal(inspect(x), "GPUArray(shape=(2,), dtype=float16, backend=cpu, disposed)");
    await setBackend("js");
    try {
      assert.match(inspect(gpuarray.zeros(2)), /backend=js\)\narray\(\[0., 0.\], dtype=float32\)/);
    } finally {
      await setBackend("cpu");
    }
  });

  it("does not dump backend internals", () => {
    const printed = inspect(new Activation("relu").forward(gpuarray.zeros(2)));
    assert.doesNotMatch(printed, /CpuBackend|Heap|kernels/);
  });
});

describe("np.array and np.asarray of typed arrays", () => {
  it("np.array copies; np.asarray shares when the element type is the dtype's", () => {
    const data = new Float32Array([1, 2, 3]);
    const copied = np.array(data);
    const shared = np.asarray(data);
    data[0] = 9;
    assert.equal(copied.item(0), 1);
    assert.equal(shared.item(0), 9);
    assert.equal(shared.data, data);
    const half = new Uint16Array([0x3c00]);
    assert.equal(np.asarray(half, "float16").data, half);
    assert.notEqual(np.asarray(data, "float64").data, data, "another dtype converts");
    const host = np.zeros(2);
    assert.equal(np.asarray(host), host);
    assert.equal(np.asarray(host, "float32").dtype, "float32");
    assert.deepEqual(np.asarray([[1, 2]]).shape, [1, 2]);
  });

  it("converts typed arrays with numpy's rules", () => {
    assert.deepEqual(Array.from(np.array(new Float64Array([0.1, 1e40]), "float32").data), [
      Math.fround(0.1),
      Infinity,
    ]);
    assert.deepEqual(Array.from(np.array(new Float64Array([2.7, NaN, 3e9]), "int32").data), [
      2,
      -(2 ** 31),
      -(2 ** 31),
    ]);
    assert.equal(np.array(new Uint8Array([1, 255])).dtype, "int32");
    assert.equal(np.array(new Uint32Array([2 ** 32 - 1])).dtype, "float64");
    assert.deepEqual(
      Array.from(np.array(new Float32Array([1, 65520]), "float16").data),
      [0x3c00, 0x7c00],
    );
    assert.deepEqual(np.array(new Float32Array(new ArrayBuffer(16), 4, 2)).shape, [2]);
  });
});

describe("np creation functions refuse what numpy refuses", () => {
  it("arange", () => {
    assert.throws(() => np.arange(0, 1, 0), {
      name: "BackendError",
      message: /step must not be zero/,
    });
    assert.throws(() => np.arange(0, Infinity), /finite numbers/);
    assert.throws(() => np.arange(NaN), /finite numbers/);
    assert.throws(() => (np.arange as (...args: unknown[]) => unknown)(), /takes \(stop\)/);
    assert.throws(() => np.arange(1, "int64" as never), /unsupported dtype "int64"/);
    assert.deepEqual(np.arange(0, 3, undefined).shape, [3]);
  });

  it("linspace, full and the *Like functions", () => {
    assert.throws(() => np.linspace(0, 1, -1), /non-negative integer, got -1/);
    assert.throws(() => np.linspace(0, 1, 2.5), /non-negative integer/);
    assert.throws(
      () => np.linspace(0, 1, 3, { endpoint: "no" as never }),
      /endpoint must be true or false/,
    );
    assert.throws(() => np.linspace(0, 1, 3, { dtype: "int8" as never }), /unsupported dtype/);
    assert.throws(() => np.full([2], "1" as never), /fill value must be a number/);
    assert.throws(() => np.zerosLike([1, 2] as never), /expects an array \(NDArray or GPUArray\)/);
    assert.throws(() => np.ones([-1]), BackendError);
  });

  it("takes a GPUArray's shape and dtype for *Like", () => {
    const like = np.zerosLike(gpuarray.empty([2, 3], "float16"));
    assert.deepEqual([like.shape, like.dtype], [[2, 3], "float16"]);
  });
});

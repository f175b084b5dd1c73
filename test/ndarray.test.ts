import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BackendError, gpuarray, NDArray, np } from "../src/index.js";

describe("np and NDArray", () => {
  it("infers shape and dtype like numpy (int32 standing in for int64)", () => {
    const ints = np.array([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    assert.deepEqual(ints.shape, [2, 3]);
    assert.equal(ints.dtype, "int32");
    assert.equal(ints.size, 6);
    assert.ok(ints.data instanceof Int32Array);
    assert.equal(np.array([1, 2.5]).dtype, "float64");
    assert.equal(np.array([2 ** 31]).dtype, "float64");
    assert.equal(np.array(new Float32Array([1, 2])).dtype, "float32");
    assert.deepEqual(np.array([]).shape, [0]);
    assert.deepEqual(np.array([[], []]).shape, [2, 0]);
    assert.deepEqual(np.array(7).shape, []);
  });

  it("rejects ragged input, bad dtypes and bad shapes", () => {
    assert.throws(() => np.array([[1, 2], [3]]), { name: "BackendError", message: /ragged/ });
    assert.throws(() => np.array([[1, 2], 3] as never), /ragged/);
    assert.throws(() => np.array([1], "int64" as never), /unsupported dtype "int64"/);
    assert.throws(() => np.zeros([2, -1]), BackendError);
    assert.throws(
      () => np.zeros([2, 3]).reshape([4, -1]),
      /cannot reshape array of size 6 into shape \(4, -1\)/,
    );
  });

  it("casts as numpy does (values from numpy 1.24)", () => {
    const x = np.array([1.7, -1.7, 2.5, -0.5, NaN, 3e9, -3e9, Infinity]);
    assert.deepEqual(Array.from(x.astype("int32").data), [
      1,
      -1,
      2,
      0,
      -(2 ** 31),
      -(2 ** 31),
      -(2 ** 31),
      -(2 ** 31),
    ]);
    assert.deepEqual(
      Array.from(np.array([0.1, 1 / 3, 70000, 1e-8]).astype("float16").data),
      [11878, 13653, 31744, 0],
    );
    assert.deepEqual(
      Array.from(np.array([0.1, 1 / 3]).astype("float32").data),
      [0.10000000149011612, 0.3333333432674408],
    );
    const half = np.array(new Uint16Array([0x3c00, 0xc000]), "float16");
    assert.deepEqual(half.toArray(), [1, -2]);
  });

  it("reshapes as a view and converts to nested arrays", () => {
    const a = np.array([1, 2, 3, 4, 5, 6], "float32");
    const b = a.reshape([2, -1]);
    assert.deepEqual(b.shape, [2, 3]);
    assert.equal(b.data, a.data);
    assert.deepEqual(b.toArray(), [
      [1, 2, 3],
      [4, 5, 6],
    ]);
    assert.equal(String(b), "[[1. 2. 3.]\n [4. 5. 6.]]");
    assert.equal(String(np.zeros([2, 0])), "[]");
    assert.equal(String(np.zeros(3, "int32")), "[0 0 0]");
    assert.equal(np.empty([2, 2]).dtype, "float64");
  });

  it("checks the data passed to the constructor", () => {
    assert.throws(
      () => new NDArray(new Float32Array(3), [2, 2], "float32"),
      /does not match 3 elements/,
    );
    assert.throws(
      // A cast, as JavaScript callers do not have the types that refuse this.
      () => new NDArray(new Float64Array(4) as unknown as Float32Array, [2, 2], "float32"),
      /must be a Float32Array/,
    );
  });
});

describe("gpuarray", () => {
  it("round-trips host arrays and reports sizes", async () => {
    const host = np.array([[1.5, -2]], "float32");
    const device = gpuarray.toGpu(host);
    assert.deepEqual(device.shape, [1, 2]);
    assert.equal(device.dtype, "float32");
    assert.equal(device.size, 2);
    assert.equal(device.nbytes, 8);
    const back = await device.get();
    assert.deepEqual(back.toArray(), [[1.5, -2]]);
    assert.notEqual(back.data, host.data);
    assert.equal(String(device), "GPUArray(shape=(1, 2), dtype=float32, backend=cpu)");
    device.dispose();
    assert.equal(String(device), "GPUArray(shape=(1, 2), dtype=float32, backend=cpu, disposed)");
  });

  it("makes zeros and empty arrays of a shape and dtype", async () => {
    const z = gpuarray.zeros([2, 2], "float16");
    assert.equal(z.nbytes, 8);
    assert.deepEqual((await z.get()).toArray(), [
      [0, 0],
      [0, 0],
    ]);
    assert.equal(gpuarray.empty([3]).dtype, "float32");
    assert.throws(() => gpuarray.empty([3], "int8" as never), /unsupported dtype "int8"/);
    assert.throws(() => gpuarray.toGpu([1, 2] as never), /expects an NDArray/);
  });
});

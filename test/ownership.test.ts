// Who owns an array, and for how long: a module's outputs are the module's (reused by its next
// call, the old handle stale and loud), keep() and copy() make an array the caller's, tidy()
// frees what a scope made. Shaped like users' code: a loop, a held output, a chain.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Activation,
  BackendError,
  GPUArray,
  gpuarray,
  keep,
  np,
  tidy,
  type NDArray,
} from "../src/index.js";
import type { CpuBackend } from "../src/backends/cpu/cpu-backend.js";
import { BACKENDS_UNDER_TEST, useBackend } from "./backends.js";

const f32 = (values: number[]) => gpuarray.toGpu(np.array(values, "float32"));
const values = async (array: GPUArray) => ((await array.get()) as NDArray).toArray();
const STALE =
  /use of a stale array .*the output of Activation\(relu\)\.forward.*keep\(output\) or output\.copy\(\)/;

for (const name of BACKENDS_UNDER_TEST) {
  describe(`ownership on ${name}`, () => {
    it("a module's next forward makes the last output stale, and it says so", async () => {
      await useBackend(name);
      const act = new Activation("relu");
      const y1 = act.forward(f32([-1, 2]));
      const y2 = act.forward(f32([3, -4]));
      assert.equal(y1.stale, true);
      assert.equal(y1.disposed, false);
      assert.match(String(y1), /stale\)$/);
      await assert.rejects(
        y1.get(),
        (error: Error) => error instanceof BackendError && STALE.test(error.message),
      );
      assert.throws(() => new Activation("tanh").forward(y1), BackendError);
      assert.throws(() => y1.copy(), STALE);
      assert.throws(() => keep(y1), STALE);
      y1.dispose(); // harmless: the module holds the memory
      assert.deepEqual(await values(y2), [3, 0]);
      assert.equal(act.data, y2);
    });

    it("keep() and copy() hold an output across the module's later calls", async () => {
      await useBackend(name);
      const act = new Activation("relu");
      const kept = keep(act.forward(f32([-1, 2])));
      const copied = act.forward(f32([5, -6])).copy();
      const last = act.forward(f32([7, 8]));
      assert.deepEqual(await values(kept), [0, 2]);
      assert.deepEqual(await values(copied), [5, 0]);
      assert.deepEqual(await values(last), [7, 8]);
      assert.ok(!kept.stale && !copied.stale);
    });

    it("backward outputs are owned the same way", async () => {
      await useBackend(name);
      const act = new Activation("relu");
      act.forward(f32([1, -1]));
      const g1 = act.backward(f32([2, 2]));
      const g2 = act.backward(f32([3, 3]));
      assert.ok(g1.stale);
      assert.match(
        await g1.get().then(
          () => "",
          (e: Error) => e.message,
        ),
        /the gradient of Activation\(relu\)\.backward/,
      );
      assert.deepEqual(await values(g2), [3, 0]);
    });

    it("a chain fed its own outputs stays correct: forward(act.data) leaves the input valid", async () => {
      await useBackend(name);
      const act = new Activation("leakyRelu", { args: [0.5] });
      const y1 = act.forward(f32([-4, 2]));
      const y2 = act.forward(y1);
      const y3 = act.forward(y2);
      assert.deepEqual(await values(y1), [-2, 2]);
      assert.deepEqual(await values(y2), [-1, 2]);
      assert.deepEqual(await values(y3), [-0.5, 2]);
    });

    it("a new shape gives a new output and makes the old one stale", async () => {
      await useBackend(name);
      const act = new Activation("relu");
      const y1 = act.forward(f32([-1, 2]));
      const y2 = act.forward(f32([1, 2, 3]));
      assert.ok(y1.stale);
      assert.deepEqual(await values(y2), [1, 2, 3]);
    });

    it("reset() gives the last outputs to the caller", async () => {
      await useBackend(name);
      const act = new Activation("relu");
      const y1 = act.forward(f32([-1, 2]));
      act.reset();
      const y2 = act.forward(f32([3, 4]));
      assert.ok(!y1.stale);
      assert.deepEqual(await values(y1), [0, 2]);
      assert.deepEqual(await values(y2), [3, 4]);
    });

    it("a call that throws leaves the last output valid", async () => {
      await useBackend(name);
      const act = new Activation("relu");
      const y = act.forward(f32([-1, 2]));
      assert.throws(
        () => act.forward(gpuarray.zeros([2], "float16")),
        /expects data of dtype float32/,
      );
      assert.throws(() => act.backward(f32([1, 2, 3])), /grad must have the output's shape/);
      assert.ok(!y.stale);
      assert.equal(act.data, y);
      assert.deepEqual(await values(y), [0, 2]);
    });

    it("a backend that fails while writing the reused output makes it stale, not silently changed", async () => {
      await useBackend(name);
      const act = new Activation("relu");
      const y = act.forward(f32([-1, 2]));
      const backend = y.backend as { run: (launch: unknown) => void };
      const run = backend.run;
      backend.run = () => {
        throw new BackendError("a worker died");
      };
      try {
        assert.throws(() => act.forward(f32([3, 4])), /a worker died/);
      } finally {
        backend.run = run;
      }
      assert.ok(y.stale);
      assert.deepEqual(await values(act.forward(f32([5, -6]))), [5, 0]);
    });

    it("tidy() frees what it made except what it returns or keeps", async () => {
      await useBackend(name);
      const act = new Activation("relu");
      let inner: GPUArray | null = null;
      let kept: GPUArray | null = null;
      const { out, list } = tidy(() => {
        inner = f32([1, 2]);
        kept = keep(f32([3]));
        const nested = tidy(() => [f32([4]), gpuarray.zeros([1])]);
        return { out: act.forward(inner).copy(), list: nested.slice(0, 1) };
      });
      assert.equal(inner!.disposed, true);
      assert.deepEqual(await values(kept!), [3]);
      assert.deepEqual(await values(out), [1, 2]);
      assert.deepEqual(await values(list[0]!), [4]);
      // The module's own output is left to the module.
      assert.deepEqual(await values(act.data!), [1, 2]);
    });

    it("tidy() frees what it made when its function throws or returns a Promise", async () => {
      await useBackend(name);
      let made: GPUArray | null = null;
      assert.throws(
        () =>
          tidy(() => {
            made = f32([1]);
            throw new Error("boom");
          }),
        /boom/,
      );
      assert.equal(made!.disposed, true);
      assert.throws(
        () =>
          tidy(async () => {
            made = f32([1]);
          }),
        (error: Error) => error instanceof BackendError && /returned a Promise/.test(error.message),
      );
      assert.equal(made!.disposed, true);
      let outer: GPUArray | null = null;
      tidy(() => {
        outer = f32([2]);
        tidy(() => void keep(outer!)); // kept from an inner scope: no scope frees it
      });
      assert.deepEqual(await values(outer!), [2]);
      assert.throws(() => tidy(5 as never), /tidy expects a function/);
      assert.throws(() => keep({} as never), /keep expects a GPUArray/);
    });
  });
}

describe("ownership on cpu: what repeated calls allocate", () => {
  it("a module's repeated forward and backward allocate nothing after the first", async () => {
    await useBackend("cpu");
    const x = f32(Array.from({ length: 4096 }, (_, i) => i - 2048));
    const g = f32(Array.from({ length: 4096 }, () => 1));
    const act = new Activation("sigmoid");
    act.forward(x);
    act.backward(g);
    const backend = x.backend as CpuBackend;
    const before = backend.info.heapBytes;
    for (let i = 0; i < 1000; i++) {
      act.forward(x);
      act.backward(g);
    }
    assert.equal(backend.info.heapBytes, before);
  });

  it("tensors evicted from the heap come back intact when used", async () => {
    await useBackend("cpu");
    // 80 tensors of 1 MiB pass the 16 MiB bound; those no kernel touched lately are evicted as
    // new ones are made, and come back on use.
    const arrays = Array.from({ length: 80 }, (_, i) =>
      gpuarray.toGpu(np.array(new Float32Array(1 << 18).fill(i - 40), "float32")),
    );
    const act = new Activation("relu");
    for (let i = 0; i < 200; i++) act.forward(arrays[79]!);
    const fresh = Array.from({ length: 40 }, () => gpuarray.zeros([1 << 18]));
    const backend = arrays[0]!.backend as CpuBackend;
    assert.ok(backend.info.heapBytes < 80 * 2 ** 20, `${backend.info.heapBytes} bytes in the heap`);
    for (const [i, array] of arrays.entries()) {
      const y = await act.forward(array).get();
      assert.equal(y.item(0), Math.max(i - 40, 0));
      assert.equal((await array.get()).item((1 << 18) - 1), i - 40);
    }
    for (const array of [...arrays, ...fresh]) array.dispose();
  });
});

// What only the webgpu backend has: pooled memory, cached pipelines, two-dimensional dispatch.
// The shared suites (module, numerics) already run on it; this file adds its own properties.

import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { Activation, getBackend, gpuarray, GPUArray, np, setBackend, slice } from "../src/index.js";
import type { WebGpuBackend } from "../src/backends/webgpu/webgpu-backend.js";
import { BACKENDS_UNDER_TEST, useBackend } from "./backends.js";

if (BACKENDS_UNDER_TEST.includes("webgpu")) {
  describe("webgpu backend", () => {
    let backend: WebGpuBackend;
    before(async () => {
      await useBackend("webgpu");
      backend = gpuarray.zeros([1]).backend as WebGpuBackend;
    });

    it("keeps its memory bounded over 10,000 forward and backward steps", async () => {
      const act = new Activation("sigmoid");
      const x = gpuarray.toGpu(np.random.randn(1000).astype("float32"));
      const g = gpuarray.toGpu(np.random.randn(1000).astype("float32"));
      const step = (): void => {
        act.forward(x);
        act.backward(g);
        act.data!.dispose();
        act.grad!.dispose();
      };
      for (let i = 0; i < 10; i++) step();
      const warm = backend.stats;
      for (let i = 0; i < 10_000; i++) step();
      const after = backend.stats;
      const y = await act.forward(x).get();
      assert.ok(Number.isFinite(y.item(0)));
      // Every disposed output went back to the pool and was reused: no buffer was made after the
      // first steps.
      assert.equal(after.buffersCreated, warm.buffersCreated);
      assert.ok(
        after.pooledBytes <= warm.pooledBytes + 8192,
        `pool holds ${after.pooledBytes} bytes`,
      );
      assert.equal(after.pipelines, warm.pipelines, "no pipeline compiled after the first call");
    });

    it("compiles one pipeline per kernel, dtype and variant, whatever the args or sizes", async () => {
      const before = backend.stats.pipelines;
      for (const size of [1, 7, 1000]) {
        for (const alpha of [0.1, 0.2, 0.3]) {
          const act = new Activation("elu", { args: [alpha] });
          await act.forward(gpuarray.toGpu(np.random.randn(size).astype("float32"))).get();
        }
      }
      assert.equal(backend.stats.pipelines - before, 1);
    });

    it("dispatches more than 65,535 workgroups in two dimensions", async () => {
      const size = 65_535 * 256 + 1001;
      const values = new Float32Array(size);
      for (let i = 0; i < size; i++) values[i] = (i % 7) - 3;
      const x = gpuarray.toGpu(np.array(values));
      const y = await new Activation("relu", { slc: slice(null, null, -1) }).forward(x).get();
      for (const i of [0, 1, 65_535 * 256 - 1, 65_535 * 256, size - 2, size - 1]) {
        assert.equal(y.item(i), Math.max(0, (i % 7) - 3), `element ${i}`);
      }
      x.dispose();
    });

    it("reads and writes odd-length float16 tensors, packed two to a word", async () => {
      const act = new Activation("relu", { slc: slice(1, null, 2), inplace: true });
      act.calcMode("float16");
      const x = gpuarray.toGpu(np.array([-1, -2, -3, 4, -5], "float16"));
      assert.deepEqual(
        Array.from((await act.forward(x).get()).toArray() as number[]),
        [-1, 0, -3, 4, -5],
      );
      assert.equal(x.nbytes, 10);
    });

    it("runs backward in place from the output itself", async () => {
      const act = new Activation("sigmoid", { inplace: true });
      const y = act.forward(gpuarray.toGpu(np.array([-2, 0, 2], "float32")));
      const s = Array.from((await y.get()).data);
      const gx = act.backward(y);
      assert.equal(gx, y);
      const got = Array.from((await gx.get()).data);
      got.forEach((v, i) => {
        const want = Math.fround(s[i]! * s[i]! * (1 - s[i]!));
        assert.ok(Math.abs(v - want) <= 1e-7, `${v} vs ${want}`);
      });
    });

    it("lets the last setBackend call made win, whichever finishes first", async () => {
      await Promise.all([setBackend("webgpu"), setBackend("cpu")]);
      assert.equal(getBackend(), "cpu");
      await setBackend("webgpu");
    });

    it("keeps arrays on the backend they were made on", async () => {
      await setBackend("cpu");
      const onCpu = gpuarray.toGpu(np.array([-1, 1], "float32"));
      await setBackend("webgpu");
      const y = new Activation("relu").forward(onCpu);
      assert.equal(y.backend.name, "cpu");
      assert.ok(gpuarray.zeros([2]) instanceof GPUArray);
      assert.equal(gpuarray.zeros([2]).backend.name, "webgpu");
      await assert.rejects(
        setBackend("nope" as never),
        /unknown backend "nope"; available: cpu, js, webgpu/,
      );
      assert.equal(getBackend(), "webgpu");
    });
  });
}

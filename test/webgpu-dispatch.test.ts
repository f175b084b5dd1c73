// The webgpu backend's dispatch: a fixed-size redo queue (no buffer that grows with the tensor),
// the spill pass that keeps results exact when the queue is full, bind groups cached per buffer
// set, and launches batched into one submit (each with its own parameters, none overtaken by a
// later upload).

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Activation, gpuarray, np, slice, type ActivationName } from "../src/index.js";
import type { WebGpuBackend } from "../src/backends/webgpu/webgpu-backend.js";
import { DEFAULT_REDO_CAPACITY } from "../src/backends/webgpu/redo-queue.js";
import { BACKENDS_UNDER_TEST, TOLERANCES, useBackend } from "./backends.js";
import { backward, forward, ulpDistance32 } from "./reference/oracles.js";

const WORKGROUP = 256;

/**
 * Values whose elements the main pass cannot compute exactly (subnormal inputs, and inputs whose
 * results are subnormal), in workgroups of every kind: all such, a few, none.
 */
function mixedData(groups: number, tail: number): Float32Array {
  const values = new Float32Array(groups * WORKGROUP + tail);
  for (let i = 0; i < values.length; i++) {
    const group = Math.floor(i / WORKGROUP);
    const rare = group % 3 === 0 || (group % 3 === 1 && i % 61 === 0);
    values[i] = rare ? [1e-40, -3e-39, -95, -101.5, 2e-45][i % 5]! : -4 + ((i * 37) % 97) / 12;
  }
  return values;
}

/** Every element within the contract of the float64 oracle. */
function checkForward(name: ActivationName, x: Float32Array, y: Float32Array, what: string) {
  for (let i = 0; i < x.length; i++) {
    const want = forward(name, x[i]!);
    const ulp = ulpDistance32(y[i]!, want);
    if (ulp > TOLERANCES.webgpu.float32Ulp) {
      assert.fail(`${what}: element ${i}, x = ${x[i]}: got ${y[i]}, want ${want} (${ulp} ULP)`);
    }
  }
}

if (BACKENDS_UNDER_TEST.includes("webgpu")) {
  describe("webgpu dispatch", () => {
    let backend: WebGpuBackend;
    before(async () => {
      await useBackend("webgpu");
      backend = gpuarray.zeros([1]).backend as WebGpuBackend;
    });
    after(() => {
      backend.redoCapacity = DEFAULT_REDO_CAPACITY;
    });

    it("binds no buffer beyond the output on a float32 call of 2^24 elements", async () => {
      const size = 2 ** 24;
      const values = new Float32Array(size);
      for (let i = 0; i < size; i++) values[i] = i % 4096 === 0 ? 1e-40 : ((i % 1000) - 500) / 100;
      const x = gpuarray.toGpu(np.array(values));
      const act = new Activation("sigmoid");
      const before = backend.stats;
      const y = act.forward(x);
      const during = backend.stats;
      // Only the output: the redo queue is the backend's fixed one, whatever the tensor's size.
      assert.equal(during.buffersCreated - before.buffersCreated, 1);
      assert.equal(during.liveBytes - before.liveBytes, size * 4);
      const host = (await y.get()).data as Float32Array;
      for (const i of [0, 1, 4096, 4097, size - 4096, size - 1]) {
        assert.ok(ulpDistance32(host[i]!, forward("sigmoid", values[i]!)) <= 4, `element ${i}`);
      }
      x.dispose();
      y.dispose();
    });

    for (const capacity of [0, 3, 300]) {
      it(`stays exact when the redo queue (capacity ${capacity}) overflows`, async () => {
        backend.redoCapacity = capacity;
        try {
          const values = mixedData(40, 77);
          for (const name of ["sigmoid", "tanh", "elu", "softPlus"] as const) {
            const x = () => gpuarray.toGpu(np.array(values));
            const out = (await new Activation(name).forward(x()).get()).data as Float32Array;
            checkForward(name, values, out, `${name} forward`);
            // In place: a spilled workgroup must leave its inputs for the exact pass.
            const inplace = new Activation(name, { inplace: true });
            const own = (await inplace.forward(x()).get()).data as Float32Array;
            assert.deepEqual(own, out, `${name} in place`);
            // A slice: elements outside it pass through, spilled or not.
            const sliced = new Activation(name, { slc: slice(5, null, 3) });
            const part = (await sliced.forward(x()).get()).data as Float32Array;
            for (let i = 0; i < values.length; i++) {
              const want = i >= 5 && (i - 5) % 3 === 0 ? out[i]! : values[i]!;
              assert.ok(Object.is(part[i], want), `${name} sliced, element ${i}`);
            }
          }
          // Backward reads two inputs (g and the forward's output y).
          const act = new Activation("sigmoid");
          const yHost = (await act.forward(gpuarray.toGpu(np.array(values))).get()).data;
          const g = gpuarray.toGpu(np.array(mixedData(40, 77).reverse()));
          const gHost = (await g.get()).data as Float32Array;
          const dx = (await act.backward(g).get()).data as Float32Array;
          for (let i = 0; i < dx.length; i++) {
            const want = backward("sigmoid", gHost[i]!, { x: values[i]!, y: yHost[i]! });
            const ulp = ulpDistance32(dx[i]!, want);
            assert.ok(ulp <= 4, `sigmoid backward, element ${i}: ${dx[i]} vs ${want}`);
          }
          // In place, backward writes over g: the launch that still waits at a barrier.
          const own = new Activation("sigmoid", { inplace: true });
          own.forward(gpuarray.toGpu(np.array(values)));
          const dxOwn = await own.backward(gpuarray.toGpu(np.array(gHost)))!.get();
          assert.deepEqual(dxOwn.data, dx, "sigmoid backward in place");
        } finally {
          backend.redoCapacity = DEFAULT_REDO_CAPACITY;
        }
      });
    }

    it("makes no buffer and no bind group in 10,000 calls after warm-up", async () => {
      const x = gpuarray.toGpu(np.random.randn(1000).astype("float32"));
      const g = gpuarray.toGpu(np.random.randn(1000).astype("float32"));
      // The user's loop: no dispose, outputs owned by the modules (reused call after call).
      const relu = new Activation("relu");
      const sigmoid = new Activation("sigmoid");
      const step = (): void => {
        relu.forward(x);
        sigmoid.forward(x);
        sigmoid.backward(g);
      };
      for (let i = 0; i < 10; i++) step();
      await backend.finish();
      const warm = backend.stats;
      for (let i = 0; i < 10_000; i++) step();
      await backend.finish();
      const done = backend.stats;
      assert.equal(done.buffersCreated, warm.buffersCreated, "buffers");
      assert.equal(done.bindGroupsCreated, warm.bindGroupsCreated, "bind groups");
      const y = (await sigmoid.data!.get()).data as Float32Array;
      const xHost = (await x.get()).data as Float32Array;
      checkForward("sigmoid", xHost, y, "sigmoid after 10,000 calls");
    });

    it("gives each launch of a batch its own parameters", async () => {
      // More launches than one submit holds, each with its own alpha, none awaited in between.
      const values = Float32Array.from({ length: 999 }, (_, i) => (i % 21) - 10);
      const x = gpuarray.toGpu(np.array(values));
      const alphas = Array.from({ length: 700 }, (_, i) => (i + 1) / 1000);
      const outputs = alphas.map((alpha) =>
        new Activation("leakyRelu", { args: [alpha] }).forward(x),
      );
      for (const [i, alpha] of alphas.entries()) {
        if (i % 37 !== 0 && i !== alphas.length - 1) continue;
        const y = (await outputs[i]!.get()).data as Float32Array;
        for (let j = 0; j < values.length; j++) {
          const want = forward("leakyRelu", values[j]!, [alpha]);
          assert.ok(ulpDistance32(y[j]!, want) <= 1, `alpha ${alpha}, element ${j}`);
        }
      }
      outputs.forEach((y) => y.dispose());
    });

    it("runs a launch on the data it was given, not on a later upload", async () => {
      const x = gpuarray.toGpu(np.array([-1, 2, -3, 4], "float32"));
      const y = new Activation("relu").forward(x);
      x.set(np.array([5, -6, 7, -8], "float32"));
      const z = new Activation("relu").forward(x);
      assert.deepEqual(Array.from((await y.get()).data), [0, 2, 0, 4]);
      assert.deepEqual(Array.from((await z.get()).data), [5, 0, 7, 0]);
    });
  });
}

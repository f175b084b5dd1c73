// What only the cpu backend has: Wasm SIMD kernels on a shared heap, split across threads.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, it } from "node:test";
import { Activation, ACTIVATION_NAMES, gpuarray, np, setBackend, slice } from "../src/index.js";
import type { CpuBackend } from "../src/backends/cpu/cpu-backend.js";

// Large enough to be split across threads (the threshold is 2^15 elements).
const SIZE = (1 << 17) + 13;

function inputs(dtype: "float32" | "float16"): Float32Array {
  const values = new Float32Array(SIZE);
  for (let i = 0; i < SIZE; i++) values[i] = Math.sin(i * 0.37) * 20 * (i % 5 === 0 ? 10 : 1);
  return dtype === "float32" ? values : values.map((v) => Math.max(-65504, Math.min(65504, v)));
}

/** The cpu backend object, found through a probe array that is freed at once. */
function cpuBackend(): CpuBackend {
  const probe = gpuarray.zeros([1]);
  probe.dispose();
  return probe.backend as CpuBackend;
}

/** Forward and backward results as raw bits, for one configuration. */
async function run(
  name: (typeof ACTIVATION_NAMES)[number],
  dtype: "float32" | "float16",
  options: { inplace: boolean; step: number },
): Promise<Uint8Array[]> {
  const act = new Activation(name, {
    inplace: options.inplace,
    slc: slice(null, null, options.step),
  });
  act.calcMode(dtype);
  const x = gpuarray.toGpu(np.array(inputs(dtype), dtype));
  const g = gpuarray.toGpu(np.array(inputs(dtype).reverse(), dtype));
  const y = await act.forward(x).get();
  const gx = await act.backward(g).get();
  // Disposed here rather than left to the garbage collector, so heap sizes below are exact.
  for (const array of new Set([x, g, act.data!, act.grad!])) array.dispose();
  return [y, gx].map((a) => new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength));
}

describe("cpu backend", () => {
  it("runs Wasm SIMD kernels on shared memory", async () => {
    await setBackend("cpu");
    const backend = cpuBackend();
    assert.equal(backend.info.simd, true);
    assert.equal(backend.info.sharedMemory, true);
  });

  it("gives bit-identical results on 1, 2 and 3 threads", async () => {
    for (const name of ACTIVATION_NAMES) {
      // Functions whose backward reads x refuse in place; they run the strided case out of place.
      const inplace = new Activation(name).backwardFrom === "y";
      for (const dtype of ["float32", "float16"] as const) {
        for (const options of [
          { inplace: false, step: 1 },
          { inplace, step: -3 },
        ]) {
          const results: Uint8Array[][] = [];
          for (const threads of [1, 2, 3]) {
            await setBackend("cpu", { threads });
            results.push(await run(name, dtype, options));
          }
          const what = `${name} ${dtype} ${JSON.stringify(options)}`;
          assert.deepEqual(results[1], results[0], `${what}: 2 threads`);
          assert.deepEqual(results[2], results[0], `${what}: 3 threads`);
        }
      }
    }
    const backend = cpuBackend();
    assert.equal(backend.info.threads, 3);
    await setBackend("cpu", { threads: 1 });
  });

  it("stops the old workers and frees their memory when the thread count changes", async () => {
    await setBackend("cpu", { threads: 1 });
    const backend = cpuBackend();
    const before = backend.info.heapBytes;
    for (const threads of [4, 3, 4, 2]) {
      await setBackend("cpu", { threads });
      assert.equal(backend.info.threads, threads);
    }
    await setBackend("cpu", { threads: 1 });
    assert.equal(backend.info.threads, 1);
    assert.equal(backend.info.heapBytes, before);
  });

  it("rejects a bad thread count and keeps the backend", async () => {
    await assert.rejects(
      setBackend("cpu", { threads: 0 }),
      /threads must be a positive integer, got 0/,
    );
    await assert.rejects(setBackend("cpu", { threads: 1.5 }), /got 1.5/);
  });

  it("returns freed memory and reuses it", async () => {
    await setBackend("cpu");
    const backend = cpuBackend();
    const before = backend.info.heapBytes;
    for (let i = 0; i < 100; i++) {
      const x = gpuarray.toGpu(np.zeros([1 << 16], "float32"));
      new Activation("relu").forward(x).dispose();
      x.dispose();
    }
    assert.equal(backend.info.heapBytes, before);
  });

  it("returns the memory of arrays and modules dropped without dispose() to the heap", () => {
    // A child with --expose-gc, so the test can make the garbage collector run; 2,000 dropped
    // inputs and modules' outputs of 256 KiB each would hold 1 GiB if nothing were returned.
    const script = `
      import { Activation, gpuarray, np, setBackend } from "./src/index.ts";
      await setBackend("cpu");
      const x = gpuarray.toGpu(np.zeros([1 << 16], "float32"));
      const act = new Activation("relu");
      const collect = async () => {
        for (let i = 0; i < 3; i++) (globalThis.gc(), await new Promise(setImmediate));
      };
      act.forward(x);
      await collect();
      const used = () => act.data.backend.info.heapBytes;
      const start = used();
      for (let i = 0; i < 2000; i++) {
        new Activation("relu").forward(gpuarray.toGpu(np.zeros([1 << 16], "float32")));
        if (i % 100 === 99) await collect();
      }
      await collect();
      console.log(JSON.stringify({ start, end: used() }));`;
    const output = execFileSync(
      process.execPath,
      ["--expose-gc", "--import", "tsx", "--input-type=module", "-e", script],
      { encoding: "utf8", timeout: 60_000 },
    );
    const { start, end } = JSON.parse(output) as { start: number; end: number };
    assert.ok(end <= start + 8 * (1 << 18), `heap grew from ${start} to ${end} bytes`);
  });

  it("keeps a dropped module's last output, and a view of one, for the caller who holds them", () => {
    // The modules are dropped at once; their outputs' memory must outlive them while a handle
    // can reach it, through collections and 600 other tensors made and dropped meanwhile.
    const script = `
      import { Activation, gpuarray, np, setBackend } from "./src/index.ts";
      await setBackend("cpu");
      const collect = async () => {
        for (let i = 0; i < 3; i++) (globalThis.gc(), await new Promise(setImmediate));
      };
      const x = gpuarray.toGpu(np.array(Array.from({ length: 1 << 16 }, (_, i) => (i % 97) - 48), "float32"));
      const y = new Activation("sigmoid").forward(x);
      const view = new Activation("tanh").forward(x).reshape([256, 256]);
      for (let i = 0; i < 600; i++) {
        new Activation("relu").forward(gpuarray.toGpu(np.zeros([1 << 16], "float32")));
        if (i % 100 === 99) await collect();
      }
      const [ys, vs] = [(await y.get()).data, (await view.get()).data];
      console.log(JSON.stringify({ y: [ys[0], ys[50]], v: [vs[0], vs[97 * 300 + 50]], stale: y.stale || view.stale }));`;
    const output = execFileSync(
      process.execPath,
      ["--expose-gc", "--import", "tsx", "--input-type=module", "-e", script],
      { encoding: "utf8", timeout: 60_000 },
    );
    const { y, v, stale } = JSON.parse(output) as { y: number[]; v: number[]; stale: boolean };
    const sigmoid = (t: number) => 1 / (1 + Math.exp(-t));
    // x[i] = (i % 97) - 48: x[0] = -48, x[50] = x[29150] = 2.
    assert.equal(stale, false);
    assert.ok(Math.abs(y[0]! - sigmoid(-48)) <= 1e-6 * sigmoid(-48), `y[0] = ${y[0]}`);
    assert.ok(Math.abs(y[1]! - sigmoid(2)) <= 1e-6, `y[50] = ${y[1]}`);
    assert.ok(Math.abs(v[0]! - Math.tanh(-48)) <= 1e-6, `v[0] = ${v[0]}`);
    assert.ok(Math.abs(v[1]! - Math.tanh(2)) <= 1e-6, `v[29150] = ${v[1]}`);
  });

  it("never keeps the process alive: a script using threads exits by itself", () => {
    const script = `
      import { Activation, gpuarray, np, setBackend } from "./src/index.ts";
      await setBackend("cpu", { threads: 2 });
      const y = new Activation("sigmoid").forward(gpuarray.toGpu(np.zeros([1 << 17], "float32")));
      console.log((await y.get()).item(0));`;
    const output = execFileSync(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", script],
      {
        encoding: "utf8",
        timeout: 30_000,
      },
    );
    assert.equal(output.trim(), "0.5");
  });
});

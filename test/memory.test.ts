// Memory that takes care of itself: a user's loop that never calls dispose() stays within a few
// working sets on every backend, whether or not it yields to the event loop (so whether or not
// the garbage collector's finalizers ever run). Each loop runs in its own process
// (programs/memory-loop.ts) for a clean heap.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { BACKENDS_UNDER_TEST } from "./backends.js";

const run = promisify(execFile);
const MiB = 2 ** 20;

interface LoopResult {
  backend: {
    memoryBytes?: number;
    heapBytes?: number;
    buffersCreated?: number;
    liveBytes?: number;
  };
  rss: number;
  x: number[];
  g: number[];
  y: number[];
  dx: number[];
}

async function loop(variant: string, steps: number, backend: string): Promise<LoopResult> {
  const { stdout } = await run(
    process.execPath,
    ["--import", "tsx", "test/programs/memory-loop.ts", variant, String(steps), backend],
    { maxBuffer: 64 * MiB },
  );
  return JSON.parse(stdout) as LoopResult;
}

// Float64 oracles, written from the formulas: sigmoid, tanh, relu and their derivatives.
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Checks the last step's results: forward from x, backward from g and the float32 outputs. */
function checkResults(variant: string, r: LoopResult): void {
  // A few float32 ULPs per function; the chain's three backward steps each start from the
  // previous step's float32 result, so their errors add.
  const tolerance = variant.startsWith("chain") ? 2e-5 : 4e-6;
  const close = (got: number, want: number, what: string) =>
    assert.ok(
      Math.abs(got - want) <= tolerance * Math.abs(want) + 1e-37,
      `${variant}: ${what}: ${got} vs ${want}`,
    );
  r.x.forEach((x, i) => {
    const s = sigmoid(x);
    if (variant.startsWith("chain")) {
      const t = Math.tanh(Math.fround(s));
      close(r.y[i]!, Math.max(Math.fround(t), 0), `y[${i}]`);
      const s32 = Math.fround(s);
      const t32 = Math.fround(t);
      const dRelu = t32 > 0 ? r.g[i]! : 0;
      const dTanh = Math.fround(dRelu * (1 - t32) * (1 + t32));
      close(r.dx[i]!, dTanh * s32 * (1 - s32), `dx[${i}]`);
    } else {
      close(r.y[i]!, s, `y[${i}]`);
      const y32 = r.y[i]!;
      close(r.dx[i]!, r.g[i]! * y32 * (1 - y32), `dx[${i}]`);
    }
  });
}

const STEPS = 100_000;
// Budgets: a working set is four 256 KiB tensors (x, g, y, dx); the heap may keep a few plus
// the backend's bound for tensors that no kernel has touched lately (16 MiB, then evicted).
const CPU_LOOPS: [variant: string, heapMiB: number, rssMiB: number][] = [
  ["repeat", 8, 256],
  ["repeat-yield", 8, 256],
  ["repeat-get", 8, 256],
  ["chain", 8, 256],
  // Every step's inputs are new and dropped: evicted tensors are garbage that V8 frees in its
  // own time, so RSS carries some of it.
  ["to-gpu", 40, 1024],
  // A new module every step, dropped with its outputs: they are evicted like the inputs above
  // and, once unreachable, as much garbage.
  ["new-module", 40, 1024],
];

describe("a loop that never calls dispose()", () => {
  for (const [variant, heapMiB, rssMiB] of CPU_LOOPS) {
    it(`cpu, ${variant}: ${STEPS} steps at 2^16 stay under ${heapMiB} MiB of heap`, async (t) => {
      const r = await loop(variant, STEPS, "cpu");
      t.diagnostic(
        `memory ${(r.backend.memoryBytes! / MiB).toFixed(1)} MiB, heap in use ` +
          `${(r.backend.heapBytes! / MiB).toFixed(1)} MiB, RSS ${(r.rss / MiB).toFixed(0)} MiB`,
      );
      assert.ok(
        r.backend.memoryBytes! < heapMiB * MiB,
        `WebAssembly memory ${r.backend.memoryBytes! / MiB} MiB`,
      );
      assert.ok(r.rss < rssMiB * MiB, `RSS ${r.rss / MiB} MiB`);
      checkResults(variant, r);
    });
  }

  // SwiftShader runs a step in about 20 ms, so webgpu runs fewer steps; the budgets are the
  // same kind. A module's outputs are reused, so module loops make no buffer after the first
  // step; new inputs every step are evicted (their uploaded contents kept on the host), so the
  // device memory they hold stays near the 16 MiB bound.
  const GPU_LOOPS: [variant: string, buffers: number, liveMiB: number, rssMiB: number | null][] = [
    ["repeat", 12, 4, 256],
    ["repeat-yield", 12, 4, 256],
    ["repeat-get", 12, 4, 256],
    ["chain", 12, 4, 256],
    // A loop that never awaits queues work faster than SwiftShader runs it, and the queued
    // uploads hold host memory until it has: RSS is only bounded once the loop awaits a result.
    ["to-gpu", 100, 24, null],
    ["to-gpu-get", 100, 24, 512],
  ];
  const gpuLoops = BACKENDS_UNDER_TEST.includes("webgpu") ? GPU_LOOPS : [];
  for (const [variant, buffers, liveMiB, rssMiB] of gpuLoops) {
    it(`webgpu, ${variant}: 300 steps hold under ${liveMiB} MiB of device buffers`, async (t) => {
      const r = await loop(variant, 300, "webgpu");
      t.diagnostic(
        `${r.backend.buffersCreated} buffers created, ${(r.backend.liveBytes! / MiB).toFixed(1)} ` +
          `MiB held, RSS ${(r.rss / MiB).toFixed(0)} MiB`,
      );
      const { buffersCreated, liveBytes } = r.backend;
      assert.ok(buffersCreated! <= buffers, `${buffersCreated} buffers created`);
      assert.ok(liveBytes! < liveMiB * MiB, `${liveBytes! / MiB} MiB of device buffers`);
      if (rssMiB !== null) assert.ok(r.rss < rssMiB * MiB, `RSS ${r.rss / MiB} MiB`);
      checkResults(variant, r);
    });
  }
});

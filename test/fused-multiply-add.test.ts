// mulAdd (src/ops/ir.ts), a b + c with the product rounded or not. The JS float32 program's fused
// rounding against an exact BigInt rounding; the engine's relaxed madd against it; the cpu
// backend's fusedMultiplyAdd option; and the suites that check the Wasm kernels and the cpu
// backend's numerics run again in the mode this process does not run them in (fused on Node 20
// with --experimental-wasm-relaxed-simd, unfused where the engine fuses by default).

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { BackendError, setBackend } from "../src/index.js";
import { currentBackend } from "../src/backends/registry.js";
import { fusedMultiplyAddF32 } from "../src/backends/cpu/js-renderer.js";
import { encodeModule, F32, FunctionBuilder, Simd } from "../src/backends/cpu/wasm/encoder.js";
import { fusedMultiplyAddSupported } from "../src/backends/cpu/wasm/kernel.js";
import { fromBits, lcg, roundToFloat32 } from "./reference/exact-float32.js";

/** a b + c exactly, rounded once to float32; the sign of an exact zero as IEEE 754 gives it. */
function exactFma(a: number, b: number, c: number): number {
  if (![a, b, c].every(Number.isFinite)) return a * b + c;
  // Every float32 times 2^149 is an integer, so a b + c = (A B + C 2^149) 2^-298 exactly.
  const n = BigInt(a * 2 ** 149) * BigInt(b * 2 ** 149) + BigInt(c * 2 ** 149) * 2n ** 149n;
  if (n === 0n) return Object.is(a * b, -0) && Object.is(c, -0) ? -0 : 0;
  return roundToFloat32(n, -298);
}

const same = (a: number, b: number): boolean =>
  Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));

/**
 * Triples where one rounding and two differ: random bit patterns (overflow, NaN and Inf among
 * them); products of short significands, whose exact values are often ties; c cancelling most
 * of a b; and products in the subnormal range.
 */
function triples(): [number, number, number][] {
  const next = lcg(7);
  const unit = (): number => 1 + next() / 2 ** 32; // in [1, 2)
  const sign = (): number => (next() & 1 ? -1 : 1);
  const out: [number, number, number][] = [];
  for (let i = 0; i < 40000; i++) out.push([fromBits(next()), fromBits(next()), fromBits(next())]);
  for (let i = 0; i < 40000; i++) {
    const a = 1 + (next() % 4096) * 2 ** -12;
    const b = sign() * (1 + (next() % 8192) * 2 ** -13);
    out.push([a, b, sign() * (next() % 64) * 2 ** -24]);
  }
  for (let i = 0; i < 40000; i++) {
    const [a, b] = [Math.fround(unit()), Math.fround(sign() * unit())];
    const scale = 2 ** ((next() % 200) - 100);
    const p = Math.fround(a * scale) * b;
    out.push([
      Math.fround(a * scale),
      b,
      Math.fround(-p * (1 + sign() * (next() % 16) * 2 ** -26)),
    ]);
  }
  for (let i = 0; i < 40000; i++) {
    const a = Math.fround(sign() * unit() * 2 ** -(60 + (next() % 30)));
    const b = Math.fround(unit() * 2 ** -(60 + (next() % 30)));
    out.push([a, b, Math.fround(sign() * unit() * 2 ** -(120 + (next() % 35)))]);
  }
  out.push([0, 5, -0], [-0, 5, -0], [-2, 0, -0], [1, 1, -1], [3e38, 3e38, -Infinity]);
  out.push([Infinity, 0, 1], [NaN, 1, 1], [2 ** 64, 2 ** 64, 3.4028234663852886e38]);
  return out;
}
const TRIPLES = triples();

/** One call of f32x4.relaxed_madd on splatted arguments, lane 0. */
function engineMadd(): (a: number, b: number, c: number) => number {
  const f = new FunctionBuilder([F32, F32, F32], [F32]);
  for (const arg of [0, 1, 2]) f.get(arg).simd(Simd.f32x4Splat);
  f.simd(Simd.f32x4RelaxedMadd).simd(Simd.f32x4ExtractLane).op(0);
  const bytes = encodeModule(null, [{ exportName: "madd", body: f }]);
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes));
  return (exports as { madd(a: number, b: number, c: number): number }).madd;
}

/** Whether this Linux x86 processor lists FMA (null where /proc/cpuinfo does not say). */
function cpuHasFma(): boolean | null {
  if (process.platform !== "linux" || process.arch !== "x64") return null;
  return /^flags\s*:.*\bfma\b/m.test(readFileSync("/proc/cpuinfo", "utf8"));
}

const cpuInfo = () => (currentBackend() as unknown as { info: { fusedMultiplyAdd: boolean } }).info;

describe("fused multiply-add", () => {
  it("fusedMultiplyAddF32 rounds a b + c once, as the exact value rounded to float32", () => {
    for (const [a, b, c] of TRIPLES) {
      const [got, want] = [fusedMultiplyAddF32(a, b, c), exactFma(a, b, c)];
      if (!same(got, want)) assert.fail(`fma(${a}, ${b}, ${c}) = ${got}, want ${want}`);
    }
    // The triples do reach the cases where two roundings differ from one.
    const differ = TRIPLES.filter(([a, b, c]) => {
      const twice = Math.fround(Math.fround(a * b) + c);
      return !same(twice, exactFma(a, b, c));
    }).length;
    assert.ok(differ > 10000, `only ${differ} triples where fusing changes the result`);
  });

  it("is used where the engine's relaxed madd fuses, and agrees with it there; never elsewhere", async () => {
    await setBackend("cpu", { fusedMultiplyAdd: true });
    try {
      if (fusedMultiplyAddSupported()) {
        assert.equal(cpuInfo().fusedMultiplyAdd, true);
        const madd = engineMadd();
        for (const [a, b, c] of TRIPLES) {
          const [got, want] = [madd(a, b, c), fusedMultiplyAddF32(a, b, c)];
          if (!same(got, want))
            assert.fail(`relaxed_madd(${a}, ${b}, ${c}) = ${got}, want ${want}`);
        }
      } else {
        // Asked for, but the engine cannot: the kernels keep a product and a sum.
        assert.equal(cpuInfo().fusedMultiplyAdd, false);
      }
    } finally {
      await setBackend("cpu", { fusedMultiplyAdd: fusedMultiplyAddSupported() });
    }
  });

  it("setBackend takes fusedMultiplyAdd as a boolean only", async () => {
    await assert.rejects(
      setBackend("cpu", { fusedMultiplyAdd: "yes" as unknown as boolean }),
      (error: unknown) =>
        error instanceof BackendError &&
        error.message === 'cpu: fusedMultiplyAdd must be true or false, got the string "yes"',
    );
    await setBackend("cpu", { fusedMultiplyAdd: false });
    assert.equal(cpuInfo().fusedMultiplyAdd, false);
    await setBackend("cpu", { threads: 1 }); // other options leave it as it was
    assert.equal(cpuInfo().fusedMultiplyAdd, false);
    await setBackend("cpu", { fusedMultiplyAdd: true });
    assert.equal(cpuInfo().fusedMultiplyAdd, fusedMultiplyAddSupported());
  });

  it("the Wasm and cpu suites pass in the other mode", (t) => {
    const flag = "--experimental-wasm-relaxed-simd";
    const run = (args: string[], env: Record<string, string>) =>
      spawnSync(process.execPath, [...args], {
        encoding: "utf8",
        // Without the runner's NODE_TEST_CONTEXT, which would make the child report to it.
        env: { ...process.env, NODE_TEST_CONTEXT: undefined, ...env },
        timeout: 600_000,
      });
    let mode: { flags: string[]; fused: "0" | "1" };
    if (fusedMultiplyAddSupported()) {
      mode = { flags: [], fused: "0" };
    } else {
      const probe = run(
        [
          flag,
          "--import",
          "tsx",
          "-e",
          "import('./src/backends/cpu/wasm/kernel.ts').then((k) => console.log(k.fusedMultiplyAddSupported()))",
        ],
        {},
      );
      const canFuse = probe.stdout.trim() === "true";
      // Node 20 fuses with the flag on a processor with FMA (V8 emits vfmadd).
      if (cpuHasFma() === true) assert.ok(canFuse, `${flag} gave no fused madd: ${probe.stderr}`);
      if (!canFuse) {
        t.diagnostic("this engine cannot fuse even with the flag: the JS fused tests stand alone");
        assert.notEqual(cpuHasFma(), true);
        return;
      }
      mode = { flags: [flag], fused: "1" };
    }
    const files = [
      "wasm-renderer",
      "libm-erfc",
      "numerics",
      "numerics-sweep",
      "numerics-props",
      "guard",
      "cpu",
    ].map((name) => `test/${name}.test.ts`);
    const child = run(
      [...mode.flags, "--import", "tsx", "--import", "./test/fused.ts", "--test", ...files],
      { PUZZLELIB_TEST_FUSED: mode.fused, PUZZLELIB_TEST_BACKENDS: "cpu" },
    );
    const count = (what: string) =>
      Number(new RegExp(`^# ${what} (\\d+)$`, "m").exec(child.stdout)?.[1]);
    t.diagnostic(`fused=${mode.fused}: ${count("pass")} passed, ${count("fail")} failed`);
    assert.equal(child.status, 0, child.stdout.slice(-4000) + child.stderr.slice(-2000));
    assert.equal(count("fail"), 0);
    assert.ok(count("pass") > 200, `only ${count("pass")} tests ran`);
  });
});

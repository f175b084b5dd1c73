// How this test process runs mulAdd (src/ops/ir.ts), for tests that compare Wasm kernels with the
// JS float32 program: fused where the engine has relaxed SIMD on an FMA processor (Node 22,
// Chromium, or Node 20 with --experimental-wasm-relaxed-simd), else a product and a sum; and the
// JS precision that agrees.
//
// test/fused-multiply-add.test.ts runs the Wasm and cpu suites again in the other mode, with
// PUZZLELIB_TEST_FUSED=1 or 0 and this file as an --import: it then sets the cpu backend's
// fusedMultiplyAdd before any test does, and the Wasm tests compile their kernels to match.

import { setBackend } from "../src/index.js";
import { fusedMultiplyAddSupported } from "../src/backends/cpu/wasm/kernel.js";

const wanted = process.env.PUZZLELIB_TEST_FUSED;
if (wanted === "1" && !fusedMultiplyAddSupported()) {
  throw new Error("PUZZLELIB_TEST_FUSED=1, but this engine cannot fuse (no relaxed SIMD or FMA)");
}

export const FUSED = wanted === undefined ? fusedMultiplyAddSupported() : wanted === "1";
export const JS_FLOAT32 = FUSED ? "float32-fused" : "float32";

if (wanted !== undefined) await setBackend("cpu", { fusedMultiplyAdd: FUSED });

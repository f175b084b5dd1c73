// The backends the shared suites run on, and the accuracy each one is held to: one table.
// Every suite loops over BACKENDS_UNDER_TEST and calls useBackend(name) in a before hook.
//
// cpu and js always run. webgpu runs when it can start; PUZZLELIB_REQUIRE_BACKENDS=webgpu (set by
// .ci/run) turns "cannot start" into a failure instead of a skip.

import { it } from "node:test";
import { setBackend, type BackendName } from "../src/index.js";

export interface Tolerance {
  /** Largest allowed distance, in float32 ULPs, from the float64 oracle rounded to float32. */
  readonly float32Ulp: number;
  /** Largest allowed distance, in float16 ULPs, from the float64 oracle rounded to float16. */
  readonly float16Ulp: number;
}

export const TOLERANCES: Record<BackendName, Tolerance> = {
  cpu: { float32Ulp: 4, float16Ulp: 1 },
  // float64 math rounded once: correctly rounded but for ties a last-bit libm error could flip.
  js: { float32Ulp: 1, float16Ulp: 1 },
  webgpu: { float32Ulp: 4, float16Ulp: 1 },
};

const required = new Set((process.env.PUZZLELIB_REQUIRE_BACKENDS ?? "").split(",").filter(Boolean));
/**
 * PUZZLELIB_TEST_BACKENDS=cpu runs the suites on these backends only: what
 * fused-multiply-add.test.ts runs again in the other mode concerns the cpu backend alone.
 */
const only = process.env.PUZZLELIB_TEST_BACKENDS?.split(",");
const wanted = (name: BackendName): boolean => only === undefined || only.includes(name);

async function probe(name: BackendName): Promise<string | null> {
  try {
    await setBackend(name);
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await setBackend("cpu");
  }
}

// Not probed where it is not wanted: the filter below leaves it out.
const webgpuProblem = wanted("webgpu") ? await probe("webgpu") : null;
if (webgpuProblem !== null) {
  if (required.has("webgpu")) {
    throw new Error(
      `PUZZLELIB_REQUIRE_BACKENDS names webgpu, but it cannot start: ${webgpuProblem}`,
    );
  }
  it.skip(`webgpu suites skipped: ${webgpuProblem}`);
}

export const BACKENDS_UNDER_TEST: readonly BackendName[] = (
  webgpuProblem === null ? (["cpu", "js", "webgpu"] as const) : (["cpu", "js"] as const)
).filter(wanted);

export async function useBackend(name: BackendName): Promise<void> {
  await setBackend(name);
}

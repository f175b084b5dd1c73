// The backends the shared suites run on, and the accuracy each one is held to: one table.
// Every suite loops over BACKENDS_UNDER_TEST and calls useBackend(name) in a before hook.

import { setBackend, type BackendName } from "../src/index.js";

export interface Tolerance {
  /** Largest allowed distance, in float32 ULPs, from the float64 oracle rounded to float32. */
  readonly float32Ulp: number;
  /** Largest allowed distance, in float16 ULPs, from the float64 oracle rounded to float16. */
  readonly float16Ulp: number;
}

export const TOLERANCES: Record<BackendName, Tolerance> = {
  cpu: { float32Ulp: 4, float16Ulp: 1 },
};

export const BACKENDS_UNDER_TEST: readonly BackendName[] = ["cpu"];

export async function useBackend(name: BackendName): Promise<void> {
  await setBackend(name);
}

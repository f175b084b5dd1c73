import { ACTIVATION_NAMES } from "../src/ops/activations.js";
import { CORE_NAMES } from "../src/ops/activations/core.js";

/** The functions the benchmarks time: all of the activation table's. */
export const BENCH_FUNCTIONS = ACTIVATION_NAMES;

/** PuzzleLib's seven, which every peer library has (and the naive loop is written for). */
export const CORE_FUNCTIONS: readonly BenchFunction[] = CORE_NAMES;

export type BenchFunction = (typeof BENCH_FUNCTIONS)[number];

import { CORE_NAMES } from "../src/ops/activations/core.js";

/** The functions the benchmarks time: PuzzleLib's seven, which every peer library has. */
export const BENCH_FUNCTIONS = CORE_NAMES;

export type BenchFunction = (typeof BENCH_FUNCTIONS)[number];

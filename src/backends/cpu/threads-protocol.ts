// The layout of a worker's control block (Int32 words; params read as Float32 at PARAMS), shared by
// threads.ts (the main thread) and worker-source.ts (the workers).
export const CONTROL = {
  SEQ: 0,
  DONE: 1,
  /** The last job taken, by the worker or (after a timeout) back by the main thread. */
  CLAIM: 12,
  KERNEL: 2,
  STRIDED: 3,
  SCRATCH: 4,
  OUT: 5,
  IN0: 6,
  IN1: 7,
  /** contiguous: begin, end; strided: start, step, k0, k1 */
  RANGE: 8,
  PARAMS: 16,
  WORDS: 32,
} as const;

// The layout of the pool's job block (Int32 words; params read as Float32 at PARAMS), shared by
// threads.ts (the main thread) and worker-source.ts (the workers). One block serves every worker:
// a job is split into chunks that the main thread and the workers claim one at a time.
export const JOB = {
  /** Bumped for each job; workers sleep on it. */
  SEQ: 0,
  /**
   * (tag << CHUNK_BITS) | the next chunk to take. A thread takes chunk i by compare-exchange from
   * (tag, i) to (tag, i + 1). Before the block is rewritten for a new job, the word is set to
   * (old tag, 2^CHUNK_BITS - 1), so a thread that loaded the word of a finished job fails its
   * compare-exchange, and one that loads it while the block changes sees no chunk to take.
   */
  CLAIM: 1,
  /** Chunks computed so far; the main thread returns when it reaches CHUNKS. */
  FINISHED: 2,
  CHUNKS: 3,
  KERNEL: 4,
  STRIDED: 5,
  OUT: 6,
  IN0: 7,
  IN1: 8,
  /** contiguous: the first element; strided: start and step, chunks counting k */
  START: 9,
  STEP: 10,
  COUNT: 11,
  /** Elements (contiguous) or k values (strided) per chunk; the last chunk takes the rest. */
  CHUNK: 12,
  PARAMS: 16,
  WORDS: 32,
} as const;

/** A job has at most 2^CHUNK_BITS - 1 chunks; the tag takes the other bits of CLAIM. */
export const CHUNK_BITS = 10;

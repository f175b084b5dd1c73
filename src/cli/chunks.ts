// Streaming an elementwise job in chunks: the flat slice of the whole array, cut into the part
// that falls in each chunk. Elementwise kernels make the chunked result equal, bit for bit, to
// the result over the whole array at once.

import { normalizeSlice, slice, type Slice } from "../core/slice.js";
import { showText, UsageError } from "./errors.js";

/**
 * Elements per chunk: 1 Mi (4 MiB of float32 per array), or PUZZLELIB_CHUNK_ELEMENTS. A 512 MB
 * float64 file goes through in about 150 MB of memory, whatever the file size; larger chunks
 * only cost memory (measured: 4 Mi needs 240 MB and is no faster).
 */
export function chunkElements(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.PUZZLELIB_CHUNK_ELEMENTS;
  if (text === undefined || text === "") return 1 << 20;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new UsageError(
      `PUZZLELIB_CHUNK_ELEMENTS=${showText(text)} is not a positive integer; unset it or give one`,
    );
  }
  return value;
}

/** The elements a slice selects, as first + k * step (k < count) with a positive step. */
export interface Progression {
  readonly first: number;
  readonly step: number;
  readonly count: number;
}

/**
 * A Python slice over `length` elements as an increasing progression: a negative step selects
 * the same elements as the reversed progression, and order does not matter elementwise.
 */
export function progression(slc: Slice | null, length: number): Progression {
  const { start, step, count } = normalizeSlice(slc, length);
  if (step > 0 || count === 0) return { first: start, step: Math.abs(step), count };
  return { first: start + (count - 1) * step, step: -step, count };
}

/** The slice, relative to the chunk, of the progression's elements in [begin, end). */
export function sliceInChunk(selected: Progression, begin: number, end: number): Slice {
  const { first, step, count } = selected;
  // The first k with first + k * step >= bound.
  const firstAtOrAfter = (bound: number): number =>
    Math.min(count, Math.max(0, Math.ceil((bound - first) / step)));
  const from = firstAtOrAfter(begin);
  const to = firstAtOrAfter(end);
  if (to <= from) return slice(0, 0, 1);
  const start = first + from * step - begin;
  return slice(start, start + (to - from - 1) * step + 1, step);
}

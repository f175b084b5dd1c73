import { describeValue, quote } from "./describe.js";
import { ModuleError } from "./errors.js";

const SLICE_KEYS = ["start", "stop", "step"];

/** A Python slice over the flattened tensor; null means "omitted", as None in Python. */
export interface Slice {
  readonly start: number | null;
  readonly stop: number | null;
  readonly step: number | null;
}

/** A slice resolved against a length: the elements are start + k * step for 0 <= k < count. */
export interface NormalizedSlice {
  readonly start: number;
  readonly step: number;
  readonly count: number;
}

/**
 * `slice(start, stop, step)` with Python's semantics: omitted bounds (null or undefined), negative
 * indices counting from the end, negative steps, and out-of-range bounds clamped to the tensor.
 */
export function slice(start?: number | null, stop?: number | null, step?: number | null): Slice {
  const value = { start: start ?? null, stop: stop ?? null, step: step ?? null };
  checkSlice(value);
  return Object.freeze(value);
}

/**
 * Validates a slice-like value (from user code or a parsed blueprint) and returns a Slice. An
 * array is refused, not read as a slice: [0, 2] is neither Python's slice(0, 2) nor a list of
 * indices here, and reading it as {} would activate everything.
 */
export function checkSlice(value: unknown): Slice {
  if (Array.isArray(value)) {
    throw new ModuleError(
      `slc must be a slice, got an array of length ${value.length}; write slice(start, stop, step), ` +
        `e.g. slice(0, 2) for the first two elements`,
    );
  }
  if (typeof value !== "object" || value === null) {
    throw new ModuleError(`slc must be a slice (see slice()) or null, got ${describeValue(value)}`);
  }
  const unknown = Object.keys(value).filter((key) => !SLICE_KEYS.includes(key));
  if (unknown.length > 0) {
    throw new ModuleError(
      `slc has unknown key ${quote(unknown[0]!)}; a slice has start, stop and step (see slice())`,
    );
  }
  const { start, stop, step } = value as Record<string, unknown>;
  for (const [name, bound] of [
    ["start", start],
    ["stop", stop],
    ["step", step],
  ] as const) {
    if (bound !== null && bound !== undefined && !Number.isSafeInteger(bound)) {
      throw new ModuleError(
        `slice ${name} must be an integer or null, got ${describeValue(bound)}`,
      );
    }
  }
  if (step === 0) throw new ModuleError("slice step cannot be zero");
  return Object.freeze({
    start: (start as number | null | undefined) ?? null,
    stop: (stop as number | null | undefined) ?? null,
    step: (step as number | null | undefined) ?? null,
  });
}

/** Python's slice.indices(length), returned as {start, step, count}. */
export function normalizeSlice(slc: Slice | null, length: number): NormalizedSlice {
  if (slc === null) return { start: 0, step: 1, count: length };
  const step = slc.step ?? 1;
  const [lower, upper] = step > 0 ? [0, length] : [-1, length - 1];
  const resolve = (bound: number | null, omitted: number): number => {
    if (bound === null) return omitted;
    const index = bound < 0 ? bound + length : bound;
    return Math.min(Math.max(index, lower), upper);
  };
  const start = resolve(slc.start, step > 0 ? lower : upper);
  const stop = resolve(slc.stop, step > 0 ? upper : lower);
  const span = step > 0 ? stop - start : start - stop;
  const count = span > 0 ? Math.ceil(span / Math.abs(step)) : 0;
  return { start, step, count };
}

export function formatSlice(slc: Slice): string {
  const part = (bound: number | null): string => (bound === null ? "" : String(bound));
  return `${part(slc.start)}:${part(slc.stop)}${slc.step === null ? "" : `:${slc.step}`}`;
}

import { clipText, describeValue } from "./describe.js";
import { BackendError } from "./errors.js";

export type Shape = readonly number[];

/** numpy's NPY_MAXDIMS (1.x): an array with more dimensions could not be saved or loaded there. */
export const MAX_DIMS = 32;

/** A shape as arrays print it in messages, cut when long. */
const shown = (shape: readonly unknown[]): string =>
  `[${clipText(shape.map((dim) => (typeof dim === "number" ? dim : describeValue(dim))).join(", "))}]`;

/**
 * A shape from user code: a number n is [n], as in numpy; an array is checked dimension by
 * dimension. Anything else is a BackendError naming what was given.
 */
export function toShape(value: unknown): number[] {
  const dims = typeof value === "number" ? [value] : value;
  if (!Array.isArray(dims)) {
    throw new BackendError(
      `a shape must be a number or an array of dimensions, got ${describeValue(value)}`,
    );
  }
  sizeOf(dims);
  return [...(dims as number[])];
}

/**
 * Checks that the shape has at most MAX_DIMS dimensions, each a non-negative safe integer, and
 * returns the element count.
 */
export function sizeOf(shape: Shape): number {
  if (!Array.isArray(shape)) {
    throw new BackendError(`a shape must be an array of dimensions, got ${describeValue(shape)}`);
  }
  if (shape.length > MAX_DIMS) {
    throw new BackendError(
      `a shape has at most ${MAX_DIMS} dimensions (numpy's limit), got ${shape.length}`,
    );
  }
  let size = 1;
  for (const dim of shape as readonly unknown[]) {
    if (!Number.isSafeInteger(dim) || (dim as number) < 0) {
      throw new BackendError(
        `invalid shape ${shown(shape)}: dimensions must be non-negative integers`,
      );
    }
    size *= dim as number;
  }
  if (!Number.isSafeInteger(size)) {
    throw new BackendError(`shape ${shown(shape)} has more elements than can be addressed`);
  }
  return size;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((dim, i) => dim === b[i]);
}

export function formatShape(shape: Shape): string {
  return `(${shape.join(", ")}${shape.length === 1 ? "," : ""})`;
}

import { BackendError } from "./errors.js";

export type Shape = readonly number[];

/** Checks that every dimension is a non-negative safe integer and returns the element count. */
export function sizeOf(shape: Shape): number {
  let size = 1;
  for (const dim of shape) {
    if (!Number.isSafeInteger(dim) || dim < 0) {
      throw new BackendError(
        `invalid shape [${shape.join(", ")}]: dimensions must be non-negative integers`,
      );
    }
    size *= dim;
  }
  if (!Number.isSafeInteger(size)) {
    throw new BackendError(`shape [${shape.join(", ")}] has more elements than can be addressed`);
  }
  return size;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((dim, i) => dim === b[i]);
}

export function formatShape(shape: Shape): string {
  return `(${shape.join(", ")}${shape.length === 1 ? "," : ""})`;
}

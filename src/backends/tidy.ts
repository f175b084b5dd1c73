import { BackendError } from "../core/errors.js";
import { GPUArray } from "./gpuarray.js";
import { inScope, trackInScope } from "./lifetime.js";

/**
 * Runs `fn` and then frees every array made inside it (by toGpu, empty, zeros and copy) except
 * the ones it returns (an array, or arrays inside a returned array or plain object) and the ones
 * passed to keep(), as tfjs's tidy. Modules' outputs are the modules' own and are left to them.
 * Scopes nest: what an inner scope returns belongs to the outer one. `fn` must be synchronous.
 *
 * @example
 * const loss = tidy(() => {
 *   const x = gpuarray.toGpu(batch); // freed when tidy returns
 *   return act.forward(x).copy(); // returned: survives
 * });
 */
export function tidy<T>(fn: () => T): T {
  if (typeof fn !== "function") throw new BackendError("tidy expects a function");
  const { result, made } = inScope(fn);
  if (result instanceof Promise) {
    for (const array of made) array.dispose();
    throw new BackendError(
      "tidy's function returned a Promise: a scope cannot wait, so what it made has been freed; " +
        "await outside tidy, or dispose() the arrays yourself",
    );
  }
  const returned = new Set<GPUArray>();
  collectArrays(result, returned, 0);
  for (const array of made) {
    if (returned.has(array as GPUArray)) trackInScope(array);
    else array.dispose();
  }
  return result;
}

/** Arrays are looked for this many levels into the result, which is as deep as results go. */
const MAX_DEPTH = 8;

function collectArrays(value: unknown, into: Set<GPUArray>, depth: number): void {
  if (value instanceof GPUArray) {
    into.add(value);
    if (value.base !== null) into.add(value.base); // a view lives on its base's memory
  } else if (depth < MAX_DEPTH && Array.isArray(value)) {
    for (const item of value) collectArrays(item, into, depth + 1);
  } else if (
    depth < MAX_DEPTH &&
    value !== null &&
    typeof value === "object" &&
    Object.getPrototypeOf(value) === Object.prototype
  ) {
    for (const item of Object.values(value)) collectArrays(item, into, depth + 1);
  }
}

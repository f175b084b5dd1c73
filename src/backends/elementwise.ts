import type { NormalizedSlice } from "../core/slice.js";
import type { Kernel } from "../ops/ir.js";
import type { GPUArray } from "./gpuarray.js";
import type { OutputSlot } from "./output-slot.js";

export interface ElementwiseCall {
  readonly kernel: Kernel;
  /**
   * The kernel's inputs in kernel.inputs order. The first one is the pass-through source:
   * elements outside the slice are copied from it, and in place it is overwritten.
   */
  readonly inputs: readonly [GPUArray, ...GPUArray[]];
  /** float32 values: kernelParams(args). */
  readonly params: readonly number[];
  readonly slice: NormalizedSlice;
  /** Where the output goes: the module's slot, or "inplace" for the first input itself. */
  readonly output: OutputSlot | "inplace";
}

/**
 * Runs a kernel over the slice of its first input's elements. Elements outside the slice are the
 * first input's (identity). Returns the first input itself when in place, else the slot's next
 * output.
 */
export function runElementwise({
  kernel,
  inputs,
  params,
  slice,
  output,
}: ElementwiseCall): GPUArray {
  const [source] = inputs;
  const { backend, dtype, size } = source;
  // Every input is checked (stale, disposed) before anything is written.
  const buffers = inputs.map((array) => array.buffer);
  if (output === "inplace") {
    backend.run({ kernel, dtype, output: buffers[0]!, inputs: buffers, params, slice });
    return source;
  }
  const target = output.acquire(backend, dtype, size, inputs);
  try {
    backend.run({ kernel, dtype, output: target, inputs: buffers, params, slice });
  } catch (error) {
    output.abort();
    throw error;
  }
  return output.commit(source.shape);
}

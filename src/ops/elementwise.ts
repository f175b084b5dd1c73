import { GPUArray } from "../backends/gpuarray.js";
import type { NormalizedSlice } from "../core/slice.js";
import type { Kernel } from "./ir.js";

export interface ElementwiseCall {
  readonly kernel: Kernel;
  /**
   * The kernel's inputs in kernel.inputs order. The first one is the pass-through source:
   * elements outside the slice are copied from it, and in place it is overwritten.
   */
  readonly inputs: readonly [GPUArray, ...GPUArray[]];
  readonly params: readonly number[];
  readonly slice: NormalizedSlice;
  readonly inplace: boolean;
}

/**
 * Runs a kernel over the slice of its first input's elements. Elements outside the slice are the
 * first input's (identity). Returns the first input itself when in place, else a new array.
 */
export function runElementwise({
  kernel,
  inputs,
  params,
  slice,
  inplace,
}: ElementwiseCall): GPUArray {
  const [source] = inputs;
  const { backend, dtype, size } = source;
  const output = inplace
    ? source
    : new GPUArray(backend, backend.allocate(dtype, size), source.shape);
  // Uniforms are float32 on every backend; rounding here keeps all backends on the same values
  // (clip's bounds, in particular, must equal the clipped outputs bit for bit).
  const rounded = params.map(Math.fround);
  try {
    backend.run({
      kernel,
      dtype,
      output: output.buffer,
      inputs: inputs.map((array) => array.buffer),
      params: rounded,
      slice,
    });
  } catch (error) {
    if (output !== source) output.dispose();
    throw error;
  }
  return output;
}

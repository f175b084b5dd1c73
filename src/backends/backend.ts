// The private interface every backend implements: a handful of buffer operations and one way to
// run an elementwise kernel. Modules and arrays only talk to this, so a backend (cpu now, webgpu
// and wasm later) is a local change.

import type { AnyTypedArray, DType } from "../core/dtype.js";
import type { NormalizedSlice } from "../core/slice.js";
import type { Kernel } from "../ops/ir.js";

export type BackendName = "cpu" | "js" | "webgpu";

/** Options of setBackend; each backend reads the ones it has. */
export interface BackendOptions {
  /** cpu: threads for large kernels, the calling one included (default: all cores). */
  threads?: number;
  /**
   * cpu: compute the polynomials' products and sums with one rounding where the engine has
   * relaxed SIMD and the processor fused multiply-add (default: true, where it has them). false
   * gives the bits of an engine without them.
   */
  fusedMultiplyAdd?: boolean;
}

/** A backend's storage for one tensor; each backend extends it with what it needs. */
export interface DeviceBuffer {
  readonly dtype: DType;
  readonly size: number;
}

export interface KernelLaunch {
  readonly kernel: Kernel;
  /** The dtype of the output and of every input buffer. */
  readonly dtype: DType;
  readonly output: DeviceBuffer;
  /**
   * One buffer per kernel input, in kernel.inputs order. inputs[0] is the pass-through source:
   * output elements outside the slice are copied from it. It may be `output` itself (in place).
   */
  readonly inputs: readonly DeviceBuffer[];
  /** float32 values (rounded by the caller), one per kernel parameter. */
  readonly params: readonly number[];
  /** The elements the kernel computes; every other output element is inputs[0]'s. */
  readonly slice: NormalizedSlice;
}

export interface Backend {
  readonly name: BackendName;
  /** A buffer of `size` elements whose contents are unspecified. */
  allocate(dtype: DType, size: number): DeviceBuffer;
  /** Gives the buffer back; it must not be used afterwards. */
  release(buffer: DeviceBuffer): void;
  /**
   * What the garbage collector keeps to free a dropped array: a function that releases the
   * buffer if nothing else has, and that holds nothing of the buffer that must be able to die
   * before it (the cpu backend's evicted contents). Without it, the collector releases the
   * buffer itself, once.
   */
  dropper?(buffer: DeviceBuffer): () => void;
  /** Writes `data` (same dtype and length as the buffer; float16 as raw bits) into the buffer. */
  upload(buffer: DeviceBuffer, data: AnyTypedArray): void;
  /** A copy of the buffer's contents, once all work queued before the call has finished. */
  download(buffer: DeviceBuffer): Promise<AnyTypedArray>;
  /**
   * A copy of the contents if they can be read synchronously (for printing), else null. Like
   * download, it sees all work queued before the call.
   */
  peek?(buffer: DeviceBuffer): AnyTypedArray | null;
  /** Copies all of `source` into `target`, which has the same dtype and size. */
  copy(target: DeviceBuffer, source: DeviceBuffer): void;
  run(launch: KernelLaunch): void;
  /** False once the backend can no longer run (a lost GPU device); absent means always usable. */
  readonly usable?: boolean;
  /** Applies setBackend's options; a backend without options need not implement it. */
  configure?(options: BackendOptions): Promise<void>;
}

import { allocateTyped, type AnyTypedArray, type DType } from "../../core/dtype.js";
import type { NormalizedSlice } from "../../core/slice.js";
import { halfToNumber, numberToHalf } from "../../host/float16.js";
import type { Kernel } from "../../ops/ir.js";
import type { Backend, DeviceBuffer, KernelLaunch } from "../backend.js";
import { compileJs, type JsProgram } from "./js-renderer.js";

interface JsBuffer extends DeviceBuffer {
  readonly data: AnyTypedArray;
}

type Load = (data: AnyTypedArray, index: number) => number;
type Store = (data: AnyTypedArray, index: number, value: number) => void;

// float16 is decoded exactly and rounded once, from the float64 result, to nearest even.
const loadHalf: Load = (data, i) => halfToNumber(data[i]!);
const storeHalf: Store = (data, i, v) => {
  data[i] = numberToHalf(v);
};
const loadPlain: Load = (data, i) => data[i]!;
const storePlain: Store = (data, i, v) => {
  data[i] = v;
};

const programs = new WeakMap<Kernel, JsProgram>();

function programFor(kernel: Kernel): JsProgram {
  let program = programs.get(kernel);
  if (program === undefined) {
    program = compileJs(kernel);
    programs.set(kernel, program);
  }
  return program;
}

/**
 * Runs a kernel with the float64 JavaScript lowering over typed arrays: the reference path, and
 * the cpu backend's fallback where WebAssembly SIMD is missing. Elements outside the slice are
 * copied from sources[0] unless target is sources[0].
 */
export function runJsKernel(
  kernel: Kernel,
  dtype: DType,
  target: AnyTypedArray,
  sources: readonly AnyTypedArray[],
  params: readonly number[],
  slice: NormalizedSlice,
): void {
  const { registers, inputRegisters, paramRegisters, steps, resultRegister } = programFor(kernel);
  paramRegisters.forEach((register, i) => {
    if (register >= 0) registers[register] = params[i]!;
  });
  const load = dtype === "float16" ? loadHalf : loadPlain;
  const store = dtype === "float16" ? storeHalf : storePlain;
  if (slice.count < target.length && sources[0] !== target) target.set(sources[0]!);
  const stepCount = steps.length;
  for (let k = 0, i = slice.start; k < slice.count; k++, i += slice.step) {
    for (let s = 0; s < sources.length; s++) {
      const register = inputRegisters[s]!;
      if (register >= 0) registers[register] = load(sources[s]!, i);
    }
    for (let s = 0; s < stepCount; s++) steps[s]!(registers);
    store(target, i, registers[resultRegister]!);
  }
}

/**
 * The reference backend: typed arrays in this thread, kernels lowered to JavaScript closures and
 * computed in float64, so every result is correctly rounded. Slow (tens of ns per element).
 */
export class JsBackend implements Backend {
  readonly name = "js" as const;

  allocate(dtype: DType, size: number): JsBuffer {
    return { dtype, size, data: allocateTyped(dtype, size) };
  }

  release(): void {
    // Typed arrays are reclaimed by the garbage collector.
  }

  upload(buffer: DeviceBuffer, data: AnyTypedArray): void {
    (buffer as JsBuffer).data.set(data);
  }

  async download(buffer: DeviceBuffer): Promise<AnyTypedArray> {
    return this.peek(buffer);
  }

  peek(buffer: DeviceBuffer): AnyTypedArray {
    return (buffer as JsBuffer).data.slice();
  }

  copy(target: DeviceBuffer, source: DeviceBuffer): void {
    (target as JsBuffer).data.set((source as JsBuffer).data);
  }

  run({ kernel, dtype, output, inputs, params, slice }: KernelLaunch): void {
    const sources = inputs.map((buffer) => (buffer as JsBuffer).data);
    runJsKernel(kernel, dtype, (output as JsBuffer).data, sources, params, slice);
  }
}

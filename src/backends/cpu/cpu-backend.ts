import { allocateTyped, type AnyTypedArray, type DType } from "../../core/dtype.js";
import { halfToNumber, numberToHalf } from "../../host/float16.js";
import type { Kernel } from "../../ops/ir.js";
import type { Backend, DeviceBuffer, KernelLaunch } from "../backend.js";
import { compileJs, type JsProgram } from "./js-renderer.js";

interface CpuBuffer extends DeviceBuffer {
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

/** The reference backend: typed arrays in this thread, kernels lowered to JavaScript. */
export class CpuBackend implements Backend {
  readonly name = "cpu" as const;
  private readonly programs = new Map<Kernel, JsProgram>();

  allocate(dtype: DType, size: number): CpuBuffer {
    return { dtype, size, data: allocateTyped(dtype, size) };
  }

  release(): void {
    // Typed arrays are reclaimed by the garbage collector.
  }

  upload(buffer: DeviceBuffer, data: AnyTypedArray): void {
    (buffer as CpuBuffer).data.set(data);
  }

  async download(buffer: DeviceBuffer): Promise<AnyTypedArray> {
    return (buffer as CpuBuffer).data.slice();
  }

  copy(target: DeviceBuffer, source: DeviceBuffer): void {
    (target as CpuBuffer).data.set((source as CpuBuffer).data);
  }

  run({ kernel, dtype, output, inputs, params, slice }: KernelLaunch): void {
    const program = this.program(kernel);
    const { registers, inputRegisters, paramRegisters, steps, resultRegister } = program;
    paramRegisters.forEach((register, i) => {
      if (register >= 0) registers[register] = params[i]!;
    });
    const load = dtype === "float16" ? loadHalf : loadPlain;
    const store = dtype === "float16" ? storeHalf : storePlain;
    const sources = inputs.map((buffer) => (buffer as CpuBuffer).data);
    const target = (output as CpuBuffer).data;
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

  private program(kernel: Kernel): JsProgram {
    let program = this.programs.get(kernel);
    if (program === undefined) {
      program = compileJs(kernel);
      this.programs.set(kernel, program);
    }
    return program;
  }
}

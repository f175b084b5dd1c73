// A kernel as a WebAssembly SIMD module: the lowered body (lowering.ts) inside two loops over
// memory that the module imports (env.memory, so every kernel can share one heap, and threads one
// SharedArrayBuffer). Both loops run the same four-lane body; groups of fewer than four elements
// (a contiguous range's tail, a strided range's every group) are copied into a scratch area,
// computed there, and only the real elements copied back, so no element outside the range is
// ever written and no op needs a scalar lowering.

import { expandKernel } from "../../../ops/libm.js";
import type { Kernel } from "../../../ops/ir.js";
import {
  encodeModule,
  F32,
  FunctionBuilder,
  I32,
  Op,
  Simd,
  V128,
  type ValType,
} from "./encoder.js";
import { loadHalves, storeHalves } from "./float16.js";
import { emitBody, push } from "./lowering.js";

export interface WasmKernelOptions {
  dtype: "float32" | "float16";
  sharedMemory: boolean;
  maximumPages: number;
  /** mulAdd as relaxed SIMD's madd; only where fusedMultiplyAddSupported() (one rounding). */
  fusedMultiplyAdd: boolean;
}

/** Parameters are always passed as this many f32 arguments; unused ones are ignored. */
export const PARAM_SLOTS = 8;
/** Bytes the `scratch` pointer must provide: one 16-byte group per input. */
export const SCRATCH_BYTES = 32;
const SCRATCH_IN1 = 16;
/** Groups of four computed side by side in the contiguous loop (see emitBody); a power of two. */
const UNROLL = 4;

/** The exports of a kernel module; pointers are byte offsets, indices count elements. */
export interface WasmKernelExports {
  /** Computes out[i] for begin <= i < end. */
  contiguous(
    scratch: number,
    out: number,
    in0: number,
    in1: number,
    begin: number,
    end: number,
    ...params: number[]
  ): void;
  /** Computes out[start + k * step] for k0 <= k < k1 (step nonzero, possibly negative). */
  strided(
    scratch: number,
    out: number,
    in0: number,
    in1: number,
    start: number,
    step: number,
    k0: number,
    k1: number,
    ...params: number[]
  ): void;
}

/** The pieces of one exported function shared by both loops. */
class KernelFunction {
  readonly f: FunctionBuilder;
  private readonly params: number[] = [];
  readonly shift: number;

  constructor(
    readonly kernel: Kernel,
    readonly dtype: WasmKernelOptions["dtype"],
    readonly fusedMultiplyAdd: boolean,
    pointerArgs: number,
  ) {
    const pointers = Array<ValType>(pointerArgs).fill(I32);
    this.f = new FunctionBuilder([...pointers, ...Array<ValType>(PARAM_SLOTS).fill(F32)]);
    this.shift = dtype === "float32" ? 2 : 1;
    // Splat the parameters once, before any loop.
    for (let i = 0; i < kernel.paramCount; i++) {
      const local = this.f.local(V128);
      this.f
        .get(pointerArgs + i)
        .simd(Simd.f32x4Splat)
        .set(local);
      this.params.push(local);
    }
  }

  get groupBytes(): number {
    return 4 << this.shift;
  }

  /**
   * Computes `count` consecutive groups of four elements: inputs at the addresses in locals a and
   * b, out at o, group u at byte offset u * groupBytes from each.
   */
  groups(o: number, a: number, b: number, count = 1): void {
    const { f } = this;
    f.hoistConstants = true;
    const results = emitBody(
      f,
      this.kernel,
      {
        loadInput: (index, group) => {
          f.get(index === 0 ? a : b);
          if (this.dtype === "float32") f.simdMemory(Simd.load, group * this.groupBytes);
          else loadHalves(f, group * this.groupBytes);
        },
        paramLocal: (index) => this.params[index]!,
        fusedMultiplyAdd: this.fusedMultiplyAdd,
      },
      count,
    );
    results.forEach((result, group) => {
      if (this.dtype === "float32") {
        f.get(o);
        push(f, result);
        f.simdMemory(Simd.store, group * this.groupBytes);
      } else {
        const value = f.local(V128);
        push(f, result);
        f.set(value).get(o);
        storeHalves(f, value, group * this.groupBytes);
      }
    });
    f.hoistConstants = false;
  }

  /** Pushes base + (index << shift). */
  address(base: number, index: number): void {
    this.f.get(base).get(index).i32(this.shift).op(Op.i32Shl).op(Op.i32Add);
  }

  /** Copies one element from src + (srcIndex << shift) to dst + (dstIndex << shift). */
  copyElement(dst: number, dstIndex: number, src: number, srcIndex: number): void {
    const half = this.dtype === "float16";
    this.address(dst, dstIndex);
    this.address(src, srcIndex);
    this.f.memory(half ? Op.i32Load16U : Op.i32Load);
    this.f.memory(half ? Op.i32Store16 : Op.i32Store);
  }

  /** Zeroes the scratch area so unused lanes hold harmless values. */
  clearScratch(scratch: number): void {
    for (const offset of [0, SCRATCH_IN1]) {
      this.f.get(scratch).splat32(0).simdMemory(Simd.store, offset);
    }
  }

  /** for (j = 0; j < count; j++) each(j) */
  forEach(count: number, each: (j: number) => void): void {
    const { f } = this;
    const j = f.local(I32);
    f.i32(0).set(j);
    f.open(Op.block).open(Op.loop);
    f.get(count).get(j).op(Op.i32LeS).br(Op.brIf, 1);
    each(j);
    f.get(j).i32(1).op(Op.i32Add).set(j).br(Op.br, 0);
    f.end().end();
  }

  get twoInputs(): boolean {
    return this.kernel.inputs.length > 1;
  }
}

/** contiguous(scratch, out, in0, in1, begin, end, p0..p7) */
function contiguous(kernel: Kernel, options: WasmKernelOptions): FunctionBuilder {
  const fn = new KernelFunction(kernel, options.dtype, options.fusedMultiplyAdd, 6);
  const { f } = fn;
  const [scratch, out, in0, in1, begin, end] = [0, 1, 2, 3, 4, 5] as const;
  const i32 = () => f.local(I32);
  // o, a, b walk out, in0, in1; rem elements are left after the full groups, which end at stop.
  const [n, rem, o, a, b, stop] = [i32(), i32(), i32(), i32(), i32(), i32()];
  const [tailOut, tailRan, scratch1, stopUnrolled] = [i32(), i32(), i32(), i32()];
  const g = fn.groupBytes;
  f.get(end).get(begin).op(Op.i32Sub).tee(n).i32(0).op(Op.i32LeS);
  f.open(Op.if).op(Op.return).end();
  f.get(n).i32(3).op(Op.i32And).set(rem);
  f.get(scratch).i32(SCRATCH_IN1).op(Op.i32Add).set(scratch1);
  for (const [pointer, base] of [
    [o, out],
    [a, in0],
    [b, in1],
  ] as const) {
    fn.address(base, begin);
    f.set(pointer);
  }
  f.get(o).get(n).get(rem).op(Op.i32Sub).i32(fn.shift).op(Op.i32Shl).op(Op.i32Add).set(stop);
  // UNROLL groups at a time while that many are left, then one at a time.
  const span = UNROLL * g;
  f.get(o)
    .get(n)
    .i32(-4 * UNROLL)
    .op(Op.i32And)
    .i32(fn.shift)
    .op(Op.i32Shl)
    .op(Op.i32Add)
    .set(stopUnrolled);
  f.open(Op.block).open(Op.loop);
  f.get(o).get(stopUnrolled).op(Op.i32Eq).br(Op.brIf, 1);
  fn.groups(o, a, b, UNROLL);
  for (const pointer of fn.twoInputs ? [o, a, b] : [o, a]) {
    f.get(pointer).i32(span).op(Op.i32Add).set(pointer);
  }
  f.br(Op.br, 0).end().end();
  f.open(Op.block).open(Op.loop);
  // The full groups are done: run the tail group once in scratch, then leave.
  f.get(o).get(stop).op(Op.i32Eq).open(Op.if);
  f.get(tailRan).br(Op.brIf, 2);
  f.get(rem).op(Op.i32Eqz).br(Op.brIf, 2);
  f.i32(1).set(tailRan);
  f.get(o).set(tailOut);
  fn.clearScratch(scratch);
  fn.forEach(rem, (j) => {
    fn.copyElement(scratch, j, a, j);
    if (fn.twoInputs) fn.copyElement(scratch1, j, b, j);
  });
  // Out is the in0 area itself: each group reads its inputs before it stores.
  f.get(scratch).tee(a).set(o).get(scratch1).set(b);
  f.get(scratch).i32(g).op(Op.i32Add).set(stop);
  f.end();
  fn.groups(o, a, b);
  for (const pointer of fn.twoInputs ? [o, a, b] : [o, a]) {
    f.get(pointer).i32(g).op(Op.i32Add).set(pointer);
  }
  f.br(Op.br, 0).end().end();
  f.get(tailRan).open(Op.if);
  fn.forEach(rem, (j) => fn.copyElement(tailOut, j, scratch, j));
  f.end();
  return f;
}

/** strided(scratch, out, in0, in1, start, step, k0, k1, p0..p7) */
function strided(kernel: Kernel, options: WasmKernelOptions): FunctionBuilder {
  const fn = new KernelFunction(kernel, options.dtype, options.fusedMultiplyAdd, 8);
  const { f } = fn;
  const [scratch, out, in0, in1, start, step, k0, k1] = [0, 1, 2, 3, 4, 5, 6, 7] as const;
  const i32 = () => f.local(I32);
  const [left, count, first, index, scratch1] = [i32(), i32(), i32(), i32(), i32()];
  f.get(scratch).i32(SCRATCH_IN1).op(Op.i32Add).set(scratch1);
  // first = start + k0 * step: the element index of each group's first element
  f.get(start).get(k0).get(step).op(Op.i32Mul).op(Op.i32Add).set(first);
  f.get(k1).get(k0).op(Op.i32Sub).set(left);
  f.open(Op.block).open(Op.loop);
  f.get(left).i32(0).op(Op.i32LeS).br(Op.brIf, 1);
  // count = min(left, 4)
  f.i32(4).get(left).get(left).i32(4).op(Op.i32GtS).op(Op.select).set(count);
  fn.clearScratch(scratch);
  const walk = (each: (j: number) => void): void => {
    f.get(first).set(index);
    fn.forEach(count, (j) => {
      each(j);
      f.get(index).get(step).op(Op.i32Add).set(index);
    });
  };
  walk((j) => {
    fn.copyElement(scratch, j, in0, index);
    if (fn.twoInputs) fn.copyElement(scratch1, j, in1, index);
  });
  fn.groups(scratch, scratch, scratch1);
  walk((j) => fn.copyElement(out, index, scratch, j));
  f.get(first).get(step).i32(2).op(Op.i32Shl).op(Op.i32Add).set(first);
  f.get(left).i32(4).op(Op.i32Sub).set(left);
  f.br(Op.br, 0).end().end();
  return f;
}

const cache = new WeakMap<Kernel, Map<string, WebAssembly.Module>>();

/**
 * A compiled module for an (unexpanded) kernel: it imports env.memory (shared or not, with the
 * given maximum) and exports `contiguous` and `strided` (see WasmKernelExports). Modules are
 * cached per kernel and options.
 */
export function compileWasmKernel(kernel: Kernel, options: WasmKernelOptions): WebAssembly.Module {
  if (kernel.paramCount > PARAM_SLOTS) throw new Error(`${kernel.id}: too many parameters`);
  if (kernel.inputs.length > 2) throw new Error(`${kernel.id}: at most two inputs`);
  const key = `${options.dtype}/${options.sharedMemory}/${options.maximumPages}/${options.fusedMultiplyAdd}`;
  let modules = cache.get(kernel);
  if (modules === undefined) cache.set(kernel, (modules = new Map()));
  let module = modules.get(key);
  if (module === undefined) {
    const expanded = expandKernel(kernel);
    const bytes = encodeModule(
      { shared: options.sharedMemory, maximumPages: options.maximumPages },
      [
        { exportName: "contiguous", body: contiguous(expanded, options) },
        { exportName: "strided", body: strided(expanded, options) },
      ],
    );
    module = new WebAssembly.Module(bytes);
    modules.set(key, module);
  }
  return module;
}

/** Whether this engine validates a module that uses v128 (f32x4.add of two constants). */
export function simdSupported(): boolean {
  const f = new FunctionBuilder([]);
  f.f32x4(1).f32x4(2).simd(Simd.f32x4Add).op(Op.drop);
  return WebAssembly.validate(encodeModule(null, [{ body: f }]));
}

/**
 * Whether this engine has relaxed SIMD and its f32x4.relaxed_madd rounds once: (1 + 2^-12)^2 -
 * (1 + 2^-11) is 2^-24 fused, and 0 where the product rounds first (to 1 + 2^-11, a tie to even).
 * Engines may do either (V8 fuses where the CPU has FMA); an unfused madd gains nothing over a
 * product and a sum, so the cpu backend fuses only where this holds.
 */
export function fusedMultiplyAddSupported(): boolean {
  const f = new FunctionBuilder([], [F32]);
  const a = 1 + 2 ** -12;
  f.f32x4(a)
    .f32x4(a)
    .f32x4(-(1 + 2 ** -11))
    .simd(Simd.f32x4RelaxedMadd);
  f.simd(Simd.f32x4ExtractLane).op(0);
  const bytes = encodeModule(null, [{ exportName: "madd", body: f }]);
  if (!WebAssembly.validate(bytes)) return false;
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes));
  return (exports as { madd(): number }).madd() === 2 ** -24;
}

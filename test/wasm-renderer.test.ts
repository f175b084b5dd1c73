// The WebAssembly SIMD renderer (src/backends/cpu/wasm) against the JS renderer in "float32"
// mode, which rounds every op to binary32 in the same order: results must be bit-identical (any
// NaN matches any NaN). Float32 inputs sweep every 4099th bit pattern plus specials, through
// contiguous ranges with tails, in place, and strided with positive and negative steps; float16
// covers all 65536 halves. Elements outside the computed range must keep their old bits.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compileJs } from "../src/backends/cpu/js-renderer.js";
import {
  compileWasmKernel,
  PARAM_SLOTS,
  SCRATCH_BYTES,
  simdSupported,
  type WasmKernelExports,
} from "../src/backends/cpu/wasm/kernel.js";
import { halfToNumber, numberToHalf } from "../src/host/float16.js";
import { ACTIVATION_NAMES, ACTIVATIONS, type ActivationName } from "../src/ops/activations.js";
import {
  abs,
  add,
  copysign,
  gt,
  ilogb,
  input,
  ldexp,
  mul,
  neg,
  round,
  scaledProduct,
  select,
  widePolynomial,
  type F,
  type Kernel,
} from "../src/ops/ir.js";
import { activationKernel, kernelParams, type Direction } from "../src/ops/kernels.js";
import { expandKernel } from "../src/ops/libm.js";
import { FUSED, JS_FLOAT32 } from "./fused.js";

type Dtype = "float32" | "float16";
const DIRECTIONS: readonly Direction[] = ["forward", "backward"];
const NON_DEFAULT_ARGS: Partial<Record<ActivationName, number[]>> = {
  leakyRelu: [0.2],
  elu: [0.5],
  clip: [-1, 2.5],
};
const SENTINEL32 = 0xdeadbeef;
const SENTINEL16 = 0xbeef;
const PAGE = 65536;
const MAXIMUM_PAGES = 256;

/**
 * Magnitudes taken with both signs: zero; subnormals (2^-149, 1e-40, 2^-130, the largest); 2^-126;
 * 2^-25; small values and clip/elu edges; where exp overflows and underflows; 100; FLT_MAX.
 */
const SPECIAL_MAGNITUDES = [
  0, 1.401298464324817e-45, 1e-40, 7.346839692639297e-40, 1.1754942106924411e-38,
  1.1754943508222875e-38, 2.9802322387695312e-8, 0.2, 0.5, 1, 2, 2.5, 6, 17.5, 18, 88.7,
  88.72283172607422, 88.72283935546875, 100, 103.97207641601562, 104, 3.4e38, 3.4028234663852886e38,
];

/** Every value with every exponent k from `first` to `last` by `step`: [values, k] pairs. */
function withExponents(
  values: Float32Array,
  first: number,
  last: number,
  step: number,
): [Float32Array, Float32Array] {
  const count = values.length * (Math.floor((last - first) / step) + 1);
  const a = new Float32Array(count);
  const k = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    a[i] = values[i % values.length]!;
    k[i] = first + Math.floor(i / values.length) * step;
  }
  return [a, k];
}

/** Every `stride`th float32 bit pattern, then specials. */
function float32Inputs(stride: number): Float32Array {
  const specials = [...SPECIAL_MAGNITUDES.flatMap((v) => [v, -v]), Infinity, -Infinity, NaN];
  const count = Math.floor(2 ** 32 / stride);
  const out = new Float32Array(count + specials.length + 3);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < count; i++) bits[i] = i * stride;
  out.set(specials, count);
  bits[out.length - 3] = 0xffc00001; // a negative NaN with a payload
  bits[out.length - 2] = 0x80000001;
  bits[out.length - 1] = 0x7f7fffff;
  return out;
}

/**
 * ~1M inputs for each kernel with its default arguments. The JS float32 program costs ~65 ns per
 * op per element, so other argument sets (which only change a parameter) and the shared-memory
 * run use a sweep 5 times sparser, keeping the file near 30 s.
 */
const DENSE = float32Inputs(4099);
const SPARSE = float32Inputs(4099 * 5);

const argSets = (name: ActivationName): number[][] => {
  const defaults = ACTIVATIONS[name].params.map((p) => p.default);
  const other = NON_DEFAULT_ARGS[name];
  return other === undefined ? [defaults] : [defaults, other];
};

/** The float32 JS program's result for each element (float32 values, held as numbers). */
function reference(kernel: Kernel, args: readonly number[], inputs: readonly ArrayLike<number>[]) {
  const program = compileJs(expandKernel(kernel), JS_FLOAT32);
  const { registers, inputRegisters, paramRegisters, steps, resultRegister } = program;
  // Wasm receives the parameters as f32 values; the JS program must see the same ones.
  paramRegisters.forEach((register, i) => {
    if (register >= 0) registers[register] = Math.fround(args[i] ?? 0);
  });
  const n = inputs[0]!.length;
  const results = new Float64Array(n);
  const stepCount = steps.length;
  for (let i = 0; i < n; i++) {
    inputs.forEach((values, s) => {
      const register = inputRegisters[s]!;
      if (register >= 0) registers[register] = values[i]!;
    });
    for (let s = 0; s < stepCount; s++) steps[s]!(registers);
    results[i] = registers[resultRegister]!;
  }
  return results;
}

/** One memory holding scratch, in0, in1 and out, and a kernel instance over it. */
class Harness {
  readonly memory: WebAssembly.Memory;
  readonly exports: WasmKernelExports;
  readonly in0: number;
  readonly in1: number;
  readonly out: number;
  private readonly params: number[];

  constructor(
    kernel: Kernel,
    args: readonly number[],
    dtype: Dtype,
    length: number,
    shared = false,
  ) {
    const bytes = dtype === "float32" ? 4 : 2;
    // Arrays start 4 bytes past a 16-byte boundary: vector accesses must not need alignment.
    const stride = Math.ceil((length * bytes) / 16) * 16 + 16;
    this.in0 = SCRATCH_BYTES + 4;
    this.in1 = this.in0 + stride;
    this.out = this.in1 + stride;
    const initial = Math.ceil((this.out + stride) / PAGE);
    this.memory = new WebAssembly.Memory({ initial, maximum: MAXIMUM_PAGES, shared });
    const module = compileWasmKernel(kernel, {
      dtype,
      sharedMemory: shared,
      maximumPages: MAXIMUM_PAGES,
      fusedMultiplyAdd: FUSED,
    });
    const instance = new WebAssembly.Instance(module, { env: { memory: this.memory } });
    this.exports = instance.exports as unknown as WasmKernelExports;
    this.params = Array.from({ length: PARAM_SLOTS }, (_, i) => args[i] ?? 0);
  }

  contiguous(out: number, begin: number, end: number): void {
    this.exports.contiguous(0, out, this.in0, this.in1, begin, end, ...this.params);
  }

  strided(out: number, start: number, step: number, k0: number, k1: number): void {
    this.exports.strided(0, out, this.in0, this.in1, start, step, k0, k1, ...this.params);
  }

  /** A 32-bit (float32) or 16-bit (float16) view of `length` elements at `offset`. */
  view32(offset: number, length: number): Uint32Array {
    return new Uint32Array(this.memory.buffer, offset, length);
  }

  view16(offset: number, length: number): Uint16Array {
    return new Uint16Array(this.memory.buffer, offset, length);
  }
}

/** A computed-elements plan: which indices one run writes. */
type Plan = (index: number) => boolean;

/**
 * The first element whose bits differ from the expectation: `want` where `computed`, else the
 * element's previous bits; NaN (per `isNan`) matches any NaN. null when all match.
 */
function firstMismatch(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  previous: ArrayLike<number>,
  computed: Plan,
  isNan: (bits: number) => boolean,
): string | null {
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!;
    if (computed(i)) {
      const w = want[i]!;
      if (g !== w && !(isNan(g) && isNan(w))) {
        return `element ${i}: got 0x${g.toString(16)}, want 0x${w.toString(16)}`;
      }
    } else if (g !== previous[i]!) {
      return `element ${i} outside the range was written: 0x${g.toString(16)}`;
    }
  }
  return null;
}

const isNan32 = (bits: number): boolean => (bits & 0x7fffffff) > 0x7f800000;
const isNan16 = (bits: number): boolean => (bits & 0x7fff) > 0x7c00;

/**
 * Disjoint contiguous ranges: a long one, and short ones with every tail length and with one to
 * five groups of four (the kernel computes four groups at a time while it can, then one).
 */
function contiguousRanges(n: number): [number, number][] {
  const ranges: [number, number][] = [[3, n - 200]];
  let begin = n - 190;
  for (const length of [1, 2, 3, 5, 6, 7, 0, 4, 8, 12, 16, 19, 20, 23]) {
    ranges.push([begin, begin + length]);
    begin += length + 1;
  }
  return ranges;
}

describe("wasm renderer", () => {
  it("detects SIMD support on this engine", () => {
    assert.equal(simdSupported(), true);
  });

  for (const name of ACTIVATION_NAMES) {
    for (const direction of DIRECTIONS) {
      argSets(name).forEach((args, i) => {
        const x = i === 0 ? DENSE : SPARSE;
        it(`${name}.${direction}(${args.join(", ")}) float32 matches the JS float32 program`, () => {
          const kernel = activationKernel(name, direction, args);
          checkFloat32(kernel, kernelParams(name, args), activationInputs(kernel, x), false);
        });
      });
    }
  }

  for (const name of ACTIVATION_NAMES) {
    for (const args of argSets(name)) {
      it(`${name}(${args.join(", ")}) float16 over all halves matches float32 rounded once`, () => {
        checkFloat16(activationKernel(name, "forward", args), kernelParams(name, args), false);
      });
    }
  }

  // The primitives whose Wasm lowering is integer code, over more than the activations reach:
  // ldexp with every exponent from -330 to 330 (overflow, subnormal results, subnormal inputs)
  // through both its paths,
  // ilogb of subnormals, zero, Inf and NaN, copysign with NaN signs, round at ties.
  it("ldexp, ilogb, copysign and round match the JS float32 program at the edges", () => {
    const values = float32Inputs(4099 * 997);
    const [a, k] = withExponents(values, -330, 330, 1);
    const x = input("x");
    const y = input("y");
    const pair = (id: string, body: F): Kernel => ({ id, inputs: ["x", "y"], paramCount: 0, body });
    checkFloat32(pair("ldexp", ldexp(x, y)), [], [a, k], false);
    // One lane in four with k out of [-126, 127] sends every group down the general path.
    const mixed = k.map((v, i) => (i % 4 === 1 ? -1000 : v));
    checkFloat32(pair("ldexp", ldexp(x, y)), [], [a, mixed], false);
    const ties = Float32Array.from({ length: 64 }, (_, i) => (i - 32) / 2);
    const unary = new Float32Array([...values, ...ties]);
    const signs = unary.slice().reverse();
    checkFloat32(pair("ilogb", ilogb(x)), [], [unary, signs], false);
    checkFloat32(pair("round", round(x)), [], [unary, signs], false);
    checkFloat32(pair("copysign", copysign(x, y)), [], [unary, signs], false);
  });

  // The float64 steps: scaledProduct with k from -700 to 700 (past its +-600 limit, through
  // subnormal results and overflow, any a), polyHi and polyLo of every float32 in [-20, 20].
  it("scaledProduct, polyHi and polyLo match the JS float32 program", () => {
    const [a, k] = withExponents(float32Inputs(4099 * 997), -700, 700, 10);
    const [x, y] = [input("x"), input("y")];
    // b = a, and b a float32 constant (the Harness holds two inputs): a b is exact in float64.
    for (const body of [scaledProduct(x, x, y), scaledProduct(x, Math.fround(-0.3), y)]) {
      const kernel: Kernel = { id: "scaledProduct", inputs: ["x", "y"], paramCount: 0, body };
      checkFloat32(kernel, [], [a, k], false);
    }
    const near = float32Inputs(4099).filter((v) => Math.abs(v) <= 20);
    for (const [part, body] of widePolynomial(
      x,
      [0.5, 1.5957691216057308, 0, 0.0713548128],
    ).entries()) {
      const kernel: Kernel = { id: `poly${part}`, inputs: ["x"], paramCount: 0, body };
      checkFloat32(kernel, [], [near], false);
    }
  });

  // select with a +0 side is lowered to one and / andnot, neg of abs to one or of the sign:
  // -0 on a side must stay a bitselect, and an abs that something else uses must still be there.
  it("select with a zero side and neg of abs match the JS float32 program, -0 and NaN signs included", () => {
    const values = float32Inputs(4099 * 97);
    const signs = values.slice().reverse();
    const x = input("x");
    const y = input("y");
    const pair = (id: string, body: F): Kernel => ({ id, inputs: ["x", "y"], paramCount: 0, body });
    const positive = gt(x, 0);
    for (const [id, body] of [
      ["then-zero", select(positive, 0, y)],
      ["else-zero", select(positive, y, 0)],
      ["then-minus-zero", select(positive, -0, y)],
      ["else-minus-zero", select(positive, y, -0)],
      ["neg-abs", neg(abs(x))],
      ["neg-abs-shared", add(neg(abs(x)), mul(abs(x), y))],
    ] as const) {
      checkFloat32(pair(id, body), [], [values, signs], false);
    }
    // Any NaN matches any NaN above; -|x| of a NaN has its sign bit set, as neg of abs gives.
    const harness = new Harness(pair("neg-abs", neg(abs(x))), [], "float32", 8);
    harness.view32(harness.in0, 8).set([0x7fc00001, 0xffc00002, 0, 0x80000000, 1, 2, 3, 4]);
    harness.contiguous(harness.out, 0, 8);
    assert.deepEqual(
      [...harness.view32(harness.out, 4)].map((bits) => bits.toString(16)),
      ["ffc00001", "ffc00002", "80000000", "80000000"],
    );
  });

  it("runs in shared memory", () => {
    const kernel = activationKernel("softPlus", "forward");
    checkFloat32(kernel, [], activationInputs(kernel, SPARSE), true);
    checkFloat16(activationKernel("elu", "backward"), kernelParams("elu", [0.5]), true);
  });
});

/** Forward reads x; backward reads (g, y): y sweeps the inputs, g the same values reversed. */
const activationInputs = (kernel: Kernel, x: Float32Array): Float32Array[] =>
  kernel.inputs.length === 1 ? [x] : [x.slice().reverse(), x];

function checkFloat32(
  kernel: Kernel,
  args: readonly number[],
  inputs: readonly Float32Array[],
  shared: boolean,
): void {
  const n = inputs[0]!.length;
  const want = new Uint32Array(new Float32Array(reference(kernel, args, inputs)).buffer);
  const h = new Harness(kernel, args, "float32", n, shared);
  const in0 = h.view32(h.in0, n);
  inputs.forEach((values, s) =>
    h.view32(s === 0 ? h.in0 : h.in1, n).set(new Uint32Array(values.buffer, values.byteOffset, n)),
  );
  const out = h.view32(h.out, n);
  const sentinel = new Uint32Array(n).fill(SENTINEL32);
  const check = (got: Uint32Array, previous: ArrayLike<number>, computed: Plan, what: string) =>
    assert.equal(firstMismatch(got, want, previous, computed, isNan32), null, what);

  // Contiguous, out of place: ranges with tails of every length.
  out.fill(SENTINEL32);
  const ranges = contiguousRanges(n);
  for (const [begin, end] of ranges) h.contiguous(h.out, begin, end);
  const inRanges: Plan = (i) => ranges.some(([b, e]) => b <= i && i < e);
  check(out, sentinel, inRanges, "contiguous");

  // Strided, out of place: every third element from 1.
  out.fill(SENTINEL32);
  const thirds = Math.floor((n - 2) / 3) + 1;
  h.strided(h.out, 1, 3, 0, thirds);
  check(out, sentinel, (i) => i % 3 === 1, "strided, step 3");

  // Strided, negative step, part of the k range: elements n-1-2k for 2 <= k < half - 1.
  out.fill(SENTINEL32);
  const half = Math.floor(n / 2);
  h.strided(h.out, n - 1, -2, 2, half - 1);
  const backwards: Plan = (i) =>
    (n - 1 - i) % 2 === 0 && (n - 1 - i) / 2 >= 2 && (n - 1 - i) / 2 < half - 1;
  check(out, sentinel, backwards, "strided, step -2");

  // In place (out is in0), contiguous then strided; in0 is restored in between.
  const original = in0.slice();
  h.contiguous(h.in0, 5, n - 1);
  check(in0, original, (i) => 5 <= i && i < n - 1, "contiguous in place");
  in0.set(original);
  h.strided(h.in0, n - 3, -3, 0, Math.floor((n - 3) / 3) + 1);
  check(in0, original, (i) => (n - 3 - i) % 3 === 0, "strided in place, step -3");
}

function checkFloat16(kernel: Kernel, args: readonly number[], shared: boolean): void {
  const n = 65536;
  const halves = Uint16Array.from({ length: n }, (_, i) => i);
  const inputs = kernel.inputs.length === 1 ? [halves] : [halves.slice().reverse(), halves];
  const decoded = inputs.map((bits) => Float32Array.from(bits, (b) => halfToNumber(b)));
  const want = Uint16Array.from(reference(kernel, args, decoded), (v) =>
    numberToHalf(Math.fround(v)),
  );
  const h = new Harness(kernel, args, "float16", n, shared);
  inputs.forEach((bits, s) => h.view16(s === 0 ? h.in0 : h.in1, n).set(bits));
  const out = h.view16(h.out, n);
  const sentinel = new Uint16Array(n).fill(SENTINEL16);
  const check = (computed: Plan, what: string) =>
    assert.equal(firstMismatch(out, want, sentinel, computed, isNan16), null, what);

  out.fill(SENTINEL16);
  h.contiguous(h.out, 0, n - 1); // a tail of 3
  check((i) => i < n - 1, "float16 contiguous");
  out.fill(SENTINEL16);
  h.strided(h.out, n - 2, -3, 0, Math.floor((n - 2) / 3) + 1);
  check((i) => (n - 2 - i) % 3 === 0, "float16 strided, step -3");
}

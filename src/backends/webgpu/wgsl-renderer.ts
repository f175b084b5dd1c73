// Lowers a kernel's IR to a WGSL compute shader, in two forms of the same IR:
// - `body`: straight-line code, one `let` per DAG node, with the hardware's add, sub, mul and div;
//   it also reports whether any of those may have met a subnormal (see wgsl-prelude.ts);
// - `interpret`: a loop over the IR as a table of instructions, with exact helpers for every op,
//   which recomputes the (rare) float32 elements `body` flagged. Its code size does not grow with
//   the kernel, which keeps shader compilation short. It runs in a second entry point, `redo`,
//   dispatched indirectly over just the flagged elements that `main` queued: an interpreter inside
//   `main`, even behind a branch no element takes, made SwiftShader 15 times slower.
// The entry point handles storage (float32, or float16 packed two to a u32), slices, pass-through
// and in-place binding.

import { resolveGuards } from "../../ops/guard.js";
import { expandKernel } from "../../ops/libm.js";
import { shareEqual } from "../../ops/share.js";
import {
  OPS,
  topologicalOrder,
  type ComputeOp,
  type Expr,
  type IrOp,
  type Kernel,
} from "../../ops/ir.js";
import { WGSL_PRELUDE } from "./wgsl-prelude.js";

export const WORKGROUP_SIZE = 256;
/** Parameters travel as vec4s in the uniform block; two of them hold any activation's. */
export const MAX_PARAMS = 8;

type Lowering = (operands: readonly string[]) => string;

const call =
  (name: string): Lowering =>
  (operands) =>
    `${name}(${operands.join(", ")})`;

const UNEXPANDED: Lowering = () => {
  throw new Error(
    "exp, expm1, log1p, erfc, expNear, polyHi, polyLo, scaledProduct and mulAdd must be expanded (src/ops/libm.ts) before WGSL lowering",
  );
};

/** Guards: renderWgsl keeps their exact sides only. */
const RESOLVED_GUARD: Lowering = () => {
  throw new Error("guards are resolved to their exact side before WGSL lowering");
};

/** The exact WGSL meaning of every op; the helpers live in wgsl-prelude.ts. */
const EXACT: Record<ComputeOp, Lowering> = {
  neg: call("f_neg"),
  abs: call("f_abs"),
  exp: UNEXPANDED,
  expm1: UNEXPANDED,
  log1p: UNEXPANDED,
  erfc: UNEXPANDED,
  expNear: UNEXPANDED,
  round: call("f_round"),
  ldexp: call("f_ldexp"),
  // Its k is in [-126, 127] (ir.ts), where f_ldexp's one rounding is what a product by 2^k gives.
  ldexpNormal: call("f_ldexp"),
  ilogb: call("f_ilogb"),
  polyHi: UNEXPANDED,
  polyLo: UNEXPANDED,
  scaledProduct: UNEXPANDED,
  mulAdd: UNEXPANDED,
  add: call("f_add"),
  sub: call("f_sub"),
  mul: call("f_mul"),
  div: call("f_div"),
  copysign: call("f_copysign"),
  pmin: ([a, b]) => `f_select(f_lt(${b}, ${a}), ${b}, ${a})`,
  pmax: ([a, b]) => `f_select(f_lt(${a}, ${b}), ${b}, ${a})`,
  lt: call("f_lt"),
  le: call("f_le"),
  gt: call("f_gt"),
  ge: call("f_ge"),
  eq: call("f_eq"),
  isnan: call("is_nan"),
  and: ([a, b]) => `(${a} & ${b})`,
  or: ([a, b]) => `(${a} | ${b})`,
  not: ([a]) => `(!${a})`,
  select: call("f_select"),
  guard: RESOLVED_GUARD,
};

/** The ops `body` computes with the hardware, flagging results a subnormal may have spoiled. */
const HARDWARE: Partial<Record<ComputeOp, { symbol: string; check: string }>> = {
  add: { symbol: "+", check: "lost_add" },
  sub: { symbol: "-", check: "lost_sub" },
  mul: { symbol: "*", check: "lost_mul" },
  div: { symbol: "/", check: "lost_div" },
};

/** A float constant by its bits: exact for every value, subnormals included. */
function constantBits(value: number): number {
  return new Uint32Array(new Float32Array([value]).buffer)[0]!;
}

const hex = (bits: number): string => `0x${bits.toString(16).padStart(8, "0")}u`;

// Inf and NaN go through from_bits: a constant expression that evaluates to them is a WGSL error.
const constant = (value: number): string =>
  Number.isFinite(value)
    ? `bitcast<f32>(${hex(constantBits(value))})`
    : `from_bits(${hex(constantBits(value))})`;

const paramRef = (index: string | number): string =>
  typeof index === "number"
    ? `L.params[${index >> 2}][${index & 3}]`
    : `L.params[${index} >> 2u][${index} & 3u]`;

/** `fn body(v0: f32, ...) -> Result`: the value and whether `interpret` must redo it. */
function renderBody(kernel: Kernel): string {
  const order = topologicalOrder(kernel.body);
  const names = new Map<Expr, string>();
  const lines: string[] = [];
  const checks: string[] = [];
  order.forEach((expr, i) => {
    switch (expr.op) {
      case "input":
        names.set(expr, `v${kernel.inputs.indexOf(expr.input!)}`);
        checks.push(`is_tiny(v${kernel.inputs.indexOf(expr.input!)})`);
        return;
      case "param":
        names.set(expr, paramRef(expr.index!));
        checks.push(`is_tiny(${paramRef(expr.index!)})`);
        return;
      case "const":
        names.set(expr, constant(expr.value!));
        return;
      default: {
        const name = `t${i}`;
        const operands = expr.operands.map((o) => names.get(o)!);
        const hardware = HARDWARE[expr.op];
        if (hardware === undefined) {
          lines.push(`  let ${name} = ${EXACT[expr.op](operands)};`);
        } else {
          lines.push(`  let ${name} = ${operands[0]} ${hardware.symbol} ${operands[1]};`);
          checks.push(`${hardware.check}(${operands[0]}, ${operands[1]}, ${name})`);
        }
        names.set(expr, name);
      }
    }
  });
  const parameters = kernel.inputs.map((_, i) => `v${i}: f32`).join(", ");
  // Without hardware arithmetic every op is exact already, subnormal inputs included.
  const lost = needsInterpreter(kernel) ? checks.join(" |\n    ") : "false";
  return `fn body(${parameters}) -> Result {
${lines.join("\n")}
  let lost = ${lost};
  return Result(${names.get(kernel.body)}, lost);
}`;
}

function needsInterpreter(kernel: Kernel): boolean {
  return topologicalOrder(kernel.body).some((expr) => expr.op in HARDWARE);
}

// Instruction codes of the interpreter: leaves first, then every compute op in OPS order.
const LEAVES = ["input", "param", "const"] as const;
const CODES = new Map<IrOp, number>(
  [...LEAVES, ...(Object.keys(OPS) as IrOp[]).filter((op) => !LEAVES.includes(op as never))].map(
    (op, i) => [op, i],
  ),
);

/** `fn interpret(v0: f32, ...) -> f32`: the kernel as data, evaluated with the exact helpers. */
function renderInterpreter(kernel: Kernel): string {
  const order = topologicalOrder(kernel.body);
  const register = new Map<Expr, number>(order.map((expr, i) => [expr, i]));
  const program = order.map((expr) => {
    const operands = expr.operands.map((o) => register.get(o)!);
    const [a = 0, b = 0, c = 0] =
      expr.op === "input"
        ? [kernel.inputs.indexOf(expr.input!)]
        : expr.op === "param"
          ? [expr.index!]
          : expr.op === "const"
            ? [constantBits(expr.value!)]
            : operands;
    return `vec4u(${CODES.get(expr.op)}u, ${hex(a)}, ${hex(b)}, ${hex(c)})`;
  });
  const inputs = kernel.inputs.map((_, i) => `v${i}`);
  const cases = [...CODES].map(([op, code]) => {
    let value: string;
    if (op === "input") {
      value = `bitcast<u32>(${inputs.length === 1 ? "v0" : `select(v0, v1, i.y == 1u)`})`;
    } else if (op === "param") {
      value = `bitcast<u32>(${paramRef("i.y")})`;
    } else if (op === "const") {
      value = "i.y";
    } else {
      const spec = OPS[op];
      const operands = spec.operands.map((kind, k) => {
        const reg = `r[i.${"yzw"[k]}]`;
        return kind === "f" ? `bitcast<f32>(${reg})` : `(${reg} != 0u)`;
      });
      const result = EXACT[op as ComputeOp];
      if (result === UNEXPANDED || result === RESOLVED_GUARD) return "";
      const expression = result(operands);
      value = spec.result === "f" ? `bitcast<u32>(${expression})` : `select(0u, 1u, ${expression})`;
    }
    return `      case ${code}u: { r[pc] = ${value}; }`;
  });
  return `const PROGRAM = array<vec4u, ${program.length}>(
  ${program.join(",\n  ")}
);

fn interpret(${inputs.map((v) => `${v}: f32`).join(", ")}) -> f32 {
  var r: array<u32, ${program.length}>;
  for (var pc = 0u; pc < ${program.length}u; pc++) {
    let i = PROGRAM[pc];
    switch i.x {
${cases.filter(Boolean).join("\n")}
      default: {}
    }
  }
  return bitcast<f32>(r[${program.length - 1}u]);
}`;
}

export interface WgslVariant {
  readonly dtype: "float32" | "float16";
  /** inputs[0] is the output buffer itself (one read_write binding). */
  readonly inplace: boolean;
  /** Only some elements are computed; without it every element is and no slice test runs. */
  readonly sliced: boolean;
}

export interface WgslShader {
  readonly code: string;
  /**
   * Whether the shader has the `redo` and `sweep` entry points: then `main` queues the elements
   * it could not compute exactly (group 1, see REDO_BINDINGS) and leaves them unwritten, and
   * `redo`, then `sweep`, must be dispatched indirectly after it, with the queue's header reset
   * to zeros before `main`.
   */
  readonly redo: boolean;
}

/**
 * Group 1 of a shader with `redo`: the queue (header, then up to L.capacity queued units), read
 * and written by `main`, read by `redo` (which also takes its dispatch size from it); and the
 * bitmap of spilled workgroups, one bit per workgroup of the largest dispatch, set by `main` and
 * cleared by `sweep`. Both are fixed-size buffers of the backend, whatever the tensor.
 */
export const REDO_BINDINGS = { queue: 0, spilled: 1, queued: 2 } as const;
/**
 * Queue header: [count, redo groups x, y, z, sweep groups x, y, z, unused], then the queued
 * units; all zeros before each launch (main sets the y and z counts to 1 when it first needs them).
 */
export const REDO_HEADER_WORDS = 8;
/** Byte offsets of the two indirect dispatches' arguments in the queue. */
export const REDO_ARGS_OFFSET = 4;
export const SWEEP_ARGS_OFFSET = 16;
/** A queued unit withdrawn by its spilled workgroup; `redo` skips it. */
const WITHDRAWN = "0xffffffffu";
const MAX_GROUPS = 65535;
/** The most units the queue may hold: `redo` covers them with one dimension of workgroups. */
export const MAX_REDO_CAPACITY = MAX_GROUPS * WORKGROUP_SIZE;

/**
 * The whole shader. Bindings: group 0 holds 0 the launch uniforms, 1 the output, then the
 * inputs that are not the output; group 1 the redo queue and bitmap (REDO_BINDINGS). Units are
 * elements (float32) or u32 words of two halves (float16).
 */
export function renderWgsl(kernel: Kernel, variant: WgslVariant): WgslShader {
  if (kernel.paramCount > MAX_PARAMS) throw new Error(`${kernel.id}: too many parameters`);
  // A GPU thread computes one element, so a guard's fast side would be work on top of the
  // exact side, not instead of it: only the exact side is rendered, with its equal nodes
  // merged again (share.ts keeps apart those of different guards, which no longer exist here).
  // WGSL has no f64: polynomials carried past float32 become double-float code.
  const exact = resolveGuards(expandKernel(kernel, "float32").body, "exact");
  const expanded = { ...kernel, body: shareEqual(exact) };
  const float32 = variant.dtype === "float32";
  const redo = float32 && needsInterpreter(expanded);
  const word = float32 ? "f32" : "u32";
  const bindings = [`@group(0) @binding(1) var<storage, read_write> out: array<${word}>;`];
  const sources = kernel.inputs.map((_, i) => {
    if (i === 0 && variant.inplace) return "out";
    bindings.push(
      `@group(0) @binding(${bindings.length + 1}) var<storage, read> in${i}: array<${word}>;`,
    );
    return `in${i}`;
  });
  if (redo) {
    const { queue, spilled, queued } = REDO_BINDINGS;
    bindings.push(
      `@group(1) @binding(${queue}) var<storage, read_write> queue: array<atomic<u32>>;`,
      `@group(1) @binding(${spilled}) var<storage, read_write> spilled: array<atomic<u32>>;`,
      `@group(1) @binding(${queued}) var<storage, read> queued: array<u32>;`,
    );
    if (variant.inplace) bindings.push(`var<workgroup> group_spilled: atomic<u32>;`);
  }
  // With a barrier (in place with redo), threads past the end (the last workgroup's) read the
  // last unit, so that every thread reaches it, and store nothing. Without one they return at
  // once, and every thread loads its own unit, which SwiftShader turns into vector loads.
  const barrier = redo && variant.inplace;
  const at = barrier ? "last" : "unit";
  const loads = sources.map((source, i) => `  let w${i} = ${source}[${at}];`).join("\n");
  const store = float32 ? storeFloat32(expanded, variant, redo) : storeFloat16(expanded, variant);
  const code = `${WGSL_PRELUDE}
struct Launch {
  size: u32, units: u32, start: i32, step: i32, count: u32, capacity: u32,
  params: array<vec4f, 2>,
}
@group(0) @binding(0) var<uniform> L: Launch;
${bindings.join("\n")}

struct Result { value: f32, lost: bool }

// Python's slice: element i is computed when i = start + k * step for some 0 <= k < count.
fn in_slice(i: u32) -> bool {
  let offset = i32(i) - L.start;
  let k = offset / L.step;
  return (offset % L.step == 0) & (k >= 0) & (u32(k) < L.count);
}

${renderBody(expanded)}

@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(workgroup_id) group: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_index) local: u32) {
  // Two-dimensional dispatch: one dimension holds at most 65,535 workgroups.
  let index = group.y * groups.x + group.x;
  let unit = index * ${WORKGROUP_SIZE}u + local;
${barrier ? "  let live = unit < L.units;\n  let last = min(unit, L.units - 1u);" : "  if (unit >= L.units) { return; }\n  let live = true;"}
${loads}
${store}
}
${redo ? renderRedo(expanded, variant, sources) : ""}`;
  return { code, redo };
}

/**
 * Stores one float32 element. With redo, an element main cannot compute exactly is queued and
 * left as it is (in place, its inputs are then still there for `redo`). When the queue is full,
 * the element's workgroup spills: it sets its bit, and `sweep` computes all of the workgroup with
 * the interpreter. So the queue has a fixed size, and no element is lost.
 * - Out of place, main's stores leave the inputs intact, so `sweep` may recompute elements main
 *   has stored: the element that spills stores nothing, and the rest of its workgroup goes on.
 * - In place, main's stores overwrite the inputs, so a spilled workgroup must store nothing at
 *   all: it withdraws what it had queued and its threads agree at a workgroup barrier. The
 *   barrier is cheap on a GPU, but it made SwiftShader about 4 times slower, so out-of-place
 *   launches, the common kind, go without it.
 */
function storeFloat32(kernel: Kernel, variant: WgslVariant, redo: boolean): string {
  const args = kernel.inputs.map((_, i) => `w${i}`).join(", ");
  const keep = variant.sliced ? "live & in_slice(unit)" : "live";
  const head = `  let fast = body(${args});
  let keep = ${keep};`;
  const store = "out[unit] = f_select(keep, fast.value, w0);";
  if (!redo) return `${head}\n  if (live) { ${store} }`;
  const spill = `atomicOr(&spilled[index / 32u], 1u << (index % 32u));
      atomicStore(&queue[4], groups.x);
      atomicStore(&queue[5], groups.y);
      atomicStore(&queue[6], 1u);`;
  const enqueue = `let s = atomicAdd(&queue[0], 1u);
    if (s < L.capacity) {
      atomicStore(&queue[${REDO_HEADER_WORDS}u + s], unit);
      if (s % ${WORKGROUP_SIZE}u == 0u) { atomicAdd(&queue[1], 1u); }
      if (s == 0u) { atomicStore(&queue[2], 1u); atomicStore(&queue[3], 1u); }`;
  if (!variant.inplace) {
    return `${head}
  if (keep & fast.lost) {
    ${enqueue}
    } else {
      ${spill}
    }
  } else if (live) { ${store} }`;
  }
  return `${head}
  var slot = ${WITHDRAWN};
  if (keep & fast.lost) {
    ${enqueue}
      slot = s;
    } else {
      atomicStore(&group_spilled, 1u);
    }
  }
  workgroupBarrier();
  if (atomicLoad(&group_spilled) != 0u) {
    if (slot != ${WITHDRAWN}) { atomicStore(&queue[${REDO_HEADER_WORDS}u + slot], ${WITHDRAWN}); }
    if (local == 0u) {
      ${spill}
    }
    return;
  }
  if (live & (slot == ${WITHDRAWN})) { ${store} }`;
}

/** `redo` over the queued units, and `sweep` over the spilled workgroups, main's grid again. */
function renderRedo(kernel: Kernel, variant: WgslVariant, sources: readonly string[]): string {
  const loads = (at: string) =>
    sources.map((source, i) => `    let w${i} = ${source}[${at}];`).join("\n");
  const args = kernel.inputs.map((_, i) => `w${i}`).join(", ");
  const keep = variant.sliced ? "in_slice(unit)" : "true";
  return `
${renderInterpreter(kernel)}

@compute @workgroup_size(${WORKGROUP_SIZE})
fn redo(@builtin(global_invocation_id) id: vec3u) {
  let count = min(queued[0], L.capacity);
  for (var j = id.x; j < count; j += ${MAX_GROUPS * WORKGROUP_SIZE}u) {
    let unit = queued[${REDO_HEADER_WORDS}u + j];
    if (unit == ${WITHDRAWN}) { continue; }
${loads("unit")}
    out[unit] = interpret(${args});
  }
}

@compute @workgroup_size(${WORKGROUP_SIZE})
fn sweep(@builtin(workgroup_id) group: vec3u, @builtin(num_workgroups) groups: vec3u,
         @builtin(local_invocation_index) local: u32) {
  let index = group.y * groups.x + group.x;
  // The grid's extra groups (two-dimensional dispatch) have no bit: the bitmap may end before
  // their word, and a read past it would be clamped to a real group's word, which they must not
  // clear. The condition is the same for the whole workgroup, so the barrier stays uniform.
  if (index * ${WORKGROUP_SIZE}u >= L.units) { return; }
  let bit = 1u << (index % 32u);
  let mine = (atomicLoad(&spilled[index / 32u]) & bit) != 0u;
  // Every thread has read the bit before the first clears it for the next launch.
  workgroupBarrier();
  if (!mine) { return; }
  if (local == 0u) { atomicAnd(&spilled[index / 32u], ~bit); }
  let unit = index * ${WORKGROUP_SIZE}u + local;
  if (unit >= L.units) { return; }
  if (${keep}) {
${loads("unit")}
    out[unit] = interpret(${args});
  } else {
    out[unit] = ${sources[0]}[unit];
  }
}
`;
}

// float16 needs no interpreter: flushing a float32 subnormal moves a value by less than 2^-126,
// far below a half's smallest step (2^-24), and halves themselves are never float32 subnormals.
function storeFloat16(kernel: Kernel, variant: WgslVariant): string {
  const half = (lane: "lo" | "hi"): string => {
    const shift = lane === "lo" ? "" : " >> 16u";
    const args = kernel.inputs.map((_, i) => `half_to_f32((w${i}${shift}) & 0xffffu)`).join(", ");
    const index = lane === "lo" ? "2u * unit" : "2u * unit + 1u";
    const keep = variant.sliced ? `in_slice(${index}) & (${index} < L.size)` : `${index} < L.size`;
    return `  let ${lane} = select((w0${shift}) & 0xffffu, f32_to_half(body(${args}).value), ${keep});`;
  };
  return `${half("lo")}\n${half("hi")}\n  if (live) { out[unit] = lo | (hi << 16u); }`;
}

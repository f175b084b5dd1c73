// Lowers a kernel's IR to a WGSL compute shader. The body becomes one function of the inputs and
// parameters, with one `let` per DAG node; the entry point handles storage (float32, or float16
// packed two to a u32), slices, pass-through and in-place binding.

import { expandKernel } from "../../ops/libm.js";
import { topologicalOrder, type ComputeOp, type Expr, type Kernel } from "../../ops/ir.js";
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
  throw new Error("exp, expm1 and log1p must be expanded (src/ops/libm.ts) before WGSL lowering");
};

/** The WGSL meaning of every op; the helpers live in wgsl-prelude.ts. */
const LOWERINGS: Record<ComputeOp, Lowering> = {
  neg: call("f_neg"),
  abs: call("f_abs"),
  exp: UNEXPANDED,
  expm1: UNEXPANDED,
  log1p: UNEXPANDED,
  round: call("f_round"),
  ldexp: call("f_ldexp"),
  ilogb: call("f_ilogb"),
  add: call("f_add"),
  sub: call("f_sub"),
  mul: call("f_mul"),
  div: call("f_div"),
  copysign: call("f_copysign"),
  lt: call("f_lt"),
  le: call("f_le"),
  gt: call("f_gt"),
  ge: call("f_ge"),
  eq: call("f_eq"),
  isnan: call("is_nan"),
  and: ([a, b]) => `(${a} && ${b})`,
  or: ([a, b]) => `(${a} || ${b})`,
  not: ([a]) => `(!${a})`,
  select: call("f_select"),
};

/**
 * A float constant by its bits: exact for every value, subnormals included. Inf and NaN go
 * through from_bits, since a constant expression that evaluates to them is a WGSL error.
 */
function constant(value: number): string {
  const bits = new Uint32Array(new Float32Array([value]).buffer)[0]!;
  const hex = `0x${bits.toString(16).padStart(8, "0")}u`;
  return Number.isFinite(value) ? `bitcast<f32>(${hex})` : `from_bits(${hex})`;
}

/** The element function: `fn body(v0: f32, ...) -> f32`, inputs in kernel.inputs order. */
function renderBody(kernel: Kernel): string {
  const order = topologicalOrder(kernel.body);
  const names = new Map<Expr, string>();
  const lines: string[] = [];
  order.forEach((expr, i) => {
    switch (expr.op) {
      case "input":
        names.set(expr, `v${kernel.inputs.indexOf(expr.input!)}`);
        return;
      case "param":
        names.set(expr, `L.params[${expr.index! >> 2}][${expr.index! & 3}]`);
        return;
      case "const":
        names.set(expr, constant(expr.value!));
        return;
      default: {
        const name = `t${i}`;
        const operands = expr.operands.map((o) => names.get(o)!);
        lines.push(`  let ${name} = ${LOWERINGS[expr.op](operands)};`);
        names.set(expr, name);
      }
    }
  });
  const parameters = kernel.inputs.map((_, i) => `v${i}: f32`).join(", ");
  return `fn body(${parameters}) -> f32 {\n${lines.join("\n")}\n  return ${names.get(kernel.body)};\n}`;
}

export interface WgslVariant {
  readonly dtype: "float32" | "float16";
  /** inputs[0] is the output buffer itself (one read_write binding). */
  readonly inplace: boolean;
  /** Only some elements are computed; without it every element is and no slice test runs. */
  readonly sliced: boolean;
}

/**
 * The whole shader. Bindings: 0 the launch uniforms, 1 the output, then the inputs that are not
 * the output. Units are elements (float32) or u32 words of two halves (float16).
 */
export function renderWgsl(kernel: Kernel, variant: WgslVariant): string {
  if (kernel.paramCount > MAX_PARAMS) throw new Error(`${kernel.id}: too many parameters`);
  const expanded = expandKernel(kernel);
  const word = variant.dtype === "float32" ? "f32" : "u32";
  const bindings = [`@group(0) @binding(1) var<storage, read_write> out: array<${word}>;`];
  const sources = kernel.inputs.map((_, i) => {
    if (i === 0 && variant.inplace) return "out";
    bindings.push(
      `@group(0) @binding(${bindings.length + 1}) var<storage, read> in${i}: array<${word}>;`,
    );
    return `in${i}`;
  });
  const loads = sources.map((source, i) => `  let w${i} = ${source}[unit];`).join("\n");
  const store =
    variant.dtype === "float32" ? storeFloat32(kernel, variant) : storeFloat16(kernel, variant);
  return `${WGSL_PRELUDE}
struct Launch { size: u32, units: u32, start: i32, step: i32, count: u32, params: array<vec4f, 2> }
@group(0) @binding(0) var<uniform> L: Launch;
${bindings.join("\n")}

// Python's slice: element i is computed when i = start + k * step for some 0 <= k < count.
fn in_slice(i: u32) -> bool {
  let offset = i32(i) - L.start;
  let k = offset / L.step;
  return offset % L.step == 0 && k >= 0 && u32(k) < L.count;
}

${renderBody(expanded)}

@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(workgroup_id) group: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_index) local: u32) {
  // Two-dimensional dispatch: one dimension holds at most 65,535 workgroups.
  let unit = (group.y * groups.x + group.x) * ${WORKGROUP_SIZE}u + local;
  if (unit >= L.units) { return; }
${loads}
${store}
}
`;
}

function storeFloat32(kernel: Kernel, variant: WgslVariant): string {
  const args = kernel.inputs.map((_, i) => `w${i}`).join(", ");
  const keep = variant.sliced ? "in_slice(unit)" : "true";
  return `  out[unit] = f_select(${keep}, body(${args}), w0);`;
}

function storeFloat16(kernel: Kernel, variant: WgslVariant): string {
  const half = (lane: "lo" | "hi"): string => {
    const shift = lane === "lo" ? "" : " >> 16u";
    const args = kernel.inputs.map((_, i) => `half_to_f32((w${i}${shift}) & 0xffffu)`).join(", ");
    const index = lane === "lo" ? "2u * unit" : "2u * unit + 1u";
    const keep = variant.sliced ? `in_slice(${index}) && ${index} < L.size` : `${index} < L.size`;
    return `  let ${lane} = select((w0${shift}) & 0xffffu, f32_to_half(body(${args})), ${keep});`;
  };
  return `${half("lo")}\n${half("hi")}\n  out[unit] = lo | (hi << 16u);`;
}

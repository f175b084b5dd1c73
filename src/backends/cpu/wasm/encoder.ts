// A minimal WebAssembly binary encoder: just the opcodes, sections and immediates that the
// kernel lowering needs (i32 control flow and memory, f32 parameters, 128-bit SIMD). Opcode
// numbers follow the core spec and the final SIMD proposal numbering (prefix 0xfd, then the
// SIMD opcode as unsigned LEB128).

export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;
export type ValType = typeof I32 | typeof F32 | typeof V128;

/** Core opcodes (one byte each). */
export const Op = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  return: 0x0f,
  drop: 0x1a,
  select: 0x1b,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Load: 0x28,
  i32Load16U: 0x2f,
  i32Store: 0x36,
  i32Store16: 0x3b,
  i32Const: 0x41,
  i32Eqz: 0x45,
  i32Eq: 0x46,
  i32GtS: 0x4a,
  i32LeS: 0x4c,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  i32And: 0x71,
  i32Shl: 0x74,
} as const;

/** SIMD opcodes (after the 0xfd prefix). */
export const Simd = {
  load: 0x00,
  load16x4U: 0x04,
  store: 0x0b,
  const: 0x0c,
  shuffle: 0x0d,
  i32x4Eq: 0x37,
  i32x4LtS: 0x39,
  i32x4GtS: 0x3b,
  i32x4LeU: 0x3e,
  f32x4Splat: 0x13,
  f32x4Eq: 0x41,
  f32x4Ne: 0x42,
  f32x4Lt: 0x43,
  f32x4Gt: 0x44,
  f32x4Le: 0x45,
  f32x4Ge: 0x46,
  not: 0x4d,
  and: 0x4e,
  /** v128.andnot(a, b) = a & ~b. */
  andnot: 0x4f,
  or: 0x50,
  bitselect: 0x52,
  store64Lane: 0x5b,
  f32x4Nearest: 0x6a,
  f32x4DemoteF64x2Zero: 0x5e,
  f64x2PromoteLowF32x4: 0x5f,
  i32x4AllTrue: 0xa3,
  i32x4Shl: 0xab,
  i64x2Shl: 0xcb,
  i32x4ShrU: 0xad,
  i32x4Add: 0xae,
  i32x4Sub: 0xb1,
  i32x4MinS: 0xb6,
  i32x4MaxS: 0xb8,
  f32x4Abs: 0xe0,
  f32x4Neg: 0xe1,
  f32x4Add: 0xe4,
  f32x4Sub: 0xe5,
  f32x4Mul: 0xe6,
  f32x4Div: 0xe7,
  f32x4Pmin: 0xea,
  f32x4Pmax: 0xeb,
  i32x4TruncSatF32x4S: 0xf8,
  f64x2Add: 0xf0,
  f64x2Sub: 0xf1,
  f64x2Mul: 0xf2,
  f32x4ConvertI32x4S: 0xfa,
  f32x4ConvertI32x4U: 0xfb,
  f32x4ExtractLane: 0x1f,
  /** Relaxed SIMD: a * b + c, fused or not (the engine's choice; see cpu-backend.ts). */
  f32x4RelaxedMadd: 0x105,
} as const;

export function uleb(value: number): number[] {
  const bytes: number[] = [];
  let v = value >>> 0;
  do {
    const byte = v & 0x7f;
    v >>>= 7;
    bytes.push(v === 0 ? byte : byte | 0x80);
  } while (v !== 0);
  return bytes;
}

/** Signed LEB128 of a 32-bit integer (the immediate of i32.const). */
export function sleb(value: number): number[] {
  const bytes: number[] = [];
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    bytes.push(done ? byte : byte | 0x80);
    if (done) return bytes;
  }
}

const utf8 = (text: string): number[] => [...new TextEncoder().encode(text)];
const name = (text: string): number[] => [...uleb(utf8(text).length), ...utf8(text)];
const vector = (items: readonly number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];

const f32Bits = new Uint32Array(1);
const f32View = new Float32Array(f32Bits.buffer);
const f64Bytes = new Uint8Array(8);
const f64View = new DataView(f64Bytes.buffer);

/**
 * One function's body, written instruction by instruction in stack order. Locals are declared as
 * they are needed; their indices follow the parameters'.
 */
export class FunctionBuilder {
  private readonly code: number[] = [];
  private readonly locals: ValType[] = [];
  /** Code run first: sets the locals that hold hoisted constants. */
  private readonly prologue: number[] = [];
  /** The local holding each hoisted constant, by its 16 bytes. */
  private readonly constants = new Map<string, number>();
  /** While true, splat32 reads a local set once in the prologue. */
  hoistConstants = false;

  constructor(
    readonly params: readonly ValType[],
    readonly results: readonly ValType[] = [],
  ) {}

  local(type: ValType): number {
    this.locals.push(type);
    return this.params.length + this.locals.length - 1;
  }

  op(opcode: number): this {
    this.code.push(opcode);
    return this;
  }

  get(index: number): this {
    this.code.push(Op.localGet, ...uleb(index));
    return this;
  }

  set(index: number): this {
    this.code.push(Op.localSet, ...uleb(index));
    return this;
  }

  tee(index: number): this {
    this.code.push(Op.localTee, ...uleb(index));
    return this;
  }

  i32(value: number): this {
    this.code.push(Op.i32Const, ...sleb(value));
    return this;
  }

  /** block, loop or if, without a result or with one value of `result` type. */
  open(opcode: typeof Op.block | typeof Op.loop | typeof Op.if, result?: ValType): this {
    this.code.push(opcode, result ?? 0x40);
    return this;
  }

  end(): this {
    return this.op(Op.end);
  }

  br(opcode: typeof Op.br | typeof Op.brIf, depth: number): this {
    this.code.push(opcode, ...uleb(depth));
    return this;
  }

  /** A scalar load or store; alignment hint 0, as pointers need not be aligned. */
  memory(opcode: number, offset = 0): this {
    this.code.push(opcode, 0, ...uleb(offset));
    return this;
  }

  simd(opcode: number): this {
    this.code.push(0xfd, ...uleb(opcode));
    return this;
  }

  simdMemory(opcode: number, offset = 0): this {
    this.simd(opcode).code.push(0, ...uleb(offset));
    return this;
  }

  /** v128.store64_lane and friends: memarg, then the lane index. */
  simdLane(opcode: number, lane: number, offset = 0): this {
    this.simd(opcode).code.push(0, ...uleb(offset), lane);
    return this;
  }

  /** A v128 constant with the same 32-bit pattern in every lane. */
  splat32(bits: number): this {
    const lane = [bits & 0xff, (bits >>> 8) & 0xff, (bits >>> 16) & 0xff, (bits >>> 24) & 0xff];
    return this.v128Constant([...lane, ...lane, ...lane, ...lane]);
  }

  /** A v128 constant of four copies of fround(value). */
  f32x4(value: number): this {
    f32View[0] = value;
    return this.splat32(f32Bits[0]!);
  }

  /** A v128 constant of two copies of the float64 value. */
  f64x2(value: number): this {
    f64View.setFloat64(0, value, true); // Wasm is little-endian
    const lane = [...f64Bytes];
    return this.v128Constant([...lane, ...lane]);
  }

  /** v128.const of these 16 bytes, or, while hoisting, the local the prologue sets to them. */
  private v128Constant(bytes: readonly number[]): this {
    if (!this.hoistConstants) {
      this.simd(Simd.const).code.push(...bytes);
      return this;
    }
    const key = bytes.join(",");
    let local = this.constants.get(key);
    if (local === undefined) {
      local = this.local(V128);
      this.constants.set(key, local);
      this.prologue.push(0xfd, ...uleb(Simd.const), ...bytes);
      this.prologue.push(Op.localSet, ...uleb(local));
    }
    return this.get(local);
  }

  shuffle(lanes: readonly number[]): this {
    this.simd(Simd.shuffle).code.push(...lanes);
    return this;
  }

  /** The body as the code section holds it: runs of local declarations, code, end. */
  encode(): number[] {
    const runs: number[][] = [];
    this.locals.forEach((type, i) => {
      if (i > 0 && this.locals[i - 1] === type) runs[runs.length - 1]![0]! += 1;
      else runs.push([1, type]);
    });
    const declarations = vector(runs.map(([count, type]) => [...uleb(count!), type!]));
    const body = [...declarations, ...this.prologue, ...this.code];
    return [...body, Op.end];
  }
}

export interface ModuleFunction {
  /** Exported under this name when given. */
  readonly exportName?: string;
  readonly body: FunctionBuilder;
}

export interface ImportedMemory {
  readonly shared: boolean;
  readonly maximumPages: number;
}

/** A module of functions that optionally imports env.memory. */
export function encodeModule(
  memory: ImportedMemory | null,
  functions: readonly ModuleFunction[],
): Uint8Array<ArrayBuffer> {
  const types = functions.map(({ body }) => [
    0x60,
    ...vector(body.params.map((t) => [t])),
    ...vector(body.results.map((t) => [t])),
  ]);
  const imports =
    memory === null
      ? []
      : section(
          2,
          vector([
            [
              ...name("env"),
              ...name("memory"),
              0x02,
              memory.shared ? 0x03 : 0x01, // limits with a maximum (shared requires one)
              ...uleb(0),
              ...uleb(memory.maximumPages),
            ],
          ]),
        );
  const exports = functions.flatMap(({ exportName }, i) =>
    exportName === undefined ? [] : [[...name(exportName), 0x00, ...uleb(i)]],
  );
  const code = functions.map(({ body }) => {
    const encoded = body.encode();
    return [...uleb(encoded.length), ...encoded];
  });
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vector(types)),
    ...imports,
    ...section(3, vector(functions.map((_, i) => uleb(i)))),
    ...section(7, vector(exports)),
    ...section(10, vector(code)),
  ]);
}

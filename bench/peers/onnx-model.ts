// Tiny ONNX models written as protobuf bytes, so that the benchmark needs no ONNX tooling: one
// graph per activation and direction, float32 tensors of one dynamic dimension "N".
//
// Only the fields used here are encoded (field numbers from onnx/onnx.proto):
//   ModelProto      ir_version 1, producer_name 2, graph 7, opset_import 8
//   OperatorSetId   domain 1, version 2
//   GraphProto      node 1, name 2, initializer 5, input 11, output 12
//   NodeProto       input 1, output 2, name 3, op_type 4, attribute 5
//   AttributeProto  name 1, f 2, s 4, type 20 (FLOAT = 1, STRING = 3)
//   TensorProto     dims 1, data_type 2 (FLOAT = 1, BOOL = 9), name 8, raw_data 9
//   ValueInfoProto  name 1, type 2;  TypeProto tensor_type 1;  Tensor elem_type 1, shape 2
//   TensorShape     dim 1;  Dimension dim_param 2

import type { BenchFunction } from "../functions.js";
import { Unsupported } from "../impl.js";

const IR_VERSION = 8;
/**
 * Clip takes min and max as inputs from opset 11; 13 is what every ORT release supports. A graph
 * of a newer operator says its own (Gelu 20, Swish 24, ...).
 */
export const OPSET = 13;
const FLOAT = 1;
const ATTRIBUTE_FLOAT = 1;
const ATTRIBUTE_STRING = 3;

type Bytes = readonly number[];

function varint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

const key = (field: number, wire: number) => varint(field * 8 + wire);
const int = (field: number, value: number): number[] => [...key(field, 0), ...varint(value)];
const bytes = (field: number, data: Bytes): number[] => [
  ...key(field, 2),
  ...varint(data.length),
  ...data,
];
const text = (field: number, value: string) => bytes(field, [...new TextEncoder().encode(value)]);
const float32Bytes = (value: number) => [...new Uint8Array(new Float32Array([value]).buffer)];
const fixed32 = (field: number, value: number) => [...key(field, 5), ...float32Bytes(value)];

interface Node {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly output: string;
  readonly attrs?: Attrs;
}

/** Float (stored as float32) and string attributes. */
type Attrs = Readonly<Record<string, number | string>>;

/** A graph of float32 vectors [N]: named inputs, one output, scalar float constants. */
export interface Graph {
  readonly inputs: readonly string[];
  readonly output: string;
  readonly constants: Readonly<Record<string, number>>;
  readonly nodes: readonly Node[];
  /** The default domain's opset; OPSET when absent. */
  readonly opset?: number;
}

function valueInfo(name: string): number[] {
  const dim = bytes(1, text(2, "N"));
  const tensorType = [...int(1, FLOAT), ...bytes(2, dim)];
  return [...text(1, name), ...bytes(2, bytes(1, tensorType))];
}

function node(n: Node, index: number): number[] {
  const out = [...n.inputs.flatMap((i) => text(1, i)), ...text(2, n.output)];
  out.push(...text(3, `${n.op.toLowerCase()}${index}`), ...text(4, n.op));
  for (const [name, value] of Object.entries(n.attrs ?? {})) {
    const [field, type] =
      typeof value === "string"
        ? [text(4, value), ATTRIBUTE_STRING]
        : [fixed32(2, value), ATTRIBUTE_FLOAT];
    out.push(...bytes(5, [...text(1, name), ...field, ...int(20, type)]));
  }
  return out;
}

/** A scalar float32 initializer (no dims: rank 0, broadcast by the elementwise ops). */
function scalar(name: string, value: number): number[] {
  return [...int(2, FLOAT), ...text(8, name), ...bytes(9, float32Bytes(value))];
}

/** The serialized ModelProto of `graph`, for `InferenceSession.create(bytes)`. */
export function encodeModel(graph: Graph, name: string): Uint8Array {
  const g: number[] = [];
  graph.nodes.forEach((n, i) => g.push(...bytes(1, node(n, i))));
  g.push(...text(2, name));
  for (const [c, v] of Object.entries(graph.constants)) g.push(...bytes(5, scalar(c, v)));
  for (const input of graph.inputs) g.push(...bytes(11, valueInfo(input)));
  g.push(...bytes(12, valueInfo(graph.output)));
  const model = [
    ...int(1, IR_VERSION),
    ...text(2, "puzzlelib-ts bench"),
    ...bytes(7, g),
    ...bytes(8, [...text(1, ""), ...int(2, graph.opset ?? OPSET)]),
  ];
  return new Uint8Array(model);
}

/** A graph of one operator, y = op(x), with its attributes and the opset it needs. */
function unary(op: string, attrs?: Attrs, opset?: number): Graph {
  return {
    inputs: ["x"],
    output: "y",
    constants: {},
    nodes: [{ op, inputs: ["x"], output: "y", ...(attrs ? { attrs } : {}) }],
    ...(opset === undefined ? {} : { opset }),
  };
}

/** Clip to [lo, hi]: min and max are inputs (opset 11 on). */
function clipTo(lo: number, hi: number): Graph {
  return {
    inputs: ["x"],
    output: "y",
    constants: { lo, hi },
    nodes: [{ op: "Clip", inputs: ["x", "lo", "hi"], output: "y" }],
  };
}

const swish = ([beta]: readonly number[]) => unary("Swish", { alpha: beta! }, 24);

/**
 * The forward graph y = f(x) of each function ONNX has an operator for, from puzzlelib's args
 * (float attributes are float32, as ONNX holds them). ThresholdedRelu is threshold with value 0.
 */
const FORWARD: Partial<Record<BenchFunction, (args: readonly number[]) => Graph>> = {
  sigmoid: () => unary("Sigmoid"),
  tanh: () => unary("Tanh"),
  relu: () => unary("Relu"),
  leakyRelu: ([alpha]) => unary("LeakyRelu", { alpha: alpha! }),
  elu: ([alpha]) => unary("Elu", { alpha: alpha! }),
  softPlus: ([beta, threshold]) => {
    if (beta !== 1 || threshold! < 3.4e38) throw new Unsupported("ONNX Softplus has no beta");
    return unary("Softplus");
  },
  clip: ([lo, hi]) => clipTo(lo!, hi!),
  hardTanh: ([lo, hi]) => clipTo(lo!, hi!),
  relu6: () => clipTo(0, 6),
  selu: () => unary("Selu"),
  celu: ([alpha]) => unary("Celu", { alpha: alpha! }, 12),
  softSign: () => unary("Softsign"),
  hardSigmoid: ([alpha, beta]) => unary("HardSigmoid", { alpha: alpha!, beta: beta! }),
  softShrink: ([lambda]) => unary("Shrink", { lambd: lambda!, bias: lambda! }, 9),
  hardShrink: ([lambda]) => unary("Shrink", { lambd: lambda!, bias: 0 }, 9),
  threshold: ([t, value]) => {
    if (value !== 0) throw new Unsupported("ONNX ThresholdedRelu gives 0 below its alpha");
    return unary("ThresholdedRelu", { alpha: t! }, 10);
  },
  hardSwish: () => unary("HardSwish", undefined, 14),
  silu: swish,
  swish,
  gelu: () => unary("Gelu", { approximate: "none" }, 20),
  geluTanh: () => unary("Gelu", { approximate: "tanh" }, 20),
  mish: () => unary("Mish", undefined, 18),
};

/** The forward graph of `fn` at `args`; Unsupported where ONNX has no operator for it. */
export function forwardGraph(fn: BenchFunction, args: readonly number[]): Graph {
  const graph = FORWARD[fn];
  if (graph === undefined) throw new Unsupported(`ONNX has no ${fn} operator`);
  return graph(args);
}

/** What a backward graph reads besides the incoming gradient g. */
export type Saved = "x" | "y";

/**
 * The backward graph dx = f'(...) * g from standard operators: ONNX has no gradient operators for
 * these outside training builds, so this is what an ONNX Runtime user would export. Each node is a
 * pass over memory. softPlus is written from x (g * sigmoid(x), as tfjs does): from y it would be
 * g * (1 - exp(-y)), which loses float32 precision for small y.
 */
export function backwardGraph(
  fn: BenchFunction,
  args: readonly number[],
): { graph: Graph; saved: Saved } {
  const y = (nodes: Node[], constants: Record<string, number> = {}) => ({
    graph: { inputs: ["g", "y"], output: "dx", constants, nodes },
    saved: "y" as const,
  });
  switch (fn) {
    case "sigmoid": // g * y * (1 - y)
      return y(
        [
          { op: "Sub", inputs: ["one", "y"], output: "t" },
          { op: "Mul", inputs: ["y", "t"], output: "d" },
          { op: "Mul", inputs: ["g", "d"], output: "dx" },
        ],
        { one: 1 },
      );
    case "tanh": // g * (1 - y) * (1 + y): 1 - y * y would cancel where tanh' is small
      return y(
        [
          { op: "Sub", inputs: ["one", "y"], output: "a" },
          { op: "Add", inputs: ["one", "y"], output: "b" },
          { op: "Mul", inputs: ["a", "b"], output: "d" },
          { op: "Mul", inputs: ["g", "d"], output: "dx" },
        ],
        { one: 1 },
      );
    case "relu": // y > 0 ? g : 0
      return y(
        [
          { op: "Greater", inputs: ["y", "zero"], output: "m" },
          { op: "Where", inputs: ["m", "g", "zero"], output: "dx" },
        ],
        { zero: 0 },
      );
    case "leakyRelu": // y > 0 ? g : alpha * g
      return y(
        [
          { op: "Greater", inputs: ["y", "zero"], output: "m" },
          { op: "Mul", inputs: ["g", "alpha"], output: "s" },
          { op: "Where", inputs: ["m", "g", "s"], output: "dx" },
        ],
        { zero: 0, alpha: args[0]! },
      );
    case "elu": // y > 0 ? g : g * (y + alpha)
      return y(
        [
          { op: "Greater", inputs: ["y", "zero"], output: "m" },
          { op: "Add", inputs: ["y", "alpha"], output: "d" },
          { op: "Mul", inputs: ["g", "d"], output: "s" },
          { op: "Where", inputs: ["m", "g", "s"], output: "dx" },
        ],
        { zero: 0, alpha: args[0]! },
      );
    case "softPlus": // g * sigmoid(x)
      return {
        graph: {
          inputs: ["g", "x"],
          output: "dx",
          constants: {},
          nodes: [
            { op: "Sigmoid", inputs: ["x"], output: "d" },
            { op: "Mul", inputs: ["g", "d"], output: "dx" },
          ],
        },
        saved: "x",
      };
    case "clip": // lo < y < hi ? g : 0
      return y(
        [
          { op: "Greater", inputs: ["y", "lo"], output: "a" },
          { op: "Less", inputs: ["y", "hi"], output: "b" },
          { op: "And", inputs: ["a", "b"], output: "m" },
          { op: "Where", inputs: ["m", "g", "zero"], output: "dx" },
        ],
        { zero: 0, lo: args[0]!, hi: args[1]! },
      );
    default:
      throw new Unsupported("ORT backward is written for PuzzleLib's seven functions only");
  }
}

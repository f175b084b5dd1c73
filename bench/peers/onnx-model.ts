// Tiny ONNX models written as protobuf bytes, so that the benchmark needs no ONNX tooling: one
// graph per activation and direction, float32 tensors of one dynamic dimension "N".
//
// Only the fields used here are encoded (field numbers from onnx/onnx.proto):
//   ModelProto      ir_version 1, producer_name 2, graph 7, opset_import 8
//   OperatorSetId   domain 1, version 2
//   GraphProto      node 1, name 2, initializer 5, input 11, output 12
//   NodeProto       input 1, output 2, name 3, op_type 4, attribute 5
//   AttributeProto  name 1, f 2, type 20 (FLOAT = 1)
//   TensorProto     dims 1, data_type 2 (FLOAT = 1, BOOL = 9), name 8, raw_data 9
//   ValueInfoProto  name 1, type 2;  TypeProto tensor_type 1;  Tensor elem_type 1, shape 2
//   TensorShape     dim 1;  Dimension dim_param 2

import type { BenchFunction } from "../functions.js";

const IR_VERSION = 8;
/** Clip takes min and max as inputs from opset 11; 13 is what every ORT release supports. */
export const OPSET = 13;
const FLOAT = 1;
const ATTRIBUTE_FLOAT = 1;

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
  readonly floats?: Readonly<Record<string, number>>;
}

/** A graph of float32 vectors [N]: named inputs, one output, scalar float constants. */
export interface Graph {
  readonly inputs: readonly string[];
  readonly output: string;
  readonly constants: Readonly<Record<string, number>>;
  readonly nodes: readonly Node[];
}

function valueInfo(name: string): number[] {
  const dim = bytes(1, text(2, "N"));
  const tensorType = [...int(1, FLOAT), ...bytes(2, dim)];
  return [...text(1, name), ...bytes(2, bytes(1, tensorType))];
}

function node(n: Node, index: number): number[] {
  const out = [...n.inputs.flatMap((i) => text(1, i)), ...text(2, n.output)];
  out.push(...text(3, `${n.op.toLowerCase()}${index}`), ...text(4, n.op));
  for (const [name, value] of Object.entries(n.floats ?? {})) {
    out.push(...bytes(5, [...text(1, name), ...fixed32(2, value), ...int(20, ATTRIBUTE_FLOAT)]));
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
    ...bytes(8, [...text(1, ""), ...int(2, OPSET)]),
  ];
  return new Uint8Array(model);
}

/**
 * The forward graph y = f(x), one standard operator each. `args` as puzzlelib's (leakyRelu alpha,
 * elu alpha, clip min and max).
 */
export function forwardGraph(fn: BenchFunction, args: readonly number[]): Graph {
  const unary = (op: string, floats?: Record<string, number>): Graph => ({
    inputs: ["x"],
    output: "y",
    constants: {},
    nodes: [{ op, inputs: ["x"], output: "y", ...(floats ? { floats } : {}) }],
  });
  switch (fn) {
    case "sigmoid":
      return unary("Sigmoid");
    case "tanh":
      return unary("Tanh");
    case "relu":
      return unary("Relu");
    case "leakyRelu":
      return unary("LeakyRelu", { alpha: args[0]! });
    case "elu":
      return unary("Elu", { alpha: args[0]! });
    case "softPlus":
      return unary("Softplus");
    case "clip":
      return {
        inputs: ["x"],
        output: "y",
        constants: { lo: args[0]!, hi: args[1]! },
        nodes: [{ op: "Clip", inputs: ["x", "lo", "hi"], output: "y" }],
      };
  }
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
  }
}

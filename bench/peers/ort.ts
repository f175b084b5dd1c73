// onnxruntime-node 1.30 on its CPU execution provider, with 1 or 2 intra-op threads: one tiny
// ONNX model per function and direction (onnx-model.ts), run as a user runs a model: a new
// ort.Tensor over the preallocated input each call, then `await session.run(feeds)`, whose
// outputs come back as fresh JavaScript arrays.
//
// The module is loaded by load.ts from bench/peers/node_modules; the types below are the few
// parts of its API used here, so that the root type-check passes without the peers installed.

import type { BenchFunction } from "../functions.js";
import { deviation, type Case, type CaseData, type Direction, type Impl } from "../impl.js";
import { backwardGraph, encodeModel, forwardGraph, OPSET } from "./onnx-model.js";

export interface OrtTensor {
  readonly data: unknown;
}

export interface OrtSession {
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}

export interface Ort {
  readonly env: { readonly versions?: Readonly<Record<string, string>> };
  readonly InferenceSession: {
    create(model: Uint8Array, options: Record<string, unknown>): Promise<OrtSession>;
  };
  readonly Tensor: new (type: "float32", data: Float32Array, dims: readonly number[]) => OrtTensor;
}

export const ORT_NOTES = [
  `ort: one model per function and direction (opset ${OPSET}; Celu 12, HardSwish 14, Mish 18, ` +
    "Gelu 20, Swish 24; built in bench/peers/onnx-model.ts), dynamic length N; forward is one " +
    "operator (threshold: ThresholdedRelu, the shrinks: Shrink, relu6 and hardTanh: Clip); " +
    "sessions: CPU execution provider, sequential, inter-op 1 thread, all graph optimizations; " +
    "timed: new ort.Tensor over the input + await session.run (outputs are new JavaScript arrays)",
  "ort: ONNX has no gradient operators for these outside training builds; backward, for " +
    "PuzzleLib's seven only, is the derivative as a graph of standard operators (Mul, Sub, " +
    "Greater, Where, ...), one pass per node; softPlus backward is g * Sigmoid(x), from x",
];

/**
 * ORT's float32 kernels trade accuracy for speed where the contract (1e-5 relative) is stricter,
 * or cancel where the formula does: the largest absolute error past 1e-5 relative, measured over
 * 2^22 points of [-6, 6). Each is checked at the looser bound given, and noted.
 */
const SIGMOID_DEVIATION = deviation(
  "ORT Sigmoid is MLAS's approximation: absolute error up to 1.4e-7",
  -22,
);
/** Elu, Celu and Selu compute exp(x) - 1, which cancels near 0. */
const expm1Deviation = (op: string, error: string, log2: number) =>
  deviation(`ORT ${op} computes exp(x) - 1: absolute error up to ${error} near 0`, log2);
const SWISH_DEVIATION = deviation(
  "ORT Swish is x times MLAS's approximate sigmoid: absolute error up to 4.6e-7",
  -20,
);
const DEVIATIONS: Partial<Record<`${BenchFunction}/${Direction}`, ReturnType<typeof deviation>>> = {
  "sigmoid/forward": SIGMOID_DEVIATION,
  "softPlus/backward": SIGMOID_DEVIATION,
  "elu/forward": expm1Deviation("Elu", "6.7e-8", -23),
  "celu/forward": expm1Deviation("Celu", "5.5e-8", -23),
  "selu/forward": expm1Deviation("Selu", "9.7e-8", -22),
  "hardSigmoid/forward": deviation(
    "ORT HardSigmoid's alpha x + beta cancels near x = -3: absolute error up to 2.0e-8",
    -24,
  ),
  "hardSwish/forward": deviation(
    "ORT HardSwish's x (alpha x + beta) cancels near x = -3: absolute error up to 6.0e-8",
    -23,
  ),
  "silu/forward": SWISH_DEVIATION,
  "swish/forward": SWISH_DEVIATION,
  "gelu/forward": deviation(
    "ORT Gelu is 0.5 x (1 + erf(x / sqrt 2)), which cancels for x << 0 (0 below -5.5): " +
      "absolute error up to 8.3e-8",
    -22,
  ),
  "geluTanh/forward": deviation(
    "ORT Gelu (tanh) is 0.5 x (1 + tanh(u)), which cancels for x << 0 (the wrong sign below " +
      "-5): absolute error up to 7.9e-7",
    -19,
  ),
};

/**
 * Where an ONNX operator's definition differs from ours: its float attributes are float32, so
 * constants that we carry exactly (1/6, SELU's) are rounded.
 */
const DEFINITIONS: Partial<Record<BenchFunction, string>> = {
  hardSigmoid: "alpha is float32 1/6",
  hardSwish: "alpha is float32 1/6",
  selu: "alpha, gamma are float32",
};

export class OrtImpl implements Impl {
  readonly kind = "peer" as const;
  readonly id: string;
  readonly description: string;
  private readonly sessions = new Map<string, OrtSession>();

  constructor(
    private readonly ort: Ort,
    private readonly threads: number,
  ) {
    this.id = `ort-${threads}t`;
    const version = ort.env.versions?.["node"] ?? "?";
    this.description = `onnxruntime-node ${version}, CPU EP, intraOpNumThreads ${threads}`;
  }

  private async session(fn: BenchFunction, direction: Direction, args: readonly number[]) {
    const key = `${fn}/${direction}/${args.join(",")}`;
    let session = this.sessions.get(key);
    if (session === undefined) {
      const graph =
        direction === "forward" ? forwardGraph(fn, args) : backwardGraph(fn, args).graph;
      session = await this.ort.InferenceSession.create(encodeModel(graph, `${fn}_${direction}`), {
        executionProviders: ["cpu"],
        intraOpNumThreads: this.threads,
        interOpNumThreads: 1,
        executionMode: "sequential",
        graphOptimizationLevel: "all",
        logSeverityLevel: 3,
      });
      this.sessions.set(key, session);
    }
    return session;
  }

  async prepare(fn: BenchFunction, direction: Direction, data: CaseData): Promise<Case> {
    const { ort } = this;
    const session = await this.session(fn, direction, data.args);
    const dims = [data.size];
    const deviation = DEVIATIONS[`${fn}/${direction}`] ?? {};
    const definition = DEFINITIONS[fn];
    const notes = definition === undefined ? {} : { notes: [definition] };
    let last: Record<string, OrtTensor> | null = null;
    const read = async () =>
      (direction === "forward" ? last!["y"] : last!["dx"])!.data as Float32Array;
    if (direction === "forward") {
      const x = data.x;
      return {
        call: async () => {
          last = await session.run({ x: new ort.Tensor("float32", x, dims) });
        },
        read,
        ...deviation,
        ...notes,
        dispose: () => void (last = null),
      };
    }
    const { saved } = backwardGraph(fn, data.args);
    const g = data.g;
    const s = saved === "x" ? data.x : data.y;
    return {
      call: async () => {
        last = await session.run({
          g: new ort.Tensor("float32", g, dims),
          [saved]: new ort.Tensor("float32", s, dims),
        });
      },
      read,
      saved,
      ...deviation,
      dispose: () => void (last = null),
    };
  }

  async close(): Promise<void> {
    for (const session of this.sessions.values()) await session.release();
    this.sessions.clear();
  }
}

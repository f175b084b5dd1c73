// TensorFlow.js 4.22 on its cpu backend (JavaScript) and its wasm backend (XNNPACK, SIMD, one
// thread in Node), as a tfjs user calls them: forward tf.sigmoid(x) and friends; backward the
// gradient function tfjs registers for the op (tf.getGradient(kernel).gradFunc), which is what
// tf.grad and every optimizer run for that op on the backward pass, without the forward.
//
// The module is loaded by load.ts from bench/peers/node_modules; the types below are the few
// parts of its API used here, so that the root type-check passes without the peers installed.

import type { BenchFunction } from "../functions.js";
import {
  deviation,
  Unsupported,
  type Case,
  type CaseData,
  type Direction,
  type Impl,
} from "../impl.js";

export interface TfTensor {
  dataSync(): ArrayLike<number>;
  /** Resolves once the tensor's backend has finished it (the GPU backends read it back). */
  data(): Promise<ArrayLike<number>>;
  dispose(): void;
}

interface GradConfig {
  readonly inputsToSave?: readonly string[];
  readonly outputsToSave?: readonly boolean[];
  gradFunc(
    dy: TfTensor,
    saved: TfTensor[],
    attrs: Record<string, unknown>,
  ): Record<string, () => TfTensor>;
}

export interface Tf {
  readonly version: { readonly tfjs: string };
  setBackend(name: string): Promise<boolean>;
  getBackend(): string;
  enableProdMode(): void;
  tensor1d(values: Float32Array, dtype: "float32"): TfTensor;
  tidy<T extends TfTensor>(fn: () => T): T;
  sigmoid(x: TfTensor): TfTensor;
  tanh(x: TfTensor): TfTensor;
  relu(x: TfTensor): TfTensor;
  leakyRelu(x: TfTensor, alpha: number): TfTensor;
  elu(x: TfTensor): TfTensor;
  selu(x: TfTensor): TfTensor;
  relu6(x: TfTensor): TfTensor;
  logSigmoid(x: TfTensor): TfTensor;
  softplus(x: TfTensor): TfTensor;
  clipByValue(x: TfTensor, lo: number, hi: number): TfTensor;
  getGradient(kernelName: string): GradConfig | undefined;
  memory(): { numTensors: number };
}

export interface Op {
  /** The kernel whose registered gradient backward runs; none for a composite op. */
  kernel?: string;
  call: (tf: Tf, x: TfTensor, a: readonly number[]) => TfTensor;
  /** The attributes its gradient reads; none where absent. */
  attrs?: (a: readonly number[]) => Record<string, unknown>;
  /** Where tfjs's gradient differs from ours, if anywhere. */
  gradNote?: string;
  /** A documented numerical deviation, checked at the looser bound it states. */
  deviations?: Partial<Record<Direction, ReturnType<typeof deviation>>>;
}

/** clip and hardTanh; the gradient passes dy where x >= min and x <= max. */
const clipByValue: Op = {
  kernel: "ClipByValue",
  call: (tf, x, [lo, hi]) => tf.clipByValue(x, lo!, hi!),
  attrs: ([lo, hi]) => ({ clipValueMin: lo, clipValueMax: hi }),
  gradNote: "gradient dy at x = min and x = max (ours 0)",
};

/** The kernel each function runs, its tfjs call and the attributes its gradient reads. */
const TFJS_OPS: Partial<Record<BenchFunction, Op>> = {
  sigmoid: { kernel: "Sigmoid", call: (tf, x) => tf.sigmoid(x) },
  tanh: {
    kernel: "Tanh",
    call: (tf, x) => tf.tanh(x),
    // Where tanh' is small (|x| near 6 here), 1 - y^2 loses the relative accuracy asked.
    deviations: {
      backward: deviation(
        "tfjs's tanh gradient is dy * (1 - y^2), y^2 rounded to float32: absolute error up to 2^-24 |dy|",
        -23,
      ),
    },
  },
  relu: { kernel: "Relu", call: (tf, x) => tf.relu(x) },
  leakyRelu: {
    kernel: "LeakyRelu",
    call: (tf, x, [alpha]) => tf.leakyRelu(x, alpha!),
    attrs: ([alpha]) => ({ alpha }),
  },
  elu: { kernel: "Elu", call: (tf, x) => tf.elu(x) },
  softPlus: { kernel: "Softplus", call: (tf, x) => tf.softplus(x) },
  clip: clipByValue,
  hardTanh: clipByValue,
  selu: {
    kernel: "Selu",
    call: (tf, x) => tf.selu(x),
    // Measured over 2^22 points of [-6, 6); tfjs-cpu computes in float64 and meets 1e-5.
    deviations: {
      forward: deviation(
        "tfjs-wasm's Selu computes exp(x) - 1 in float32: absolute error up to 5.1e-8 near 0",
        -23,
      ),
    },
  },
  relu6: {
    kernel: "Relu6",
    call: (tf, x) => tf.relu6(x),
    gradNote: "gradient dy at x = 6 (ours 0)",
  },
  // -softplus(-x) with a custom gradient: no kernel gradient to run without the forward.
  logSigmoid: { call: (tf, x) => tf.logSigmoid(x) },
};

/** The op that computes fn at args; throws Unsupported where tfjs-core has none. */
export function tfjsOp(fn: BenchFunction, args: readonly number[]): Op {
  const op = TFJS_OPS[fn];
  if (op === undefined) throw new Unsupported(`tfjs-core has no ${fn}`);
  if (fn === "elu" && Math.fround(args[0]!) !== 1) {
    throw new Unsupported("tf.elu has alpha 1 only");
  }
  return op;
}

/** Notes that hold for every size, printed once under the table. */
export const TFJS_NOTES = [
  "tfjs: tf.elu has no alpha (always 1); the bench's elu uses alpha 1, so it compares like for like",
  "tfjs: backward = the op's registered gradient (getGradient(kernel).gradFunc) inside tf.tidy: " +
    "what tf.grad and optimizers run on the backward pass; most recompute from x (from x in " +
    "the table), sigmoid, tanh and elu read y; tf.logSigmoid is a composite with a custom " +
    "gradient and has no backward row",
  "tfjs: tfjs-core's functions only; tfjs-layers' activations gelu, mish, swish, softsign and " +
    "hardSigmoid (0.2 x + 0.5) are composites of core ops, not measured",
  "tfjs: production mode (tf.enableProdMode()); tfjs-wasm runs on one thread in Node",
];

export class TfjsImpl implements Impl {
  readonly kind = "peer" as const;
  readonly id: string;
  readonly description: string;
  private x: TfTensor | null = null;
  private g: TfTensor | null = null;

  constructor(
    private readonly tf: Tf,
    private readonly backend: "cpu" | "wasm",
  ) {
    this.id = `tfjs-${backend}`;
    this.description =
      backend === "cpu"
        ? `@tensorflow/tfjs ${tf.version.tfjs}, backend "cpu" (JavaScript)`
        : `@tensorflow/tfjs-backend-wasm ${tf.version.tfjs}, backend "wasm" (XNNPACK, SIMD, 1 thread)`;
  }

  /** Loads and starts the backend once; throws with tfjs's reason when it cannot. */
  async start(): Promise<void> {
    if (!(await this.tf.setBackend(this.backend))) {
      throw new Error(`tf.setBackend("${this.backend}") failed (see tfjs's warning above)`);
    }
  }

  async begin(data: { x: Float32Array; g: Float32Array }): Promise<void> {
    await this.start();
    this.x = this.tf.tensor1d(data.x, "float32");
    this.g = this.tf.tensor1d(data.g, "float32");
  }

  async end(): Promise<void> {
    this.x?.dispose();
    this.g?.dispose();
    this.x = this.g = null;
  }

  async prepare(fn: BenchFunction, direction: Direction, data: CaseData): Promise<Case> {
    const tf = this.tf;
    const op = tfjsOp(fn, data.args);
    // The backend is global in tfjs; another implementation may have switched it.
    if (tf.getBackend() !== this.backend) await this.start();
    const x = this.x!;
    let last: TfTensor | null = null;
    const keep = (out: TfTensor) => {
      last?.dispose();
      last = out;
    };
    const base = {
      // tfjs's cpu and wasm kernels finish before the op returns.
      read: async () => last!.dataSync(),
      dispose: () => {
        last?.dispose();
        last = null;
      },
    };
    if (direction === "forward") {
      return {
        ...base,
        ...op.deviations?.forward,
        call: () => keep(op.call(tf, x, data.args)),
      };
    }
    if (op.kernel === undefined) {
      throw new Unsupported(`tf.${fn} is a composite with a custom gradient, not a kernel's`);
    }
    const grad = tf.getGradient(op.kernel);
    if (grad === undefined) throw new Unsupported(`no gradient registered for ${op.kernel}`);
    const fromX = (grad.inputsToSave?.length ?? 0) > 0;
    const saved = fromX ? x : tf.tensor1d(data.y, "float32");
    const attrs = op.attrs?.(data.args) ?? {};
    const dy = this.g!;
    return {
      ...base,
      call: () => keep(tf.tidy(() => grad.gradFunc(dy, [saved], attrs).x!())),
      saved: fromX ? "x" : "y",
      ...(op.gradNote === undefined ? {} : { notes: [op.gradNote] }),
      ...op.deviations?.backward,
      dispose: () => {
        base.dispose();
        if (!fromX) saved.dispose();
      },
    };
  }
}

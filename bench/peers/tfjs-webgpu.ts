// TensorFlow.js 4.22's WebGPU backend (@tensorflow/tfjs-backend-webgpu) on the adapter that
// puzzlelib-ts's webgpu backend runs on, so that the self suite of `npm run bench -- --backend
// webgpu` can time both side by side in one process: forward only, tf.sigmoid(x) and friends, as
// a tfjs user calls them. In Node, tfjs finds WebGPU through navigator.gpu, which Node lacks: it
// is given the GPU object (Dawn's) that puzzlelib-ts's backend was created from, so both request
// their adapter from the same Dawn instance and the same Vulkan driver. In a browser the page's
// own navigator.gpu is used.

import type { BenchFunction } from "../functions.js";
import { Unsupported } from "../impl.js";
import { tfjsOp, type Tf, type TfTensor } from "./tfjs.js";

/** One peer's forward of one function on the current tensor, as the self suite times it. */
export interface GpuPeerCase {
  /** Queues one call; must not wait for the device. */
  readonly call: () => void;
  /** Resolves once every queued call has finished on the device. */
  readonly sync: () => Promise<void>;
  /** The last call's output, read back (outside the clock). */
  readonly read: () => Promise<ArrayLike<number>>;
  readonly dispose: () => void;
}

/** A WebGPU library measured beside puzzlelib-ts on the same adapter. */
export interface GpuPeer {
  readonly id: string;
  readonly description: string;
  /** Uploads the input of one size; the cases until end() read it. */
  begin(x: Float32Array): void;
  /** Throws Unsupported for a function the peer does not have. */
  prepare(fn: BenchFunction, args: readonly number[]): GpuPeerCase;
  end(): void;
}

interface TfWebgpu extends Tf {
  slice(x: TfTensor, begin: number[], size: number[]): TfTensor;
  backend(): { adapterInfo?: { vendor?: string; architecture?: string } };
}

export const TFJS_WEBGPU_NOTES = [
  "tfjs-webgpu: @tensorflow/tfjs-backend-webgpu, production mode; in Node it is handed the GPU " +
    "object puzzlelib-ts's backend came from (same Dawn; the adapter it got is below); a repetition = K calls " +
    "then a 1-element tf.slice read back, as ours ends with a 1-element readback",
];

/**
 * Gives Node a navigator.gpu (the one puzzlelib-ts uses) where there is none. Call it before the
 * package is imported: it registers its backend only where navigator.gpu exists then.
 */
export function provideNavigatorGpu(gpu: unknown): void {
  const scope = globalThis as { navigator?: { gpu?: unknown } };
  if (scope.navigator?.gpu !== undefined) return;
  if (scope.navigator === undefined) {
    Object.defineProperty(globalThis, "navigator", { value: { gpu }, configurable: true });
  } else {
    Object.defineProperty(scope.navigator, "gpu", { value: gpu, configurable: true });
  }
}

export class TfjsWebgpu implements GpuPeer {
  readonly id = "tfjs-webgpu";
  readonly description: string;
  private x: TfTensor | null = null;

  private constructor(
    private readonly tf: TfWebgpu,
    version: string,
  ) {
    const info = tf.backend().adapterInfo;
    const adapter = [info?.vendor, info?.architecture].filter(Boolean).join(" ");
    this.description = `@tensorflow/tfjs-backend-webgpu ${version}, backend "webgpu"${
      adapter === "" ? "" : ` (adapter ${adapter})`
    }`;
  }

  /** Starts tfjs's webgpu backend, which importing the package registered. */
  static async start(tf: Tf, version: string): Promise<TfjsWebgpu> {
    if (!(await tf.setBackend("webgpu"))) {
      throw new Error('tf.setBackend("webgpu") failed (see tfjs\'s warning above)');
    }
    return new TfjsWebgpu(tf as TfWebgpu, version);
  }

  begin(x: Float32Array): void {
    this.end();
    this.x = this.tf.tensor1d(x, "float32");
  }

  end(): void {
    this.x?.dispose();
    this.x = null;
  }

  prepare(fn: BenchFunction, args: readonly number[]): GpuPeerCase {
    const tf = this.tf;
    const op = tfjsOp(fn, args);
    if (this.x === null) throw new Unsupported("no input: begin() was not called");
    const x = this.x;
    let last: TfTensor | null = null;
    return {
      call: () => {
        const out = op.call(tf, x, args);
        last?.dispose();
        last = out;
      },
      sync: async () => {
        const one = tf.slice(last!, [0], [1]);
        await one.data();
        one.dispose();
      },
      read: () => last!.data(),
      dispose: () => {
        last?.dispose();
        last = null;
      },
    };
  }
}

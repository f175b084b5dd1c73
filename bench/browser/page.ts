// The page side of bench/browser/main.ts: bundled by esbuild (platform browser) with the library,
// the float64 references and the ONNX encoder, and run in headless Chromium. puzzlelib-ts's
// webgpu backend and onnxruntime-web's WebGPU execution provider (ort.webgpu.min.mjs, the native
// WebGPU EP: ort.min.mjs's JSEP runs Softplus on its CPU EP, silently) time the same forward on
// the same input, each on its own GPUDevice of the browser's adapter, and both are checked in the
// page against the float64 reference (bench/reference.ts).

import { Activation, gpuarray, NDArray, setBackend, type GPUArray } from "../../src/index.js";
import { BENCH_FUNCTIONS, type BenchFunction } from "../functions.js";
import { encodeModel, forwardGraph } from "../peers/onnx-model.js";
import { checkForward, DEFAULT_ARGS, uniformData, WrongResultError } from "../reference.js";
import { timeCalls, timeRuns, type TimingOptions } from "../timing.js";
import type { BenchApi, PageInfo, RowResult, SideResult, TimingJob } from "./protocol.js";

// The few parts of onnxruntime-web's API used here (the package is bench/peers's, not typed here).
interface OrtTensor {
  readonly location: string;
  getData(releaseData?: boolean): Promise<unknown>;
  dispose(): void;
}
interface OrtSession {
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}
interface OrtWeb {
  readonly env: {
    readonly versions?: Readonly<Record<string, string>>;
    logLevel?: string;
    readonly wasm: { wasmPaths?: string; numThreads?: number };
    readonly webgpu: { readonly device?: GPUDevice | Promise<GPUDevice> };
  };
  readonly InferenceSession: {
    create(model: Uint8Array, options: Record<string, unknown>): Promise<OrtSession>;
  };
  readonly Tensor: {
    fromGpuBuffer(
      buffer: GPUBuffer,
      options: { dataType: "float32"; dims: readonly number[] },
    ): OrtTensor;
  };
}

const ORT_URL = new URL("/ort/ort.webgpu.min.mjs", location.origin).href;
const ort = (await import(/* @vite-ignore */ ORT_URL)) as OrtWeb;
ort.env.wasm.wasmPaths = new URL("/ort/", location.origin).href;
ort.env.wasm.numThreads = 1;
ort.env.logLevel = "warning";

await setBackend("webgpu");

const message = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

function float32(array: NDArray): Float32Array {
  if (!(array.data instanceof Float32Array)) throw new Error("expected float32 data back");
  return array.data;
}

const graphOf = (fn: BenchFunction) => encodeModel(forwardGraph(fn, DEFAULT_ARGS[fn]), fn);

/**
 * A session kept open for the page's lifetime: ORT's WebGPU device lives as long as some session
 * does (with none left, the next session gets a new device, on which buffers made for the old one
 * are invalid), and the input buffer is made on it.
 */
let keeper: OrtSession | null = null;

async function ortDevice(): Promise<GPUDevice> {
  keeper ??= await ort.InferenceSession.create(graphOf("relu"), sessionOptions);
  const device = await ort.env.webgpu.device;
  if (device === undefined) throw new Error("onnxruntime-web has no WebGPU device");
  return device;
}

const sessionOptions = {
  executionProviders: ["webgpu"],
  preferredOutputLocation: "gpu-buffer",
  logSeverityLevel: 3,
};

interface SizeState {
  readonly log2: number;
  readonly size: number;
  readonly xHost: Float32Array;
  /** Ours: the input and the 1-element array whose readback is the sync. */
  readonly x: GPUArray;
  readonly sentinel: GPUArray;
  /** ORT: the input, a buffer on ORT's device. */
  readonly ortBuffer: GPUBuffer | null;
  readonly ortX: OrtTensor | null;
  readonly ortSetupError: string | null;
}

let state: SizeState | null = null;

function freeState(): void {
  if (state === null) return;
  state.x.dispose();
  state.sentinel.dispose();
  state.ortBuffer?.destroy();
  state = null;
}

/** A result of one side, its accuracy from a check that threw or passed. */
function side(timing: { k: number; medianMs: number; minMs: number }, accuracy: Accuracy) {
  const { k, medianMs, minMs } = timing;
  return { k, medianMs, minMs, ...accuracy } satisfies SideResult;
}

type Accuracy = Pick<SideResult, "worstUlp" | "status" | "message">;

async function runOurs(fn: BenchFunction, s: SizeState, options: TimingOptions) {
  const args = DEFAULT_ARGS[fn];
  const act = new Activation(fn, { args: [...args] });
  let y: GPUArray | null = null;
  let ulp = 0;
  const where = `2^${s.log2} elements`;
  try {
    const timing = await timeCalls(
      {
        call: () => {
          const out = act.forward(s.x);
          y?.dispose();
          y = out;
        },
        sync: async () => void (await s.sentinel.get()),
        verify: async () => {
          const got = float32(await y!.get());
          ulp = checkForward(fn, args, s.xHost, got, `puzzlelib-ts ${fn} forward, ${where}`);
        },
      },
      options,
    );
    return side(timing, { worstUlp: ulp, status: "ok" });
  } finally {
    (y as GPUArray | null)?.dispose();
  }
}

async function runOrt(fn: BenchFunction, s: SizeState, options: TimingOptions) {
  if (s.ortX === null) throw new Error(s.ortSetupError ?? "no ORT input");
  const args = DEFAULT_ARGS[fn];
  const session = await ort.InferenceSession.create(graphOf(fn), sessionOptions);
  const device = await ortDevice();
  const feeds = { x: s.ortX };
  let y: OrtTensor | null = null;
  let accuracy: Accuracy = { worstUlp: null, status: "ok" };
  const what = `ort-webgpu ${fn} forward, 2^${s.log2} elements`;
  try {
    const timing = await timeRuns(
      {
        // ORT's run is asynchronous: each is awaited (as a user must), its output kept on the GPU
        // ("gpu-buffer", allocated by ORT each run) and the previous one disposed.
        call: async () => {
          const out = (await session.run(feeds))["y"]!;
          y?.dispose();
          y = out;
        },
        sync: () => device.queue.onSubmittedWorkDone(),
        verify: async () => {
          const got = (await y!.getData()) as Float32Array;
          try {
            accuracy = {
              worstUlp: checkForward(fn, args, s.xHost, got, what),
              status: "ok",
            };
          } catch (error) {
            if (!(error instanceof WrongResultError)) throw error;
            const text = error.message.replace(/ Timings of wrong results .*$/, "");
            accuracy = {
              worstUlp: error.worstUlp ?? null,
              status: "outside contract",
              message: text,
            };
          }
        },
      },
      options,
    );
    return side(timing, accuracy);
  } finally {
    (y as OrtTensor | null)?.dispose();
    await session.release();
  }
}

const api: BenchApi = {
  async probe(): Promise<PageInfo> {
    const adapter = await navigator.gpu?.requestAdapter();
    const info = adapter?.info;
    return {
      userAgent: navigator.userAgent,
      ortVersions: { ...(ort.env.versions ?? {}) },
      adapter:
        info === undefined
          ? null
          : `${info.vendor} ${info.architecture}${info.isFallbackAdapter ? " (fallback adapter)" : ""}`,
    };
  },

  ortFunctions(): BenchFunction[] {
    return BENCH_FUNCTIONS.filter((fn) => {
      try {
        forwardGraph(fn, DEFAULT_ARGS[fn]);
        return true;
      } catch {
        return false;
      }
    });
  },

  async logPlacement(fn: BenchFunction): Promise<void> {
    await ortDevice();
    const session = await ort.InferenceSession.create(graphOf(fn), {
      ...sessionOptions,
      logSeverityLevel: 0,
      logVerbosityLevel: 0,
    });
    await session.release();
  },

  async prepareSize(log2: number): Promise<void> {
    freeState();
    const size = 2 ** log2;
    // The seed of bench/puzzlelib.ts's measureSize.
    const xHost = uniformData(size, -6, 6, 0x9e3779b9 ^ log2);
    const x = gpuarray.toGpu(new NDArray(xHost, [size], "float32"));
    const sentinel = gpuarray.zeros([1]);
    let ortBuffer: GPUBuffer | null = null;
    let ortX: OrtTensor | null = null;
    let ortSetupError: string | null = null;
    try {
      const device = await ortDevice();
      ortBuffer = device.createBuffer({
        size: size * 4,
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      });
      device.queue.writeBuffer(ortBuffer, 0, xHost as Float32Array<ArrayBuffer>);
      await device.queue.onSubmittedWorkDone();
      ortX = ort.Tensor.fromGpuBuffer(ortBuffer, { dataType: "float32", dims: [size] });
    } catch (error) {
      ortSetupError = `ORT input: ${message(error)}`;
    }
    state = { log2, size, xHost, x, sentinel, ortBuffer, ortX, ortSetupError };
  },

  async runRow(fn: BenchFunction, timing: TimingJob): Promise<RowResult> {
    const s = state;
    if (s === null) throw new Error("runRow before prepareSize");
    const options: TimingOptions = { ...timing, verifyEach: false };
    let ours: SideResult | null = null;
    let oursError: string | null = null;
    let oursWrong = false;
    try {
      ours = await runOurs(fn, s, options);
    } catch (error) {
      oursError = message(error);
      oursWrong = error instanceof WrongResultError;
    }
    let ort: SideResult | null = null;
    let ortError: string | null = null;
    try {
      ort = await runOrt(fn, s, options);
    } catch (error) {
      ortError = message(error);
    }
    const { log2, size } = s;
    return {
      function: fn,
      log2,
      size,
      args: DEFAULT_ARGS[fn],
      ours,
      oursError,
      oursWrong,
      ort,
      ortError,
    };
  },

  async release(): Promise<void> {
    freeState();
    await keeper?.release();
    keeper = null;
  },
};

(globalThis as unknown as { puzzlelibBench: BenchApi }).puzzlelibBench = api;

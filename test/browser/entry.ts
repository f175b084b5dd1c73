// The page side of test/browser.test.ts: bundled with the library by esbuild and loaded in
// headless Chromium. It runs the documented example and the activation cases on every backend
// that starts in this browser and hands raw results back; all judging happens in Node.

import {
  Activation,
  getBackend,
  gpuarray,
  np,
  setBackend,
  slice,
  type BackendName,
  type GPUArray,
} from "../../src/index.js";
import type {
  AdapterReport,
  BackendRun,
  BrowserApi,
  CaseJob,
  CaseResult,
  Job,
  SliceJob,
  SliceResult,
  TestDtype,
} from "./protocol.js";

// Every backend the library has: a backend added to BackendName fails to type-check here.
const ALL_BACKENDS: Record<BackendName, true> = { cpu: true, js: true, webgpu: true };

const message = (error: unknown): string =>
  error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);

/** A device array from bit patterns. */
function upload(dtype: TestDtype, bits: readonly number[]): GPUArray {
  const host =
    dtype === "float32"
      ? np.array(new Float32Array(new Uint32Array(bits).buffer), "float32")
      : np.array(new Uint16Array(bits), "float16");
  return gpuarray.toGpu(host);
}

/** The bit patterns of a device array. */
async function download(array: GPUArray): Promise<number[]> {
  const data = (await array.get()).data;
  if (data instanceof Float32Array) {
    return Array.from(new Uint32Array(data.buffer, data.byteOffset, data.length));
  }
  if (data instanceof Uint16Array) return Array.from(data);
  throw new Error(`unexpected host data ${Object.prototype.toString.call(data)}`);
}

async function runCase(job: CaseJob): Promise<CaseResult> {
  const act = new Activation(job.name, { args: [...job.args] });
  if (job.dtype === "float16") act.calcMode("float16");
  const x = upload(job.dtype, job.x);
  const y = act.forward(x);
  const g = upload(job.dtype, job.g);
  const dx = act.backward(g);
  if (dx === null) throw new Error(`${job.name}: backward returned null`);
  const result = { y: await download(y), dx: await download(dx) };
  for (const array of [x, y, g, dx]) array.dispose();
  return result;
}

async function runSliced(job: SliceJob): Promise<SliceResult> {
  const act = new Activation(job.name, {
    args: [...job.args],
    slc: slice(...job.slice),
    inplace: true,
  });
  const x = upload("float32", job.x);
  const y = act.forward(x);
  const g = upload("float32", job.g);
  const dx = act.backward(g);
  if (dx === null) throw new Error(`${job.name}: backward returned null`);
  const result = {
    forwardInPlace: y === x,
    backwardInPlace: dx === g && act.grad === g,
    y: await download(y),
    xAfter: await download(x),
    dx: await download(dx),
  };
  for (const array of new Set([x, y, g, dx])) array.dispose();
  return result;
}

async function runBackend(backend: BackendName, job: Job): Promise<BackendRun> {
  const started = performance.now();
  try {
    await setBackend(backend);
  } catch (error) {
    return {
      backend,
      startError: error instanceof Error ? error.message : String(error),
      ms: performance.now() - started,
      active: getBackend(),
      runError: null,
      example: null,
      cases: [],
      sliced: null,
    };
  }
  const active = getBackend();
  let example: BackendRun["example"] = null;
  const cases: (CaseResult | null)[] = [];
  let sliced: SliceResult | null = null;
  let runError: string | null = null;
  try {
    // The documented example, verbatim.
    np.random.seed(123);
    const [h, w] = [3, 3];
    const data = gpuarray.toGpu(np.random.randint(-10, 10, [h, w]).astype("float32"));
    const act = new Activation("relu");
    example = { data: String(await data.get()), relu: String(await act.forward(data).get()) };
    for (const c of job.cases) cases.push(c.backends.includes(backend) ? await runCase(c) : null);
    sliced = await runSliced(job.sliced);
  } catch (error) {
    runError = message(error);
  }
  const ms = performance.now() - started;
  return { backend, startError: null, ms, active, runError, example, cases, sliced };
}

async function probeAdapter(): Promise<AdapterReport> {
  const gpu = navigator.gpu as GPU | undefined;
  if (gpu === undefined) return { navigatorGpu: false, adapter: null, error: null };
  try {
    const adapter = await gpu.requestAdapter();
    if (adapter === null) {
      return { navigatorGpu: true, adapter: null, error: "requestAdapter() returned null" };
    }
    const { vendor, architecture, device, description } = adapter.info;
    return {
      navigatorGpu: true,
      adapter: { vendor, architecture, device, description, features: [...adapter.features] },
      error: null,
    };
  } catch (error) {
    return { navigatorGpu: true, adapter: null, error: message(error) };
  }
}

const api: BrowserApi = {
  async probe() {
    return {
      userAgent: navigator.userAgent,
      secureContext: isSecureContext,
      gpu: await probeAdapter(),
    };
  },
  async run(job) {
    const runs: BackendRun[] = [];
    for (const backend of Object.keys(ALL_BACKENDS) as BackendName[]) {
      runs.push(await runBackend(backend, job));
    }
    await setBackend("cpu");
    return runs;
  },
};

(globalThis as unknown as { puzzlelibBrowserTest: BrowserApi }).puzzlelibBrowserTest = api;

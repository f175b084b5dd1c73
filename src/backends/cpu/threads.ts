// Splits large cpu kernels across worker threads that share the heap's memory. Node only: the
// calling thread blocks in Atomics.wait until the workers are done, which a browser's main thread
// may not do. Workers start on first use and are unref'd, so they never keep a process alive.
//
// Each worker owns a control block (threads-protocol.ts) in one SharedArrayBuffer: the main thread writes a job and
// bumps SEQ; the worker runs it and copies SEQ to DONE. Compiled kernels reach workers by
// postMessage, once per worker, before the first job that names them.

import { BackendError } from "../../core/errors.js";
import { importNode, isNode } from "../../core/node-import.js";
import { CONTROL } from "./threads-protocol.js";
import type { WasmKernelExports } from "./wasm/kernel.js";
import { WORKER_SOURCE } from "./worker-source.js";

export interface ThreadJob {
  readonly kernel: number;
  readonly module: WebAssembly.Module;
  readonly strided: boolean;
  readonly out: number;
  readonly in0: number;
  readonly in1: number;
  /** contiguous: [begin, end) of elements; strided: start, step and [k0, k1). */
  readonly start: number;
  readonly step: number;
  readonly count: number;
  readonly params: readonly number[];
}

interface WorkerHandle {
  readonly worker: NodeWorker;
  readonly control: Int32Array;
  readonly params: Float32Array;
  readonly kernels: Set<number>;
  readonly scratch: number;
}

interface NodeWorker {
  postMessage(message: unknown): void;
  unref(): void;
  once(event: "message" | "error", listener: (value: unknown) => void): void;
  terminate(): Promise<number>;
}
type WorkerConstructor = new (
  code: string,
  options: { eval: true; workerData: unknown },
) => NodeWorker;

/** A worker that has not taken its job by then is presumed gone; the main thread takes it back. */
const CLAIM_TIMEOUT_MS = 5000;
/** A worker that took a job and has not finished it by then has died: fail rather than hang. */
const JOB_TIMEOUT_MS = 120_000;

export class ThreadPool {
  private constructor(private readonly workers: readonly WorkerHandle[]) {}

  /** Spawns `count` workers over `memory`, or returns null where threads are unavailable. */
  static async start(
    memory: WebAssembly.Memory,
    count: number,
    scratch: () => number,
  ): Promise<ThreadPool | null> {
    if (count < 1 || !isNode()) return null;
    if (!(memory.buffer instanceof SharedArrayBuffer)) return null;
    const { Worker } = await importNode<{ Worker: WorkerConstructor }>("worker_threads");
    const shared = new SharedArrayBuffer(count * CONTROL.WORDS * 4);
    const started = Array.from({ length: count }, async (_, i) => {
      const control = new Int32Array(shared, i * CONTROL.WORDS * 4, CONTROL.WORDS);
      const params = new Float32Array(shared, i * CONTROL.WORDS * 4, CONTROL.WORDS);
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { memory, control } });
      // Use a worker only once it has said it is ready: a failed start then costs nothing.
      await new Promise((resolve, reject) => {
        worker.once("message", resolve);
        worker.once("error", reject);
      });
      worker.unref();
      return { worker, control, params, kernels: new Set<number>(), scratch: scratch() };
    });
    let workers: WorkerHandle[];
    try {
      workers = await Promise.all(started);
    } catch {
      // Stop the workers that did start; their scratch is freed with the pool's next start.
      await Promise.allSettled(started.map(async (w) => (await w).worker.terminate()));
      return null;
    }
    return new ThreadPool(workers);
  }

  get size(): number {
    return this.workers.length + 1;
  }

  /** Stops the workers; returns their scratch areas for the caller to free. */
  close(): number[] {
    for (const { worker } of this.workers) void worker.terminate();
    return this.workers.map((handle) => handle.scratch);
  }

  /**
   * Runs a job split in `size` parts of whole groups (`align` elements), the calling thread doing
   * the first part with `local`, and returns when every part is done.
   */
  run(job: ThreadJob, align: number, local: WasmKernelExports, localScratch: number): void {
    const parts = this.size;
    const per = Math.ceil(job.count / parts / align) * align;
    const started: WorkerHandle[] = [];
    this.workers.forEach((handle, w) => {
      const k0 = Math.min(job.count, (w + 1) * per);
      const k1 = Math.min(job.count, (w + 2) * per);
      if (k0 >= k1) return;
      if (!handle.kernels.has(job.kernel)) {
        handle.worker.postMessage({ kernel: job.kernel, module: job.module });
        handle.kernels.add(job.kernel);
      }
      const c = handle.control;
      c[CONTROL.KERNEL] = job.kernel;
      c[CONTROL.STRIDED] = job.strided ? 1 : 0;
      c[CONTROL.SCRATCH] = handle.scratch;
      c[CONTROL.OUT] = job.out;
      c[CONTROL.IN0] = job.in0;
      c[CONTROL.IN1] = job.in1;
      c.set(
        job.strided ? [job.start, job.step, k0, k1] : [job.start + k0, job.start + k1],
        CONTROL.RANGE,
      );
      handle.params.set(job.params, CONTROL.PARAMS);
      Atomics.add(c, CONTROL.SEQ, 1);
      Atomics.notify(c, CONTROL.SEQ);
      started.push(handle);
    });
    const end = Math.min(job.count, per);
    if (job.strided) {
      local.strided(
        localScratch,
        job.out,
        job.in0,
        job.in1,
        job.start,
        job.step,
        0,
        end,
        ...job.params,
      );
    } else {
      local.contiguous(
        localScratch,
        job.out,
        job.in0,
        job.in1,
        job.start,
        job.start + end,
        ...job.params,
      );
    }
    for (const handle of started) this.wait(handle, job, local, localScratch);
  }

  /** Blocks until the worker has done its part; takes the part back if the worker never took it. */
  private wait(
    handle: WorkerHandle,
    job: ThreadJob,
    local: WasmKernelExports,
    scratch: number,
  ): void {
    const c = handle.control;
    const seq = Atomics.load(c, CONTROL.SEQ);
    const started = Date.now();
    const deadline = started + CLAIM_TIMEOUT_MS;
    while (Atomics.load(c, CONTROL.DONE) !== seq) {
      if (Date.now() > started + JOB_TIMEOUT_MS) {
        throw new BackendError("cpu: a worker thread stopped in the middle of a kernel");
      }
      if (
        Date.now() > deadline &&
        Atomics.compareExchange(c, CONTROL.CLAIM, seq - 1, seq) === seq - 1
      ) {
        const [a = 0, b = 0, k0 = 0, k1 = 0] = c.subarray(CONTROL.RANGE, CONTROL.RANGE + 4);
        if (job.strided)
          local.strided(scratch, job.out, job.in0, job.in1, a, b, k0, k1, ...job.params);
        else local.contiguous(scratch, job.out, job.in0, job.in1, a, b, ...job.params);
        Atomics.store(c, CONTROL.DONE, seq);
        return;
      }
      Atomics.wait(c, CONTROL.DONE, Atomics.load(c, CONTROL.DONE), 100);
    }
  }
}

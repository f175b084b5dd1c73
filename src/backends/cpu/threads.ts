// Splits large cpu kernels across worker threads that share the heap's memory. Node only: the
// calling thread blocks in Atomics.wait until the workers are done, which a browser's main thread
// may not do. Workers start on first use and are unref'd, so they never keep a process alive.
//
// A job is posted in one shared block (threads-protocol.ts) and cut into chunks, several per
// thread, that the calling thread and the workers take one at a time until none is left. A worker
// that the system does not schedule (the other core busy with another process) then costs the job
// nothing but the chunk it may hold, where a fixed split would wait for its whole share. Every
// element is computed by the same kernel whoever takes its chunk, so results are bit-identical
// whatever the thread count. Compiled kernels reach workers by postMessage, once per worker,
// before the first job that names them.

import { BackendError } from "../../core/errors.js";
import { importNode, isNode } from "../../core/node-import.js";
import { CHUNK_BITS, JOB } from "./threads-protocol.js";
import type { WasmKernelExports } from "./wasm/kernel.js";
import { WORKER_SOURCE } from "./worker-source.js";

export interface ThreadJob {
  readonly kernel: number;
  readonly module: WebAssembly.Module;
  readonly strided: boolean;
  readonly out: number;
  readonly in0: number;
  readonly in1: number;
  /** contiguous: the first element; strided: start and step, over k in [0, count). */
  readonly start: number;
  readonly step: number;
  readonly count: number;
  readonly params: readonly number[];
}

interface WorkerHandle {
  readonly worker: NodeWorker;
  readonly kernels: Set<number>;
  readonly scratch: number;
}

interface NodeWorker {
  postMessage(message: unknown): void;
  unref(): void;
  once(event: "message" | "error" | "exit", listener: (value: unknown) => void): void;
  terminate(): Promise<number>;
}
type WorkerConstructor = new (
  code: string,
  options: { eval: true; workerData: unknown },
) => NodeWorker;

/** Chunks per thread: enough that a late or slow thread holds back little of the job. */
const CHUNKS_PER_THREAD = 4;
const MAX_CHUNKS = (1 << CHUNK_BITS) - 1;
/** A chunk taken and not finished by then means a dead worker: fail rather than hang. */
const JOB_TIMEOUT_MS = 120_000;

export class ThreadPool {
  private readonly params: Float32Array;
  private tag = 0;
  /** Set when a worker exits (it threw, or was stopped): a job would wait for it in vain. */
  private workerExited = false;

  private constructor(
    private readonly workers: readonly WorkerHandle[],
    private readonly block: Int32Array,
  ) {
    this.params = new Float32Array(block.buffer, block.byteOffset, JOB.WORDS);
    for (const { worker } of workers) worker.once("exit", () => (this.workerExited = true));
  }

  /** Spawns `count` workers over `memory`, or returns null where threads are unavailable. */
  static async start(
    memory: WebAssembly.Memory,
    count: number,
    scratch: { allocate: () => number; release: (offset: number) => void },
  ): Promise<ThreadPool | null> {
    if (count < 1 || !isNode()) return null;
    if (!(memory.buffer instanceof SharedArrayBuffer)) return null;
    const { Worker } = await importNode<{ Worker: WorkerConstructor }>("worker_threads");
    const block = new Int32Array(new SharedArrayBuffer(JOB.WORDS * 4));
    const started = Array.from({ length: count }, async () => {
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { memory, block } });
      // Use a worker only once it has said it is ready: a failed start then costs nothing.
      await new Promise((resolve, reject) => {
        worker.once("message", resolve);
        worker.once("error", reject);
      });
      worker.unref();
      const handle = { worker, kernels: new Set<number>(), scratch: scratch.allocate() };
      worker.postMessage({ scratchArea: handle.scratch });
      return handle;
    });
    let workers: WorkerHandle[];
    try {
      workers = await Promise.all(started);
    } catch {
      // Stop the workers that did start, and free their scratch areas.
      await Promise.allSettled(
        started.map(async (w) => {
          const handle = await w;
          scratch.release(handle.scratch);
          await handle.worker.terminate();
        }),
      );
      return null;
    }
    return new ThreadPool(workers, block);
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
   * Runs a job in chunks of whole groups (`align` elements), taken by the calling thread (with
   * `local`) and the workers, and returns when every chunk is done.
   */
  run(job: ThreadJob, align: number, local: WasmKernelExports, localScratch: number): void {
    const b = this.block;
    const wanted = Math.min(MAX_CHUNKS, this.size * CHUNKS_PER_THREAD);
    const chunk = Math.ceil(job.count / wanted / align) * align;
    const chunks = Math.ceil(job.count / chunk);
    for (const handle of this.workers) {
      if (!handle.kernels.has(job.kernel)) {
        handle.worker.postMessage({ kernel: job.kernel, module: job.module });
        handle.kernels.add(job.kernel);
      }
    }
    // Close the last job first: its chunks are all taken and counted (run returned), but a worker
    // may hold a claim word it loaded, (tag, chunks taken); changing the word makes its
    // compare-exchange fail, and a fresh load sees an index no job reaches. Only then is the
    // block rewritten, and the new tag published after it.
    Atomics.store(b, JOB.CLAIM, (this.tag << CHUNK_BITS) | MAX_CHUNKS);
    b[JOB.CHUNKS] = chunks;
    b[JOB.KERNEL] = job.kernel;
    b[JOB.STRIDED] = job.strided ? 1 : 0;
    b[JOB.OUT] = job.out;
    b[JOB.IN0] = job.in0;
    b[JOB.IN1] = job.in1;
    b[JOB.START] = job.start;
    b[JOB.STEP] = job.step;
    b[JOB.COUNT] = job.count;
    b[JOB.CHUNK] = chunk;
    this.params.set(job.params, JOB.PARAMS);
    Atomics.store(b, JOB.FINISHED, 0);
    this.tag = (this.tag + 1) & ((1 << (31 - CHUNK_BITS)) - 1);
    Atomics.store(b, JOB.CLAIM, this.tag << CHUNK_BITS);
    Atomics.add(b, JOB.SEQ, 1);
    Atomics.notify(b, JOB.SEQ);
    const p = job.params;
    for (let i = this.claim(chunks); i >= 0; i = this.claim(chunks)) {
      const k0 = i * chunk;
      const k1 = Math.min(job.count, k0 + chunk);
      if (job.strided) {
        local.strided(localScratch, job.out, job.in0, job.in1, job.start, job.step, k0, k1, ...p);
      } else {
        local.contiguous(
          localScratch,
          job.out,
          job.in0,
          job.in1,
          job.start + k0,
          job.start + k1,
          ...p,
        );
      }
      Atomics.add(b, JOB.FINISHED, 1);
    }
    this.waitFinished(chunks);
  }

  /** The next chunk of the current job, or -1 when all are taken. */
  private claim(chunks: number): number {
    const b = this.block;
    for (;;) {
      const word = Atomics.load(b, JOB.CLAIM);
      const chunk = word & MAX_CHUNKS;
      if (chunk >= chunks || word >>> CHUNK_BITS !== this.tag) return -1;
      if (Atomics.compareExchange(b, JOB.CLAIM, word, word + 1) === word) return chunk;
    }
  }

  /** Blocks until the chunks the workers took are done. */
  private waitFinished(chunks: number): void {
    const b = this.block;
    const deadline = Date.now() + JOB_TIMEOUT_MS;
    for (
      let done = Atomics.load(b, JOB.FINISHED);
      done < chunks;
      done = Atomics.load(b, JOB.FINISHED)
    ) {
      if (this.workerExited || Date.now() > deadline) {
        throw new BackendError(
          "cpu: a worker thread stopped in the middle of a kernel; the pool is closed, and the " +
            "next large call starts new workers",
        );
      }
      Atomics.wait(b, JOB.FINISHED, done, 100);
    }
  }
}

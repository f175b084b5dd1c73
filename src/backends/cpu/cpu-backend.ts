// The default backend: tensors in one WebAssembly.Memory, kernels lowered from the IR to Wasm
// SIMD (four float32 lanes, float32 math with the polynomials of src/ops/libm.ts and
// libm-erfc.ts), large ones split across worker threads. Where SIMD is missing it runs the
// JavaScript reference kernels over the same memory.

import type { AnyTypedArray, DType } from "../../core/dtype.js";
import { itemSize, typedView } from "../../core/dtype.js";
import { describeValue } from "../../core/describe.js";
import { BackendError } from "../../core/errors.js";
import { importNode, isNode } from "../../core/node-import.js";
import type { Kernel } from "../../ops/ir.js";
import type { Backend, BackendOptions, DeviceBuffer, KernelLaunch } from "../backend.js";
import { Residency, type Tracked } from "../residency.js";
import { Heap, MAX_PAGES } from "./heap.js";
import { runJsKernel } from "./js-backend.js";
import { ThreadPool } from "./threads.js";
import {
  compileWasmKernel,
  PARAM_SLOTS,
  SCRATCH_BYTES,
  fusedMultiplyAddSupported,
  simdSupported,
  type WasmKernelExports,
} from "./wasm/kernel.js";

interface CpuBuffer extends DeviceBuffer, Tracked {
  /** Where the tensor is in the heap; 0 while it is evicted. */
  offset: number;
  /** The contents while evicted (see residency.ts). */
  host: Uint8Array | null;
}

interface CompiledKernel {
  readonly id: number;
  readonly module: WebAssembly.Module;
  readonly exports: WasmKernelExports;
}

/**
 * Below this many elements a kernel runs on the calling thread: waking workers costs some
 * microseconds, about the time one thread needs for this many (measured by `npm run bench`).
 */
const THREAD_THRESHOLD = 1 << 15;
/** Threads split ranges in whole 64-byte lines: 16 float32 or 32 float16 elements. */
const LINE = 64;

function canShareMemory(): boolean {
  if (typeof SharedArrayBuffer === "undefined") return false;
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
  return isolated === true || isNode();
}

/** The cores this program may use: Node's os module, or the browser's navigator. */
/** setBackend("cpu", { threads }) refuses more than this many threads per core. */
const THREADS_PER_CORE = 4;

async function availableCores(): Promise<number> {
  if (isNode()) {
    const os = await importNode<typeof import("node:os")>("os");
    return os.availableParallelism();
  }
  const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator
    ?.hardwareConcurrency;
  return Math.max(1, cores ?? 1);
}

export class CpuBackend implements Backend {
  readonly name = "cpu" as const;
  readonly simd = simdSupported();
  /** Whether the engine can fuse mulAdd (relaxed SIMD on an FMA processor). */
  private readonly canFuse = this.simd && fusedMultiplyAddSupported();
  /** Whether kernels fuse mulAdd: where the engine can, unless setBackend said no. */
  private fusedMultiplyAdd = this.canFuse;
  private readonly heap = new Heap(canShareMemory());
  private readonly scratch = this.heap.allocate(SCRATCH_BYTES);
  /** Compiled kernels by whether they fuse mulAdd, kernel and dtype. */
  private readonly kernels = {
    fused: new Map<Kernel, Map<DType, CompiledKernel>>(),
    separate: new Map<Kernel, Map<DType, CompiledKernel>>(),
  };
  private kernelCount = 0;
  /** Threads requested by setBackend("cpu", { threads }); null means all cores. */
  private threads: number | null = null;
  private pool: Promise<ThreadPool | null> | null = null;
  private readyPool: ThreadPool | null = null;
  /** Bumped when the thread count changes, so a pool still starting knows it is stale. */
  private generation = 0;
  private readonly residency = new Residency<CpuBuffer>(
    {
      usedBytes: () => this.heap.used,
      isEvicted: (buffer) => buffer.host !== null,
      evict: (buffer) => {
        const { offset, byteLength } = buffer;
        // slice() of a view makes an ordinary (unshared) ArrayBuffer, which V8 counts and frees.
        buffer.host = new Uint8Array(this.heap.bytes, offset, byteLength).slice();
        this.heap.release(offset, byteLength);
        buffer.offset = 0;
        return true;
      },
      restore: (buffer) => {
        const host = buffer.host!;
        this.place(buffer);
        new Uint8Array(this.heap.bytes, buffer.offset, host.byteLength).set(host);
        buffer.host = null;
      },
    },
    MAX_PAGES * 65536,
  );
  /** Reused for every call's parameters: no allocation on the hot path. */
  private readonly params = new Array<number>(PARAM_SLOTS).fill(0);

  /** What `puzzlelib info` and the benchmark report. */
  get info(): {
    simd: boolean;
    /** Whether kernels fuse mulAdd (setBackend's fusedMultiplyAdd). */
    fusedMultiplyAdd: boolean;
    sharedMemory: boolean;
    threads: number;
    /** Bytes of the heap handed out to tensors and scratch. */
    heapBytes: number;
    /** The WebAssembly memory's size, which never shrinks. */
    memoryBytes: number;
  } {
    return {
      simd: this.simd,
      fusedMultiplyAdd: this.fusedMultiplyAdd,
      sharedMemory: this.heap.shared,
      threads: this.readyPool?.size ?? 1,
      heapBytes: this.heap.used,
      memoryBytes: this.heap.bytes.byteLength,
    };
  }

  async configure({ threads, fusedMultiplyAdd }: BackendOptions): Promise<void> {
    if (fusedMultiplyAdd !== undefined) {
      if (typeof fusedMultiplyAdd !== "boolean") {
        throw new BackendError(
          `cpu: fusedMultiplyAdd must be true or false, got ${describeValue(fusedMultiplyAdd)}`,
        );
      }
      // true asks for it where the engine has it; the engine decides, as for the default.
      this.fusedMultiplyAdd = fusedMultiplyAdd && this.canFuse;
    }
    if (threads === undefined) return;
    if (!Number.isInteger(threads) || threads < 1) {
      throw new BackendError(
        `cpu: threads must be a positive integer, got ${describeValue(threads)}`,
      );
    }
    // Checked before any worker starts: each costs a thread and ~8 MB, and beyond the cores
    // threads only wait for one another (results are the same whatever the count).
    const cores = await availableCores();
    const most = THREADS_PER_CORE * cores;
    if (threads > most) {
      throw new BackendError(
        `cpu: threads must be at most ${most} (${THREADS_PER_CORE} per core; this machine has ` +
          `${cores}), got ${describeValue(threads)}; omit it to use every core`,
      );
    }
    if (threads === this.threads) return;
    this.threads = threads;
    await this.stopPool();
    if (threads > 1) await this.startPool();
  }

  allocate(dtype: DType, size: number): CpuBuffer {
    const byteLength = size * itemSize(dtype);
    if (byteLength > MAX_PAGES * 65536) {
      throw new BackendError(
        `cpu: a tensor of ${byteLength} bytes does not fit WebAssembly's 4 GiB`,
      );
    }
    const buffer: CpuBuffer = {
      dtype,
      size,
      byteLength,
      offset: 0,
      host: null,
      lastUse: 0,
      key: {},
    };
    this.place(buffer);
    return buffer;
  }

  release(buffer: DeviceBuffer): void {
    const b = buffer as CpuBuffer;
    if (b.offset !== 0) this.heap.release(b.offset, b.byteLength);
    this.residency.released(b);
    b.offset = 0;
    b.host = null;
  }

  dropper(buffer: DeviceBuffer): () => void {
    return this.residency.dropper(buffer as CpuBuffer, (resident) => this.release(resident));
  }

  upload(buffer: DeviceBuffer, data: AnyTypedArray): void {
    this.view(this.use(buffer as CpuBuffer)).set(data);
  }

  async download(buffer: DeviceBuffer): Promise<AnyTypedArray> {
    return this.view(this.use(buffer as CpuBuffer)).slice();
  }

  /** The contents, read in place (or from the evicted copy) without paging anything in. */
  peek(buffer: DeviceBuffer): AnyTypedArray {
    const b = buffer as CpuBuffer;
    if (b.host === null) return this.view(b).slice();
    return typedView(b.dtype, b.host.buffer, b.host.byteOffset, b.size).slice();
  }

  copy(target: DeviceBuffer, source: DeviceBuffer): void {
    const from = source as CpuBuffer;
    const to = target as CpuBuffer;
    from.lastUse = to.lastUse = this.residency.launches; // neither evicts the other
    this.use(from);
    this.use(to);
    new Uint8Array(this.heap.bytes).copyWithin(
      (target as CpuBuffer).offset,
      from.offset,
      from.offset + from.byteLength,
    );
  }

  run({ kernel, dtype, output, inputs, params, slice }: KernelLaunch): void {
    const out = output as CpuBuffer;
    const sources = inputs as readonly CpuBuffer[];
    // Every tensor of the call is marked used before any is brought back, so that bringing one
    // back never evicts another.
    const now = ++this.residency.launches;
    out.lastUse = now;
    for (const source of sources) source.lastUse = now;
    this.use(out);
    for (const source of sources) this.use(source);
    if (!this.simd || (dtype !== "float32" && dtype !== "float16")) {
      runJsKernel(
        kernel,
        dtype,
        this.view(out),
        sources.map((b) => this.view(b)),
        params,
        slice,
      );
      return;
    }
    if (slice.count < out.size && sources[0] !== out) this.copy(out, sources[0]!);
    if (slice.count === 0) return;
    const compiled = this.compiled(kernel, dtype);
    const p = this.params;
    for (let i = 0; i < PARAM_SLOTS; i++) p[i] = params[i] ?? 0;
    const in0 = sources[0]!.offset;
    const in1 = sources[1]?.offset ?? 0;
    const { start, step, count } = slice;
    const pool = count >= THREAD_THRESHOLD ? this.readyPool : null;
    if (pool !== null) {
      const job = {
        kernel: compiled.id,
        module: compiled.module,
        strided: step !== 1,
        out: out.offset,
        in0,
        in1,
        start,
        step,
        count,
        params: p,
      };
      try {
        pool.run(job, LINE / itemSize(dtype), compiled.exports, this.scratch);
      } catch (error) {
        // A worker died: close the pool rather than wait on it again.
        void this.stopPool();
        throw error;
      }
    } else if (step !== 1) {
      // Eight explicit parameter arguments: spreading an array costs more than a small kernel.
      compiled.exports.strided(
        this.scratch,
        out.offset,
        in0,
        in1,
        start,
        step,
        0,
        count,
        p[0]!,
        p[1]!,
        p[2]!,
        p[3]!,
        p[4]!,
        p[5]!,
        p[6]!,
        p[7]!,
      );
    } else {
      compiled.exports.contiguous(
        this.scratch,
        out.offset,
        in0,
        in1,
        start,
        start + count,
        p[0]!,
        p[1]!,
        p[2]!,
        p[3]!,
        p[4]!,
        p[5]!,
        p[6]!,
        p[7]!,
      );
    }
    if (this.pool === null && this.threads !== 1 && slice.count >= THREAD_THRESHOLD) {
      // Start the workers after the first large call, so small programs never pay for them.
      void this.startPool();
    }
  }

  /** Puts a tensor in the heap, evicting cold ones first when the heap is past its bound. */
  private place(buffer: CpuBuffer): void {
    this.residency.makeRoom(buffer.byteLength);
    buffer.offset = this.heap.allocate(buffer.byteLength);
    this.residency.placed(buffer);
  }

  private use(buffer: CpuBuffer): CpuBuffer {
    return this.residency.use(buffer);
  }

  private startPool(): Promise<ThreadPool | null> {
    const generation = this.generation;
    this.pool ??= (async () => {
      const threads = this.threads ?? (await availableCores());
      const pool = await ThreadPool.start(this.heap.memory, threads - 1, {
        allocate: () => this.heap.allocate(SCRATCH_BYTES),
        release: (offset) => this.heap.release(offset, SCRATCH_BYTES),
      });
      // setBackend asked for another thread count while this pool was starting.
      if (generation !== this.generation) {
        this.closePool(pool);
        return null;
      }
      this.readyPool = pool;
      return pool;
    })();
    return this.pool;
  }

  private async stopPool(): Promise<void> {
    const pending = this.pool;
    this.generation++;
    this.pool = null;
    this.readyPool = null;
    this.closePool(await pending);
  }

  private closePool(pool: ThreadPool | null): void {
    pool?.close().forEach((scratch) => this.heap.release(scratch, SCRATCH_BYTES));
  }

  private compiled(kernel: Kernel, dtype: "float32" | "float16"): CompiledKernel {
    const kernels = this.fusedMultiplyAdd ? this.kernels.fused : this.kernels.separate;
    let byDtype = kernels.get(kernel);
    if (byDtype === undefined) kernels.set(kernel, (byDtype = new Map()));
    let compiled = byDtype.get(dtype);
    if (compiled === undefined) {
      const module = compileWasmKernel(kernel, {
        dtype,
        sharedMemory: this.heap.shared,
        maximumPages: MAX_PAGES,
        fusedMultiplyAdd: this.fusedMultiplyAdd,
      });
      const instance = new WebAssembly.Instance(module, { env: { memory: this.heap.memory } });
      compiled = {
        id: this.kernelCount++,
        module,
        exports: instance.exports as unknown as WasmKernelExports,
      };
      byDtype.set(dtype, compiled);
    }
    return compiled;
  }

  private view(buffer: CpuBuffer): AnyTypedArray {
    return typedView(buffer.dtype, this.heap.bytes, buffer.offset, buffer.size);
  }
}

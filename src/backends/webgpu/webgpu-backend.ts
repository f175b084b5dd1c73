import { typedView, type AnyTypedArray, type DType } from "../../core/dtype.js";
import { BackendError } from "../../core/errors.js";
import type { Kernel } from "../../ops/ir.js";
import type { Backend, DeviceBuffer, KernelLaunch } from "../backend.js";
import { Residency, type Tracked } from "../residency.js";
import { BufferPool } from "./buffer-pool.js";
import { requestAdapter, type GpuSource } from "./gpu-loader.js";
import { BindGroupCache, type BoundBuffer } from "./bind-groups.js";
import { RedoQueue, type RedoEntry } from "./redo-queue.js";
import {
  MAX_PARAMS,
  REDO_ARGS_OFFSET,
  REDO_HEADER_WORDS,
  renderWgsl,
  SWEEP_ARGS_OFFSET,
  WORKGROUP_SIZE,
  type WgslVariant,
} from "./wgsl-renderer.js";

interface WebGpuBuffer extends DeviceBuffer, Tracked {
  /** The device buffer; null while the tensor is evicted. */
  gpu: GPUBuffer | null;
  /** Bytes in use: float16 is packed two to a u32, so sizes round up to whole words. */
  readonly byteLength: number;
  /**
   * A host copy of the contents while they are what upload() wrote (no kernel has written the
   * tensor since): a tensor with one can be evicted without reading the GPU back, which no
   * synchronous code can do.
   */
  shadow: Uint8Array | null;
}

/** Uploads up to this size keep a host copy, so that a dropped input can be evicted. */
const SHADOW_MAX_BYTES = 16 * 1024 * 1024;

// struct Launch in wgsl-renderer.ts: six 32-bit fields, then params at offset 32 (vec4 aligned).
const UNIFORM_BYTES = 64;
/**
 * Launches share one uniform buffer, a slot each, bound at a dynamic offset: the launches of one
 * submit need slots of their own, since every write lands before the submit runs. 256 bytes is
 * the largest offset alignment an adapter may ask for.
 */
const UNIFORM_SLOT_BYTES = 256;
/** Launches per submit at most: more are submitted in batches of this many. */
const UNIFORM_SLOTS = 256;
const MAX_GROUPS_PER_DIMENSION = 65535;

/**
 * A kernel variant's pipelines and group 0's layout: `redo` and `sweep` exist when main may
 * queue elements for the interpreter.
 */
interface Pipelines {
  readonly layout: GPUBindGroupLayout;
  readonly main: GPUComputePipeline;
  readonly redo: { readonly redo: GPUComputePipeline; readonly sweep: GPUComputePipeline } | null;
}

/** Commands recorded since the last submit, and what must wait for that submit. */
interface Batch {
  readonly encoder: GPUCommandEncoder;
  launches: number;
  /** Buffers to destroy once the commands that use them are submitted. */
  readonly retired: GPUBuffer[];
}

/** Storage bytes of a tensor: whole u32 words, since WGSL has no 16-bit storage without shader-f16. */
function byteLengthOf(dtype: DType, size: number): number {
  const bytes = dtype === "float16" ? size * 2 : dtype === "float64" ? size * 8 : size * 4;
  return Math.max(4, Math.ceil(bytes / 4) * 4);
}

/** The WebGPU backend: buffers pooled on one device, kernels lowered to WGSL and cached. */
export class WebGpuBackend implements Backend {
  readonly name = "webgpu" as const;
  readonly adapterName: string;
  private readonly pipelines = new Map<string, Pipelines>();
  private readonly storage: BufferPool;
  private readonly readback: BufferPool;
  private readonly uniforms: GPUBuffer;
  private readonly redoQueue: RedoQueue;
  private readonly bindGroups: BindGroupCache;
  private readonly groupLayouts = new Map<number, GPUBindGroupLayout>();
  private batch: Batch | null = null;
  private lost: string | null = null;
  /** Bytes of the storage buffers that tensors hold now. */
  private liveBytes = 0;
  private readonly residency = new Residency<WebGpuBuffer>(
    {
      usedBytes: () => this.liveBytes,
      isEvicted: (buffer) => buffer.gpu === null,
      // Only a tensor whose contents are on the host already can leave the GPU synchronously.
      evict: (buffer) => buffer.shadow !== null && (this.freeDeviceBuffer(buffer), true),
      restore: (buffer) => {
        this.placeOnDevice(buffer);
        this.flush(); // the write must not overtake recorded commands on a reused buffer
        this.device.queue.writeBuffer(buffer.gpu!, 0, buffer.shadow! as Uint8Array<ArrayBuffer>);
      },
    },
    Number.MAX_SAFE_INTEGER,
  );
  private pendingError: string | null = null;

  constructor(
    private readonly device: GPUDevice,
    adapterInfo: GPUAdapterInfo,
    readonly source: GpuSource,
  ) {
    this.adapterName =
      [adapterInfo.vendor, adapterInfo.architecture, adapterInfo.device, adapterInfo.description]
        .filter((part) => part !== undefined && part !== "")
        .join(" ") || "unknown adapter";
    const usage = GPUBufferUsage;
    const retire = (buffer: GPUBuffer) => this.retire(buffer);
    this.storage = new BufferPool(device, usage.STORAGE | usage.COPY_SRC | usage.COPY_DST, retire);
    this.readback = new BufferPool(device, usage.MAP_READ | usage.COPY_DST, retire);
    this.uniforms = device.createBuffer({
      size: UNIFORM_SLOT_BYTES * UNIFORM_SLOTS,
      usage: usage.UNIFORM | usage.COPY_DST,
      label: "launch parameters",
    });
    this.redoQueue = new RedoQueue(device);
    this.bindGroups = new BindGroupCache(device);
    device.lost.then((info) => {
      this.lost = info.message || info.reason || "device lost";
    });
    device.addEventListener("uncapturederror", (event) => {
      this.pendingError ??= (event as GPUUncapturedErrorEvent).error.message;
    });
  }

  get usable(): boolean {
    return this.lost === null;
  }

  /** Pool and cache sizes, for tests and `puzzlelib info`. */
  get stats(): {
    pooledBytes: number;
    /** Every GPU buffer made, the fixed ones (uniforms, redo queue and bitmap) included. */
    buffersCreated: number;
    bindGroupsCreated: number;
    pipelines: number;
    /** Bytes of storage buffers that tensors hold (pooled ones not counted). */
    liveBytes: number;
  } {
    return {
      liveBytes: this.liveBytes,
      pooledBytes: this.storage.pooledBytes + this.readback.pooledBytes,
      buffersCreated: 1 + RedoQueue.BUFFERS + this.storage.created + this.readback.created,
      bindGroupsCreated: this.bindGroups.created,
      pipelines: this.pipelines.size,
    };
  }

  /**
   * The redo queue's capacity in elements (default DEFAULT_REDO_CAPACITY). Past it a launch
   * spills whole workgroups to a slower exact pass; tests lower it to make that happen.
   */
  get redoCapacity(): number {
    return this.redoQueue.capacity;
  }

  set redoCapacity(entries: number) {
    this.redoQueue.capacity = entries;
  }

  /** Submits the launches recorded so far (they are also submitted by themselves, soon). */
  flush(): void {
    const batch = this.batch;
    if (batch === null) return;
    this.batch = null;
    this.device.queue.submit([batch.encoder.finish()]);
    for (const buffer of batch.retired) buffer.destroy();
  }

  /** Resolves once the GPU has finished all work queued before the call. */
  async finish(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.checkHealthy();
  }

  /** The encoder of the current batch, begun (with a submit scheduled) if there is none. */
  private encoder(): GPUCommandEncoder {
    if (this.batch === null) {
      this.batch = { encoder: this.device.createCommandEncoder(), launches: 0, retired: [] };
      // A loop of launches runs without waiting: what it queued goes to the GPU when it yields.
      queueMicrotask(() => this.flush());
    }
    return this.batch.encoder;
  }

  /** Destroys a buffer the pool gave up, after the recorded commands that use it are submitted. */
  private retire(buffer: GPUBuffer): void {
    this.bindGroups.forget(buffer);
    if (this.batch === null) buffer.destroy();
    else this.batch.retired.push(buffer);
  }

  allocate(dtype: DType, size: number): WebGpuBuffer {
    this.checkHealthy();
    const byteLength = byteLengthOf(dtype, size);
    const limit = this.device.limits.maxStorageBufferBindingSize;
    if (byteLength > limit) {
      throw new BackendError(
        `webgpu: a ${dtype} tensor of ${size} elements needs ${byteLength} bytes; ` +
          `this adapter binds at most ${limit} bytes per buffer`,
      );
    }
    const buffer: WebGpuBuffer = {
      dtype,
      size,
      byteLength,
      gpu: null,
      shadow: null,
      lastUse: 0,
      key: {},
    };
    this.placeOnDevice(buffer);
    return buffer;
  }

  release(buffer: DeviceBuffer): void {
    const b = buffer as WebGpuBuffer;
    this.freeDeviceBuffer(b);
    b.shadow = null;
  }

  dropper(buffer: DeviceBuffer): () => void {
    return this.residency.dropper(buffer as WebGpuBuffer, (resident) => this.release(resident));
  }

  private placeOnDevice(buffer: WebGpuBuffer): void {
    this.residency.makeRoom(buffer.byteLength);
    buffer.gpu = this.storage.acquire(buffer.byteLength);
    this.liveBytes += buffer.byteLength;
    this.residency.placed(buffer);
  }

  private freeDeviceBuffer(buffer: WebGpuBuffer): void {
    if (buffer.gpu === null) return;
    this.storage.release(buffer.gpu);
    buffer.gpu = null;
    this.liveBytes -= buffer.byteLength;
    this.residency.released(buffer);
  }

  upload(buffer: DeviceBuffer, data: AnyTypedArray): void {
    const b = this.residency.use(buffer as WebGpuBuffer);
    let bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (bytes.byteLength !== b.byteLength) {
      // writeBuffer wants whole words: a float16 tensor of odd length gets a padding half.
      const padded = new Uint8Array(b.byteLength);
      padded.set(bytes);
      bytes = padded;
    }
    // queue.writeBuffer runs before commands not yet submitted: those that use this buffer
    // (or the tensor that last held it) go first.
    this.flush();
    this.device.queue.writeBuffer(b.gpu!, 0, bytes as Uint8Array<ArrayBuffer>);
    b.shadow = b.byteLength <= SHADOW_MAX_BYTES ? bytes.slice() : null;
  }

  async download(buffer: DeviceBuffer): Promise<AnyTypedArray> {
    const { gpu, byteLength, dtype, size } = this.residency.use(buffer as WebGpuBuffer);
    const staging = this.readback.acquire(byteLength);
    this.encoder().copyBufferToBuffer(gpu!, 0, staging, 0, byteLength);
    this.flush();
    try {
      await staging.mapAsync(GPUMapMode.READ, 0, byteLength);
      const bytes = staging.getMappedRange(0, byteLength).slice(0);
      staging.unmap();
      this.checkHealthy();
      return typedView(dtype, bytes, 0, size);
    } finally {
      this.readback.release(staging);
    }
  }

  /** The contents while they are what upload() wrote (the shadow copy); null otherwise. */
  peek(buffer: DeviceBuffer): AnyTypedArray | null {
    const { shadow, dtype, size } = buffer as WebGpuBuffer;
    return shadow === null
      ? null
      : typedView(dtype, shadow.buffer, shadow.byteOffset, size).slice();
  }

  copy(target: DeviceBuffer, source: DeviceBuffer): void {
    const from = source as WebGpuBuffer;
    const to = target as WebGpuBuffer;
    from.lastUse = to.lastUse = this.residency.launches; // neither evicts the other
    this.residency.use(from);
    this.residency.use(to);
    this.encoder().copyBufferToBuffer(from.gpu!, 0, to.gpu!, 0, to.byteLength);
    to.shadow = from.shadow;
  }

  run({ kernel, dtype, output, inputs, params, slice }: KernelLaunch): void {
    this.checkHealthy();
    if (dtype !== "float32" && dtype !== "float16") {
      throw new BackendError(`webgpu: kernels run on float32 and float16, not ${dtype}`);
    }
    const out = output as WebGpuBuffer;
    const now = ++this.residency.launches;
    out.lastUse = now;
    for (const input of inputs as readonly WebGpuBuffer[]) input.lastUse = now;
    this.residency.use(out);
    for (const input of inputs as readonly WebGpuBuffer[]) this.residency.use(input);
    // The kernel writes the output: its contents are no longer the uploaded ones.
    out.shadow = null;
    // An input other than the first that is the output itself (backward in place from the
    // output: act.backward(act.data)) cannot be bound read-only beside the read_write output:
    // it is read from a copy.
    const copies: WebGpuBuffer[] = [];
    inputs = inputs.map((input, i) => {
      if (i === 0 || input !== output) return input;
      const copy = this.allocate(out.dtype, out.size);
      this.copy(copy, out);
      copies.push(copy);
      return copy;
    });
    const variant: WgslVariant = {
      dtype,
      inplace: inputs[0] === output,
      sliced: slice.count < out.size,
    };
    const pipelines = this.pipeline(kernel, variant);
    const units = dtype === "float16" ? Math.ceil(out.size / 2) : out.size;
    if (units === 0) {
      copies.forEach((copy) => this.release(copy));
      return;
    }

    if (this.batch !== null && this.batch.launches === UNIFORM_SLOTS) this.flush();
    const encoder = this.encoder();
    const slot = this.batch!.launches++;
    const launch = new ArrayBuffer(UNIFORM_BYTES);
    new Uint32Array(launch, 0, 2).set([out.size, units]);
    new Int32Array(launch, 8, 2).set([slice.start, slice.step]);
    new Uint32Array(launch, 16, 2).set([slice.count, this.redoQueue.capacity]);
    new Float32Array(launch, 32, MAX_PARAMS).set(params);
    // The one write per launch: its parameters, into a slot of its own.
    this.device.queue.writeBuffer(this.uniforms, slot * UNIFORM_SLOT_BYTES, launch);

    const bound = (b: WebGpuBuffer): BoundBuffer => ({ buffer: b.gpu!, size: b.byteLength });
    const storage = [out, ...inputs.filter((_, i) => !(i === 0 && variant.inplace))].map((b) =>
      bound(b as WebGpuBuffer),
    );
    const tensors = this.bindGroups.get(
      pipelines.layout,
      { buffer: this.uniforms, size: UNIFORM_BYTES },
      storage,
    );
    const groups = Math.ceil(units / WORKGROUP_SIZE);
    const groupsX = Math.min(groups, MAX_GROUPS_PER_DIMENSION);
    const queue = this.redoQueue;
    // The queue's header starts each launch at zero (no write: a command in the same stream).
    if (pipelines.redo !== null) encoder.clearBuffer(queue.queue, 0, REDO_HEADER_WORDS * 4);
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipelines.main);
    pass.setBindGroup(0, tensors, [slot * UNIFORM_SLOT_BYTES]);
    if (pipelines.redo !== null) pass.setBindGroup(1, queue.groups.main);
    pass.dispatchWorkgroups(groupsX, Math.ceil(groups / groupsX));
    if (pipelines.redo !== null) {
      // Elements main could not compute exactly, then the workgroups that found the queue full:
      // each dispatch is sized by main itself (indirect), zero groups when there is nothing.
      pass.setPipeline(pipelines.redo.redo);
      pass.setBindGroup(1, queue.groups.redo);
      pass.dispatchWorkgroupsIndirect(queue.queue, REDO_ARGS_OFFSET);
      pass.setPipeline(pipelines.redo.sweep);
      pass.setBindGroup(1, queue.groups.sweep);
      pass.dispatchWorkgroupsIndirect(queue.queue, SWEEP_ARGS_OFFSET);
    }
    pass.end();
    copies.forEach((copy) => this.release(copy));
  }

  /** Group 0's layout for `inputs` read-only tensors: uniforms (dynamic offset), output, inputs. */
  private groupLayout(inputs: number): GPUBindGroupLayout {
    let layout = this.groupLayouts.get(inputs);
    if (layout === undefined) {
      const compute = GPUShaderStage.COMPUTE;
      layout = this.device.createBindGroupLayout({
        entries: [
          {
            binding: 0,
            visibility: compute,
            buffer: { type: "uniform", hasDynamicOffset: true, minBindingSize: UNIFORM_BYTES },
          },
          { binding: 1, visibility: compute, buffer: { type: "storage" } },
          ...Array.from({ length: inputs }, (_, i) => ({
            binding: i + 2,
            visibility: compute,
            buffer: { type: "read-only-storage" as const },
          })),
        ],
        label: `tensors, ${inputs} inputs`,
      });
      this.groupLayouts.set(inputs, layout);
    }
    return layout;
  }

  private pipeline(kernel: Kernel, variant: WgslVariant): Pipelines {
    const key = `${kernel.id}/${variant.dtype}/${variant.inplace ? "inplace" : "out"}/${variant.sliced ? "slice" : "all"}`;
    let pipelines = this.pipelines.get(key);
    if (pipelines === undefined) {
      const shader = renderWgsl(kernel, variant);
      const module = this.device.createShaderModule({ code: shader.code, label: key });
      const inputs = kernel.inputs.length - (variant.inplace ? 1 : 0);
      const layout = this.groupLayout(inputs);
      const entry = (entryPoint: string, redo: RedoEntry | null): GPUComputePipeline =>
        this.device.createComputePipeline({
          layout: this.device.createPipelineLayout({
            bindGroupLayouts: redo === null ? [layout] : [layout, this.redoQueue.layouts[redo]],
          }),
          compute: { module, entryPoint },
          label: `${key}/${entryPoint}`,
        });
      pipelines = {
        layout,
        main: entry("main", shader.redo ? "main" : null),
        redo: shader.redo ? { redo: entry("redo", "redo"), sweep: entry("sweep", "sweep") } : null,
      };
      this.pipelines.set(key, pipelines);
    }
    return pipelines;
  }

  private checkHealthy(): void {
    if (this.lost !== null) throw new BackendError(`webgpu: the device was lost: ${this.lost}`);
    // Errors arrive asynchronously; each is reported once, by the next call that checks.
    const error = this.pendingError;
    if (error !== null) {
      this.pendingError = null;
      throw new BackendError(`webgpu: ${error}`);
    }
  }
}

export async function createWebGpuBackend(): Promise<WebGpuBackend> {
  const { adapter, source } = await requestAdapter();
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
    },
  });
  return new WebGpuBackend(device, adapter.info, source);
}

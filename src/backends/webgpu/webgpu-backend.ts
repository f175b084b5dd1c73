import { typedView, type AnyTypedArray, type DType } from "../../core/dtype.js";
import { BackendError } from "../../core/errors.js";
import type { Kernel } from "../../ops/ir.js";
import type { Backend, DeviceBuffer, KernelLaunch } from "../backend.js";
import { Residency, type Tracked } from "../residency.js";
import { BufferPool } from "./buffer-pool.js";
import { requestAdapter, type GpuSource } from "./gpu-loader.js";
import {
  MAX_PARAMS,
  REDO_BINDING,
  REDO_HEADER_WORDS,
  REDO_LIST_BINDING,
  renderWgsl,
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

// struct Launch in wgsl-renderer.ts: five 32-bit fields, then params at offset 32 (vec4 aligned).
const UNIFORM_BYTES = 64;
const MAX_GROUPS_PER_DIMENSION = 65535;

/** A kernel variant's pipelines: `redo` exists when main may queue elements for the interpreter. */
interface Pipelines {
  readonly main: GPUComputePipeline;
  readonly redo: GPUComputePipeline | null;
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
  private readonly redoQueues: BufferPool;
  private readonly uniforms: GPUBuffer;
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
    this.storage = new BufferPool(device, usage.STORAGE | usage.COPY_SRC | usage.COPY_DST);
    this.readback = new BufferPool(device, usage.MAP_READ | usage.COPY_DST);
    this.redoQueues = new BufferPool(device, usage.STORAGE | usage.INDIRECT | usage.COPY_DST);
    this.uniforms = device.createBuffer({
      size: UNIFORM_BYTES,
      usage: usage.UNIFORM | usage.COPY_DST,
    });
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
    buffersCreated: number;
    pipelines: number;
    /** Bytes of storage buffers that tensors hold (pooled ones not counted). */
    liveBytes: number;
  } {
    return {
      liveBytes: this.liveBytes,
      pooledBytes:
        this.storage.pooledBytes + this.readback.pooledBytes + this.redoQueues.pooledBytes,
      buffersCreated: this.storage.created + this.readback.created + this.redoQueues.created,
      pipelines: this.pipelines.size,
    };
  }

  allocate(dtype: DType, size: number): WebGpuBuffer {
    this.checkHealthy();
    const byteLength = byteLengthOf(dtype, size);
    const limit = this.device.limits.maxStorageBufferBindingSize;
    // A float32 kernel may bind a redo queue of one word per element plus its header.
    const binds = dtype === "float32" ? byteLength + REDO_HEADER_WORDS * 4 : byteLength;
    if (binds > limit) {
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
    this.device.queue.writeBuffer(b.gpu!, 0, bytes as Uint8Array<ArrayBuffer>);
    b.shadow = b.byteLength <= SHADOW_MAX_BYTES ? bytes.slice() : null;
  }

  async download(buffer: DeviceBuffer): Promise<AnyTypedArray> {
    const { gpu, byteLength, dtype, size } = this.residency.use(buffer as WebGpuBuffer);
    const staging = this.readback.acquire(byteLength);
    const encoder = this.device.createCommandEncoder();
    encoder.copyBufferToBuffer(gpu!, 0, staging, 0, byteLength);
    this.device.queue.submit([encoder.finish()]);
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
    const encoder = this.device.createCommandEncoder();
    encoder.copyBufferToBuffer(from.gpu!, 0, to.gpu!, 0, to.byteLength);
    this.device.queue.submit([encoder.finish()]);
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

    const launch = new ArrayBuffer(UNIFORM_BYTES);
    new Uint32Array(launch, 0, 2).set([out.size, units]);
    new Int32Array(launch, 8, 2).set([slice.start, slice.step]);
    new Uint32Array(launch, 16, 1).set([slice.count]);
    new Float32Array(launch, 32, MAX_PARAMS).set(params);
    // Queue order makes one uniform buffer enough: each dispatch sees the write made before it.
    this.device.queue.writeBuffer(this.uniforms, 0, launch);

    const storage = [
      out,
      ...inputs.filter((_, i) => !(i === 0 && variant.inplace)),
    ] as WebGpuBuffer[];
    const entries: GPUBindGroupEntry[] = [
      { binding: 0, resource: { buffer: this.uniforms } },
      ...storage.map((b, i) => ({
        binding: i + 1,
        resource: { buffer: b.gpu!, size: b.byteLength },
      })),
    ];
    const groups = Math.ceil(units / WORKGROUP_SIZE);
    const groupsX = Math.min(groups, MAX_GROUPS_PER_DIMENSION);
    const encoder = this.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipelines.main);
    let queue: GPUBuffer | null = null;
    if (pipelines.redo !== null) {
      // Elements main cannot compute exactly are queued here and computed by a second dispatch
      // sized by main itself (indirect): [count, groups x, 1, 1, units...].
      const bytes = (REDO_HEADER_WORDS + units) * 4;
      queue = this.redoQueues.acquire(bytes);
      this.device.queue.writeBuffer(queue, 0, new Uint32Array([0, 0, 1, 1]));
      const queued = { buffer: queue, size: bytes };
      pass.setBindGroup(
        0,
        this.bindGroup(pipelines.main, [...entries, { binding: REDO_BINDING, resource: queued }]),
      );
      pass.dispatchWorkgroups(groupsX, Math.ceil(groups / groupsX));
      pass.setPipeline(pipelines.redo);
      pass.setBindGroup(
        0,
        this.bindGroup(pipelines.redo, [
          ...entries,
          { binding: REDO_LIST_BINDING, resource: queued },
        ]),
      );
      pass.dispatchWorkgroupsIndirect(queue, 4);
    } else {
      pass.setBindGroup(0, this.bindGroup(pipelines.main, entries));
      pass.dispatchWorkgroups(groupsX, Math.ceil(groups / groupsX));
    }
    pass.end();
    this.device.queue.submit([encoder.finish()]);
    if (queue !== null) this.redoQueues.release(queue);
    copies.forEach((copy) => this.release(copy));
  }

  private bindGroup(pipeline: GPUComputePipeline, entries: GPUBindGroupEntry[]): GPUBindGroup {
    return this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
  }

  private pipeline(kernel: Kernel, variant: WgslVariant): Pipelines {
    const key = `${kernel.id}/${variant.dtype}/${variant.inplace ? "inplace" : "out"}/${variant.sliced ? "slice" : "all"}`;
    let pipelines = this.pipelines.get(key);
    if (pipelines === undefined) {
      const shader = renderWgsl(kernel, variant);
      const module = this.device.createShaderModule({ code: shader.code, label: key });
      const entry = (entryPoint: string): GPUComputePipeline =>
        this.device.createComputePipeline({
          layout: "auto",
          compute: { module, entryPoint },
          label: `${key}/${entryPoint}`,
        });
      pipelines = { main: entry("main"), redo: shader.redo ? entry("redo") : null };
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

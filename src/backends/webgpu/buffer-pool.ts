// Reuses GPU buffers: creating one costs far more than an elementwise kernel on a small tensor.
// Buffers are bucketed by size rounded up to a power of two (at least 256 bytes), so a pool
// serves varying sizes with few buckets; parked bytes are capped, and the excess destroyed.

const MIN_BUCKET = 256;
/** Parked bytes above this are destroyed rather than kept for reuse. */
const DEFAULT_CAP = 256 * 1024 * 1024;

export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private parked = 0;
  private made = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly usage: GPUBufferUsageFlags,
    /** Disposes of a buffer the pool will not keep (the backend waits for its queued uses). */
    private readonly destroy: (buffer: GPUBuffer) => void = (buffer) => buffer.destroy(),
    private readonly cap = DEFAULT_CAP,
  ) {}

  get pooledBytes(): number {
    return this.parked;
  }

  /** How many buffers this pool has created: flat once a workload's sizes have been seen. */
  get created(): number {
    return this.made;
  }

  /** A buffer of at least `bytes` bytes. */
  acquire(bytes: number): GPUBuffer {
    const bucket = bucketOf(bytes, this.device.limits.maxBufferSize);
    const reused = this.free.get(bucket)?.pop();
    if (reused !== undefined) {
      this.parked -= bucket;
      return reused;
    }
    this.made++;
    return this.device.createBuffer({ size: bucket, usage: this.usage });
  }

  /**
   * Parks a buffer for reuse. Work already queued on it still runs first: the queue executes in
   * order, so a later write to a reused buffer cannot overtake an earlier read.
   */
  release(buffer: GPUBuffer): void {
    const bucket = buffer.size;
    if (this.parked + bucket > this.cap) {
      this.destroy(buffer);
      return;
    }
    const list = this.free.get(bucket) ?? [];
    list.push(buffer);
    this.free.set(bucket, list);
    this.parked += bucket;
  }
}

function bucketOf(bytes: number, maxBufferSize: number): number {
  const power = 2 ** Math.ceil(Math.log2(Math.max(bytes, MIN_BUCKET)));
  // Near the device limit a power of two may not fit; fall back to the exact (word) size.
  return power <= maxBufferSize ? power : bytes;
}

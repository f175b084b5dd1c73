// Memory that takes care of itself, for backends whose memory the garbage collector cannot see.
// Finalization callbacks never run inside a synchronous loop, and V8 counts neither the
// WebAssembly heap nor GPU memory as pressure, so an array the caller dropped (a new toGpu input
// each step, never disposed) could hold its memory for ever. Once a backend's memory passes a
// bound, making a new tensor first evicts the tensors that no kernel has touched in the last
// COLD_LAUNCHES calls: their contents move to ordinary ArrayBuffers, garbage that V8 sees and
// frees with a dropped array, and they come back the next time a kernel uses them. Each return
// raises the bound by the tensor's size, so a working set larger than the bound settles instead
// of moving in and out on every call.

const COLD_LAUNCHES = 64;
const FIRST_BOUND = 16 * 1024 * 1024;

/** What residency tracks of a backend's buffer. */
export interface Tracked {
  readonly byteLength: number;
  /** The value of `launches` when a kernel last read or wrote the tensor. */
  lastUse: number;
  /** Its entry in the resident map; the collector holds this, never the buffer (see dropper). */
  readonly key: object;
}

/** How one backend moves a tensor out of its memory and back. */
export interface Eviction<B extends Tracked> {
  /** Bytes of the backend's memory in use. */
  usedBytes(): number;
  /** Moves the contents out and frees the memory; returns false if this one cannot move. */
  evict(buffer: B): boolean;
  /** Allocates memory for an evicted tensor again and moves its contents back. */
  restore(buffer: B): void;
  /** Whether the tensor is out of the backend's memory. */
  isEvicted(buffer: B): boolean;
}

export class Residency<B extends Tracked> {
  /** Tensors in the backend's memory by key, oldest placed first. */
  private readonly resident = new Map<object, B>();
  /** Kernel calls so far: the clock that tells cold tensors from warm ones. */
  launches = 0;
  private bound = FIRST_BOUND;

  constructor(
    private readonly eviction: Eviction<B>,
    private readonly maxBound: number,
  ) {}

  /** Evicts cold tensors until `bytes` more fit under the bound, or none is cold. */
  makeRoom(bytes: number): void {
    const { eviction } = this;
    if (eviction.usedBytes() + bytes <= this.bound) return;
    for (const [key, other] of this.resident) {
      if (eviction.usedBytes() + bytes <= this.bound) break;
      if (this.launches - other.lastUse > COLD_LAUNCHES && eviction.evict(other)) {
        this.resident.delete(key);
      }
    }
  }

  /** Records a tensor that is now in the backend's memory. */
  placed(buffer: B): void {
    buffer.lastUse = this.launches;
    this.resident.set(buffer.key, buffer);
  }

  /** Forgets a tensor whose memory was released. */
  released(buffer: B): void {
    this.resident.delete(buffer.key);
  }

  /**
   * Marks a tensor used now and brings it back if it was evicted. Mark every tensor of a call
   * (`lastUse = launches`) before bringing any back, so that bringing one back evicts no other.
   */
  use(buffer: B): B {
    buffer.lastUse = this.launches;
    if (this.eviction.isEvicted(buffer)) {
      this.bound = Math.min(this.bound + buffer.byteLength, this.maxBound);
      this.eviction.restore(buffer);
    }
    return buffer;
  }

  /**
   * What the garbage collector keeps to free a dropped array's tensor: only its key. The
   * collector holds it until the array's finalizer runs (never, inside a synchronous loop), and
   * an evicted tensor's contents must stay garbage that V8 can free with the array.
   */
  dropper(buffer: B, release: (buffer: B) => void): () => void {
    const { key } = buffer;
    return () => {
      const resident = this.resident.get(key);
      if (resident !== undefined) release(resident);
    };
  }
}

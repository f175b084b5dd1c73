// The cpu backend's tensor storage: one WebAssembly.Memory, so that Wasm kernels (and worker
// threads, when the memory is shared) read tensors in place, with no copy per call. A first-fit
// free list with coalescing hands out 64-byte-aligned blocks (SIMD loads, and no two threads'
// chunks in one cache line); the memory grows on demand up to Wasm32's 4 GiB.

import { BackendError } from "../../core/errors.js";

const PAGE = 65536;
const ALIGN = 64;
/** Wasm32 addresses 4 GiB: 65,536 pages of 64 KiB. */
export const MAX_PAGES = 65536;

interface Block {
  offset: number;
  size: number;
}

export class Heap {
  readonly memory: WebAssembly.Memory;
  readonly shared: boolean;
  /** Free blocks below `top`, sorted by offset, never adjacent (merged on free). */
  private readonly free: Block[] = [];
  private top = ALIGN; // offset 0 stays unused, so 0 can mean "no buffer"

  constructor(shared: boolean) {
    this.shared = shared;
    this.memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared });
  }

  /** The memory's bytes; look it up after any allocation, since growing replaces the buffer. */
  get bytes(): ArrayBuffer | SharedArrayBuffer {
    return this.memory.buffer;
  }

  /** Bytes handed out and not yet freed. */
  get used(): number {
    return this.top - this.free.reduce((sum, block) => sum + block.size, 0) - ALIGN;
  }

  allocate(bytes: number): number {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    const index = this.free.findIndex((block) => block.size >= size);
    if (index >= 0) {
      const block = this.free[index]!;
      const offset = block.offset;
      if (block.size === size) this.free.splice(index, 1);
      else Object.assign(block, { offset: offset + size, size: block.size - size });
      return offset;
    }
    const offset = this.top;
    const end = offset + size;
    if (end > MAX_PAGES * PAGE) {
      throw new BackendError(
        `cpu: out of memory: ${bytes} more bytes would pass WebAssembly's 4 GiB ` +
          `(${this.used} bytes in use); dispose arrays you no longer need`,
      );
    }
    const pages = Math.ceil(end / PAGE) - this.memory.buffer.byteLength / PAGE;
    if (pages > 0) {
      try {
        this.memory.grow(pages);
      } catch {
        throw new BackendError(`cpu: could not grow memory to ${end} bytes (the system refused)`);
      }
    }
    this.top = end;
    return offset;
  }

  release(offset: number, bytes: number): void {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    let index = this.free.findIndex((block) => block.offset > offset);
    if (index < 0) index = this.free.length;
    this.free.splice(index, 0, { offset, size });
    // Merge with the following block, then the preceding one.
    const next = this.free[index + 1];
    const block = this.free[index]!;
    if (next !== undefined && block.offset + block.size === next.offset) {
      block.size += next.size;
      this.free.splice(index + 1, 1);
    }
    const previous = this.free[index - 1];
    if (previous !== undefined && previous.offset + previous.size === block.offset) {
      previous.size += block.size;
      this.free.splice(index, 1);
    }
    // A free block that ends at the top gives its space back to the bump pointer.
    const last = this.free[this.free.length - 1];
    if (last !== undefined && last.offset + last.size === this.top) {
      this.top = last.offset;
      this.free.pop();
    }
  }
}

// A module's output memory, as a layer's top blob in Caffe or `module.data` in PuzzleLib: each
// call of the same direction writes into the memory of the last one, so a loop of forward and
// backward calls allocates nothing and needs no garbage collector to stay bounded. The previous
// handle then goes stale and says so when used (GPUArray.buffer), instead of changing under the
// caller.

import type { DType } from "../core/dtype.js";
import type { Shape } from "../core/shape.js";
import type { Backend, DeviceBuffer } from "./backend.js";
import { GPUArray } from "./gpuarray.js";
import { collectStorageWhenDropped, collectWhenDropped, type Storage } from "./lifetime.js";

// A module that is dropped leaves its outputs to the handles the caller may still hold: each
// output's memory is watched by the collector from the moment it is made, and freed once
// neither the module nor any handle can reach it. (A finalizer on the module that handed the
// outputs over held them until it ran, never inside a loop that does not yield: a loop that made
// a new module every step kept every step's outputs, 0.5 MiB a step at 2^16.)

export class OutputSlot {
  private storage: Storage | null = null;
  /** The handle of the last output: held here so that handOver can give it the memory. */
  private current: GPUArray | null = null;
  /** New memory from acquire() not yet committed, with the inputs of its call. */
  private fresh: {
    backend: Backend;
    buffer: DeviceBuffer;
    inputs: readonly GPUArray[];
  } | null = null;

  /** `madeBy` names the output in a stale handle's error: "the output of ... forward". */
  constructor(private readonly madeBy: string) {}

  /**
   * Memory for the next output, of `dtype` and `size` on `backend`: the last output's when it
   * matches and is none of `inputs` (the call reads those), else new memory. Follow it with
   * commit() once the output is written, or abort() if writing it failed; until commit() the
   * last output stays valid.
   */
  acquire(backend: Backend, dtype: DType, size: number, inputs: readonly GPUArray[]): DeviceBuffer {
    const last = this.storage;
    const buffer = last?.buffer;
    if (
      last !== null &&
      buffer != null &&
      last.moduleOwned &&
      last.backend === backend &&
      buffer.dtype === dtype &&
      buffer.size === size &&
      !inputs.some((input) => input.storage === last)
    ) {
      return buffer;
    }
    this.fresh = { backend, buffer: backend.allocate(dtype, size), inputs };
    return this.fresh.buffer;
  }

  /** The output just written into acquire()'s memory; the last output's handle goes stale. */
  commit(shape: Shape): GPUArray {
    const fresh = this.fresh;
    if (fresh === null) {
      const last = this.storage!;
      last.version++;
      return (this.current = new GPUArray(last, shape));
    }
    this.fresh = null;
    this.retire(fresh.inputs);
    const { backend, buffer } = fresh;
    this.storage = { backend, buffer, version: 0, moduleOwned: true, madeBy: this.madeBy };
    collectStorageWhenDropped(this.storage);
    return (this.current = new GPUArray(this.storage, shape));
  }

  /**
   * After a failed write: gives back acquire()'s new memory, so the last output stays as it was;
   * or, if the write went into the last output's memory, makes its handle stale, since a
   * backend that failed midway (a worker that died) may have written part of it.
   */
  abort(): void {
    const fresh = this.fresh;
    this.fresh = null;
    if (fresh !== null) fresh.backend.release(fresh.buffer);
    else if (this.storage !== null) this.storage.version++;
  }

  /**
   * Gives the last output to its handle for good (reset()): the handle stays valid and is freed
   * as any array of the caller's.
   */
  handOver(): void {
    const storage = this.storage;
    const current = this.current;
    this.storage = null;
    this.current = null;
    if (storage === null || !storage.moduleOwned) return;
    storage.moduleOwned = false;
    if (current !== null) collectWhenDropped(current);
  }

  /** Lets go of the last output's memory when a call could not reuse it. */
  private retire(inputs: readonly GPUArray[]): void {
    const last = this.storage;
    if (last === null || !last.moduleOwned || last.buffer === null) return;
    // The caller passed the last output back in (act.forward(act.data)): it is theirs now.
    if (inputs.some((input) => input.storage === last)) {
      this.handOver();
      return;
    }
    // Another shape, dtype or backend: the memory is freed, and its handle goes stale.
    last.backend.release(last.buffer);
    last.buffer = null;
    last.version++;
  }
}

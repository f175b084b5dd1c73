import {
  allocateTyped,
  checkDType,
  itemSize,
  type DType,
  type TypedArrayOf,
} from "../core/dtype.js";
import { describeValue } from "../core/describe.js";
import { BackendError } from "../core/errors.js";
import { INSPECT } from "../core/inspect.js";
import { formatShape, sameShape, sizeOf, toShape, type Shape } from "../core/shape.js";
import { filledTyped, inferShape, NDArray } from "../host/ndarray.js";
import type { Backend, BackendName, DeviceBuffer } from "./backend.js";
import {
  collectWhenDropped,
  trackInScope,
  untrackFromScope,
  type Handle,
  type Storage,
} from "./lifetime.js";
import { currentBackend, startBackend } from "./registry.js";

/**
 * A tensor in a backend's memory, as PuzzleLib's GPUArray: shape, dtype and a buffer, no math.
 * Read it back with `await array.get()`; free its memory with `dispose()`.
 *
 * A module's output is owned by the module: its next call of the same direction reuses the
 * memory, and this handle then becomes stale (any use throws a BackendError). `keep(array)` or
 * `array.copy()` makes an output the caller's for good.
 */
export class GPUArray<D extends DType = DType> implements Handle {
  readonly shape: readonly number[];
  readonly dtype: D;
  readonly size: number;
  readonly backend: Backend;
  /** @internal */
  readonly storage: Storage;
  /** @internal The storage version this handle was made for. */
  readonly version: number;
  /**
   * The array a view (reshape, ravel) was made from; null for an array that owns its memory.
   * A view holds its base, so the collector frees the memory only once both are unreachable.
   */
  readonly base: GPUArray<D> | null;

  /** @internal Arrays are made by gpuarray.toGpu, empty, zeros and copy, and by modules. */
  constructor(storage: Storage, shape: Shape, base: GPUArray<D> | null = null) {
    const buffer = storage.buffer!;
    this.backend = storage.backend;
    this.storage = storage;
    this.version = storage.version;
    // A module's output shares its input's shape, which is frozen already.
    this.shape = Object.isFrozen(shape) ? shape : Object.freeze([...shape]);
    this.dtype = buffer.dtype as D;
    this.size = buffer.size;
    this.base = base;
  }

  get ndim(): number {
    return this.shape.length;
  }

  get nbytes(): number {
    return this.size * itemSize(this.dtype);
  }

  /** True once dispose() freed the memory (a stale handle is not disposed: see `stale`). */
  get disposed(): boolean {
    return !this.stale && this.storage.buffer === null;
  }

  /** True once the module that made this output has reused its memory for a later call. */
  get stale(): boolean {
    return this.version !== this.storage.version;
  }

  /** @internal The backend buffer; throws if the array is stale or was disposed. */
  get buffer(): DeviceBuffer {
    const buffer = this.storage.buffer;
    if (this.stale) throw staleError(this);
    if (buffer === null) {
      throw new BackendError(
        `use of a disposed array (shape ${formatShape(this.shape)}, ${this.dtype})`,
      );
    }
    return buffer;
  }

  /** A host copy of the contents, after all work queued on the array has finished. */
  async get(): Promise<NDArray<D>> {
    const data = await this.backend.download(this.buffer);
    return new NDArray(data as TypedArrayOf<D>, this.shape, this.dtype);
  }

  /** A new array of the caller's own, on the same backend, with the same contents. */
  copy(): GPUArray<D> {
    const source = this.buffer;
    const array = userArray<D>(
      this.backend,
      this.backend.allocate(this.dtype, this.size),
      this.shape,
    );
    this.backend.copy(array.buffer, source);
    return array;
  }

  /**
   * Writes a host array of the same shape and dtype into this array (PuzzleLib's `set`), in
   * order with the work queued on it. Returns the array.
   */
  set(host: NDArray<D>): this {
    const buffer = this.buffer;
    if (!(host instanceof NDArray)) {
      throw new BackendError(`set expects an NDArray (see np.array), got ${describeValue(host)}`);
    }
    if (host.dtype !== this.dtype || !sameShape(host.shape, this.shape)) {
      throw new BackendError(
        `set needs a host array of shape ${formatShape(this.shape)} and dtype ${this.dtype}, ` +
          `got ${formatShape(host.shape)} ${host.dtype}` +
          (host.size === this.size && host.dtype === this.dtype ? "; reshape it first" : ""),
      );
    }
    this.backend.upload(buffer, host.data);
    return this;
  }

  /** Sets every element to `value`, cast to the dtype as numpy casts (PuzzleLib's `fill`). */
  fill(value: number): this {
    const buffer = this.buffer;
    if (typeof value !== "number") {
      throw new BackendError(`fill expects a number, got ${describeValue(value)}`);
    }
    this.backend.upload(buffer, filledTyped(this.dtype, this.size, value));
    return this;
  }

  /**
   * A view of the same memory with a new shape of the same size (one dimension may be -1), as
   * PuzzleLib's reshape: writes through either show in both, dispose() of either frees the
   * memory, and a view of a module's output goes stale with it.
   */
  reshape(...shape: (number | Shape)[]): GPUArray<D> {
    const dims =
      shape.length === 1 && Array.isArray(shape[0]) ? (shape[0] as Shape) : (shape as number[]);
    if (!dims.every((dim) => typeof dim === "number")) {
      throw new BackendError(
        `reshape takes dimensions (numbers, one may be -1) or one shape array, got ${describeValue(shape)}`,
      );
    }
    this.buffer; // throws for a stale or disposed array
    return new GPUArray<D>(this.storage, inferShape(dims, this.size), this.base ?? this);
  }

  /** A 1-d view of the same memory, as numpy's ravel of a contiguous array. */
  ravel(): GPUArray<D> {
    return this.reshape(this.size);
  }

  /**
   * A copy on another backend ("cpu", "js" or "webgpu"), started if need be; the current
   * backend stays as it is. On the same backend it is copy().
   */
  async to(name: BackendName): Promise<GPUArray<D>> {
    const target = await startBackend(name);
    if (target === this.backend) return this.copy();
    return uploaded(target, await this.get());
  }

  /**
   * Frees the backend memory. Later use of the array throws; disposing twice, or disposing a
   * stale output (whose memory the module holds), does nothing.
   */
  dispose(): void {
    const buffer = this.storage.buffer;
    if (buffer === null || this.stale) return;
    this.storage.buffer = null;
    this.backend.release(buffer);
  }

  toString(): string {
    const state = this.stale ? ", stale" : this.disposed ? ", disposed" : "";
    return `GPUArray(shape=${formatShape(this.shape)}, dtype=${this.dtype}, backend=${this.backend.name}${state})`;
  }

  /**
   * What console.log prints in Node: toString(), then the values as numpy's repr where the
   * backend can read them synchronously (cpu always; webgpu while they are what was uploaded).
   */
  [INSPECT](): string {
    const buffer = this.storage.buffer;
    const values = buffer === null || this.stale ? null : (this.backend.peek?.(buffer) ?? null);
    if (values === null) {
      return buffer === null || this.stale
        ? this.toString()
        : `${this.toString()}\n(on the device: await array.get() reads the values)`;
    }
    const host = new NDArray(values as TypedArrayOf<D>, this.shape, this.dtype);
    return `${this.toString()}\n${host[INSPECT]()}`;
  }
}

function staleError(array: GPUArray): BackendError {
  return new BackendError(
    `use of a stale array (shape ${formatShape(array.shape)}, ${array.dtype}): it was ` +
      `${array.storage.madeBy}, and a later call of that module has reused its memory. ` +
      `A module's output stays valid until the module's next call of the same direction; ` +
      `to keep one longer, call keep(output) or output.copy() before that call`,
  );
}

/** @internal Throws the stale-array BackendError if a module has reused the array's memory. */
export function assertNotStale(array: GPUArray): void {
  if (array.stale) throw staleError(array);
}

/**
 * @internal An array the caller owns: freed by dispose(), by the tidy() scope it was made in,
 * or by the garbage collector once dropped.
 */
export function userArray<D extends DType = DType>(
  backend: Backend,
  buffer: DeviceBuffer,
  shape: Shape,
): GPUArray<D> {
  const storage: Storage = { backend, buffer, version: 0, moduleOwned: false, madeBy: "" };
  const array = new GPUArray<D>(storage, shape);
  collectWhenDropped(array);
  trackInScope(array);
  return array;
}

/**
 * Makes `array` the caller's for good: a module's output is no longer reused by the module's
 * next call (the module allocates a new one), and an array made inside tidy() outlives the
 * scope. The garbage collector, or dispose(), still frees it. Returns the array.
 */
export function keep<T extends GPUArray>(array: T): T {
  if (!(array instanceof GPUArray)) {
    throw new BackendError("keep expects a GPUArray");
  }
  if (array.stale) throw staleError(array);
  // A view is kept through its base, which it holds: the collector watches the base.
  const owner = array.base ?? array;
  untrackFromScope(owner);
  if (owner.storage.moduleOwned) {
    owner.storage.moduleOwned = false;
    collectWhenDropped(owner);
  }
  return array;
}

/** Copies a host array to the current backend (PuzzleLib's gpuarray.to_gpu). */
function toGpu<D extends DType>(array: NDArray<D>): GPUArray<D> {
  if (!(array instanceof NDArray)) {
    throw new BackendError(
      `gpuarray.toGpu expects an NDArray (make one with np.array), got ${describeValue(array)}`,
    );
  }
  return uploaded(currentBackend(), array);
}

/** A new array of the caller's on `backend`, holding a copy of `host`. */
function uploaded<D extends DType>(backend: Backend, host: NDArray<D>): GPUArray<D> {
  const buffer = backend.allocate(host.dtype, host.size);
  backend.upload(buffer, host.data);
  return userArray<D>(backend, buffer, host.shape);
}

/** An array on the current backend with unspecified contents. */
function empty<D extends DType = "float32">(
  shape: Shape | number,
  dtype: D = "float32" as D,
): GPUArray<D> {
  const dims = toShape(shape);
  const size = sizeOf(dims);
  const backend = currentBackend();
  return userArray<D>(backend, backend.allocate(checkDType(dtype), size), dims);
}

/** An array of zeros on the current backend. */
function zeros<D extends DType = "float32">(
  shape: Shape | number,
  dtype: D = "float32" as D,
): GPUArray<D> {
  const array = empty(shape, dtype);
  array.backend.upload(array.buffer, allocateTyped(array.dtype, array.size));
  return array;
}

export const gpuarray = { toGpu, empty, zeros, GPUArray };

// Bind groups cached per buffer set: creating one per call is CPU time that, for small tensors,
// costs more than the kernel. A cached group names GPU buffers, so it is dropped when any of them
// is destroyed; the pool reuses buffers, so a workload's groups stay few.

/** Entries above this clear the cache (a workload that keeps making new buffer sets). */
const MAX_ENTRIES = 4096;

/** One storage binding: the buffer and the bytes of it bound (a tensor's, not the bucket's). */
export interface BoundBuffer {
  readonly buffer: GPUBuffer;
  readonly size: number;
}

export class BindGroupCache {
  private readonly groups = new Map<string, GPUBindGroup>();
  /** For each buffer, the keys of the groups that name it. */
  private readonly users = new Map<GPUBuffer, Set<string>>();
  private readonly ids = new WeakMap<GPUBuffer | GPUBindGroupLayout, number>();
  private nextId = 0;
  private made = 0;

  constructor(private readonly device: GPUDevice) {}

  /** How many bind groups have been created: flat once a workload's buffer sets have been seen. */
  get created(): number {
    return this.made;
  }

  /**
   * The group of `layout` that binds `first` at binding 0 (a uniform, bound with a dynamic
   * offset) and `storage` at bindings 1, 2, ...
   */
  get(
    layout: GPUBindGroupLayout,
    first: BoundBuffer,
    storage: readonly BoundBuffer[],
  ): GPUBindGroup {
    const all = [first, ...storage];
    const key = `${this.id(layout)}|${all.map((b) => `${this.id(b.buffer)}:${b.size}`).join(",")}`;
    let group = this.groups.get(key);
    if (group === undefined) {
      if (this.groups.size >= MAX_ENTRIES) this.clear();
      group = this.device.createBindGroup({
        layout,
        entries: all.map((b, binding) => ({
          binding,
          resource: { buffer: b.buffer, size: b.size },
        })),
      });
      this.made++;
      this.groups.set(key, group);
      for (const { buffer } of all) {
        const keys = this.users.get(buffer) ?? new Set<string>();
        keys.add(key);
        this.users.set(buffer, keys);
      }
    }
    return group;
  }

  /** Forgets every group that names `buffer`, which is about to be destroyed. */
  forget(buffer: GPUBuffer): void {
    for (const key of this.users.get(buffer) ?? []) this.groups.delete(key);
    this.users.delete(buffer);
  }

  private clear(): void {
    this.groups.clear();
    this.users.clear();
  }

  private id(object: GPUBuffer | GPUBindGroupLayout): number {
    let id = this.ids.get(object);
    if (id === undefined) {
      id = this.nextId++;
      this.ids.set(object, id);
    }
    return id;
  }
}

// The fixed-size buffers behind float32 kernels' redo pass (see storeFloat32 in
// wgsl-renderer.ts): a queue of the elements `main` could not compute exactly, and a bitmap of
// the workgroups that found the queue full. Both are made once per device, so a launch binds no
// buffer that grows with its tensor, and their bind groups (group 1) are made once as well.

import { BackendError } from "../../core/errors.js";
import {
  MAX_REDO_CAPACITY,
  REDO_BINDINGS,
  REDO_HEADER_WORDS,
  WORKGROUP_SIZE,
} from "./wgsl-renderer.js";

/** Queue entries: 256 KiB; a launch with more elements to redo spills whole workgroups. */
export const DEFAULT_REDO_CAPACITY = 65536;
// `redo` covers the queue with one dimension of workgroups.
if (DEFAULT_REDO_CAPACITY > MAX_REDO_CAPACITY) throw new Error("redo queue too large");

export type RedoEntry = "main" | "redo" | "sweep";

export class RedoQueue {
  readonly queue: GPUBuffer;
  readonly spilled: GPUBuffer;
  /** Group 1's layout and bind group for each entry point. */
  readonly layouts: Record<RedoEntry, GPUBindGroupLayout>;
  readonly groups: Record<RedoEntry, GPUBindGroup>;
  private usable: number = DEFAULT_REDO_CAPACITY;

  constructor(device: GPUDevice) {
    const usage = GPUBufferUsage;
    const queueBytes = (REDO_HEADER_WORDS + DEFAULT_REDO_CAPACITY) * 4;
    // One bit per workgroup of the largest tensor the device binds.
    const maxGroups = Math.ceil(device.limits.maxStorageBufferBindingSize / 4 / WORKGROUP_SIZE);
    const spilledBytes = Math.max(16, Math.ceil(maxGroups / 32) * 4);
    this.queue = device.createBuffer({
      size: queueBytes,
      usage: usage.STORAGE | usage.INDIRECT | usage.COPY_DST,
      label: "redo queue",
    });
    this.spilled = device.createBuffer({
      size: spilledBytes,
      usage: usage.STORAGE,
      label: "spilled workgroups",
    });
    const compute = GPUShaderStage.COMPUTE;
    const entry = (binding: number, type: GPUBufferBindingType): GPUBindGroupLayoutEntry => ({
      binding,
      visibility: compute,
      buffer: { type },
    });
    const { queue, spilled, queued } = REDO_BINDINGS;
    const specs: Record<RedoEntry, [number, GPUBufferBindingType, GPUBuffer][]> = {
      main: [
        [queue, "storage", this.queue],
        [spilled, "storage", this.spilled],
      ],
      // Read-only: the same buffer gives this dispatch its size (indirect).
      redo: [[queued, "read-only-storage", this.queue]],
      sweep: [[spilled, "storage", this.spilled]],
    };
    const layouts = {} as Record<RedoEntry, GPUBindGroupLayout>;
    const groups = {} as Record<RedoEntry, GPUBindGroup>;
    for (const name of ["main", "redo", "sweep"] as const) {
      const spec = specs[name];
      layouts[name] = device.createBindGroupLayout({
        entries: spec.map(([binding, type]) => entry(binding, type)),
        label: `redo ${name}`,
      });
      groups[name] = device.createBindGroup({
        layout: layouts[name],
        entries: spec.map(([binding, , buffer]) => ({ binding, resource: { buffer } })),
      });
    }
    this.layouts = layouts;
    this.groups = groups;
  }

  /** The buffers made: for the backend's stats. */
  static readonly BUFFERS = 2;

  /** Queue entries a launch may use (L.capacity): at most the queue's size. */
  get capacity(): number {
    return this.usable;
  }

  /** Lowers the capacity, so that tests can make the queue overflow; at most the queue's size. */
  set capacity(entries: number) {
    if (!Number.isInteger(entries) || entries < 0 || entries > DEFAULT_REDO_CAPACITY) {
      throw new BackendError(
        `webgpu: the redo capacity must be an integer in [0, ${DEFAULT_REDO_CAPACITY}]`,
      );
    }
    this.usable = entries;
  }
}

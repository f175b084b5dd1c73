// How long a device array's memory lives. Three owners, one rule each:
// - a module owns its outputs (OutputSlot): the next call of the same direction reuses the memory
//   and makes the previous handle stale, so repeated calls allocate nothing and need no collector;
// - a tidy scope owns the arrays made inside it, and frees them when it ends;
// - everything else (toGpu, empty, zeros, copy, kept outputs) is the user's: dispose() frees it,
//   and so does the garbage collector, through the FinalizationRegistry below.

import type { Backend, DeviceBuffer } from "./backend.js";

/** One tensor's memory, shared by the handles that have pointed at it; buffer is null once freed. */
export interface Storage {
  readonly backend: Backend;
  buffer: DeviceBuffer | null;
  /**
   * Bumped each time a module rewrites the memory: a handle is usable while its version is this
   * one. Arrays the user owns keep version 0 for life.
   */
  version: number;
  /** Held by a module's OutputSlot, which may rewrite it; false once kept or handed over. */
  moduleOwned: boolean;
  /** What the stale handles of this memory were, for the error they throw. */
  readonly madeBy: string;
}

/** A handle, as the collector and the scopes see it: GPUArray implements this. */
export interface Handle {
  readonly storage: Storage;
  readonly version: number;
  dispose(): void;
}

function releaseOnce(storage: Storage): () => void {
  return () => {
    if (storage.buffer === null) return;
    storage.backend.release(storage.buffer);
    storage.buffer = null;
  };
}

// Frees the memory of a user's array dropped without dispose(). Registered without an unregister
// token: dispose() marks the memory freed instead. A token per array made each dropped array
// cost ~15 us in V8 (its token table grows until a full GC); without one, registering is ~0.3 us.
// Only arrays the user owns are registered, and they keep their version and owner for life, so
// the release needs no check beyond the backend's own.
const collector = new FinalizationRegistry<() => void>((release) => release());

// Registration is deferred to the next macrotask, when arrays disposed by then (a training step's
// temporaries) need none: registering costs ~0.7 us with the collection of its weak cell, as much
// as the rest of a small kernel call. The delay loses nothing: finalization callbacks only run
// between macrotasks anyway.
let pending: Handle[] = [];
const nextMacrotask: (callback: () => void) => void =
  globalThis.setImmediate ?? ((callback) => setTimeout(callback, 0));

function registerPending(): void {
  const handles = pending;
  pending = [];
  for (const handle of handles) {
    const { storage, version } = handle;
    if (storage.buffer !== null && storage.version === version && !storage.moduleOwned) {
      collector.register(handle, storage.backend.dropper?.(storage.buffer) ?? releaseOnce(storage));
    }
  }
}

/**
 * For a module's output memory (output-slot.ts), once made: freed when the storage is
 * unreachable, that is when the module and every handle of it (the last output, a stale one, a
 * view) are, as each holds it. The collector keeps only the backend's dropper, a key: holding
 * the storage would keep it, and with it contents that residency moved to an ordinary
 * ArrayBuffer, until a finalizer ran, which inside a loop that never yields is never. A backend
 * without one (js) needs nothing: V8 sees its memory.
 */
export function collectStorageWhenDropped(storage: Storage): void {
  const drop = storage.buffer === null ? undefined : storage.backend.dropper?.(storage.buffer);
  if (drop !== undefined) collector.register(storage, drop);
}

/**
 * Past this many, a loop that never yields registers them at once rather than hold them all: the
 * list keeps its arrays alive, and with them the host copies of evicted tensors (256 KiB each in
 * a loop at 2^16), so it stays short.
 */
const MAX_PENDING = 64;

/** Hands a user's array to the collector, which frees its memory once the array is unreachable. */
export function collectWhenDropped(handle: Handle): void {
  if (pending.length === 0) nextMacrotask(registerPending);
  else if (pending.length >= MAX_PENDING) registerPending();
  pending.push(handle);
}

/** The arrays made inside each running tidy(), innermost last. */
const scopes: Set<Handle>[] = [];

/** Records a new user array in the innermost running tidy(), which frees it unless kept. */
export function trackInScope(handle: Handle): void {
  scopes[scopes.length - 1]?.add(handle);
}

/** Takes an array out of every running scope, so that no tidy() frees it. */
export function untrackFromScope(handle: Handle): void {
  for (const scope of scopes) scope.delete(handle);
}

/**
 * Runs `body` in a fresh scope and returns the set of arrays it made, with the outer scope
 * restored whatever happens. If `body` throws, what it made is freed before the error goes on.
 */
export function inScope<T>(body: () => T): { result: T; made: Set<Handle> } {
  const made = new Set<Handle>();
  scopes.push(made);
  try {
    return { result: body(), made };
  } catch (error) {
    for (const handle of made) handle.dispose();
    throw error;
  } finally {
    scopes.pop();
  }
}

import { BackendError } from "../core/errors.js";
import type { Backend, BackendName, BackendOptions } from "./backend.js";
import { CpuBackend } from "./cpu/cpu-backend.js";
import { JsBackend } from "./cpu/js-backend.js";

// Factories are async so that heavy backends (webgpu) can be imported lazily: CPU users never
// load them.
const FACTORIES: Record<BackendName, () => Promise<Backend>> = {
  cpu: async () => new CpuBackend(),
  js: async () => new JsBackend(),
  webgpu: async () => (await import("./webgpu/webgpu-backend.js")).createWebGpuBackend(),
};

export const BACKEND_NAMES = Object.keys(FACTORIES) as BackendName[];

const started = new Map<BackendName, Backend>();
let current: Backend = startCpu();

function startCpu(): Backend {
  const backend = new CpuBackend();
  started.set("cpu", backend);
  return backend;
}

/**
 * Makes `name` the backend that new arrays go to. Arrays already made stay on their backend.
 * Rejects, leaving the current backend as it was, if the backend is unknown or cannot start.
 */
export async function setBackend(name: BackendName, options: BackendOptions = {}): Promise<void> {
  if (!Object.hasOwn(FACTORIES, name)) {
    throw new BackendError(
      `unknown backend ${JSON.stringify(name)}; available: ${BACKEND_NAMES.join(", ")}`,
    );
  }
  let backend = started.get(name);
  if (backend === undefined) {
    backend = await FACTORIES[name]();
    started.set(name, backend);
  }
  await backend.configure?.(options);
  current = backend;
}

/** The name of the backend new arrays go to; "cpu" unless setBackend chose another. */
export function getBackend(): BackendName {
  return current.name;
}

export function currentBackend(): Backend {
  return current;
}

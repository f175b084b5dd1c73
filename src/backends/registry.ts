import { describeName, describeValue, quote } from "../core/describe.js";
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

const started = new Map<BackendName, Promise<Backend>>();
let requests = 0;
let current: Backend = startCpu();

function startCpu(): Backend {
  const backend = new CpuBackend();
  started.set("cpu", Promise.resolve(backend));
  return backend;
}

/**
 * Makes `name` the backend that new arrays go to. Arrays already made stay on their backend.
 * Rejects, leaving the current backend as it was, if the backend is unknown or cannot start.
 */
export async function setBackend(name: BackendName, options: BackendOptions = {}): Promise<void> {
  checkName(name);
  checkOptions(options);
  const request = ++requests;
  const backend = await startBackend(name);
  await backend.configure?.(options);
  // Overlapping calls: the one made last decides, whichever finishes last.
  if (request === requests) current = backend;
}

/**
 * The backend called `name`, started on first use (one start, shared by concurrent calls; a
 * backend that died is started anew). The current backend does not change.
 */
export async function startBackend(name: BackendName): Promise<Backend> {
  checkName(name);
  let starting = started.get(name);
  if (starting === undefined || (await starting).usable === false) {
    starting = FACTORIES[name]();
    started.set(name, starting);
    starting.catch(() => started.delete(name));
  }
  return starting;
}

function checkName(name: unknown): asserts name is BackendName {
  if (typeof name !== "string" || !Object.hasOwn(FACTORIES, name)) {
    throw new BackendError(
      `unknown backend ${describeName(name)}; available: ${BACKEND_NAMES.join(", ")}`,
    );
  }
}

const OPTION_NAMES: readonly (keyof BackendOptions)[] = ["threads", "fusedMultiplyAdd"];

function checkOptions(options: unknown): void {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new BackendError(
      `setBackend options must be an object {${OPTION_NAMES.join(", ")}}, got ${describeValue(options)}`,
    );
  }
  const unknown = Object.keys(options).find((key) => !(OPTION_NAMES as string[]).includes(key));
  if (unknown !== undefined) {
    throw new BackendError(
      `unknown setBackend option ${quote(unknown)}; allowed: ${OPTION_NAMES.join(", ")}`,
    );
  }
}

/** The name of the backend new arrays go to; "cpu" unless setBackend chose another. */
export function getBackend(): BackendName {
  return current.name;
}

export function currentBackend(): Backend {
  return current;
}

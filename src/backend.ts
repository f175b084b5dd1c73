// puzzlelib-ts/backend: device arrays and the choice of backend.
export { gpuarray, GPUArray } from "./backends/gpuarray.js";
export { setBackend, getBackend } from "./backends/registry.js";
export type { BackendName, BackendOptions } from "./backends/backend.js";
export { keep } from "./backends/gpuarray.js";
export { tidy } from "./backends/tidy.js";

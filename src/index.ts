// puzzlelib-ts: PuzzleLib's Activation module for Node.js and browsers.
export { np } from "./host/np.js";
export { NDArray } from "./host/ndarray.js";
export type { NestedArray } from "./host/ndarray.js";
export type { DType } from "./core/dtype.js";
export { BackendError } from "./core/errors.js";
export * from "./backend.js";
export * from "./modules.js";
export { ACTIVATION_NAMES } from "./ops/activations.js";

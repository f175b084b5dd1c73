// puzzlelib-ts/modules: the Module base class, Activation and blueprints.
export { Module } from "./modules/module.js";
export type { BackwardOptions, BlueprintData, Json } from "./modules/module.js";
export { Activation, ActivationType } from "./modules/activation.js";
export type { ActivationOptions } from "./modules/activation.js";
export { Blueprint } from "./modules/blueprint.js";
export { ModuleError } from "./core/errors.js";
export { slice } from "./core/slice.js";
export type { Slice } from "./core/slice.js";
export type { ActivationName } from "./ops/activations.js";

import { describeName } from "../core/describe.js";
import { ModuleError } from "../core/errors.js";
import type { BlueprintData, Json, Module } from "./module.js";

type Builder = (scheme: { [key: string]: Json }) => Module;

const builders = new Map<string, Builder>();

/** Rebuilds modules from getBlueprint() output, by registered class name. */
export const Blueprint = {
  /** Registers how to rebuild a class from its scheme; each module class registers itself. */
  register(classname: string, builder: Builder): void {
    builders.set(classname, builder);
  },

  /** A new module from a blueprint, also one that went through JSON.stringify and JSON.parse. */
  build(blueprint: BlueprintData): Module {
    if (typeof blueprint !== "object" || blueprint === null) {
      throw new ModuleError("a blueprint must be an object {classname, scheme}");
    }
    const { classname, scheme } = blueprint;
    const builder = typeof classname === "string" ? builders.get(classname) : undefined;
    if (builder === undefined) {
      throw new ModuleError(
        `unknown module class ${describeName(classname)} in blueprint; known: ${[...builders.keys()].join(", ")}`,
      );
    }
    if (typeof scheme !== "object" || scheme === null || Array.isArray(scheme)) {
      throw new ModuleError(`blueprint of ${classname} has no scheme object`);
    }
    return builder(scheme);
  },
};

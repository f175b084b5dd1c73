/**
 * The key Node's util.inspect (and so console.log) looks up for an object's own rendering. A
 * registered symbol, so the core path needs nothing from Node and browsers just ignore it.
 */
export const INSPECT: unique symbol = Symbol.for("nodejs.util.inspect.custom") as never;

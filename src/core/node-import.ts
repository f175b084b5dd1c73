/** Whether this is Node.js (or a runtime that presents itself as Node). */
export function isNode(): boolean {
  return typeof process !== "undefined" && process.versions?.node !== undefined;
}

/**
 * Imports a Node built-in module at run time. The specifier is a variable so that bundlers leave
 * the import alone: the core must bundle for browsers, where these paths are never taken.
 */
export async function importNode<T>(name: "fs" | "os" | "worker_threads"): Promise<T> {
  const specifier = `node:${name}`;
  return (await import(/* @vite-ignore */ specifier)) as T;
}

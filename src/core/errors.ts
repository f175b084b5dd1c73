/** Raised by modules for bad arguments or bad data, as PuzzleLib's ModuleError. */
export class ModuleError extends Error {
  override name = "ModuleError";
}

/** Raised by arrays and backends: bad shapes or dtypes, disposed arrays, missing backends. */
export class BackendError extends Error {
  override name = "BackendError";
}

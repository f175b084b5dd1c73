// np.arange and np.linspace, with numpy 1.24's arithmetic, so that the values are numpy's bit for
// bit: arange stores start and start + step, then fills start + i * delta in the array's own
// dtype (numpy's <TYPE>_fill); linspace computes in float64 and casts at the end.

import { checkDType, type DType } from "../core/dtype.js";
import { describeValue } from "../core/describe.js";
import { BackendError } from "../core/errors.js";
import { halfToNumber, numberToHalf } from "./float16.js";
import { inferDType, NDArray, writeNumber, type InferredDType } from "./ndarray.js";
import { allocateTyped } from "../core/dtype.js";

/**
 * Evenly spaced values in [start, stop) by step, as np.arange: `arange(stop)`,
 * `arange(start, stop)` or `arange(start, stop, step)`, each optionally followed by a dtype.
 * Without a dtype, integer arguments give int32 when every value fits (numpy: int64), else
 * float64.
 */
export function arange<D extends DType>(stop: number, dtype: D): NDArray<D>;
export function arange<D extends DType>(start: number, stop: number, dtype: D): NDArray<D>;
export function arange<D extends DType>(
  start: number,
  stop: number,
  step: number,
  dtype: D,
): NDArray<D>;
export function arange(start: number, stop?: number, step?: number): NDArray<InferredDType>;
export function arange(...args: (number | DType | undefined)[]): NDArray {
  while (args.length > 0 && args[args.length - 1] === undefined) args.pop();
  const last = args[args.length - 1];
  const dtype = typeof last === "string" ? checkDType(last) : undefined;
  const numbers = dtype === undefined ? args : args.slice(0, -1);
  if (numbers.length < 1 || numbers.length > 3) {
    throw new BackendError(
      `np.arange takes (stop), (start, stop) or (start, stop, step), then an optional dtype; ` +
        `got ${args.length} arguments`,
    );
  }
  for (const value of numbers) {
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw new BackendError(
        `np.arange: start, stop and step must be finite numbers, got ${describeValue(value)}`,
      );
    }
  }
  const [start, stop, step] = (
    numbers.length === 1 ? [0, numbers[0], 1] : [numbers[0], numbers[1], numbers[2] ?? 1]
  ) as [number, number, number];
  if (step === 0) throw new BackendError("np.arange: step must not be zero");
  const length = Math.max(0, Math.ceil((stop - start) / step));
  if (dtype === undefined) {
    const integers = numbers.every(Number.isInteger);
    const lastValue = start + (length - 1) * step;
    const chosen =
      integers && inferDType([start, Math.max(start, lastValue)]) === "int32" ? "int32" : "float64";
    // Integer steps are exact in either dtype: numpy's int64 fill is plain start + i * step.
    return filled(chosen, length, start, start + step);
  }
  return filled(dtype, length, start, start + step);
}

/** numpy's <TYPE>_fill: the first two elements cast to the dtype, the rest first + i * delta. */
function filled(dtype: DType, length: number, first: number, second: number): NDArray {
  const data = allocateTyped(dtype, length);
  if (length > 0) writeNumber(data, dtype, 0, first);
  if (length > 1) writeNumber(data, dtype, 1, second);
  if (length > 2) {
    switch (dtype) {
      case "float64":
      case "int32": {
        // int32: integer arithmetic on the stored (truncated) values, exact in a double.
        const start = data[0]!;
        const delta = data[1]! - start;
        for (let i = 2; i < length; i++) writeNumber(data, dtype, i, start + i * delta);
        break;
      }
      case "float32": {
        const start = data[0]!;
        const delta = Math.fround(data[1]! - start);
        for (let i = 2; i < length; i++) data[i] = start + Math.fround(i * delta);
        break;
      }
      case "float16": {
        // HALF_fill computes in float32 and rounds each value to half.
        const start = halfToNumber(data[0]!);
        const delta = Math.fround(halfToNumber(data[1]!) - start);
        for (let i = 2; i < length; i++) {
          data[i] = numberToHalf(Math.fround(start + Math.fround(i * delta)));
        }
        break;
      }
      default:
        dtype satisfies never;
    }
  }
  return new NDArray(data, [length], dtype);
}

export interface LinspaceOptions<D extends DType> {
  /** Whether stop is the last sample. Default true. */
  endpoint?: boolean;
  /** Default float64. Integer dtypes take the floor, as numpy does. */
  dtype?: D;
}

/**
 * `num` evenly spaced samples from start to stop (included unless `endpoint: false`), as
 * np.linspace: computed in float64 and cast to the dtype.
 */
export function linspace<D extends DType = "float64">(
  start: number,
  stop: number,
  num = 50,
  options: LinspaceOptions<D> = {},
): NDArray<D> {
  for (const value of [start, stop]) {
    if (typeof value !== "number") {
      throw new BackendError(
        `np.linspace: start and stop must be numbers, got ${describeValue(value)}`,
      );
    }
  }
  if (!Number.isInteger(num) || num < 0) {
    throw new BackendError(
      `np.linspace: the number of samples must be a non-negative integer, got ${describeValue(num)}`,
    );
  }
  if (typeof options !== "object" || options === null) {
    throw new BackendError(
      `np.linspace options must be an object {endpoint, dtype}, got ${describeValue(options)}`,
    );
  }
  const { endpoint = true } = options;
  const dtype = checkDType(options.dtype ?? "float64") as D;
  if (typeof endpoint !== "boolean") {
    throw new BackendError(
      `np.linspace: endpoint must be true or false, got ${describeValue(endpoint)}`,
    );
  }
  const div = endpoint ? num - 1 : num;
  const delta = stop - start;
  const step = delta / div;
  const data = allocateTyped(dtype, num);
  for (let i = 0; i < num; i++) {
    // numpy: y = arange(num) * step, or (y / div) * delta where step underflows to 0, or
    // y * delta when there is no step (one sample with the endpoint); then y += start.
    let value = div > 0 ? (step === 0 ? (i / div) * delta : i * step) : i * delta;
    value += start;
    if (endpoint && num > 1 && i === num - 1) value = stop;
    if (dtype === "int32") value = Math.floor(value);
    writeNumber(data, dtype, i, value);
  }
  return new NDArray(data, [num], dtype);
}

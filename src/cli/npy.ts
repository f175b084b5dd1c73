// The .npy format (numpy/lib/format.py): a magic string, a version, a header that is a Python
// dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }, then the raw data.
// This file parses and formats headers and converts raw data; npy-file.ts does the file I/O.

import type { AnyTypedArray, DType } from "../core/dtype.js";
import { allocateTyped, itemSize, typedView } from "../core/dtype.js";
import { clipText, quote } from "../core/describe.js";
import { formatShape, MAX_DIMS } from "../core/shape.js";
import { halfToNumber, numberToHalf } from "../host/float16.js";
import { NDArray } from "../host/ndarray.js";
import { NpyError, parseLiteral, PyTuple } from "./npy-literal.js";

export { NpyError };

export const MAGIC = Uint8Array.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

/** Bytes before the header text: magic, major, minor, then a 2-byte (1.0) or 4-byte length. */
export function preambleLength(major: number): number {
  return major === 1 ? 10 : 12;
}

export { MAX_DIMS };

/**
 * The dtypes a .npy input may hold: the library's, and int64 (numpy's default integer, as
 * np.arange makes), which is only ever converted, never computed in.
 */
export type NpyDType = DType | "int64";

// The dtypes we read, by numpy's type code. The byte order is '<' or '>', or native: '|', '='
// or none at all (numpy reads 'f4' and '|f4' as the host's order).
const CODES: Record<string, NpyDType> = {
  f2: "float16",
  f4: "float32",
  f8: "float64",
  i4: "int32",
  i8: "int64",
};
const DESCR = /^([<>|=]?)(f2|f4|f8|i4|i8)$/;
const SUPPORTED = "<f4, <f2, <f8, <i4, <i8 and their big-endian (>) forms";

/** Bytes an element of `dtype` takes in a file. */
export function npyItemSize(dtype: NpyDType): number {
  return dtype === "int64" ? 8 : itemSize(dtype);
}

export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export interface NpyHeader {
  readonly version: string;
  readonly descr: string;
  readonly dtype: NpyDType;
  readonly littleEndian: boolean;
  readonly shape: readonly number[];
  /** Elements: the product of the shape (1 for a 0-d array). */
  readonly size: number;
  /** Where the data start, in bytes from the start of the file. */
  readonly dataOffset: number;
  readonly dataBytes: number;
}

const TRUNCATED_HEADER = "is truncated inside its header; write it again with numpy.save";

/**
 * Reads the preamble (at least the first 12 bytes of the file, or all of a shorter file) and
 * returns the version and the total length of preamble + header, so the caller knows how much
 * to read before parseHeader.
 */
export function readPreamble(bytes: Uint8Array): { major: number; minor: number; total: number } {
  if (bytes.length < MAGIC.length || MAGIC.some((byte, i) => bytes[i] !== byte)) {
    throw new NpyError(
      "is not a .npy file (it does not start with \\x93NUMPY); write it with numpy.save",
    );
  }
  const major = bytes[6];
  const minor = bytes[7];
  if (major === undefined || minor === undefined) throw new NpyError(TRUNCATED_HEADER);
  if (!(major >= 1 && major <= 3 && minor === 0)) {
    throw new NpyError(
      `uses .npy format version ${major}.${minor}; only 1.0, 2.0 and 3.0 exist: the file is corrupt or from a newer numpy`,
    );
  }
  const preamble = preambleLength(major);
  if (bytes.length < preamble) throw new NpyError(TRUNCATED_HEADER);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  return { major, minor, total: preamble + headerLength };
}

/**
 * Parses a whole preamble + header. `fileBytes` is the file's size, so that a header promising
 * more data than the file holds, or less, is caught here with its own message; null for a
 * stream, whose length is only known at its end (the reader checks it then).
 */
export function parseHeader(bytes: Uint8Array, fileBytes: number | null): NpyHeader {
  const { major, minor, total } = readPreamble(bytes);
  if (bytes.length < total || (fileBytes !== null && fileBytes < total)) {
    throw new NpyError(
      `is truncated inside its header (the header is ${total} bytes, the ${fileBytes === null ? "stream ended after" : "file"} ${fileBytes ?? bytes.length}); write it again with numpy.save`,
    );
  }
  const dict = parseLiteral(
    decodeText(bytes.subarray(preambleLength(major), total), major),
    major < 3,
  );
  const keys = [...dict.keys()];
  if (keys.length !== 3 || !["descr", "fortran_order", "shape"].every((key) => dict.has(key))) {
    throw new NpyError(
      `has a header with keys {${clipText(keys.map((key) => quote(key, 20)).join(", "))}}, not {descr, fortran_order, shape}: it is not a valid .npy file`,
    );
  }
  const descr = dict.get("descr");
  const fortranOrder = dict.get("fortran_order");
  const rawShape = dict.get("shape");
  if (typeof descr !== "string") {
    throw new NpyError(
      `holds a structured dtype; supported: ${SUPPORTED}. Save a plain array instead`,
    );
  }
  const code = DESCR.exec(descr);
  if (code === null) {
    throw new NpyError(
      `has dtype ${quote(descr)}, which is not supported; supported: ${SUPPORTED}. Convert it with a.astype(np.float32)`,
    );
  }
  const order = code[1]!;
  const dtype = CODES[code[2]!]!;
  if (typeof fortranOrder !== "boolean") {
    throw new NpyError(
      "has a fortran_order that is not True or False: it is not a valid .npy file",
    );
  }
  // numpy wants a tuple: a list such as [3, 4] is refused there, so it is here.
  if (
    !(rawShape instanceof PyTuple) ||
    !rawShape.items.every((dim) => typeof dim === "bigint" && dim >= 0n)
  ) {
    throw new NpyError(
      "has a shape that is not a tuple of non-negative integers: it is not a valid .npy file",
    );
  }
  const dims = rawShape.items as bigint[];
  const written = clipText(`(${dims.join(", ")}${dims.length === 1 ? "," : ""})`);
  if (dims.length > MAX_DIMS) {
    throw new NpyError(
      `has ${dims.length} dimensions; numpy allows at most ${MAX_DIMS}: the header is corrupt`,
    );
  }
  const item = npyItemSize(dtype);
  // numpy refuses a shape whose dimensions, zeros left out, multiply past its index type even
  // when the array is empty; the bound here is JavaScript's safe integers, in bytes.
  const extent = dims.reduce((a, b) => (b === 0n ? a : a * b), 1n) * BigInt(item);
  if (extent > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new NpyError(
      `has shape ${written}, whose size overflows what can be addressed (2^53 bytes): the header is corrupt`,
    );
  }
  const shape = dims.map(Number);
  const size = shape.reduce((a, b) => a * b, 1);
  // With at most one dimension above 1, Fortran and C order lay the data out the same.
  if (fortranOrder && shape.filter((dim) => dim > 1).length > 1) {
    throw new NpyError(
      "is stored in Fortran (column-major) order, which is not supported; save it in C order with np.save(path, np.ascontiguousarray(a))",
    );
  }
  const dataBytes = size * item;
  if (fileBytes !== null) checkDataLength(shape, descr, dataBytes, fileBytes - total);
  return {
    version: `${major}.${minor}`,
    descr,
    dtype,
    littleEndian: order === "<" || (order !== ">" && HOST_LITTLE_ENDIAN),
    shape,
    size,
    dataOffset: total,
    dataBytes,
  };
}

/** The data after the header must be exactly what the shape and dtype need. */
export function checkDataLength(
  shape: readonly number[],
  descr: string,
  dataBytes: number,
  held: number,
): void {
  // descr is one of the few supported codes by now: shown as is.
  const what = `shape ${clipText(formatShape(shape))} of ${descr}`;
  if (held < dataBytes) {
    throw new NpyError(
      `is truncated: ${what} needs ${dataBytes} bytes of data, the file holds ${held}; write it again with numpy.save`,
    );
  }
  if (held > dataBytes) {
    throw new NpyError(
      `has a header that does not match its data: ${what} accounts for ${dataBytes} bytes, the file holds ${held}; write it again with numpy.save`,
    );
  }
}

// 1.0 and 2.0 headers are latin-1, 3.0 ones UTF-8; numpy refuses a 3.0 header that is not UTF-8.
function decodeText(bytes: Uint8Array, major: number): string {
  if (major !== 3) return new TextDecoder("latin1").decode(bytes);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new NpyError("has a 3.0 header that is not valid UTF-8: it is not a valid .npy file");
  }
}

/**
 * The preamble and header numpy itself would write for a C-order array of `dtype`, in the host's
 * byte order: version 1.0 unless the header needs more than 65535 bytes, padded with spaces and
 * a newline to a multiple of 64 bytes so the data start aligned.
 */
export function formatHeader(shape: readonly number[], dtype: DType): Uint8Array {
  const code = Object.entries(CODES).find(([, value]) => value === dtype)![0];
  const descr = `${HOST_LITTLE_ENDIAN ? "<" : ">"}${code}`;
  const tuple = `(${shape.join(", ")}${shape.length === 1 ? "," : ""})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${tuple}, }`;
  for (const major of [1, 2]) {
    const preamble = preambleLength(major);
    const padded = Math.ceil((preamble + dict.length + 1) / 64) * 64;
    const headerLength = padded - preamble;
    if (major === 1 && headerLength > 0xffff) continue;
    const bytes = new Uint8Array(padded).fill(0x20);
    bytes.set(MAGIC);
    bytes[6] = major;
    bytes[7] = 0;
    const view = new DataView(bytes.buffer);
    if (major === 1) view.setUint16(8, headerLength, true);
    else view.setUint32(8, headerLength, true);
    bytes.set(new TextEncoder().encode(dict), preamble);
    bytes[padded - 1] = 0x0a;
    return bytes;
  }
  throw new NpyError("has a shape too long for a .npy header");
}

/**
 * Raw data of `header`'s dtype and byte order (a whole number of elements, in a buffer of its
 * own, which may be byte-swapped in place) to a typed array of the `target` dtype. Floats are
 * cast as numpy's astype casts them (float64 -> float32 and anything -> float16 round to nearest
 * even). Integers (int32, int64) must convert exactly: the first value `target` cannot hold is
 * refused with an NpyError naming its flat index, counted from `first` (the index of the
 * chunk's first element in the file), and the value itself, in full.
 */
export function decodeData(
  raw: Uint8Array,
  header: NpyHeader,
  target: DType,
  first = 0,
): AnyTypedArray {
  const item = npyItemSize(header.dtype);
  if (header.littleEndian !== HOST_LITTLE_ENDIAN && item > 1) {
    const buffer = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    if (item === 2) buffer.swap16();
    else if (item === 4) buffer.swap32();
    else buffer.swap64();
  }
  const count = raw.byteLength / item;
  // Typed array views need their byte offset aligned to the item size; copy when it is not.
  const aligned = raw.byteOffset % item === 0 ? raw : raw.slice();
  if (header.dtype === "int64") return fromInt64(aligned, count, target, first);
  const source = typedView(header.dtype, aligned.buffer, aligned.byteOffset, count);
  if (header.dtype === target) return source;
  if (header.dtype === "int32") return fromInt32(source as Int32Array, target, first);
  return fromFloat(source, header.dtype, target);
}

function fromFloat(source: AnyTypedArray, dtype: DType, target: DType): AnyTypedArray {
  // TypedArray.set converts float64 to float32 with round-to-nearest-even, as numpy's astype
  // does, at memory speed; float16 on either side needs astype's conversions.
  if (target === "float32" && dtype !== "float16") {
    const converted = new Float32Array(source.length);
    converted.set(source);
    return converted;
  }
  return new NDArray(source, [source.length], dtype).astype(target).data;
}

/** Whether the integer `value` (a double, exact) is a value of `target`. */
function holds(target: DType, value: number): boolean {
  switch (target) {
    case "float64":
      return true;
    case "float32":
      return Math.fround(value) === value;
    case "float16":
      return halfToNumber(numberToHalf(value)) === value;
    case "int32":
      return (value | 0) === value;
    default:
      return target satisfies never;
  }
}

/** An integer `target` cannot hold: its flat index and its exact value, in one line. */
function inexact(source: NpyDType, target: DType, index: number, value: string): NpyError {
  const range: Record<DType, string> = {
    float64: "every integer up to 2^53 in magnitude, and beyond it only some",
    float32: "every integer up to 2^24 = 16777216 in magnitude, and beyond it only some",
    float16: "every integer up to 2048 in magnitude, only some up to 65504, and none beyond",
    int32: "the integers from -2^31 to 2^31 - 1",
  };
  // A value float16 cannot hold may fit float32, the default calc dtype.
  const number = Number(value);
  const float32 =
    target === "float16" && BigInt(number) === BigInt(value) && holds("float32", number);
  return new NpyError(
    `holds ${value} at flat index ${index}, which ${target} cannot represent exactly (it holds ${range[target]}); ` +
      (float32 ? "use --dtype float32, which holds it, or " : "") +
      `convert the ${source} array yourself (a.astype(np.${target})) if rounding is acceptable`,
  );
}

function fromInt32(source: Int32Array, target: DType, first: number): AnyTypedArray {
  const count = source.length;
  const converted = allocateTyped(target, count);
  if (target === "float16") {
    for (let i = 0; i < count; i++) {
      const bits = numberToHalf(source[i]!);
      if (halfToNumber(bits) !== source[i]) {
        throw inexact("int32", target, first + i, String(source[i]));
      }
      converted[i] = bits;
    }
    return converted;
  }
  // int32 -> float32 and float64 at memory speed, then a check that nothing was rounded.
  converted.set(source);
  for (let i = 0; i < count; i++) {
    if (converted[i] !== source[i]) throw inexact("int32", target, first + i, String(source[i]));
  }
  return converted;
}

/**
 * int64 values, exactly: each one within ±2^53 is read as a double from its two 32-bit halves
 * (exact), and a larger one as a BigInt, converted to a double only when that is exact (a value
 * like 2^62 + 1 would otherwise round to 2^62, which float32 holds).
 */
function fromInt64(raw: Uint8Array, count: number, target: DType, first: number): AnyTypedArray {
  const words = new Int32Array(raw.buffer, raw.byteOffset, count * 2);
  const big = new BigInt64Array(raw.buffer, raw.byteOffset, count);
  const [low, high] = HOST_LITTLE_ENDIAN ? [0, 1] : [1, 0];
  const converted = allocateTyped(target, count);
  const half = target === "float16";
  for (let i = 0; i < count; i++) {
    const upper = words[2 * i + high]!;
    let value: number;
    if (upper >= -0x200000 && upper < 0x200000) {
      // |value| < 2^53: the sum of the two halves is exact.
      value = upper * 0x100000000 + (words[2 * i + low]! >>> 0);
      if (!holds(target, value)) throw inexact("int64", target, first + i, String(value));
    } else {
      const exact = big[i]!;
      value = Number(exact);
      if (BigInt(value) !== exact || !holds(target, value)) {
        throw inexact("int64", target, first + i, exact.toString());
      }
    }
    converted[i] = half ? numberToHalf(value) : value;
  }
  return converted;
}

/** The bytes of a typed array, as .npy data in the byte order formatHeader announced. */
export function encodeData(data: AnyTypedArray): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

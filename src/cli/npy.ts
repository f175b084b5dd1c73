// The .npy format (numpy/lib/format.py): a magic string, a version, a header that is a Python
// dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }, then the raw data.
// This file parses and formats headers and converts raw data; npy-file.ts does the file I/O.

import type { AnyTypedArray, DType } from "../core/dtype.js";
import { itemSize } from "../core/dtype.js";
import { formatShape } from "../core/shape.js";
import { NDArray } from "../host/ndarray.js";

/** A problem with a file's contents; the caller prefixes the file name. */
export class NpyError extends Error {
  override name = "NpyError";
}

export const MAGIC = Uint8Array.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

/** Bytes before the header text: magic, major, minor, then a 2-byte (1.0) or 4-byte length. */
export function preambleLength(major: number): number {
  return major === 1 ? 10 : 12;
}

// The dtypes we read, by numpy's type code (endianness apart). '|' and '=' mean "native" (numpy
// writes '|' only for 1-byte types, none of which we read).
const CODES: Record<string, DType> = { f2: "float16", f4: "float32", f8: "float64", i4: "int32" };
const SUPPORTED = "<f4, <f2, <f8, <i4 and their big-endian (>) forms";

export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export interface NpyHeader {
  readonly version: string;
  readonly descr: string;
  readonly dtype: DType;
  readonly littleEndian: boolean;
  readonly shape: readonly number[];
  /** Elements: the product of the shape (1 for a 0-d array). */
  readonly size: number;
  /** Where the data start, in bytes from the start of the file. */
  readonly dataOffset: number;
  readonly dataBytes: number;
}

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
  if (major === undefined || minor === undefined) {
    throw new NpyError("is truncated inside its header; write it again with numpy.save");
  }
  if (!(major >= 1 && major <= 3 && minor === 0)) {
    throw new NpyError(
      `uses .npy format version ${major}.${minor}; only 1.0, 2.0 and 3.0 exist: the file is corrupt or from a newer numpy`,
    );
  }
  const preamble = preambleLength(major);
  if (bytes.length < preamble) {
    throw new NpyError("is truncated inside its header; write it again with numpy.save");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  return { major, minor, total: preamble + headerLength };
}

/**
 * Parses a whole preamble + header. `fileBytes` is the file's size, so that a header promising
 * more data than the file holds, or less, is caught here with its own message.
 */
export function parseHeader(bytes: Uint8Array, fileBytes: number): NpyHeader {
  const { major, minor, total } = readPreamble(bytes);
  if (bytes.length < total || fileBytes < total) {
    throw new NpyError(
      `is truncated inside its header (the header is ${total} bytes, the file ${fileBytes}); write it again with numpy.save`,
    );
  }
  // 1.0 and 2.0 headers are latin-1, 3.0 ones UTF-8 (for structured field names).
  const text = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(
    bytes.subarray(preambleLength(major), total),
  );
  const dict = parseDict(text);
  const keys = Object.keys(dict).sort().join(",");
  if (keys !== "descr,fortran_order,shape") {
    throw new NpyError(
      `has a header with keys {${Object.keys(dict).join(", ")}}, not {descr, fortran_order, shape}: it is not a valid .npy file`,
    );
  }
  const { descr, fortran_order: fortranOrder, shape: rawShape } = dict;
  if (typeof descr !== "string") {
    throw new NpyError(
      `holds a structured dtype; supported: ${SUPPORTED}. Save a plain array instead`,
    );
  }
  const order = descr[0];
  const dtype = CODES[descr.slice(1)];
  if (dtype === undefined || !(order === "<" || order === ">" || order === "|" || order === "=")) {
    throw new NpyError(
      `has dtype '${descr}', which is not supported; supported: ${SUPPORTED}. Convert it with a.astype(np.float32)`,
    );
  }
  if (typeof fortranOrder !== "boolean")
    throw new NpyError(
      "has a fortran_order that is not True or False: it is not a valid .npy file",
    );
  if (!Array.isArray(rawShape) || !rawShape.every((dim) => typeof dim === "bigint" && dim >= 0n)) {
    throw new NpyError(
      "has a shape that is not a tuple of non-negative integers: it is not a valid .npy file",
    );
  }
  const dims = rawShape as bigint[];
  const size = dims.reduce((a, b) => a * b, 1n);
  const item = itemSize(dtype);
  const written = `(${dims.join(", ")}${dims.length === 1 ? "," : ""})`;
  if (
    size * BigInt(item) > BigInt(Number.MAX_SAFE_INTEGER) ||
    dims.some((dim) => dim > BigInt(Number.MAX_SAFE_INTEGER))
  ) {
    throw new NpyError(
      `has shape ${written}, whose size (${size} elements) overflows what can be addressed (2^53 bytes): the header is corrupt`,
    );
  }
  const shape = dims.map(Number);
  // With at most one dimension above 1, Fortran and C order lay the data out the same.
  if (fortranOrder && shape.filter((dim) => dim > 1).length > 1) {
    throw new NpyError(
      "is stored in Fortran (column-major) order, which is not supported; save it in C order with np.save(path, np.ascontiguousarray(a))",
    );
  }
  const dataBytes = Number(size) * item;
  const held = fileBytes - total;
  if (held < dataBytes) {
    throw new NpyError(
      `is truncated: shape ${formatShape(shape)} of ${descr} needs ${dataBytes} bytes of data, the file holds ${held}; write it again with numpy.save`,
    );
  }
  if (held > dataBytes) {
    throw new NpyError(
      `has a header that does not match its data: shape ${formatShape(shape)} of ${descr} accounts for ${dataBytes} bytes, the file holds ${held}; write it again with numpy.save`,
    );
  }
  return {
    version: `${major}.${minor}`,
    descr,
    dtype,
    littleEndian: order === "<" || ((order === "|" || order === "=") && HOST_LITTLE_ENDIAN),
    shape,
    size: Number(size),
    dataOffset: total,
    dataBytes,
  };
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
 * own, which may be byte-swapped in place) to a typed array of the `target` dtype, with numpy's
 * casting (float64 -> float32 and anything -> float16 round to nearest even).
 */
export function decodeData(raw: Uint8Array, header: NpyHeader, target: DType): AnyTypedArray {
  const item = itemSize(header.dtype);
  if (header.littleEndian !== HOST_LITTLE_ENDIAN && item > 1) {
    const buffer = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    if (item === 2) buffer.swap16();
    else if (item === 4) buffer.swap32();
    else buffer.swap64();
  }
  const count = raw.byteLength / item;
  // Typed array views need their byte offset aligned to the item size; copy when it is not.
  const aligned = raw.byteOffset % item === 0 ? raw : raw.slice();
  const source = view(aligned, header.dtype, count);
  if (header.dtype === target) return source;
  // TypedArray.set converts float64 and int32 to float32 with round-to-nearest-even, as
  // numpy's astype does, at memory speed; float16 on either side needs astype's conversions.
  if (target === "float32" && header.dtype !== "float16") {
    const converted = new Float32Array(count);
    converted.set(source);
    return converted;
  }
  return new NDArray(source, [count], header.dtype).astype(target).data;
}

function view(raw: Uint8Array, dtype: DType, count: number): AnyTypedArray {
  switch (dtype) {
    case "float32":
      return new Float32Array(raw.buffer, raw.byteOffset, count);
    case "float64":
      return new Float64Array(raw.buffer, raw.byteOffset, count);
    case "float16":
      return new Uint16Array(raw.buffer, raw.byteOffset, count);
    case "int32":
      return new Int32Array(raw.buffer, raw.byteOffset, count);
    default:
      return dtype satisfies never;
  }
}

/** The bytes of a typed array, as .npy data in the byte order formatHeader announced. */
export function encodeData(data: AnyTypedArray): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

// ---- the header's Python literal ----

type PyValue = string | boolean | bigint | PyValue[] | { [key: string]: PyValue } | null;

/**
 * A parser for the subset of Python literals numpy writes in headers: a dict of string keys,
 * strings, True/False/None, integers, tuples and lists (structured descrs). Anything else means
 * the header is not numpy's, and is reported as such rather than guessed at.
 */
function parseDict(text: string): Record<string, PyValue> {
  let at = 0;
  const fail = (): never => {
    throw new NpyError(
      `has a malformed header near ${JSON.stringify(text.slice(at, at + 20))}: it is not a valid .npy file`,
    );
  };
  const skip = (): void => {
    while (at < text.length && /\s/.test(text[at]!)) at++;
  };
  const eat = (char: string): boolean => {
    skip();
    if (text[at] !== char) return false;
    at++;
    return true;
  };
  const sequence = <T>(close: string, item: () => T): T[] => {
    const items: T[] = [];
    while (!eat(close)) {
      items.push(item());
      if (!eat(",")) {
        if (!eat(close)) fail();
        break;
      }
    }
    return items;
  };
  const value = (): PyValue => {
    skip();
    const char = text[at];
    if (char === "'" || char === '"') {
      const end = text.indexOf(char, at + 1);
      if (end === -1) fail();
      const result = text.slice(at + 1, end);
      at = end + 1;
      return result;
    }
    if (char === "(") return (at++, sequence(")", value));
    if (char === "[") return (at++, sequence("]", value));
    if (char === "{") {
      at++;
      const entries = sequence("}", () => {
        const key = value();
        if (typeof key !== "string" || !eat(":")) fail();
        return [key as string, value()] as const;
      });
      return Object.fromEntries(entries);
    }
    const word = /^(True|False|None|[+-]?\d+)L?/.exec(text.slice(at));
    if (word === null) return fail();
    at += word[0].length;
    const token = word[1]!;
    if (token === "True" || token === "False") return token === "True";
    if (token === "None") return null;
    return BigInt(token);
  };
  const result = value();
  skip();
  if (
    at !== text.length ||
    typeof result !== "object" ||
    result === null ||
    Array.isArray(result)
  ) {
    fail();
  }
  if (!text.endsWith("\n")) {
    throw new NpyError(
      "has a header that does not end with a newline: it is not a valid .npy file",
    );
  }
  return result as Record<string, PyValue>;
}

// .npy inputs: opening and checking one, then reading its data a range of elements at a time, so
// that a file larger than memory streams through. An input is a file (read at positions, its size
// checked against the header up front) or a stream: a pipe, a FIFO, a device, or stdin given as
// "-" (read once, in order; its length is checked as it ends). Outputs are in npy-output.ts.

import {
  close,
  constants,
  createReadStream,
  fstat,
  fstatSync,
  promises as fs,
  open,
  read,
  type BigIntStats,
} from "node:fs";
import { Socket } from "node:net";
import type { Readable } from "node:stream";
import { isatty } from "node:tty";
import { promisify } from "node:util";
import { clipText } from "../core/describe.js";
import { formatShape } from "../core/shape.js";
import { CliError, describeIoError, showPath } from "./errors.js";
import {
  NpyError,
  npyItemSize,
  parseHeader,
  preambleLength,
  readPreamble,
  type NpyHeader,
} from "./npy.js";

import type { FileIdentity } from "./npy-output.js";

export { AtomicOutput } from "./npy-output.js";

/** The longest header read, as numpy's `max_header_size` default: longer ones are corrupt. */
const MAX_HEADER_BYTES = 10000;

/** How long a stream may stay silent before a terminal is told what the run is waiting for. */
const WAIT_NOTE_MS = 2000;

export interface NpyInput {
  readonly path: string;
  /** The input as messages name it: "stdin" for "-", else the path, clipped and quoted. */
  readonly name: string;
  readonly header: NpyHeader;
  readonly identity: FileIdentity;
  /** A pipe, FIFO or device: read once, in order. */
  readonly streamed: boolean;
  /** The raw bytes of elements [start, start + count), in a buffer of their own. A stream can
   * only be read in order: each call must start where the previous one ended. */
  read(start: number, count: number): Promise<Uint8Array>;
  /** After the last read: a stream must end exactly where its header says the data end. */
  finish(): Promise<void>;
  close(): Promise<void>;
}

/** Where bytes come from: at positions (size known), or in order from a stream (size null). */
interface Source {
  readonly name: string;
  readonly identity: FileIdentity;
  readonly size: number | null;
  /** Up to `length` bytes, fewer only at the end; `position` is ignored by a stream. */
  read(position: number, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** Opens and checks a .npy input ("-" is stdin); every problem is a CliError naming it. */
export async function openNpy(path: string): Promise<NpyInput> {
  const source = await openSource(path);
  try {
    return await checkedInput(path, source);
  } catch (error) {
    await source.close();
    throw error;
  }
}

async function checkedInput(path: string, source: Source): Promise<NpyInput> {
  const { name, size } = source;
  const wrap = <T>(parse: () => T): T => {
    try {
      return parse();
    } catch (error) {
      if (error instanceof NpyError) throw new CliError(`${name} ${error.message}`);
      throw error;
    }
  };
  const first = await waitingNote(name, size === null, source.read(0, 12));
  const { major, total } = wrap(() => readPreamble(first));
  // The header's length comes from the file: a corrupt one must not make us read gigabytes.
  const headerBytes = total - preambleLength(major);
  if (headerBytes > MAX_HEADER_BYTES) {
    throw new CliError(
      `${name} has a corrupt header: it claims ${headerBytes} bytes, more than the ${MAX_HEADER_BYTES} numpy reads (max_header_size); write it again with numpy.save`,
    );
  }
  let full = first;
  let early = new Uint8Array(0); // data bytes a stream gave with a header shorter than 12 bytes
  if (size === null) {
    if (total > first.length) full = concat(first, await source.read(0, total - first.length));
    else [full, early] = [first.subarray(0, total), first.slice(total)];
  } else {
    full = await source.read(0, Math.min(size, total));
  }
  const header = wrap(() => parseHeader(full, size));
  const item = npyItemSize(header.dtype);
  let consumed = 0; // data bytes a stream has given
  const what = `shape ${clipText(formatShape(header.shape))} of ${header.descr}`;
  return {
    path,
    name,
    header,
    identity: source.identity,
    streamed: size === null,
    read: async (start, count) => {
      const length = count * item;
      if (size !== null) {
        const bytes = await source.read(header.dataOffset + start * item, length);
        if (bytes.length !== length) {
          throw new CliError(`${name} changed while being read (it is shorter now); run again`);
        }
        return bytes;
      }
      if (start * item !== consumed) throw new Error("a stream is read in order");
      const head = early.subarray(0, length);
      early = early.subarray(head.length);
      const bytes = concat(head, await source.read(0, length - head.length));
      consumed += bytes.length;
      if (bytes.length !== length) {
        throw new CliError(
          `${name} is truncated: ${what} needs ${header.dataBytes} bytes of data, the stream ended after ${consumed}; send the whole file`,
        );
      }
      return bytes;
    },
    finish: async () => {
      if (size !== null) return;
      if (early.length > 0 || (await source.read(0, 1)).length > 0) {
        throw new CliError(
          `${name} has a header that does not match its data: ${what} accounts for ${header.dataBytes} bytes, the stream holds more; write it again with numpy.save`,
        );
      }
    },
    close: () => source.close(),
  };
}

/** On a terminal, says what a run is waiting for when a stream stays silent (a FIFO no one
 * writes to yet): the run would otherwise just hang. Ctrl-C ends the wait. */
async function waitingNote<T>(name: string, stream: boolean, work: Promise<T>): Promise<T> {
  if (!stream || process.stderr.isTTY !== true) return work;
  const timer = setTimeout(() => {
    process.stderr.write(`puzzlelib: waiting for data from ${name}; Ctrl-C to stop\n`);
  }, WAIT_NOTE_MS);
  timer.unref();
  try {
    return await work;
  } finally {
    clearTimeout(timer);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const bytes = new Uint8Array(a.length + b.length);
  bytes.set(a);
  bytes.set(b, a.length);
  return bytes;
}

const openFd = promisify(open);
const fstatFd = promisify(fstat) as (fd: number, options: { bigint: true }) => Promise<BigIntStats>;
const readFd = promisify(read);

async function openSource(path: string): Promise<Source> {
  if (path === "-") return openStdin();
  const name = showPath(path);
  const fail = (error: unknown): never => {
    throw new CliError(`cannot read ${name}: ${describeIoError(error)}`);
  };
  const stat = await fs.stat(path).catch(fail);
  if (stat.isDirectory()) throw new CliError(`${name} is a folder, not a .npy file; give a file`);
  if (stat.isFile()) {
    const handle = await fs.open(path, "r").catch(fail);
    try {
      const { dev, ino, size } = await handle.stat({ bigint: true });
      return {
        name,
        identity: { dev, ino },
        size: Number(size),
        read: (position, length) =>
          readFully(length, (bytes, done) =>
            handle.read(bytes, done, length - done, position + done),
          ),
        close: () => handle.close(),
      };
    } catch (error) {
      await handle.close();
      return fail(error);
    }
  }
  if (stat.isSocket()) {
    // /dev/stdin when stdin is a socket (Node's child processes get socket pairs, not pipes):
    // a socket cannot be opened by name, but it is our stdin.
    if (isStdin(stat)) return openStdin(name);
    throw new CliError(
      `cannot read ${name}: it is a socket, not a file; pipe its data to puzzlelib and give - as the input`,
    );
  }
  // A FIFO is opened without blocking: a blocking open would hold a thread until a writer comes,
  // and Node cannot exit (not even on Ctrl-C) while one is held. The socket then waits for data
  // in the event loop, where a signal still ends the run.
  const fifo = stat.isFIFO();
  const fd = await openFd(
    path,
    constants.O_RDONLY | (fifo ? (constants.O_NONBLOCK ?? 0) : 0),
  ).catch(fail);
  if (isatty(fd)) {
    await promisify(close)(fd);
    throw terminalInput(name);
  }
  const { dev, ino } = await fstatFd(fd, { bigint: true });
  const stream = fifo
    ? new Socket({ fd, readable: true, writable: false })
    : createReadStream(path, { fd });
  return streamSource(name, { dev, ino }, stream);
}

function terminalInput(name: string): CliError {
  return new CliError(
    `${name} is a terminal, not a .npy file; pipe one in (cat x.npy | puzzlelib apply relu - -o y.npy) or redirect it (< x.npy)`,
  );
}

function isStdin(stat: { dev: number; ino: number }): boolean {
  try {
    const stdin = fstatSync(0);
    return stdin.dev === stat.dev && stdin.ino === stat.ino;
  } catch {
    return false;
  }
}

async function openStdin(name = "stdin"): Promise<Source> {
  let stat: BigIntStats;
  try {
    stat = fstatSync(0, { bigint: true });
  } catch {
    throw new CliError("cannot read stdin: it is closed; pipe a .npy file in, or give a file name");
  }
  const identity = { dev: stat.dev, ino: stat.ino };
  if (stat.isFile()) {
    // Redirected from a file (< x.npy): read at positions like any file; fd 0 stays open.
    return {
      name,
      identity,
      size: Number(stat.size),
      read: (position, length) =>
        readFully(length, (bytes, done) => readFd(0, bytes, done, length - done, position + done)),
      close: async () => undefined,
    };
  }
  if (isatty(0)) throw terminalInput(name);
  return streamSource(name, identity, process.stdin);
}

/** Reads until `length` bytes or the end, into a fresh buffer (offset 0, so views are aligned). */
async function readFully(
  length: number,
  readSome: (bytes: Uint8Array, done: number) => Promise<{ bytesRead: number }>,
): Promise<Uint8Array> {
  const bytes = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await readSome(bytes, done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done === length ? bytes : bytes.subarray(0, done);
}

/**
 * A stream as a Source: exactly the bytes asked for, in order, pulled one chunk at a time (the
 * stream's own buffering bounds the memory, however long the stream).
 */
function streamSource(name: string, identity: FileIdentity, stream: Readable): Source {
  const chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
  let leftover: Uint8Array = new Uint8Array(0);
  let ended = false;
  return {
    name,
    identity,
    size: null,
    read: async (_position, length) => {
      const bytes = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        if (leftover.length === 0) {
          if (ended) break;
          let next: IteratorResult<Uint8Array>;
          try {
            next = await chunks.next();
          } catch (error) {
            throw new CliError(`cannot read ${name}: ${describeIoError(error)}`);
          }
          if (next.done === true) ended = true;
          else leftover = next.value;
          continue;
        }
        const take = Math.min(length - done, leftover.length);
        bytes.set(leftover.subarray(0, take), done);
        leftover = leftover.subarray(take);
        done += take;
      }
      return done === length ? bytes : bytes.subarray(0, done);
    },
    close: async () => {
      stream.destroy();
    },
  };
}

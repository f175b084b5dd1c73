// Outputs: a file written atomically through a temporary file, or a stream (stdout as "-", a FIFO,
// a device such as /dev/null) written in order. An interrupted run never leaves a partial file
// under the output's name, and removes its temporary file whatever signal stopped it (see
// signals.ts); only SIGKILL, which no process can catch, leaves one behind, named so that it
// says what it is: <name>.puzzlelib-partial-<pid>-<random>.tmp.

import { randomBytes } from "node:crypto";
import {
  close,
  constants,
  createWriteStream,
  fstatSync,
  open,
  promises as fs,
  unlinkSync,
  type BigIntStats,
} from "node:fs";
import { Socket } from "node:net";
import { basename, dirname, join, resolve } from "node:path";
import type { Writable } from "node:stream";
import { isatty } from "node:tty";
import { promisify } from "node:util";
import { CliError, describeWriteError, showPath } from "./errors.js";
import { whileRunning } from "./signals.js";

const openFd = promisify(open);

/** Which file a path or descriptor is: two names of one file have the same device and inode. */
export interface FileIdentity {
  readonly dev: bigint;
  readonly ino: bigint;
}

export function sameFile(a: FileIdentity, b: FileIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/** The longest file name (not path) most file systems allow, in bytes: Linux's NAME_MAX. */
const NAME_MAX = 255;

export interface Output {
  /** The output as messages name it. */
  readonly name: string;
  /** True for stdout and other streams, which cannot be taken back once written. */
  readonly streamed: boolean;
  write(bytes: Uint8Array): Promise<void>;
  /** Makes the output complete and visible. */
  commit(): Promise<void>;
  /** Undoes what can be undone after a failure; nothing after commit. */
  abort(): Promise<void>;
}

/**
 * The temporary file's name next to `target`: the target's name, then what the file is, so that
 * one left by SIGKILL explains itself. The target's name is cut (at a character boundary) when
 * the whole would pass NAME_MAX, so any name that can be written has a temporary name too.
 */
export function temporaryName(target: string, pid = process.pid): string {
  const suffix = `.puzzlelib-partial-${pid}-${randomBytes(4).toString("hex")}.tmp`;
  const room = NAME_MAX - Buffer.byteLength(suffix);
  let base = basename(target);
  while (Buffer.byteLength(base) > room) base = [...base].slice(0, -1).join("");
  return base + suffix;
}

/**
 * A file written atomically: the data go to a temporary file in the same folder (so the final
 * rename or link stays on one file system and is atomic), synced, and published under the
 * target's name only once all is written. A failure or a signal removes the temporary file, so a
 * half-written output never appears under the target's name.
 */
export class AtomicOutput implements Output {
  readonly streamed = false;
  private closed = false;
  private readonly release: () => void;

  private constructor(
    readonly name: string,
    private readonly target: string,
    private readonly temporary: string,
    private readonly handle: fs.FileHandle,
    private readonly force: boolean,
  ) {
    this.release = whileRunning({
      undo: () => unlinkSync(this.temporary),
      unfinished: `${name} was not written`,
    });
  }

  /**
   * Checks the target (folder exists, no file there unless `force`) and opens a temporary file.
   * A symbolic link is written through, to the file it points at, as cp and numpy.save do.
   */
  static async create(path: string, force: boolean): Promise<AtomicOutput> {
    const name = showPath(path);
    const existing = await statOrNull(path, name);
    if (existing?.isDirectory())
      throw new CliError(`cannot write ${name}: it is a folder; give a file name`);
    if (existing !== null && !existing.isFile()) {
      throw new CliError(
        `cannot write ${name}: it is a device, FIFO or socket, not a file; give a file name`,
      );
    }
    if (existing !== null && !force) {
      throw new CliError(
        `${name} already exists; pass --force to overwrite it, or choose another -o`,
      );
    }
    const target =
      existing === null
        ? resolve(path)
        : await fs.realpath(path).catch((error: unknown) => {
            throw new CliError(`cannot write ${name}: ${describeWriteError(error)}`);
          });
    const folder = dirname(target);
    const shown = showPath(dirname(path));
    const folderStat = await fs.stat(folder).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT" || error.code === "ENOTDIR") return null;
      throw new CliError(`cannot write in ${shown}: ${describeWriteError(error)}`);
    });
    if (folderStat === null || !folderStat.isDirectory()) {
      throw new CliError(
        `cannot write ${name}: the folder ${shown} does not exist; create it first (mkdir -p ${shown})`,
      );
    }
    const temporary = join(folder, temporaryName(target));
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(
        temporary,
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL,
        0o644,
      );
    } catch (error) {
      throw new CliError(`cannot write in ${shown}: ${describeWriteError(error)}`);
    }
    return new AtomicOutput(name, target, temporary, handle, force);
  }

  async write(bytes: Uint8Array): Promise<void> {
    let done = 0;
    try {
      while (done < bytes.length) {
        const { bytesWritten } = await this.handle.write(bytes, done, bytes.length - done);
        done += bytesWritten;
      }
    } catch (error) {
      throw new CliError(`cannot write ${this.name}: ${describeWriteError(error)}`);
    }
  }

  /**
   * Makes the file appear under its name, complete: the data are synced to disk first, so that
   * after a crash the name never points at a partial file. Without `force` the file is published
   * with a hard link, which fails if a file of that name appeared since `create` checked (no
   * silent overwrite); with `force` it is renamed over the target.
   */
  async commit(): Promise<void> {
    try {
      await this.handle.sync();
      await this.handle.close();
    } catch (error) {
      throw new CliError(`cannot write ${this.name}: ${describeWriteError(error)}`);
    }
    try {
      if (this.force) {
        await fs.rename(this.temporary, this.target);
      } else {
        await fs.link(this.temporary, this.target);
        await fs.unlink(this.temporary).catch(() => undefined);
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException | undefined)?.code === "EEXIST") {
        throw new CliError(
          `${this.name} already exists; pass --force to overwrite it, or choose another -o`,
        );
      }
      throw new CliError(`cannot write ${this.name}: ${describeWriteError(error)}`);
    }
    this.closed = true;
    this.release();
  }

  /** Removes the temporary file; does nothing after commit or a previous abort. */
  async abort(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.release();
    await this.handle.close().catch(() => undefined);
    await fs.unlink(this.temporary).catch(() => undefined);
  }

  /** Writes `data` to `path` atomically in one go (for small outputs such as plots). */
  static async writeFile(path: string, force: boolean, data: Uint8Array | string): Promise<void> {
    const output = await AtomicOutput.create(path, force);
    try {
      await output.write(typeof data === "string" ? new TextEncoder().encode(data) : data);
      await output.commit();
    } finally {
      await output.abort();
    }
  }
}

/** stat that follows links; a missing file is null, any other problem the output's error. */
async function statOrNull(path: string, name: string): Promise<BigIntStats | null> {
  try {
    return await fs.stat(path, { bigint: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException | undefined)?.code === "ENOENT") return null;
    throw new CliError(`cannot write ${name}: ${describeWriteError(error)}`);
  }
}

/**
 * A stream written in order: nothing can be taken back, so a failure midway leaves it short (a
 * reader sees a truncated .npy and numpy refuses it). Binary data are never sent to a terminal.
 */
class StreamOutput implements Output {
  readonly streamed = true;
  private release: (() => void) | undefined;

  constructor(
    readonly name: string,
    private readonly stream: Writable,
    private readonly owned: boolean,
  ) {
    this.release = whileRunning({ undo: () => undefined, unfinished: `${name} is incomplete` });
  }

  write(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      const fail = (error: unknown): void =>
        reject(new CliError(`cannot write ${this.name}: ${describeWriteError(error)}`));
      if (this.stream.destroyed) return fail(Object.assign(new Error("closed"), { code: "EPIPE" }));
      // Resolved when the chunk is handed on, so at most one chunk waits in memory.
      this.stream.write(bytes, (error) => (error ? fail(error) : resolve()));
    });
  }

  async commit(): Promise<void> {
    if (this.owned) {
      await new Promise<void>((resolve, reject) =>
        this.stream.end((error?: Error | null) =>
          error
            ? reject(new CliError(`cannot write ${this.name}: ${describeWriteError(error)}`))
            : resolve(),
        ),
      );
    }
    this.release?.();
    this.release = undefined;
  }

  async abort(): Promise<void> {
    this.release?.();
    this.release = undefined;
    if (this.owned) this.stream.destroy();
  }
}

const terminalOutput = (name: string): CliError =>
  new CliError(
    `${name} is a terminal: .npy data are binary; redirect it (> y.npy), pipe it, or give -o FILE`,
  );

/**
 * The output of apply and grad: "-" is stdout; an existing FIFO or device is written as a
 * stream; anything else is a file, written atomically. An output that is one of the inputs
 * (same device and inode: the same name, a hard link, a symbolic link, ./x for x) is refused, as
 * writing it would destroy that input.
 */
export async function openOutput(
  path: string,
  force: boolean,
  inputs: readonly { readonly name: string; readonly identity: FileIdentity }[],
): Promise<Output> {
  const name = path === "-" ? "stdout" : showPath(path);
  const existing = path === "-" ? stdoutStat() : await statOrNull(path, name);
  if (existing?.isFile()) {
    const input = inputs.find((candidate) => sameFile(candidate.identity, existing));
    if (input !== undefined) {
      throw new CliError(
        `${name} is the input ${input.name} (the same file); writing it would destroy the input: choose another -o`,
      );
    }
  }
  // /dev/stdout when stdout is a socket (as in Node's child processes) cannot be opened by name.
  const stdout =
    path === "-" ||
    (existing?.isSocket() === true && sameFile(existing, stdoutStat() ?? { dev: -1n, ino: -1n }));
  if (stdout) {
    if (isatty(1)) throw terminalOutput(name);
    return new StreamOutput(name, process.stdout, false);
  }
  if (existing === null || existing.isFile() || existing.isDirectory()) {
    return AtomicOutput.create(path, force);
  }
  if (existing.isSocket()) {
    throw new CliError(`cannot write ${name}: it is a socket, not a file; give a file name or -`);
  }
  // A FIFO is opened without blocking: with no reader the open fails at once (ENXIO), where a
  // blocking open would hold a thread, which Node cannot exit past, until a reader came.
  const fifo = existing.isFIFO();
  const fd = await openFd(
    path,
    constants.O_WRONLY | (fifo ? (constants.O_NONBLOCK ?? 0) : 0),
  ).catch((error: unknown) => {
    const reason =
      (error as NodeJS.ErrnoException | undefined)?.code === "ENXIO"
        ? "no one is reading the FIFO; start its reader first"
        : describeWriteError(error);
    throw new CliError(`cannot write ${name}: ${reason}`);
  });
  if (isatty(fd)) {
    await promisify(close)(fd);
    throw terminalOutput(name);
  }
  const stream = fifo
    ? new Socket({ fd, readable: false, writable: true })
    : createWriteStream(path, { fd });
  return new StreamOutput(name, stream, true);
}

function stdoutStat(): BigIntStats | null {
  try {
    return fstatSync(1, { bigint: true });
  } catch {
    return null; // closed: writing will fail with its own message
  }
}

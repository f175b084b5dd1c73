// .npy files on disk: opening and checking one, reading its data a range of elements at a time
// (so a file larger than memory streams through), and writing one atomically.

import { randomBytes } from "node:crypto";
import { constants, promises as fs, unlinkSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { itemSize } from "../core/dtype.js";
import { CliError } from "./errors.js";
import { NpyError, parseHeader, preambleLength, readPreamble, type NpyHeader } from "./npy.js";

/** The longest header read, as numpy's `max_header_size` default: longer ones are corrupt. */
const MAX_HEADER_BYTES = 10000;

export interface NpyInput {
  readonly path: string;
  readonly header: NpyHeader;
  /** The raw bytes of elements [start, start + count), in a buffer of their own. */
  read(start: number, count: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** Opens and checks a .npy file; every problem is a CliError naming the file. */
export async function openNpy(path: string): Promise<NpyInput> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path, "r");
  } catch (error) {
    throw new CliError(`cannot read ${path}: ${describeIoError(error)}`);
  }
  try {
    const stat = await handle.stat();
    if (stat.isDirectory()) throw new CliError(`${path} is a folder, not a .npy file; give a file`);
    const start = await readAt(handle, 0, Math.min(stat.size, 12));
    const { major, total } = wrap(path, () => readPreamble(start));
    // The header's length comes from the file: a corrupt one must not make us read gigabytes.
    const headerBytes = total - preambleLength(major);
    if (headerBytes > MAX_HEADER_BYTES) {
      throw new CliError(
        `${path} has a corrupt header: it claims ${headerBytes} bytes, more than the ${MAX_HEADER_BYTES} numpy reads (max_header_size); write it again with numpy.save`,
      );
    }
    const full = await readAt(handle, 0, Math.min(stat.size, total));
    const parsed = wrap(path, () => parseHeader(full, stat.size));
    return {
      path,
      header: parsed,
      read: async (first, count) => {
        const item = itemSize(parsed.dtype);
        const bytes = await readAt(handle, parsed.dataOffset + first * item, count * item);
        if (bytes.length !== count * item) {
          throw new CliError(`${path} changed while being read (it is shorter now); run again`);
        }
        return bytes;
      },
      close: () => handle.close(),
    };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

function wrap<T>(path: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof NpyError) throw new CliError(`${path} ${error.message}`);
    throw error;
  }
}

async function readAt(
  handle: fs.FileHandle,
  position: number,
  length: number,
): Promise<Uint8Array> {
  // A fresh ArrayBuffer (offset 0) so typed-array views of the data are aligned.
  const bytes = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(bytes, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done === length ? bytes : bytes.subarray(0, done);
}

function describeIoError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case "ENOENT":
      return "no such file; check the path";
    case "EACCES":
    case "EPERM":
      return "permission denied; check the file's permissions";
    case "EISDIR":
      return "it is a folder; give a file";
    default:
      return `${error instanceof Error ? error.message : String(error)}`;
  }
}

function describeWriteError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case "ENOSPC":
      return "no space left on the device; free some space or choose another -o, and run again";
    case "EDQUOT":
      return "disk quota exceeded; free some space or choose another -o, and run again";
    case "EACCES":
    case "EPERM":
      return "permission denied; check the folder's permissions or choose another -o";
    case "EROFS":
      return "the file system is read-only; choose another -o";
    case "EISDIR":
      return "it is a folder; give a file name";
    default:
      return `${error instanceof Error ? error.message : String(error)}; check the output folder and run again`;
  }
}

/**
 * An output file written atomically: the data go to a temporary file in the same folder (so the
 * final rename or link stays on one file system and is atomic), synced and published under the
 * target's name only once all is written. A failure, or Ctrl-C / SIGTERM, removes the temporary file, so a half-written output
 * never appears under the target's name.
 */
export class AtomicOutput {
  private closed = false;
  private readonly onSignal: (signal: NodeJS.Signals) => void;

  private constructor(
    readonly path: string,
    private readonly temporary: string,
    private readonly handle: fs.FileHandle,
    private readonly force: boolean,
  ) {
    this.onSignal = (signal) => {
      // Synchronous: the process exits right after this handler.
      try {
        unlinkSync(this.temporary);
      } catch {
        // Already gone.
      }
      process.stderr.write(`\npuzzlelib: interrupted; ${this.path} was not written\n`);
      process.exit(signal === "SIGINT" ? 130 : 143);
    };
    process.once("SIGINT", this.onSignal);
    process.once("SIGTERM", this.onSignal);
  }

  /** Checks the target (folder exists, no file there unless `force`) and opens a temporary file. */
  static async create(path: string, force: boolean): Promise<AtomicOutput> {
    const folder = dirname(resolve(path));
    const folderStat = await fs.stat(folder).catch(() => null);
    if (folderStat === null || !folderStat.isDirectory()) {
      throw new CliError(
        `cannot write ${path}: the folder ${dirname(path)} does not exist; create it first (mkdir -p ${dirname(path)})`,
      );
    }
    const existing = await fs.stat(path).catch(() => null);
    if (existing?.isDirectory())
      throw new CliError(`cannot write ${path}: it is a folder; give a file name`);
    if (existing !== null && !force) {
      throw new CliError(
        `${path} already exists; pass --force to overwrite it, or choose another -o`,
      );
    }
    const temporary = join(
      folder,
      `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`,
    );
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(
        temporary,
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL,
        0o644,
      );
    } catch (error) {
      throw new CliError(`cannot write in ${dirname(path)}: ${describeIoError(error)}`);
    }
    return new AtomicOutput(path, temporary, handle, force);
  }

  async write(bytes: Uint8Array): Promise<void> {
    let done = 0;
    try {
      while (done < bytes.length) {
        const { bytesWritten } = await this.handle.write(bytes, done, bytes.length - done);
        done += bytesWritten;
      }
    } catch (error) {
      throw new CliError(`cannot write ${this.path}: ${describeWriteError(error)}`);
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
      throw new CliError(`cannot write ${this.path}: ${describeWriteError(error)}`);
    }
    try {
      if (this.force) {
        await fs.rename(this.temporary, this.path);
      } else {
        await fs.link(this.temporary, this.path);
        await fs.unlink(this.temporary).catch(() => undefined);
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException | undefined)?.code === "EEXIST") {
        throw new CliError(
          `${this.path} already exists; pass --force to overwrite it, or choose another -o`,
        );
      }
      throw new CliError(`cannot write ${this.path}: ${describeWriteError(error)}`);
    }
    this.stopListening();
  }

  /** Removes the temporary file; does nothing after commit or a previous abort. */
  async abort(): Promise<void> {
    if (this.closed) return;
    this.stopListening();
    await this.handle.close().catch(() => undefined);
    await fs.unlink(this.temporary).catch(() => undefined);
  }

  private stopListening(): void {
    this.closed = true;
    process.off("SIGINT", this.onSignal);
    process.off("SIGTERM", this.onSignal);
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

// The two ways a command ends badly. Each message is one line: what is wrong, then what to do.

import { clipText, MESSAGE_VALUE_LIMIT, quote } from "../core/describe.js";

/** Bad usage (unknown option, missing argument, bad value): exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** The command was understood but could not be done (bad file, existing output): exit code 1. */
export class CliError extends Error {
  override name = "CliError";
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Paths are longer than other values; beyond this the middle of one is cut in messages. */
const PATH_LIMIT = 160;

/**
 * A value from the command line or the environment as a message shows it: as typed when it is
 * plain printable text (so that it can be copied back into a command), else quoted with control
 * characters escaped, so that a newline in it cannot break the one-line rule; cut in the middle
 * when long.
 */
export function showText(text: string, limit = MESSAGE_VALUE_LIMIT): string {
  const plain = /^[^\s"'\\\p{C}]+$/u.test(text);
  return plain ? clipText(text, limit) : quote(text, limit);
}

/** A file path as a message shows it: as showText, with room for a long path. */
export function showPath(path: string): string {
  return showText(path, PATH_LIMIT);
}

const code = (error: unknown): string | undefined =>
  (error as NodeJS.ErrnoException | undefined)?.code;

/**
 * An unexpected error's own text, short: Node's errno messages end with the syscall and the
 * path ("ENOSPC: no space left on device, write"), which the caller has already named.
 */
function ownText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return clipText(code(error) !== undefined ? text.split(", ")[0]! : text).replace(/\s+/g, " ");
}

const NAME_TOO_LONG =
  "the name is too long for the file system (255 bytes a name, 4096 a path); choose a shorter one";

/** Why a file could not be opened or examined, and what to do. */
export function describeIoError(error: unknown): string {
  switch (code(error)) {
    case "ENOENT":
      return "no such file; check the path";
    case "EACCES":
    case "EPERM":
      return "permission denied; check the file's permissions";
    case "EISDIR":
      return "it is a folder; give a file";
    case "ENOTDIR":
      return "a part of the path is a file, not a folder; check the path";
    case "ENAMETOOLONG":
      return NAME_TOO_LONG;
    case "ELOOP":
      return "the path has too many symbolic links (a loop?); check the path";
    default:
      return ownText(error);
  }
}

/** Why an output could not be written, and what to do. */
export function describeWriteError(error: unknown): string {
  switch (code(error)) {
    case "ENOSPC":
      return "no space left on the device; free some space or choose another -o, and run again";
    case "EDQUOT":
      return "disk quota exceeded; free some space or choose another -o, and run again";
    case "EFBIG":
      return "the file is larger than this process may write (ulimit -f) or the file system holds; choose another -o";
    case "EACCES":
    case "EPERM":
      return "permission denied; check the folder's permissions or choose another -o";
    case "EROFS":
      return "the file system is read-only; choose another -o";
    case "EISDIR":
      return "it is a folder; give a file name";
    case "ENOTDIR":
      return "a part of the path is a file, not a folder; check -o";
    case "ENAMETOOLONG":
      return NAME_TOO_LONG;
    case "EPIPE":
      return "the reader closed the pipe";
    default:
      return `${ownText(error)}; check the output folder and run again`;
  }
}

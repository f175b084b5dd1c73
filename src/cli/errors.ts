// The two ways a command ends badly. Each message is one line: what is wrong, then what to do.

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

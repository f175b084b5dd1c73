// Command-line parsing: a small getopt for the commands' options, and the parsers of their values
// (slices, numbers, ranges, choices). Every problem is a UsageError, which exits with code 2.

import { quote } from "../core/describe.js";
import { checkSlice, type Slice } from "../core/slice.js";
import { UsageError } from "./errors.js";

export interface OptionSpec {
  /** "flag" takes no value; "value" takes the next argument (even one starting with "-"). */
  readonly kind: "flag" | "value";
  readonly short?: string;
}

export interface ParsedArgs {
  readonly positionals: string[];
  readonly values: ReadonlyMap<string, string>;
  readonly flags: ReadonlySet<string>;
}

/**
 * Splits argv into positionals and options. Accepts `--name value`, `--name=value`, `-o value`
 * and `--` (everything after it is positional). A value is taken whatever it looks like, so
 * `--slice -5:` and `--args -1,1` work; an option given twice is an error rather than a silent
 * "last one wins".
 */
export function parseArgs(
  command: string,
  argv: readonly string[],
  specs: Readonly<Record<string, OptionSpec>>,
): ParsedArgs {
  const positionals: string[] = [];
  const values = new Map<string, string>();
  const flags = new Set<string>();
  const byShort = new Map(
    Object.entries(specs).flatMap(([name, spec]) => (spec.short ? [[spec.short, name]] : [])),
  );
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!token.startsWith("-") || token === "-" || /^-\d/.test(token)) {
      positionals.push(token);
      continue;
    }
    const equals = token.indexOf("=");
    const written = equals === -1 ? token : token.slice(0, equals);
    const name = written.startsWith("--") ? written.slice(2) : byShort.get(written.slice(1));
    const spec = name === undefined ? undefined : specs[name];
    if (name === undefined || spec === undefined) {
      throw new UsageError(
        `unknown option ${written}; run 'puzzlelib ${command} --help' for the options`,
      );
    }
    if (values.has(name) || flags.has(name)) {
      throw new UsageError(`option --${name} is given twice; give it once`);
    }
    if (spec.kind === "flag") {
      if (equals !== -1) throw new UsageError(`option --${name} takes no value`);
      flags.add(name);
      continue;
    }
    let value: string | undefined;
    if (equals !== -1) value = token.slice(equals + 1);
    else value = argv[++i];
    if (value === undefined) {
      throw new UsageError(`option --${name} needs a value`);
    }
    values.set(name, value);
  }
  return { positionals, values, flags };
}

/** The options of every command that writes a file: -o FILE, --force, --help. */
export const OUTPUT_OPTIONS = {
  output: { kind: "value", short: "o" },
  force: { kind: "flag", short: "f" },
  help: { kind: "flag", short: "h" },
} as const;

/** The -o value, or a usage error that shows how to give one. */
export function requireOutput(parsed: ParsedArgs, form: string): string {
  const output = parsed.values.get("output");
  if (output === undefined) throw new UsageError(`no output file; give one with -o ${form}`);
  return output;
}

/** Python's slice syntax, start:stop[:step], each part an integer or empty (`::10`, `-5:`). */
export function parseSlice(text: string): Slice {
  const parts = text.split(":");
  const usage = `--slice ${JSON.stringify(text)} is not a slice; write start:stop[:step] as in Python, e.g. ::10, -5: or 3:-4:2`;
  if (parts.length < 2 || parts.length > 3) throw new UsageError(usage);
  const bounds = parts.map((part) => {
    const trimmed = part.trim();
    if (trimmed === "") return null;
    if (!/^[+-]?\d+$/.test(trimmed)) throw new UsageError(usage);
    const value = Number(trimmed);
    if (!Number.isSafeInteger(value)) {
      throw new UsageError(`--slice bound ${trimmed} is too large; use integers below 2^53`);
    }
    return value;
  });
  if (bounds[2] === 0) throw new UsageError("--slice step cannot be zero; use a step like 1 or -1");
  return checkSlice({ start: bounds[0] ?? null, stop: bounds[1] ?? null, step: bounds[2] ?? null });
}

/** A comma-separated list of finite numbers (`0.1` or `-1,1`). */
export function parseNumbers(option: string, text: string): number[] {
  const parts = text.split(",").map((part) => part.trim());
  return parts.map((part) => {
    const value = part === "" ? NaN : Number(part);
    if (!Number.isFinite(value)) {
      throw new UsageError(
        `--${option} ${JSON.stringify(text)}: ${JSON.stringify(part)} is not a finite number; write numbers separated by commas, e.g. 0.1 or -1,1`,
      );
    }
    return value;
  });
}

/** `lo:hi` with lo < hi, both finite. */
export function parseRange(text: string): [number, number] {
  const parts = text.split(":");
  const usage = `--range ${quote(text)} is not a range; write low:high with low < high, e.g. -6:6`;
  if (parts.length !== 2) throw new UsageError(usage);
  const [low, high] = parts.map((part) => (part.trim() === "" ? NaN : Number(part)));
  if (!Number.isFinite(low) || !Number.isFinite(high) || !(low! < high!)) {
    throw new UsageError(usage);
  }
  return [low!, high!];
}

/** One of `choices`, or a usage error that lists them. */
export function parseChoice<T extends string>(
  option: string,
  text: string,
  choices: readonly T[],
): T {
  if (!(choices as readonly string[]).includes(text)) {
    throw new UsageError(
      `--${option} ${JSON.stringify(text)} is not one of ${choices.join(", ")}; choose one of them`,
    );
  }
  return text as T;
}

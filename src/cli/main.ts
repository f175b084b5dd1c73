#!/usr/bin/env node
// The `puzzlelib` command. Exit codes: 0 success, 1 failure, 2 bad usage; errors are one line on
// stderr saying what is wrong and what to do.

import { BackendError, ModuleError } from "../core/errors.js";
import { elementwiseCommand } from "./apply.js";
import { demo } from "./demo.js";
import { CliError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from "./errors.js";
import { infoCommand } from "./info.js";
import { plotCommand } from "./plot.js";
import { installSignalHandlers, terminate } from "./signals.js";

const USAGE = `usage: puzzlelib <command> [options]

commands:
  demo    run the example of PuzzleLib's Activation page, step by step
  apply   apply an activation to a .npy file
  grad    the backward pass from a saved output and gradient (.npy files)
  plot    draw activations and their derivatives to an SVG or PNG file
  info    version, backends on this machine, activations and their parameters
  help    show this help (help <command>: that command's)

Run 'puzzlelib <command> --help' for a command's options.`;

const DEMO_HELP = `usage: puzzlelib demo

Runs the example of PuzzleLib's Activation page, printing each line of code and its result:
a 3x3 float32 array of random integers in [-10, 10) (seed 123), sigmoid and relu forward on
it, the relu backward pass of a random gradient (it passes where the output is positive), and
sigmoid on every other element only (slc: slice(null, null, 2)); the rest pass through unchanged.
Takes no arguments.`;

const COMMANDS: Record<string, (argv: readonly string[]) => Promise<number>> = {
  demo: async (argv) => {
    if (argv.includes("--help") || argv.includes("-h")) {
      console.log(DEMO_HELP);
      return EXIT_OK;
    }
    if (argv.length > 0) throw new UsageError(`unexpected argument ${argv[0]}; it takes none`);
    await demo((line) => console.log(line));
    return EXIT_OK;
  },
  apply: (argv) => elementwiseCommand("forward", argv),
  grad: (argv) => elementwiseCommand("backward", argv),
  plot: plotCommand,
  info: infoCommand,
};

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  // `puzzlelib help apply` is `puzzlelib apply --help`; `puzzlelib help aply` is bad usage.
  if (command === "help" && rest.length > 0) {
    const [topic, ...extra] = rest;
    if (extra.length > 0) {
      throw new UsageError(`unexpected argument ${extra[0]}; help takes one command at most`);
    }
    if (Object.hasOwn(COMMANDS, topic!)) return main([topic!, "--help"]);
    if (topic !== "help") {
      throw new UsageError(
        `unknown command ${JSON.stringify(topic)}; run 'puzzlelib --help' for the list`,
      );
    }
  }
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    (command === undefined ? console.error : console.log)(USAGE);
    return command === undefined ? EXIT_USAGE : EXIT_OK;
  }
  const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (run === undefined) {
    throw new UsageError(
      `unknown command ${JSON.stringify(command)}; run 'puzzlelib --help' for the list`,
    );
  }
  try {
    return await run(rest);
  } catch (error) {
    throw Object.assign(error instanceof Error ? error : new Error(String(error)), { command });
  }
}

function exitCode(error: unknown): number {
  if (error instanceof UsageError) return EXIT_USAGE;
  return EXIT_FAILURE;
}

function message(error: unknown): string {
  if (error instanceof UsageError || error instanceof CliError) return error.message;
  if (error instanceof ModuleError || error instanceof BackendError) return error.message;
  // Anything else is a bug or an environment problem: keep its type for the report.
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

// Ctrl-C, kill, a closed terminal and the like remove a run's temporary output (signals.ts). A
// reader that closes stdout (puzzlelib ... -o - | head -c 100) ends the run as SIGPIPE would,
// quietly with 141, instead of Node's stack trace for the unhandled EPIPE; a closed stderr has
// nowhere left to report to.
installSignalHandlers();
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  // Other write errors reach the writer (an -o - output reports them as its own failure).
  if (error.code === "EPIPE") terminate("SIGPIPE");
});
process.stderr.on("error", () => undefined);

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // One line, even when a library message spans several.
    const command = (error as { command?: string }).command;
    const prefix = command === undefined ? "puzzlelib" : `puzzlelib ${command}`;
    console.error(`${prefix}: ${message(error).replace(/\s*\n\s*/g, " ")}`);
    process.exitCode = exitCode(error);
  },
);

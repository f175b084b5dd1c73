#!/usr/bin/env node
// The `puzzlelib` command. Exit codes: 0 success, 1 failure, 2 bad usage.

import { demo } from "./demo.js";

const USAGE = `usage: puzzlelib <command>

commands:
  demo    run the example of PuzzleLib's Activation page, step by step
  help    show this help`;

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === "demo") {
    if (rest.includes("--help") || rest.includes("-h")) {
      console.log(
        "usage: puzzlelib demo\n\nRuns the documented example: data, sigmoid, relu, a backward pass.",
      );
      return 0;
    }
    if (rest.length > 0) {
      console.error(`puzzlelib demo: unexpected argument ${rest[0]}; it takes none`);
      return 2;
    }
    await demo((line) => console.log(line));
    return 0;
  }
  console.error(
    `puzzlelib: unknown command ${JSON.stringify(command)}; run 'puzzlelib --help' for the list`,
  );
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`puzzlelib: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);

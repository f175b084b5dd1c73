// `puzzlelib info`: the version, the backends this machine can start (probed, not assumed), and
// the activations with their parameters, read from the activation table so new entries show up.

import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { currentBackend, setBackend } from "../backends/registry.js";
import { ACTIVATION_NAMES, ACTIVATIONS } from "../ops/activations.js";
import { formatParam } from "./activation-args.js";
import { parseArgs } from "./args.js";
import { UsageError } from "./errors.js";

export const INFO_HELP = `usage: puzzlelib info

Prints the version, the backends available on this machine (cpu: whether WebAssembly SIMD and
worker threads are on; webgpu: the adapter's name, or why it cannot start), and every activation
with its parameters and their defaults, its formula and its derivative.`;

export function packageVersion(): string {
  // dist/cli/info.js and src/cli/info.ts are both two levels below the package root.
  const url = new URL("../../package.json", import.meta.url);
  return (JSON.parse(readFileSync(url, "utf8")) as { version: string }).version;
}

export async function infoCommand(argv: readonly string[]): Promise<number> {
  const parsed = parseArgs("info", argv, { help: { kind: "flag", short: "h" } });
  if (parsed.flags.has("help")) {
    console.log(INFO_HELP);
    return 0;
  }
  if (parsed.positionals.length > 0) {
    throw new UsageError(`unexpected argument ${parsed.positionals[0]}; info takes none`);
  }
  const lines = [
    `puzzlelib-ts ${packageVersion()} (Node ${process.version}, ${process.platform} ${process.arch})`,
    "",
    "backends:",
    `  cpu     ${await cpuLine()}`,
    "  js      available: the JavaScript reference (one thread, no SIMD)",
    `  webgpu  ${await webgpuLine()}`,
    "",
    "activations (parameters with their defaults; forward and backward formulas):",
    ...activationLines(),
  ];
  console.log(lines.join("\n"));
  return 0;
}

async function cpuLine(): Promise<string> {
  // Ask for every core so the line reports the threads that really started.
  await setBackend("cpu", { threads: availableParallelism() });
  const backend = currentBackend() as unknown as {
    info: { simd: boolean; fusedMultiplyAdd: boolean; sharedMemory: boolean; threads: number };
  };
  const { simd, fusedMultiplyAdd, sharedMemory, threads } = backend.info;
  return (
    `available: WebAssembly SIMD ${simd ? "on" : "off (JavaScript kernels)"}, ` +
    `fused multiply-add ${fusedMultiplyAdd ? "on" : "off"}, ` +
    `threads ${threads > 1 ? `on (${threads})` : "off (1)"}, ` +
    `shared memory ${sharedMemory ? "on" : "off"}`
  );
}

async function webgpuLine(): Promise<string> {
  try {
    await setBackend("webgpu");
    const backend = currentBackend() as unknown as {
      adapterName: string;
      source: { origin: string };
    };
    return `available: ${backend.adapterName} (through ${backend.source.origin})`;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return `unavailable: ${reason.replace(/^webgpu: /, "")}`;
  } finally {
    await setBackend("cpu");
  }
}

// What `puzzlelib grad` needs besides g: the output y (most), or the input x, given as --x.
const READS = {
  y: "",
  x: "  (reads x: grad --x x.npy)",
  depends: "  (reads x for some parameters: then grad --x x.npy)",
};

function activationLines(): string[] {
  return ACTIVATION_NAMES.flatMap((name) => {
    const { params, formula, derivative, backwardFrom } = ACTIVATIONS[name];
    const signature = params.map((p) => `${p.name}=${formatParam(p.default)}`).join(", ");
    return [
      `  ${name}${signature === "" ? "" : `(${signature})`}`,
      `      forward   y = ${formula}`,
      `      backward  ${derivative}${READS[typeof backwardFrom === "function" ? "depends" : backwardFrom]}`,
    ];
  });
}

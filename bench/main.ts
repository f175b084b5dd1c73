// The benchmark entry: `npm run bench -- --backend webgpu [--sizes 20-26] [--reps 5] ...`.
// Exit codes, as the puzzlelib command: 0 success, 1 failure (a wrong result included), 2 usage.

import { parseArgs } from "node:util";
import {
  ACTIVATION_NAMES,
  BackendError,
  gpuarray,
  setBackend,
  type ActivationName,
} from "../src/index.js";
import { measureLatency, measureSize, type ThroughputResult } from "./puzzlelib.js";
import { WrongResultError } from "./reference.js";
import {
  printHeader,
  printLatency,
  printThroughputHeader,
  throughputRow,
  writeJson,
  type RunInfo,
} from "./report.js";
import type { LatencyResult, SuiteOptions } from "./puzzlelib.js";

const BACKENDS = ["cpu", "webgpu"] as const;
type BenchBackend = (typeof BACKENDS)[number];

// Host memory bounds the sweep: the bench keeps float32 inputs and readbacks of each size.
const MAX_LOG2 = 28;
const LATENCY_SIZE = 1000;
// Bounds K for tiny calls, so a fast device cannot queue without end.
const MAX_K = 20000;

const USAGE = `usage: npm run bench -- [options]

  --backend cpu|webgpu   what to measure (default cpu)
  --sizes A-B            log2 range of tensor sizes; A alone for one size; B may be "max"
                         (up to 2^${MAX_LOG2}, or until the device refuses the allocation).
                         default: webgpu 20-26 (20-20 on a software adapter), cpu 16-20
  --reps N               repetitions, median and min reported (default 5, --quick 3)
  --functions a,b        subset of ${ACTIVATION_NAMES.join(",")} (default all)
  --json FILE            also write the results as JSON
  --quick                a short run: the smallest default size, 3 repetitions, fewer calls
  --help                 this text`;

class UsageError extends Error {}

interface Config {
  backend: BenchBackend;
  sizes: [number, number] | null;
  reps: number | null;
  functions: ActivationName[];
  json: string | null;
  quick: boolean;
}

function parseRange(text: string): [number, number] {
  const match = /^(\d+)(?:-(\d+|max))?$/.exec(text);
  if (match === null) throw new UsageError(`--sizes wants A-B (log2), got ${text}`);
  const lo = Number(match[1]);
  const hi = match[2] === undefined ? lo : match[2] === "max" ? MAX_LOG2 : Number(match[2]);
  if (lo > hi || hi > MAX_LOG2) {
    throw new UsageError(`--sizes ${text}: need A <= B <= ${MAX_LOG2}`);
  }
  return [lo, hi];
}

function parseConfig(argv: string[]): Config | null {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      backend: { type: "string", default: "cpu" },
      sizes: { type: "string" },
      reps: { type: "string" },
      functions: { type: "string" },
      json: { type: "string" },
      quick: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) return null;
  const backend = values.backend as BenchBackend;
  if (!BACKENDS.includes(backend)) {
    throw new UsageError(`--backend must be one of ${BACKENDS.join(", ")}, got ${values.backend}`);
  }
  let reps: number | null = null;
  if (values.reps !== undefined) {
    reps = Number(values.reps);
    if (!Number.isInteger(reps) || reps < 1) {
      throw new UsageError(`--reps wants a positive integer, got ${values.reps}`);
    }
  }
  const functions = (values.functions ?? ACTIVATION_NAMES.join(",")).split(",").map((f) => {
    if (!(ACTIVATION_NAMES as readonly string[]).includes(f)) {
      throw new UsageError(`unknown function ${f}; choose from ${ACTIVATION_NAMES.join(", ")}`);
    }
    return f as ActivationName;
  });
  return {
    backend,
    sizes: values.sizes === undefined ? null : parseRange(values.sizes),
    reps,
    functions,
    json: values.json ?? null,
    quick: values.quick,
  };
}

/** Software adapters run shaders on the CPU, where the full default sweep would take hours. */
function isSoftwareAdapter(name: string): boolean {
  return /swiftshader|llvmpipe|lavapipe|software|microsoft basic render/i.test(name);
}

async function describeBackend(
  backend: BenchBackend,
): Promise<{ adapter: string; origin: string }> {
  await setBackend(backend);
  // The adapter is known to the backend object, which arrays carry.
  const probe = gpuarray.zeros([1]);
  const object = probe.backend as { adapterName?: string; source?: { origin?: string } };
  probe.dispose();
  if (backend === "cpu") return { adapter: "JavaScript", origin: "cpu reference backend" };
  return {
    adapter: object.adapterName ?? "unknown adapter",
    origin: object.source?.origin ?? "webgpu",
  };
}

async function run(config: Config): Promise<number> {
  const print = (text: string) => console.log(text);
  const { adapter, origin } = await describeBackend(config.backend);
  const software = config.backend === "webgpu" && isSoftwareAdapter(adapter);
  const notes: string[] = [];
  let sizes = config.sizes;
  if (sizes === null) {
    if (config.backend === "cpu") sizes = config.quick ? [16, 16] : [16, 20];
    else if (software || config.quick) sizes = [20, 20];
    else sizes = [20, 26];
    if (software) {
      notes.push("a software adapter: default sizes cut to 2^20; its times say nothing of a GPU");
    }
  }
  const options: SuiteOptions = {
    reps: config.reps ?? (config.quick ? 3 : 5),
    targetMs: config.quick ? 20 : 50,
    maxK: MAX_K,
    functions: config.functions,
  };
  notes.push(
    "not in place: each call makes a new output, the previous one disposed (pool reuse)",
    "a repetition = K back-to-back calls then a 1-element readback; every result checked against float64",
  );
  const info: RunInfo = {
    date: new Date().toISOString(),
    backend: config.backend,
    adapter,
    origin,
    node: process.version,
    reps: options.reps,
    targetMs: options.targetMs,
    sizes: [],
    notes,
  };
  printHeader(info, print);

  const throughput: ThroughputResult[] = [];
  const stopped: string[] = [];
  const measured: number[] = [];
  printThroughputHeader(print);
  for (let log2 = sizes[0]; log2 <= sizes[1]; log2++) {
    try {
      throughput.push(...(await measureSize(log2, options, (r) => print(throughputRow(r)))));
      measured.push(log2);
    } catch (error) {
      // The adapter's maxStorageBufferBindingSize (or memory) ends the sweep, not the run.
      if (!(error instanceof BackendError)) throw error;
      const why = `stopped at 2^${log2}: ${error.message}`;
      stopped.push(why);
      print(why);
      break;
    }
  }

  let latency: LatencyResult[] = [];
  try {
    latency = await measureLatency(LATENCY_SIZE, config.quick ? 50 : 200, options);
    printLatency(latency, print);
  } catch (error) {
    if (!(error instanceof BackendError)) throw error;
    stopped.push(`latency: ${error.message}`);
    print(`latency not measured: ${error.message}`);
  }

  if (config.json !== null) {
    writeJson(config.json, { info: { ...info, sizes: measured }, throughput, latency, stopped });
    print(`\nwrote ${config.json}`);
  }
  return measured.length > 0 && latency.length > 0 ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  let config: Config | null;
  try {
    config = parseConfig(argv);
  } catch (error) {
    // parseArgs throws TypeErrors with a code for unknown or malformed options.
    const usage = error instanceof UsageError || (error as { code?: string }).code !== undefined;
    if (!usage) throw error;
    console.error(`bench: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (config === null) {
    console.log(USAGE);
    return 0;
  }
  return run(config);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const label = error instanceof WrongResultError ? "wrong result" : "failed";
    console.error(`bench: ${label}: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);

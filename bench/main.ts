// The benchmark entry. `npm run bench` (cpu) runs puzzlelib-ts side by side with the naive loop
// and the peer libraries of bench/peers (compare.ts); `npm run bench -- --backend webgpu` measures
// puzzlelib-ts alone on the GPU against a device copy (puzzlelib.ts).
// Exit codes, as the puzzlelib command: 0 success, 1 failure (a wrong result of puzzlelib-ts
// included; a peer's wrong result is reported, not a failure), 2 usage.

import { existsSync, readdirSync, statSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { BackendError, gpuarray, setBackend } from "../src/index.js";
import { BENCH_FUNCTIONS, CORE_FUNCTIONS, type BenchFunction } from "./functions.js";
import {
  measureDispatch,
  measureLatency,
  measureSize,
  type DispatchResult,
  type ThroughputResult,
} from "./puzzlelib.js";
import { selfTest, WrongResultError } from "./reference.js";
import {
  printHeader,
  printDispatch,
  printLatency,
  printSideBySide,
  printThroughputHeader,
  throughputRow,
  writeJson,
  type RunInfo,
} from "./report.js";
import type { LatencyResult, SuiteOptions } from "./puzzlelib.js";
import * as sources from "../src/index.js";
import { compareSize, NAIVE, puzzlelibImpls, type Puzzlelib, type SizeReport } from "./compare.js";
import {
  printCompareHeader,
  printSize,
  printSummary,
  writeCompareJson,
  type CompareInfo,
} from "./compare-report.js";
import type { Direction, Impl } from "./impl.js";
import { loadGpuPeers, loadPeers, type GpuPeerSet } from "./peers/load.js";
import {
  HOST_QUICK_SIZES,
  HOST_SIZES,
  hostFailures,
  measureHost,
  printHostHeader,
  printHostSize,
  type HostLib,
  type HostReport,
} from "./host.js";
import type { TimingOptions } from "./timing.js";

const BACKENDS = ["cpu", "webgpu"] as const;
type BenchBackend = (typeof BACKENDS)[number];
const SUITES = ["compare", "self"] as const;
type Suite = (typeof SUITES)[number];
const LIBS = ["src", "dist"] as const;
type Lib = (typeof LIBS)[number];
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const IMPL_IDS =
  "tfjs-cpu, tfjs-wasm, ort-1t, ort-2t, puzzlelib-1t[-ip], puzzlelib-Nt[-ip], naive-js";

// Host memory bounds the sweep: the bench keeps float32 inputs and readbacks of each size.
const MAX_LOG2 = 28;
const LATENCY_SIZE = 1000;
// Calls per repetition of the dispatch figure: enough that a repetition lasts tens of ms.
const DISPATCH_CALLS = 2000;
// Bounds K for tiny calls, so a fast device cannot queue without end.
const MAX_K = 20000;

/** text broken at spaces into lines of at most `width` characters, each indented by `indent`. */
function wrap(text: string, indent: number, width: number): string {
  const pattern = new RegExp(`(.{1,${width - indent}})(?: |$)`, "g");
  return [...text.matchAll(pattern)].map((m) => " ".repeat(indent) + m[1]).join("\n");
}

const USAGE = `usage: npm run bench -- [options]

  --backend cpu|webgpu   what to measure (default cpu)
  --suite compare|self   compare (cpu only, the default there): puzzlelib-ts cpu at 1 and all
                         threads, in place or not, side by side with the naive loop, tfjs
                         (cpu, wasm) and onnxruntime-node (1, 2 threads) of bench/peers, against
                         a Float32Array copy; self (the default for webgpu): puzzlelib-ts
                         against the backend's own copy (on webgpu with tfjs-webgpu's forward
                         beside it), small-tensor latency and the per-call dispatch cost
  --sizes A-B|A,B,...    log2 sizes: a range, or a list; B may be "max" (2^${MAX_LOG2}, or until
                         the device refuses the allocation). default: compare 20,24, the
                         sizes of the targets (10,16,20,24 is the full sweep; --quick
                         10,16,20), self: webgpu 20-${MAX_LOG2} (20 on a software adapter), cpu 16-20
  --reps N               repetitions, median and min reported (default 5, --quick 3)
  --functions a,b        a subset of the ${BENCH_FUNCTIONS.length} functions (default all); "core" for
                         PuzzleLib's seven (${CORE_FUNCTIONS.join(", ")}):
${wrap(BENCH_FUNCTIONS.join(", "), 25, 94)}
  --directions a,b       compare: forward, backward or both (default both)
  --only a,b             compare: only these implementations, by id or prefix:
                         ${IMPL_IDS}
  --no-inplace           compare: skip puzzlelib's in-place variants
  --no-peers             self, webgpu: skip tfjs-webgpu (bench/peers), which is otherwise
                         timed forward beside ours on the same adapter
  --no-host              skip the host path: Float32Array slice (the anchor), np.array of a
                         Float32Array, gpuarray.toGpu and await get() on the backend measured,
                         at 2^10, 2^20 and 2^24 (--quick 2^10, 2^20; --sizes applies to it too);
                         measured after the rest of the run, in both suites
  --host-only            only the host path
  --lib src|dist         compare: puzzlelib-ts from its TypeScript sources (default, under tsx)
                         or from the built package in dist/ (run npm run build first)
  --json FILE            also write the results as JSON
  --quick                a short run: fewer sizes, 3 repetitions, fewer calls
  --help                 this text

The peers live in bench/peers, a package of their own; install them once with
  cd bench/peers && ONNXRUNTIME_NODE_INSTALL=skip npm ci --ignore-scripts
Without them, compare measures puzzlelib-ts, the naive loop and the copy, and says so.`;

class UsageError extends Error {}

interface Config {
  backend: BenchBackend;
  suite: Suite;
  sizes: number[] | null;
  reps: number | null;
  functions: BenchFunction[];
  directions: Direction[];
  only: string[] | null;
  inplace: boolean;
  /** self on webgpu: time the WebGPU peers beside ours. */
  peers: boolean;
  /** The host-path section: run it (after the rest), and/or only it. */
  host: boolean;
  hostOnly: boolean;
  lib: Lib;
  json: string | null;
  quick: boolean;
}

/** log2 sizes: "A-B" (B may be "max"), "A", or "A,B,C". */
function parseSizes(text: string): number[] {
  if (text.includes(",")) {
    const sizes = text.split(",").map((part) => {
      const n = Number(part);
      if (!/^\d+$/.test(part) || n > MAX_LOG2) {
        throw new UsageError(`--sizes ${text}: each size must be a log2 <= ${MAX_LOG2}`);
      }
      return n;
    });
    return [...new Set(sizes)].sort((a, b) => a - b);
  }
  const match = /^(\d+)(?:-(\d+|max))?$/.exec(text);
  if (match === null) throw new UsageError(`--sizes wants A-B or A,B,... (log2), got ${text}`);
  const lo = Number(match[1]);
  const hi = match[2] === undefined ? lo : match[2] === "max" ? MAX_LOG2 : Number(match[2]);
  if (lo > hi || hi > MAX_LOG2) {
    throw new UsageError(`--sizes ${text}: need A <= B <= ${MAX_LOG2}`);
  }
  return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
}

function parseList<T extends string>(text: string, allowed: readonly T[], what: string): T[] {
  return text.split(",").map((item) => {
    if (!(allowed as readonly string[]).includes(item)) {
      throw new UsageError(`unknown ${what} ${item}; choose from ${allowed.join(", ")}`);
    }
    return item as T;
  });
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
      suite: { type: "string" },
      directions: { type: "string" },
      only: { type: "string" },
      "no-inplace": { type: "boolean", default: false },
      "no-peers": { type: "boolean", default: false },
      "no-host": { type: "boolean", default: false },
      "host-only": { type: "boolean", default: false },
      lib: { type: "string", default: "src" },
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
  const functions =
    values.functions === "core"
      ? [...CORE_FUNCTIONS]
      : parseList(values.functions ?? BENCH_FUNCTIONS.join(","), BENCH_FUNCTIONS, "function");
  selfTest(functions);
  const suite = (values.suite ?? (backend === "cpu" ? "compare" : "self")) as Suite;
  if (!SUITES.includes(suite)) {
    throw new UsageError(`--suite must be one of ${SUITES.join(", ")}, got ${values.suite}`);
  }
  if (suite === "compare" && backend !== "cpu") {
    throw new UsageError("--suite compare measures the cpu backend; use --suite self for webgpu");
  }
  if (values["no-host"] && values["host-only"]) {
    throw new UsageError("--no-host and --host-only exclude each other");
  }
  return {
    backend,
    suite,
    sizes: values.sizes === undefined ? null : parseSizes(values.sizes),
    reps,
    functions,
    directions: parseList(
      values.directions ?? "forward,backward",
      ["forward", "backward"],
      "direction",
    ),
    only: values.only === undefined ? null : values.only.split(","),
    inplace: !values["no-inplace"],
    peers: !values["no-peers"],
    host: !values["no-host"],
    hostOnly: values["host-only"],
    lib: parseList(values.lib, LIBS, "--lib")[0]!,
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
): Promise<{ adapter: string; origin: string; gpu: unknown }> {
  await setBackend(backend);
  // The adapter is known to the backend object, which arrays carry.
  const probe = gpuarray.zeros([1]);
  const object = probe.backend as {
    adapterName?: string;
    source?: { origin?: string; gpu?: unknown };
  };
  probe.dispose();
  if (backend === "cpu") {
    return { adapter: "JavaScript", origin: "cpu reference backend", gpu: undefined };
  }
  return {
    adapter: object.adapterName ?? "unknown adapter",
    origin: object.source?.origin ?? "webgpu",
    gpu: object.source?.gpu,
  };
}

/** The host path's timing, the same in both suites: as the compare suite's rows. */
function hostTiming(config: Config): TimingOptions {
  return {
    reps: config.reps ?? (config.quick ? 3 : 5),
    targetMs: config.quick ? 10 : 25,
    maxK: MAX_K,
    budgetMs: config.quick ? 1000 : 1500,
    verifyEach: false,
  };
}

/**
 * The host-path section on the current backend, printed row by row; null with --no-host. A wrong
 * or failing row of puzzlelib-ts (np.array, toGpu, get) is reported on stderr.
 */
async function runHost(
  config: Config,
  lib: HostLib,
  backend: string,
  setup: string,
): Promise<HostReport | null> {
  if (!config.host) return null;
  const print = (text: string) => console.log(text);
  const progress = (text: string) => process.stderr.write(`  ... ${text}\n`);
  const sizes = config.sizes ?? (config.quick ? HOST_QUICK_SIZES : HOST_SIZES);
  printHostHeader(backend, setup, print);
  const report = await measureHost(lib, sizes, hostTiming(config), setup, progress, (r) =>
    printHostSize(r, print),
  );
  for (const r of hostFailures(report))
    console.error(`bench: host ${r.row} 2^${r.log2}: ${r.status}: ${r.message}`);
  return report;
}

async function runSelf(config: Config): Promise<number> {
  const print = (text: string) => console.log(text);
  const { adapter, origin, gpu } = await describeBackend(config.backend);
  const software = config.backend === "webgpu" && isSoftwareAdapter(adapter);
  const notes: string[] = [];
  let sizes = config.sizes;
  if (sizes === null) {
    if (config.backend === "cpu") sizes = config.quick ? [16] : [16, 17, 18, 19, 20];
    else if (software || config.quick) sizes = [20];
    else sizes = Array.from({ length: MAX_LOG2 - 19 }, (_, i) => 20 + i);
    if (software) {
      notes.push("a software adapter: default sizes cut to 2^20; its times say nothing of a GPU");
    }
  }
  const wantPeers = config.backend === "webgpu" && config.peers && !config.hostOnly;
  const peerSet: GpuPeerSet = wantPeers
    ? await loadGpuPeers(gpu)
    : { peers: [], problems: [], notes: [], versions: {} };
  notes.push(...peerSet.notes);
  for (const problem of peerSet.problems) console.error(`bench: ${problem}`);
  // tfjs requests its own adapter from the same GPU object: say which one it got.
  for (const peer of peerSet.peers) notes.push(`${peer.id}: ${peer.description}`);
  const options: SuiteOptions = {
    reps: config.reps ?? (config.quick ? 3 : 5),
    targetMs: config.quick ? 20 : 50,
    maxK: MAX_K,
    functions: config.functions,
    peers: peerSet.peers,
  };
  if (!config.hostOnly)
    notes.push(
      "not in place: each call writes the module's own output, reused from the last call (disposing the stale previous handle does nothing)",
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
  let latency: LatencyResult[] = [];
  let dispatch: DispatchResult | null = null;
  let host: HostReport | null = null;
  // Written after each section, so that a run stopped from outside (the device script's time
  // limit) keeps what it has measured.
  const save = (final: boolean) => {
    if (config.json === null) return;
    writeJson(config.json, {
      info: { ...info, sizes: measured },
      complete: final,
      throughput,
      latency,
      dispatch,
      peers: {
        measured: Object.fromEntries(peerSet.peers.map((p) => [p.id, p.description])),
        versions: peerSet.versions,
        problems: peerSet.problems,
      },
      stopped,
      host,
    });
  };

  // The small-tensor figures first: they take seconds, and the sweep's big sizes take minutes.
  try {
    if (!config.hostOnly) {
      latency = await measureLatency(LATENCY_SIZE, config.quick ? 50 : 200, options);
      printLatency(latency, print);
      dispatch = await measureDispatch(LATENCY_SIZE, DISPATCH_CALLS, options.reps);
      printDispatch(dispatch, print);
    }
  } catch (error) {
    if (!(error instanceof BackendError)) throw error;
    stopped.push(`latency: ${error.message}`);
    print(`latency not measured: ${error.message}`);
  }
  save(false);

  if (!config.hostOnly) printThroughputHeader(print);
  for (const log2 of config.hostOnly ? [] : sizes) {
    try {
      throughput.push(...(await measureSize(log2, options, (r) => print(throughputRow(r)))));
      measured.push(log2);
      save(false);
    } catch (error) {
      // The adapter's maxStorageBufferBindingSize (or memory) ends the sweep, not the run.
      if (!(error instanceof BackendError)) throw error;
      const why = `stopped at 2^${log2}: ${error.message}`;
      stopped.push(why);
      print(why);
      break;
    }
  }
  if (!config.hostOnly) printSideBySide(throughput, print);

  host = await runHost(
    config,
    sources,
    config.backend,
    `setBackend("${config.backend}"), ${adapter}`,
  );
  save(true);
  if (config.json !== null) print(`\nwrote ${config.json}`);
  const suiteOk = config.hostOnly || (measured.length > 0 && latency.length > 0);
  return suiteOk && hostFailures(host).length === 0 ? 0 : 1;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** The library as the compare suite measures it: the sources, or the built dist/. */
async function loadPuzzlelib(lib: Lib): Promise<{ module: Puzzlelib; notes: string[] }> {
  if (lib === "src") return { module: sources, notes: [] };
  const entry = join(ROOT, "dist", "index.js");
  if (!existsSync(entry)) throw new UsageError("--lib dist: no dist/index.js; run npm run build");
  const notes: string[] = [];
  if (statSync(entry).mtimeMs < newestMtime(join(ROOT, "src"))) {
    notes.push("puzzlelib: dist/ is older than src/: this measures the last build (npm run build)");
  }
  const specifier = pathToFileURL(entry).href;
  return { module: (await import(specifier)) as Puzzlelib, notes };
}

/** The side-by-side run: peers first at each size, then puzzlelib-ts, then the naive loop. */
async function runCompare(config: Config): Promise<number> {
  const print = (text: string) => console.log(text);
  const progress = (text: string) => process.stderr.write(`  ... ${text}\n`);
  const only = config.only;
  const wanted = (id: string) => only === null || only.some((o) => id === o || id.startsWith(o));
  // 24 functions at four sizes would take some 10 minutes on 2 cores; --sizes 10,16,20,24 does.
  const sizes = config.sizes ?? (config.quick ? [10, 16, 20] : [20, 24]);
  const options = {
    reps: config.reps ?? (config.quick ? 3 : 5),
    targetMs: config.quick ? 10 : 25,
    maxK: MAX_K,
    budgetMs: config.quick ? 1000 : 1500,
    verifyEach: false,
    functions: config.functions,
    directions: config.directions,
  };

  const library = await loadPuzzlelib(config.lib);
  // --host-only: no peers, no activation rows, only the host path after the header.
  const sweep = !config.hostOnly;
  const peers = sweep
    ? await loadPeers(wanted)
    : { impls: [], versions: {}, problems: [], notes: [] };
  const puzzlelib = sweep
    ? await puzzlelibImpls(library.module, config.lib, config.inplace)
    : { impls: [], notes: [] };
  const impls: Impl[] = [
    ...peers.impls,
    ...puzzlelib.impls.filter((i) => wanted(i.id)),
    ...(sweep && wanted(NAIVE.id) ? [NAIVE] : []),
  ];
  const info: CompareInfo = {
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model.trim() ?? "unknown cpu",
    cores: availableParallelism(),
    reps: options.reps,
    targetMs: options.targetMs,
    budgetMs: options.budgetMs,
    sizes: sweep ? sizes : [],
    impls: impls.map(({ id, kind, description }) => ({ id, kind, description })),
    versions: peers.versions,
    problems: peers.problems,
    notes: [...library.notes, ...puzzlelib.notes, ...peers.notes],
  };
  printCompareHeader(info, print);
  for (const problem of peers.problems) console.error(`bench: ${problem}`);

  const reports: SizeReport[] = [];
  try {
    for (const log2 of sweep ? sizes : []) {
      const report = await compareSize(log2, impls, options, progress);
      reports.push(report);
      printSize(report, print);
    }
  } finally {
    for (const impl of impls) await impl.close?.();
  }
  if (sweep) printSummary(reports, impls, print);

  // The host path, on the cpu backend. setBackend("cpu") keeps the thread count last set; an
  // upload or a readback is one copy on the calling thread whatever the count.
  let host: HostReport | null = null;
  if (config.host) {
    await library.module.setBackend("cpu");
    host = await runHost(
      config,
      library.module,
      "cpu",
      `setBackend("cpu"), ${config.lib === "dist" ? "dist/, built" : "src/, tsx"}`,
    );
  }
  if (config.json !== null) {
    writeCompareJson(config.json, { info, sizes: reports, host });
    print(`\nwrote ${config.json}`);
  }
  // A wrong or failing puzzlelib-ts result fails the run; a peer's is only reported.
  const own = reports.flatMap((r) => r.results).filter((r) => r.kind === "puzzlelib");
  const bad = own.filter((r) => r.status === "fail" || r.status === "error");
  for (const r of bad)
    console.error(`bench: ${r.impl} ${r.function} ${r.direction} 2^${r.log2}: ${r.message}`);
  return bad.length > 0 || hostFailures(host).length > 0 ? 1 : 0;
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
  return config.suite === "compare" ? runCompare(config) : runSelf(config);
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

// puzzlelib-ts's webgpu backend beside onnxruntime-web 1.30's WebGPU execution provider, forward,
// in one headless Chromium page (Debian's /usr/bin/chromium through playwright-core) on its WebGPU
// adapter: SwiftShader, a CPU Vulkan driver, where there is no GPU, whose times say nothing of a
// GPU. Every function ORT has an ONNX operator for (bench/peers/onnx-model.ts), at DEFAULT_ARGS.
//
//   node --import tsx bench/browser/main.ts [--sizes 20,24] [--reps 5] [--functions a,b] [--json FILE]
//
// The page (bench/browser/page.ts) is bundled by esbuild with the library and served on 127.0.0.1
// beside onnxruntime-web's dist/ (from bench/peers/node_modules: cd bench/peers && npm ci
// --ignore-scripts). Each row: a warm-up call, then K calls per repetition (K so that one lasts
// >= 50 ms, at most 2000), median of the repetitions (bench/timing.ts). Ours: K forwards queued,
// then a 1-element readback; ORT: K awaited session.run on a GPU-resident input with GPU outputs,
// then queue.onSubmittedWorkDone(). The warm-up's and the last repetition's results are checked
// against the float64 reference (a strided sample of up to 2^21 elements); a wrong
// result of ours (beyond 1e-5 relative) exits 1, ORT's inaccuracy is only reported. The "ORT EP"
// column is where ORT placed the node (from a verbose session log): functions without a WebGPU
// kernel run on its CPU EP, their times including the copies to and from the GPU.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { extname, join, normalize, sep } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import type { BenchFunction } from "../functions.js";
import type { BenchApi, PageInfo, RowResult, TimingJob } from "./protocol.js";
import { CHROMIUM, CHROMIUM_ARGS } from "../../test/browser/chromium.js";

const PAGE = fileURLToPath(new URL("./page.ts", import.meta.url));
const ASSERT_SHIM = fileURLToPath(new URL("./assert-shim.ts", import.meta.url));
const ORT_DIST = fileURLToPath(
  new URL("../peers/node_modules/onnxruntime-web/dist/", import.meta.url),
);
const STEP_TIMEOUT_MS = 60_000;
const ROW_TIMEOUT_MS = 300_000;
const TARGET_MS = 50;
const MAX_K = 2000;

class UsageError extends Error {}

interface Config {
  readonly sizes: number[];
  readonly reps: number;
  readonly json: string | null;
  readonly functions: string[] | null;
}

const USAGE = `usage: node --import tsx bench/browser/main.ts [options]
  --sizes A,B,...   log2 sizes (default 20; 20,24 takes some 15 minutes on SwiftShader)
  --reps N          repetitions, median reported (default 5)
  --functions a,b   only these functions (default: every one ORT has)
  --json FILE       also write the results as JSON`;

function parseConfig(argv: string[]): Config {
  const { values } = parseArgs({
    args: argv,
    options: {
      sizes: { type: "string" },
      reps: { type: "string" },
      json: { type: "string" },
      functions: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const sizes = (values.sizes ?? "20").split(",").map((part) => {
    const n = Number(part);
    if (!/^\d+$/.test(part) || n > 28) throw new UsageError(`--sizes: bad log2 size "${part}"`);
    return n;
  });
  const reps = Number(values.reps ?? "5");
  if (!Number.isInteger(reps) || reps < 1) {
    throw new UsageError(`--reps wants a positive integer, got ${values.reps}`);
  }
  return {
    sizes: [...new Set(sizes)].sort((a, b) => a - b),
    reps,
    json: values.json ?? null,
    functions: values.functions === undefined ? null : values.functions.split(","),
  };
}

const TYPES: Record<string, string> = {
  ".mjs": "text/javascript; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
  ".map": "application/json",
};

async function bundlePage(): Promise<string> {
  const result = await esbuild.build({
    entryPoints: [PAGE],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    // The library imports the Node package "webgpu" only where navigator.gpu is missing.
    external: ["webgpu"],
    plugins: [
      {
        name: "assert-shim",
        setup(build) {
          build.onResolve({ filter: /^node:assert(\/strict)?$/ }, () => ({ path: ASSERT_SHIM }));
        },
      },
    ],
    write: false,
    logLevel: "silent",
  });
  for (const w of result.warnings) console.error(`bench: esbuild warning: ${w.text}`);
  return result.outputFiles[0]!.text;
}

function serve(script: string): Promise<{ server: http.Server; url: string }> {
  const html =
    '<!doctype html><meta charset="utf-8"><title>puzzlelib-ts vs onnxruntime-web</title>' +
    '<script type="module" src="/page.js"></script>';
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
    const headers = { "cache-control": "no-store" };
    if (path === "/" || path === "/page.js") {
      const [type, body] =
        path === "/" ? ["text/html; charset=utf-8", html] : [TYPES[".js"]!, script];
      res.writeHead(200, { ...headers, "content-type": type });
      res.end(body);
      return;
    }
    if (path.startsWith("/ort/")) {
      const file = normalize(join(ORT_DIST, path.slice("/ort/".length)));
      if (file.startsWith(ORT_DIST.endsWith(sep) ? ORT_DIST : ORT_DIST + sep) && existsSync(file)) {
        const type = TYPES[extname(file)] ?? "application/octet-stream";
        res.writeHead(200, { ...headers, "content-type": type });
        res.end(readFileSync(file));
        return;
      }
    }
    res.writeHead(path === "/favicon.ico" ? 204 : 404, headers);
    res.end();
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` }),
    );
  });
}

function withTimeout<T>(promise: Promise<T>, what: string, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

type Api = { puzzlelibBench: BenchApi };

/** How ORT placed fn's node, from the verbose log of a session made for it. */
async function placement(page: Page, log: string[], fn: BenchFunction): Promise<string> {
  const from = log.length;
  await page.evaluate((f) => (globalThis as unknown as Api).puzzlelibBench.logPlacement(f), fn);
  const eps = new Set<string>();
  for (const line of log.slice(from)) {
    for (const m of line.matchAll(/placed on \[(\w+)\]/g)) eps.add(m[1]!);
  }
  return eps.size === 0 ? "?" : [...eps].join("+");
}

const fmtMs = (ms: number | undefined) =>
  ms === undefined ? "-" : ms >= 100 ? ms.toFixed(1) : ms >= 1 ? ms.toFixed(3) : ms.toFixed(4);

const COLUMNS = [
  ["size", 6],
  ["function", 12],
  ["ours ms/call", 13],
  ["ORT ms/call", 13],
  ["ORT/ours", 9],
  ["ULP ours", 9],
  ["ULP ORT", 11],
  ["ORT EP", 16],
] as const;

function line(cells: readonly string[]): string {
  const table = COLUMNS.map(([, width], i) => {
    const c = cells[i] ?? "";
    return i < 2 ? c.padEnd(width) : c.padStart(width);
  });
  return [...table, ...cells.slice(COLUMNS.length)].join(" ");
}

function rowLine(r: RowResult, ep: string): string {
  const { ours, ort } = r;
  const ratio = ours !== null && ort !== null ? (ort.medianMs / ours.medianMs).toFixed(2) : "-";
  const notes: string[] = [];
  if (r.oursError !== null) notes.push(`ours: ${r.oursError}`);
  if (r.ortError !== null) notes.push(`ORT: ${r.ortError.split("\n")[0]}`);
  if (ort?.status === "outside contract") notes.push("ORT outside 1e-5 rel");
  return line([
    `2^${r.log2}`,
    r.function,
    fmtMs(ours?.medianMs),
    fmtMs(ort?.medianMs),
    ratio,
    ours?.worstUlp == null ? "-" : String(ours.worstUlp),
    ort?.worstUlp == null ? "-" : String(ort.worstUlp),
    ep,
    ...notes,
  ]);
}

async function main(): Promise<number> {
  let config: Config;
  try {
    config = parseConfig(process.argv.slice(2));
  } catch (error) {
    console.error(`bench: ${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    return 2;
  }
  if (!existsSync(CHROMIUM)) {
    console.error(`bench: ${CHROMIUM} not found (apt-get install chromium)`);
    return 2;
  }
  if (!existsSync(join(ORT_DIST, "ort.webgpu.min.mjs"))) {
    console.error("bench: onnxruntime-web missing: cd bench/peers && npm ci --ignore-scripts");
    return 2;
  }

  const log: string[] = [];
  let server: http.Server | null = null;
  let context: BrowserContext | null = null;
  const userDataDir = mkdtempSync(join(tmpdir(), "puzzlelib-bench-chromium-"));
  let step = "bundling the page";
  let wrong = 0;
  const rows: (RowResult & { ortPlacement: string })[] = [];
  try {
    const served = await serve(await bundlePage());
    server = served.server;
    step = `launching ${CHROMIUM}`;
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      timeout: STEP_TIMEOUT_MS,
    });
    const page = context.pages()[0] ?? (await context.newPage());
    page.on("console", (m) => log.push(`[console.${m.type()}] ${m.text()}`));
    page.on("pageerror", (e) => log.push(`[pageerror] ${e.stack ?? e.message}`));
    page.on("crash", () => log.push("[crash] the page crashed"));
    step = `loading ${served.url}`;
    await page.goto(served.url, { waitUntil: "load", timeout: STEP_TIMEOUT_MS });
    await page.waitForFunction(() => "puzzlelibBench" in globalThis, undefined, {
      timeout: STEP_TIMEOUT_MS,
    });
    page.setDefaultTimeout(ROW_TIMEOUT_MS);
    const call = <T>(what: string, f: () => Promise<T>, ms = STEP_TIMEOUT_MS): Promise<T> => {
      step = what;
      return withTimeout(f(), what, ms);
    };

    const info: PageInfo = await call("probing the page", () =>
      page.evaluate(() => (globalThis as unknown as Api).puzzlelibBench.probe()),
    );
    let functions: BenchFunction[] = await page.evaluate(() =>
      (globalThis as unknown as Api).puzzlelibBench.ortFunctions(),
    );
    if (config.functions !== null) {
      const unknown = config.functions.filter((f) => !functions.includes(f as BenchFunction));
      if (unknown.length > 0) {
        console.error(`bench: --functions: not ORT functions here: ${unknown.join(", ")}`);
        return 2;
      }
      functions = functions.filter((f) => config.functions!.includes(f));
    }
    const ortVersion = info.ortVersions["web"] ?? "?";
    console.log(
      `puzzlelib-ts webgpu vs onnxruntime-web ${ortVersion} (ort.webgpu.min.mjs, WebGPU EP), forward, float32`,
    );
    console.log(`browser: ${info.userAgent}`);
    console.log(`adapter: ${info.adapter ?? "none"}`);
    console.log(
      `timing: warm-up call, then K calls per repetition (>= ${TARGET_MS} ms, K <= ${MAX_K}), ` +
        `median of ${config.reps}; ours: K queued forwards + 1-element readback; ORT: K awaited ` +
        "session.run (GPU input, gpu-buffer output) + queue.onSubmittedWorkDone()",
    );
    console.log(`functions (${functions.length}): ${functions.join(", ")}\n`);

    const placements = new Map<BenchFunction, string>();
    for (const fn of functions) {
      placements.set(fn, await call(`ORT placement of ${fn}`, () => placement(page, log, fn)));
    }

    console.log(line(COLUMNS.map(([name]) => name)));
    const timing: TimingJob = { reps: config.reps, targetMs: TARGET_MS, maxK: MAX_K };
    for (const log2 of config.sizes) {
      await call(
        `preparing 2^${log2}`,
        () =>
          page.evaluate((n) => (globalThis as unknown as Api).puzzlelibBench.prepareSize(n), log2),
        ROW_TIMEOUT_MS,
      );
      for (const fn of functions) {
        const row = await call(
          `${fn} at 2^${log2}`,
          () =>
            page.evaluate(([f, t]) => (globalThis as unknown as Api).puzzlelibBench.runRow(f, t), [
              fn,
              timing,
            ] as const),
          ROW_TIMEOUT_MS,
        );
        const ep = placements.get(fn) ?? "?";
        rows.push({ ...row, ortPlacement: ep });
        console.log(rowLine(row, ep));
        if (row.oursError !== null) wrong++;
      }
    }
    await page.evaluate(() => (globalThis as unknown as Api).puzzlelibBench.release());

    const outside = rows.filter((r) => r.ort?.status === "outside contract");
    console.log(
      "\nratio: ORT's median time per call / ours (> 1: ours is faster). ULP: worst distance " +
        "from the float64 reference rounded to float32, over a sample of up to 2^21 elements.",
    );
    for (const r of outside) {
      console.log(`ORT outside contract: ${r.ort!.message}`);
    }
    const offGpu = [...placements].filter(([, ep]) => ep !== "WebGpuExecutionProvider");
    for (const [fn, ep] of offGpu) console.log(`ORT ${fn} placed on ${ep} (not all on WebGPU)`);

    if (config.json !== null) {
      writeFileSync(
        config.json,
        JSON.stringify(
          {
            info: { ...info, chromium: CHROMIUM, sizes: config.sizes, ...timing },
            rows,
          },
          null,
          1,
        ) + "\n",
      );
      console.log(`wrote ${config.json}`);
    }
  } catch (error) {
    console.error(
      `bench: ${step}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    const tail = log.filter((l) => !/\[[VI]:onnxruntime/.test(l)).slice(-20);
    if (tail.length > 0) console.error(`browser console:\n  ${tail.join("\n  ")}`);
    return 1;
  } finally {
    await context?.close().catch(() => {});
    if (server !== null) {
      const s = server;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
    rmSync(userDataDir, { recursive: true, force: true });
  }
  if (wrong > 0) {
    console.error(`bench: ${wrong} row(s) of ours failed or were wrong: see the table`);
    return 1;
  }
  return 0;
}

process.exitCode = await main();

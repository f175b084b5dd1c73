// The library in a browser: test/browser/entry.ts and src/index.ts bundled by esbuild (format esm,
// platform browser), served on 127.0.0.1, run in Debian's headless Chromium through playwright-core
// (no downloaded browser). The page runs the documented example and the activations, forward and
// backward in float32 and float16 plus a sliced in-place case, on every backend that starts there;
// Node compares the raw results with the float64 oracles at TOLERANCES[backend].
//
// Headless Chromium with --enable-unsafe-webgpu offers SwiftShader (a CPU Vulkan driver) as its
// WebGPU adapter, so webgpu runs even without a GPU. Without /usr/bin/chromium the test is skipped,
// or fails when PUZZLELIB_REQUIRE_BACKENDS is set; without a WebGPU adapter in the browser only cpu
// runs, which fails when PUZZLELIB_REQUIRE_BACKENDS names webgpu.

import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it, type TestContext } from "node:test";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { chromium, type BrowserContext } from "playwright-core";
import { halfToNumber, numberToHalf } from "../src/host/float16.js";
import { TOLERANCES } from "./backends.js";
import type {
  BackendRun,
  BrowserApi,
  CaseJob,
  Job,
  PageInfo,
  SliceJob,
  TestDtype,
} from "./browser/protocol.js";
import {
  CONFIGS,
  backward,
  bitsToF32,
  err16,
  err32,
  f32Bits,
  fmt16,
  fmt32,
  forward,
  label,
  Tally,
  type Config,
} from "./reference/oracles.js";
import { CHROMIUM, CHROMIUM_ARGS } from "./browser/chromium.js";

const ENTRY = fileURLToPath(new URL("./browser/entry.ts", import.meta.url));
const STEP_TIMEOUT_MS = 20_000;

const requiredText = process.env.PUZZLELIB_REQUIRE_BACKENDS ?? "";
const required = new Set(requiredText.split(",").filter(Boolean));

// The inputs: the edges of the float range and a few ordinary values; g pairs each x with an
// incoming gradient, Inf and NaN included.
const X = [-Infinity, -100, -1, -1e-7, -0, 0, 1e-7, 0.5, 3, 88.7, 100, Infinity, NaN];
const G = [1, -1, 0.5, 2, -0, 1, 1e-7, -3, 0.25, Infinity, -Infinity, NaN, 1];
const DTYPES: readonly TestDtype[] = ["float32", "float16"];

const toBits = (dtype: TestDtype, values: readonly number[]): number[] =>
  values.map((v) => (dtype === "float32" ? f32Bits(v) : numberToHalf(v)));
const fromBits = (dtype: TestDtype, bits: number): number =>
  dtype === "float32" ? bitsToF32(bits) : halfToNumber(bits);
const fmt = (dtype: TestDtype, bits: number): string =>
  dtype === "float32" ? fmt32(bitsToF32(bits)) : fmt16(bits);

/**
 * Every config of the oracles (each function with its defaults, then non-default args) in both
 * dtypes, on every backend.
 */
function makeCases(): CaseJob[] {
  return DTYPES.flatMap((dtype) =>
    CONFIGS.map((c) => ({
      backends: ["cpu" as const, "js" as const, "webgpu" as const],
      name: c.name,
      args: c.args,
      dtype,
      x: toBits(dtype, X),
      g: toBits(dtype, G),
    })),
  );
}

// slice(-2, 0, -3) over 13 elements is Python's indices 11, 8, 5, 2: -Inf and NaN stay outside.
const SLICED: SliceJob = {
  name: "clip",
  args: [-1, 2.5],
  slice: [-2, 0, -3],
  x: toBits("float32", X),
  g: toBits("float32", G),
};
const SLICED_INDICES = [11, 8, 5, 2];

interface Session {
  info: PageInfo | null;
  job: Job | null;
  runs: BackendRun[] | null;
  /** Why there are no runs: the failing step and its error. */
  error: string | null;
  /** Browser console messages and page errors, in order. */
  logs: string[];
  timings: string[];
}

let server: http.Server | null = null;
let context: BrowserContext | null = null;
let userDataDir: string | null = null;

async function closeSession(): Promise<void> {
  await context?.close().catch(() => {});
  context = null;
  if (server !== null) {
    const s = server;
    server = null;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
  if (userDataDir !== null) rmSync(userDataDir, { recursive: true, force: true });
  userDataDir = null;
}

function withTimeout<T>(promise: Promise<T>, what: string, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function openSession(): Promise<Session> {
  const session: Session = {
    info: null,
    job: null,
    runs: null,
    error: null,
    logs: [],
    timings: [],
  };
  let step = "bundling";
  let started = performance.now();
  const lap = (what: string): void => {
    const now = performance.now();
    session.timings.push(`${what} ${Math.round(now - started)} ms`);
    started = now;
  };
  try {
    // node:* and the Node package "webgpu" are imported only on Node (when navigator.gpu is
    // missing and process exists): leave those dynamic imports alone.
    const bundle = await esbuild.build({
      entryPoints: [ENTRY],
      bundle: true,
      format: "esm",
      platform: "browser",
      // Nothing else is external: the core must bundle for browsers as it is.
      external: ["webgpu"],
      write: false,
      logLevel: "silent",
    });
    for (const w of bundle.warnings) session.logs.push(`[esbuild warning] ${w.text}`);
    const script = bundle.outputFiles[0]!.text;
    lap("bundle");

    step = "starting the server";
    const page =
      '<!doctype html><meta charset="utf-8"><title>puzzlelib-ts browser test</title>' +
      '<script type="module" src="/entry.js"></script>';
    server = http.createServer((req, res) => {
      const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
      const [status, type, body] =
        path === "/"
          ? [200, "text/html; charset=utf-8", page]
          : path === "/entry.js"
            ? [200, "text/javascript; charset=utf-8", script]
            : path === "/favicon.ico"
              ? [204, "text/plain", ""]
              : [404, "text/plain", "not found"];
      res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
      res.end(body);
    });
    const s = server;
    await new Promise<void>((resolve, reject) => {
      s.once("error", reject);
      s.listen(0, "127.0.0.1", () => resolve());
    });
    const url = `http://127.0.0.1:${(s.address() as AddressInfo).port}/`;

    step = `launching ${CHROMIUM}`;
    userDataDir = mkdtempSync(join(tmpdir(), "puzzlelib-chromium-"));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      timeout: STEP_TIMEOUT_MS,
    });
    lap("launch");

    step = `loading ${url}`;
    const tab = context.pages()[0] ?? (await context.newPage());
    tab.on("console", (m) => session.logs.push(`[console.${m.type()}] ${m.text()}`));
    tab.on("pageerror", (e) => session.logs.push(`[pageerror] ${e.stack ?? e.message}`));
    tab.on("crash", () => session.logs.push("[crash] the page crashed"));
    await tab.goto(url, { waitUntil: "load", timeout: STEP_TIMEOUT_MS });
    await tab.waitForFunction(() => "puzzlelibBrowserTest" in globalThis, undefined, {
      timeout: STEP_TIMEOUT_MS,
    });
    lap("page load");

    step = "probing navigator.gpu";
    const info = await withTimeout(
      tab.evaluate(() =>
        (
          globalThis as unknown as { puzzlelibBrowserTest: BrowserApi }
        ).puzzlelibBrowserTest.probe(),
      ),
      step,
      STEP_TIMEOUT_MS,
    );
    session.info = info;
    const job: Job = { cases: makeCases(), sliced: SLICED };
    session.job = job;
    lap("adapter probe");

    step = "running the page";
    session.runs = await withTimeout(
      tab.evaluate(
        (j) =>
          (globalThis as unknown as { puzzlelibBrowserTest: BrowserApi }).puzzlelibBrowserTest.run(
            j,
          ),
        job,
      ),
      step,
      // Compiling every shader on SwiftShader takes most of this.
      120_000,
    );
    lap("page run");
  } catch (error) {
    session.error = `${step}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
  }
  return session;
}

/** The browser's console for assertion messages. */
function consoleText(session: Session): string {
  return session.logs.length === 0
    ? "\n(browser console: empty)"
    : `\nbrowser console and page errors:\n  ${session.logs.join("\n  ")}`;
}

/** Compares one case with the oracles; returns the tallies for forward and backward. */
function judge(
  what: string,
  c: Config,
  dtype: TestDtype,
  job: { x: readonly number[]; g: readonly number[] },
  got: { y: readonly number[]; dx: readonly number[] },
  indices: readonly number[],
  tol: number,
): [Tally, Tally] {
  const fwd = new Tally(`${what} forward`, tol);
  const bwd = new Tally(`${what} backward`, tol);
  const value = (bits: number): number => fromBits(dtype, bits);
  const err = (bits: number, exact: number): number =>
    dtype === "float32" ? err32(bitsToF32(bits), exact) : err16(bits, exact);
  const rounded = (exact: number): string =>
    dtype === "float32" ? fmt32(Math.fround(exact)) : fmt16(numberToHalf(exact));
  for (const k of indices) {
    const [x, y, g, dx] = [job.x[k]!, got.y[k]!, job.g[k]!, got.dx[k]!];
    const expY = forward(c.name, value(x), c.args);
    const expDx = backward(c.name, value(g), { x: value(x), y: value(y) }, c.args);
    fwd.add(
      err(y, expY),
      () => `x=${fmt(dtype, x)} expected ${rounded(expY)} got ${fmt(dtype, y)}`,
    );
    bwd.add(
      err(dx, expDx),
      () =>
        `g=${fmt(dtype, g)} y=${fmt(dtype, y)} (x=${fmt(dtype, x)}) expected ${rounded(expDx)} ` +
        `got ${fmt(dtype, dx)}`,
    );
  }
  return [fwd, bwd];
}

function assertTallies(t: TestContext, session: Session, tallies: readonly Tally[]): void {
  for (const tally of tallies) t.diagnostic(tally.summary());
  for (const tally of tallies) {
    assert.equal(
      tally.failCount,
      0,
      `${tally.what}: ${tally.failCount}/${tally.count} values beyond ${tally.tol} ULP; worst ` +
        `${tally.worst} ULP at ${tally.worstAt}; first failures:\n  ${tally.failures.join("\n  ")}` +
        consoleText(session),
    );
  }
}

/** The tests of one backend that started in the page. */
function backendTests(session: Session, job: Job, run: BackendRun): void {
  const { backend } = run;
  const tol = TOLERANCES[backend];
  const ranOk = (): void =>
    assert.equal(
      run.runError,
      null,
      `${backend} in the browser: ${run.runError}${consoleText(session)}`,
    );

  it(`browser ${backend}: setBackend("${backend}") and the documented example`, () => {
    assert.equal(run.active, backend, `getBackend() after setBackend("${backend}")`);
    ranOk();
    assert.ok(run.example !== null);
    assert.equal(
      run.example.data,
      "[[  3.  -8.  -8.]\n [ -4.   7.   9.]\n [  0.  -9. -10.]]",
      `${backend}: the example's data${consoleText(session)}`,
    );
    assert.equal(
      run.example.relu,
      "[[3. 0. 0.]\n [0. 7. 9.]\n [0. 0. 0.]]",
      `${backend}: the example's relu${consoleText(session)}`,
    );
  });

  job.cases.forEach((one, i) => {
    const c: Config = { name: one.name, args: one.args };
    const what = `browser ${backend}: ${label(c)} ${one.dtype}`;
    it(`${what} forward and backward vs the float64 oracle`, (t) => {
      ranOk();
      const got = run.cases[i];
      assert.ok(got != null, `${what}: no result${consoleText(session)}`);
      assert.equal(got.y.length, X.length, `${what}: forward length`);
      assert.equal(got.dx.length, X.length, `${what}: backward length`);
      const all = X.map((_, k) => k);
      const ulps = one.dtype === "float32" ? tol.float32Ulp : tol.float16Ulp;
      assertTallies(t, session, judge(what, c, one.dtype, one, got, all, ulps));
    });
  });

  const slicedWhat = `browser ${backend}: ${label(SLICED)} float32 with slc=slice(${SLICED.slice.join(", ")}), inplace`;
  it(slicedWhat, (t) => {
    ranOk();
    const got = run.sliced;
    assert.ok(got !== null, `${slicedWhat}: no result${consoleText(session)}`);
    assert.ok(got.forwardInPlace, `${slicedWhat}: forward did not return its input`);
    assert.ok(got.backwardInPlace, `${slicedWhat}: backward did not return its gradient`);
    assert.deepEqual(got.xAfter, got.y, `${slicedWhat}: x after forward is not y`);
    for (let k = 0; k < X.length; k++) {
      if (SLICED_INDICES.includes(k)) continue;
      assert.equal(
        got.y[k],
        SLICED.x[k],
        `${slicedWhat}: y[${k}] outside the slice changed: ${fmt("float32", got.y[k]!)} != x ${fmt("float32", SLICED.x[k]!)}`,
      );
      assert.equal(
        got.dx[k],
        SLICED.g[k],
        `${slicedWhat}: dx[${k}] outside the slice is not g: ${fmt("float32", got.dx[k]!)} != ${fmt("float32", SLICED.g[k]!)}`,
      );
    }
    assertTallies(
      t,
      session,
      judge(slicedWhat, SLICED, "float32", SLICED, got, SLICED_INDICES, tol.float32Ulp),
    );
  });
}

if (!existsSync(CHROMIUM)) {
  const why = `${CHROMIUM} not found (apt-get install chromium)`;
  if (required.size > 0) {
    it(`browser test: ${why}, but PUZZLELIB_REQUIRE_BACKENDS=${requiredText} is set`, () => {
      assert.fail(`${why}; the browser test needs Debian's chromium`);
    });
  } else {
    it.skip(`browser test skipped: ${why}`);
  }
} else {
  const session = await openSession();
  const { info, job, runs } = session;

  describe(`browser: the library bundled by esbuild in headless Chromium (${CHROMIUM})`, () => {
    after(closeSession);

    it("the page loads and runs", (t) => {
      t.diagnostic(`chromium args: ${CHROMIUM_ARGS.join(" ")}`);
      t.diagnostic(`timings: ${session.timings.join(", ")}`);
      if (info !== null) t.diagnostic(`user agent: ${info.userAgent}`);
      for (const line of session.logs) t.diagnostic(line);
      assert.equal(session.error, null, `${session.error}${consoleText(session)}`);
      assert.ok(info !== null && runs !== null);
      for (const r of runs) {
        t.diagnostic(
          `${r.backend}: ${r.startError === null ? `ran in ${Math.round(r.ms)} ms` : `did not start: ${r.startError}`}`,
        );
      }
      assert.ok(info.secureContext, "http://127.0.0.1 is not a secure context");
      assert.deepEqual(
        runs.map((r) => r.backend),
        Object.keys(TOLERANCES),
        "the page tries every backend of test/backends.ts",
      );
    });

    if (info !== null) {
      const { gpu } = info;
      const webgpu = runs?.find((r) => r.backend === "webgpu");
      const startError = webgpu === undefined ? "(webgpu did not run)" : webgpu.startError;
      if (gpu.adapter !== null) {
        const a = gpu.adapter;
        const name = [a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(" ");
        it(`browser: navigator.gpu offers an adapter (${name}) and the webgpu backend starts`, (t) => {
          t.diagnostic(`adapter: ${JSON.stringify(a)}`);
          t.diagnostic(`shader-f16: ${a.features.includes("shader-f16") ? "yes" : "no"}`);
          assert.equal(
            startError,
            null,
            `the browser offers ${name}, but setBackend("webgpu") failed: ${startError}` +
              consoleText(session),
          );
          assert.equal(webgpu?.active, "webgpu");
        });
      } else {
        const reason = gpu.navigatorGpu
          ? `navigator.gpu offers no adapter: ${gpu.error}`
          : "navigator.gpu is missing";
        it(`browser: NO WebGPU adapter in headless Chromium (${reason}); only cpu runs`, (t) => {
          t.diagnostic(
            `tried ${CHROMIUM} ${CHROMIUM_ARGS.join(" ")} (headless, fresh user-data-dir): ` +
              `${reason}; setBackend("webgpu") in the page: ${startError}`,
          );
          if (required.has("webgpu")) {
            assert.fail(
              `PUZZLELIB_REQUIRE_BACKENDS names webgpu, but the browser has no WebGPU adapter ` +
                `(${reason}; setBackend: ${startError})${consoleText(session)}`,
            );
          }
          t.skip(`no WebGPU adapter in the browser: ${reason}`);
        });
      }
    }

    if (job !== null && runs !== null) {
      for (const run of runs) {
        if (run.startError === null) {
          backendTests(session, job, run);
        } else if (run.backend !== "webgpu") {
          it(`browser ${run.backend}: setBackend("${run.backend}")`, () => {
            assert.fail(`${run.backend} did not start in the browser: ${run.startError}`);
          });
        }
      }
    }
  });
}

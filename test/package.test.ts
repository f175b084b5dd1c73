// The package as a consumer gets it: `npm pack`, installed from the tarball into a fresh project
// in a temporary folder, then type-checked with strict settings under NodeNext and Bundler
// resolution (and refused as a CommonJS import under node16), the README's usage example run with
// plain node, a browser entry bundled by esbuild, and `npx puzzlelib demo`.
//
// The consumer's sources are written here rather than kept as .ts fixtures, because the repo's
// tsconfig.json type-checks everything under test/ and one of them must not compile.
// PUZZLELIB_KEEP_CONSUMER=1 keeps the temporary folder (its path is printed) for a closer look.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, sep } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { transformSync } from "esbuild";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");
const ESBUILD = join(ROOT, "node_modules", "esbuild", "bin", "esbuild");
const NPM = process.platform === "win32" ? "npm.cmd" : "npm";
const NPX = process.platform === "win32" ? "npx.cmd" : "npx";
const PKG = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  name: string;
  main: string;
  types: string;
  bin: Record<string, string>;
  exports: Record<string, { types: string; default: string }>;
  scripts: Record<string, string>;
};

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command to completion; never rejects, so the caller decides what a failure is. */
function run(command: string, args: readonly string[], cwd: string): Promise<Result> {
  const start = performance.now();
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd, encoding: "utf8", maxBuffer: 64 * 2 ** 20, timeout: 150_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : null;
        resolve({ code, stdout, stderr, ms: performance.now() - start });
      },
    );
  });
}

/** What a failed command printed, for the assertion message. */
function report(what: string, command: string, args: readonly string[], r: Result): string {
  return [
    `${what}: exit ${r.code} after ${Math.round(r.ms)} ms`,
    `$ ${command} ${args.join(" ")}`,
    `--- stdout ---\n${r.stdout.trimEnd()}`,
    `--- stderr ---\n${r.stderr.trimEnd()}`,
  ].join("\n");
}

async function mustRun(command: string, args: readonly string[], cwd: string): Promise<Result> {
  const r = await run(command, args, cwd);
  assert.equal(r.code, 0, report(`failed in ${cwd}`, command, args, r));
  return r;
}

// The consumer's sources. ----------------------------------------------------------------------

/** The public API as a consumer writes it, with no casts: every line must compile. */
const API_TS = `\
import {
  Activation,
  ActivationType,
  BackendError,
  Blueprint,
  ModuleError,
  NDArray,
  getBackend,
  gpuarray,
  keep,
  np,
  slice,
  tidy,
  type ActivationName,
  type DType,
} from "puzzlelib-ts";
import { GPUArray, setBackend } from "puzzlelib-ts/backend";
import { Module } from "puzzlelib-ts/modules";

await setBackend("cpu");
np.random.seed(123);
const [h, w] = [3, 3];
const data = gpuarray.toGpu(np.random.randint(-10, 10, [h, w]).astype("float32"));
const act = new Activation("relu");
const y = act.forward(data);
const g = gpuarray.toGpu(np.random.randn(h, w).astype("float32"));

// backward gives the gradient, not null, unless called with updGrad: false.
const gx = act.backward(g);
await gx.get();

// get() of a float32 array gives an NDArray whose data is a Float32Array.
const a: Float32Array = (await y.get()).data;

const leaky = new Activation("leakyRelu", { args: [0.2], name: "act1" });
new Activation(ActivationType.elu);
new Activation("clip", { args: [-1, 1] });
new Activation("sigmoid", { slc: slice(0, null, 2) });
new Activation("tanh", { inplace: true });
const rebuilt: Module = Blueprint.build(JSON.parse(JSON.stringify(leaky.getBlueprint())));
const held: GPUArray = keep(act.forward(data));
const total = tidy(() => act.forward(gpuarray.toGpu(np.array([1, -1, 2], "float32"))).copy());
const host: NDArray = await total.get();
const dtype: DType = held.dtype;
const name: ActivationName = "gelu";
const error: unknown = null;
const message = error instanceof BackendError || error instanceof ModuleError ? error.message : "";

export { a, dtype, getBackend, host, message, name, rebuilt };
`;

/**
 * Each line marked "// error: TSnnnn" must fail with that code (one of several, split by "|"),
 * and no other line may fail.
 */
const BAD_TS = `\
import { Activation, gpuarray, np } from "puzzlelib-ts";

const act = new Activation("relu");
const g = gpuarray.toGpu(np.array([1, 1], "float32"));
const y16 = gpuarray.toGpu(np.array([1, -2], "float16"));
const half: Float32Array = (await y16.get()).data; // error: TS2322
const maybe = act.backward(g, { updGrad: false });
await maybe.get(); // error: TS18047|TS18050|TS2531
new Activation("reluu"); // error: TS2345

export { half };
`;

/** Node without @types/node: the package's types must not need it, so console comes from here. */
const CONSOLE_D_TS = `declare var console: { log(...data: unknown[]): void };\n`;

const BROWSER_TS = `\
import { Activation, gpuarray, np, setBackend } from "puzzlelib-ts";

export async function relu(values: number[]): Promise<string> {
  if ("gpu" in navigator) await setBackend("webgpu");
  const x = gpuarray.toGpu(np.array(values, "float32"));
  return String(await new Activation("relu").forward(x).get());
}
`;

const CJS_TS = `\
import { np } from "puzzlelib-ts";

export const zeros = String(np.zeros(2));
`;

const STRICT = {
  target: "ES2022",
  strict: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  noEmit: true,
  skipLibCheck: false,
  // Nothing from node_modules/@types: what the package's types need must come with them.
  types: [],
};

const CONFIGS = {
  nodenext: {
    compilerOptions: {
      ...STRICT,
      module: "NodeNext",
      moduleResolution: "NodeNext",
      lib: ["ES2022"],
    },
    files: ["console.d.ts", "api.ts", "readme-usage.ts", "bad.ts"],
  },
  bundler: {
    compilerOptions: {
      ...STRICT,
      module: "ESNext",
      moduleResolution: "Bundler",
      lib: ["ES2022", "DOM"],
    },
    files: ["api.ts", "readme-usage.ts", "browser.ts", "bad.ts"],
  },
} as const;

/** The first ```ts block of the README's "## Usage" section, and the output its comments show. */
function readmeUsage(): { code: string; expected: string } {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("\n## Usage\n"));
  const block = /```ts\n([\s\S]*?)```/.exec(section);
  assert.ok(block !== null, "README.md has no ```ts block under ## Usage");
  const code = block[1]!;
  const printed = code
    .split("\n")
    .filter((line) => line.startsWith("//"))
    .map((line) => line.replace(/^\/\/ ?/, ""));
  assert.ok(printed.length > 0, "the README's usage example shows no output in comments");
  return { code, expected: printed.join("\n") + "\n" };
}

interface TscError {
  file: string;
  line: number;
  code: string;
  text: string;
}

interface TscRun {
  result: Result;
  errors: TscError[];
  /** Every file in the program, relative to the consumer folder or to TypeScript's lib folder. */
  files: string[];
}

function parseTsc(result: Result, cwd: string): TscRun {
  const errors: TscError[] = [];
  const files: string[] = [];
  for (const text of result.stdout.split("\n")) {
    const error = /^(.+?)\((\d+),\d+\): error (TS\d+): /.exec(text);
    const global = /^error (TS\d+): /.exec(text);
    if (error !== null) {
      errors.push({ file: error[1]!, line: Number(error[2]), code: error[3]!, text });
    } else if (global !== null) {
      errors.push({ file: "(no file)", line: 0, code: global[1]!, text });
    } else if (/^(\/|[A-Za-z]:[\\/])/.test(text)) {
      files.push(relative(cwd, text.trim()).split(sep).join("/"));
    }
  }
  return { result, errors, files };
}

// The tests. -----------------------------------------------------------------------------------

describe("the packed package, installed in a fresh project", { timeout: 240_000 }, () => {
  let tmp = "";
  let consumer = "";
  let packed: { filename: string; files: { path: string }[] } | null = null;
  const timings: string[] = [];
  const tscRuns = new Map<string, Promise<TscRun>>();

  const tsc = (name: keyof typeof CONFIGS): Promise<TscRun> => {
    let pending = tscRuns.get(name);
    if (pending === undefined) {
      const args = [TSC, "-p", `tsconfig.${name}.json`, "--listFiles", "--pretty", "false"];
      pending = run(process.execPath, args, consumer).then((r) => parseTsc(r, consumer));
      tscRuns.set(name, pending);
    }
    return pending;
  };

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), "puzzlelib-package-"));
    // npm test has just built dist/ (a clean build, as `npm pack` makes with its prepare
    // script). Packing with --ignore-scripts packs that build as it is, because prepare would
    // delete and rewrite dist/ under the CLI tests, which run in parallel with this file and
    // execute dist/cli/main.js. Run alone, with no dist/, this file builds it first.
    if (!existsSync(join(ROOT, "dist", "index.js"))) {
      timings.push(`build ${Math.round((await mustRun(NPM, ["run", "build"], ROOT)).ms)} ms`);
    }
    const pack = await mustRun(
      NPM,
      ["pack", "--ignore-scripts", "--json", "--pack-destination", tmp],
      ROOT,
    );
    timings.push(`pack ${Math.round(pack.ms)} ms`);
    packed = (JSON.parse(pack.stdout) as NonNullable<typeof packed>[])[0]!;

    consumer = join(tmp, "consumer");
    mkdirSync(join(consumer, "cjs"), { recursive: true });
    const write = (path: string, text: string) => writeFileSync(join(consumer, path), text);
    write("package.json", JSON.stringify({ name: "consumer", private: true, type: "module" }));
    // The optional dependencies (webgpu, @resvg/resvg-js) are installed as a consumer gets them:
    // from the npm cache when it has them, else the registry; npm skips them, without failing,
    // when neither can be reached.
    const install = await mustRun(
      NPM,
      [
        "install",
        "--no-audit",
        "--no-fund",
        "--prefer-offline",
        "--fetch-retries=1",
        join(tmp, packed.filename),
      ],
      consumer,
    );
    timings.push(`install ${Math.round(install.ms)} ms`);

    write("api.ts", API_TS);
    write("bad.ts", BAD_TS);
    write("console.d.ts", CONSOLE_D_TS);
    write("browser.ts", BROWSER_TS);
    write("readme-usage.ts", readmeUsage().code);
    for (const [name, config] of Object.entries(CONFIGS)) {
      write(`tsconfig.${name}.json`, JSON.stringify(config, null, 2));
    }
    write("cjs/package.json", JSON.stringify({ name: "cjs-consumer", private: true }));
    write("cjs/index.ts", CJS_TS);
    write(
      "cjs/tsconfig.json",
      JSON.stringify({
        compilerOptions: {
          ...STRICT,
          module: "node16",
          moduleResolution: "node16",
          lib: ["ES2022"],
        },
        files: ["index.ts"],
      }),
    );
    // Both type-checks start now, side by side; the tests below wait for their results.
    void tsc("nodenext");
    void tsc("bundler");
  });

  after(() => {
    if (tmp === "") return;
    if (process.env.PUZZLELIB_KEEP_CONSUMER === "1") console.log(`consumer kept in ${consumer}`);
    else rmSync(tmp, { recursive: true, force: true });
  });

  it("packs dist/ with its .d.ts, no source maps, no tests or sources", (t) => {
    assert.ok(packed !== null);
    const files = packed.files.map((f) => f.path);
    const js = files.filter((f) => f.endsWith(".js"));
    t.diagnostic(`${packed.filename}: ${files.length} files; ${timings.join(", ")}`);
    const entries = [PKG.main, PKG.types, ...Object.values(PKG.bin)];
    for (const target of Object.values(PKG.exports)) entries.push(target.types, target.default);
    for (const entry of entries) {
      assert.ok(files.includes(entry.replace(/^\.\//, "")), `${entry} is not in the tarball`);
    }
    for (const file of js) {
      const types = file.replace(/\.js$/, ".d.ts");
      assert.ok(files.includes(types), `${file} has no ${types} in the tarball`);
    }
    const stray = files.filter(
      (f) =>
        !(f.startsWith("dist/") && /\.(js|d\.ts)$/.test(f)) &&
        !/^(README\.md|package\.json|LICENSE[^/]*)$/.test(f),
    );
    assert.deepEqual(
      stray,
      [],
      "files in the tarball other than dist/**/*.{js,d.ts}, README, package.json",
    );
    assert.ok(files.includes("LICENSE"), "the licence text ships with the package");
    // A git dependency, and `npm pack` in a fresh clone, get dist/ only from these scripts.
    assert.match(PKG.scripts.prepare ?? "", /\bnpm run build\b/);
  });

  for (const name of Object.keys(CONFIGS) as (keyof typeof CONFIGS)[]) {
    const options = CONFIGS[name].compilerOptions;
    const setting = `module ${options.module}, moduleResolution ${options.moduleResolution}`;

    it(`type-checks the public API and the README's usage, strict, under ${setting}`, async (t) => {
      const { result, errors, files } = await tsc(name);
      t.diagnostic(`tsc ${Math.round(result.ms)} ms, ${files.length} files`);
      const mustCompile = errors.filter((e) => e.file !== "bad.ts");
      assert.deepEqual(
        mustCompile.map((e) => e.text),
        [],
        `must-compile consumer code (${CONFIGS[name].files.join(", ")}) has errors:\n` +
          mustCompile.map((e) => e.text).join("\n") +
          (mustCompile.length > 0 ? `\n\napi.ts:\n${numbered(API_TS)}` : ""),
      );
      // Nothing but the package's own .d.ts and TypeScript's libs: no @webgpu/types, no
      // @types/node, no /// <reference> a consumer would have to satisfy.
      const foreign = files.filter(
        (f) =>
          !f.startsWith("node_modules/puzzlelib-ts/dist/") &&
          !CONFIGS[name].files.includes(f as never) &&
          !/\/node_modules\/typescript\/lib\/lib\.[\w.]+\.d\.ts$/.test(f),
      );
      assert.deepEqual(foreign, [], "the program loaded files beyond the package's own types");
      assert.ok(
        files.includes("node_modules/puzzlelib-ts/dist/index.d.ts"),
        report("the program does not include the package's index.d.ts", TSC, [], result),
      );
    });

    it(`refuses the wrong uses, with the expected errors, under ${setting}`, async () => {
      const { errors } = await tsc(name);
      const got = errors.filter((e) => e.file === "bad.ts");
      const expected = new Map<number, string[]>();
      BAD_TS.split("\n").forEach((line, i) => {
        const mark = /\/\/ error: (TS\d+(?:\|TS\d+)*)/.exec(line);
        if (mark !== null) expected.set(i + 1, mark[1]!.split("|"));
      });
      const problems: string[] = [];
      for (const [line, codes] of expected) {
        const here = got.filter((e) => e.line === line);
        if (!here.some((e) => codes.includes(e.code))) {
          problems.push(
            `line ${line}: expected ${codes.join(" or ")}, got ${here.map((e) => e.code).join(", ") || "no error"}`,
          );
        }
      }
      for (const e of got.filter((e) => !expected.has(e.line)))
        problems.push(`unexpected: ${e.text}`);
      assert.deepEqual(
        problems,
        [],
        `bad.ts:\n${numbered(BAD_TS)}\ntsc said:\n${got.map((e) => e.text).join("\n")}`,
      );
    });
  }

  it("is refused as an import from CommonJS under module node16 (TS1479: the package is ESM)", async (t) => {
    const cwd = join(consumer, "cjs");
    const args = [TSC, "-p", "tsconfig.json", "--pretty", "false"];
    const r = await run(process.execPath, args, cwd);
    const { errors } = parseTsc(r, cwd);
    assert.notEqual(r.code, 0, report("a CommonJS import compiled", process.execPath, args, r));
    assert.deepEqual(
      errors.map((e) => `${e.file}:${e.line} ${e.code}`),
      ["index.ts:1 TS1479"],
      report("expected only TS1479", process.execPath, args, r),
    );
    t.diagnostic(errors[0]!.text);
  });

  it("runs the README's usage example with plain node and prints what its comments show", async () => {
    const { code, expected } = readmeUsage();
    const js = transformSync(code, { loader: "ts", format: "esm" }).code;
    writeFileSync(join(consumer, "readme-usage.mjs"), js);
    const r = await mustRun(process.execPath, ["readme-usage.mjs"], consumer);
    assert.equal(r.stdout, expected, `README usage printed:\n${r.stdout}\nstderr:\n${r.stderr}`);
  });

  it("bundles for the browser with esbuild: only the package's dist, no node: imports", async () => {
    const args = [
      "browser.ts",
      "--bundle",
      "--platform=browser",
      "--format=esm",
      "--outfile=out/browser.js",
      "--metafile=out/meta.json",
      "--log-level=warning",
    ];
    const r = await mustRun(ESBUILD, args, consumer);
    assert.equal(r.stderr.trim(), "", "esbuild warned");
    const meta = JSON.parse(readFileSync(join(consumer, "out", "meta.json"), "utf8")) as {
      inputs: Record<string, unknown>;
      outputs: Record<string, { imports: { path: string; external?: boolean }[] }>;
    };
    const inputs = Object.keys(meta.inputs).filter(
      (f) => f !== "browser.ts" && !f.startsWith("node_modules/puzzlelib-ts/dist/"),
    );
    assert.deepEqual(inputs, [], "the bundle took in files beyond the package's dist");
    const imports = Object.values(meta.outputs).flatMap((o) => o.imports.map((i) => i.path));
    assert.deepEqual(imports, [], "the bundle imports modules it does not contain");
    const bundle = readFileSync(join(consumer, "out", "browser.js"), "utf8");
    // Static and literal dynamic imports of Node's modules. (The cpu backend's worker source, a
    // string run only in Node, contains require("node:worker_threads"): not an import.)
    const nodeImport = /(\bimport\s*(\(\s*)?|\bfrom\s*|__require\(\s*)["'](node:[\w/]+)/.exec(
      bundle,
    );
    assert.equal(nodeImport?.[0] ?? null, null, "the browser bundle imports a Node module");
  });

  it("runs `npx puzzlelib demo` from the installed bin", async (t) => {
    const r = await mustRun(NPX, ["--no", "puzzlelib", "demo"], consumer);
    t.diagnostic(`npx puzzlelib demo ${Math.round(r.ms)} ms`);
    for (const text of [
      ">>> np.random.seed(123)",
      "[[  3.  -8.  -8.]\n [ -4.   7.   9.]\n [  0.  -9. -10.]]",
      '>>> act = new Activation("relu")',
      "[[3. 0. 0.]\n [0. 7. 9.]\n [0. 0. 0.]]",
      "# Only every other element, with slc",
    ]) {
      assert.ok(r.stdout.includes(text), `demo output lacks ${JSON.stringify(text)}:\n${r.stdout}`);
    }
  });

  it("plots a PNG with the optional @resvg/resvg-js, when npm installed it", async (t) => {
    if (!existsSync(join(consumer, "node_modules", "@resvg", "resvg-js"))) {
      t.skip("@resvg/resvg-js was not installed (no registry and not in the npm cache)");
      return;
    }
    await mustRun(NPX, ["--no", "puzzlelib", "plot", "relu", "-o", "relu.png"], consumer);
    const png = readFileSync(join(consumer, "relu.png"));
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  });
});

function numbered(text: string): string {
  return text
    .split("\n")
    .map((line, i) => `${String(i + 1).padStart(3)}  ${line}`)
    .join("\n");
}

// Helpers of the CLI tests: running the built `puzzlelib` command, .npy files made in tests, and
// comparing its results with the library's.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { AnyTypedArray, DType } from "../src/core/dtype.js";
import { decodeData, encodeData, formatHeader } from "../src/cli/npy.js";
import { openNpy } from "../src/cli/npy-file.js";
import { NDArray } from "../src/host/ndarray.js";
import { Activation, gpuarray, type Slice } from "../src/index.js";
import type { ActivationName } from "../src/ops/activations.js";
import { PYTHON } from "./npy-numpy.js";

export const MAIN = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
export const FIXTURES = fileURLToPath(new URL("./fixtures/npy/", import.meta.url));

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/cli/main.js ...args` (build first: npm run build). */
export function cli(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  cwd?: string,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [MAIN, ...args],
      { encoding: "utf8", env: { ...process.env, ...env }, cwd },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : (error as { code?: unknown }).code;
        if (typeof code !== "number") reject(error);
        else resolve({ code, stdout, stderr });
      },
    );
  });
}

export function tempFolder(): string {
  return mkdtempSync(join(tmpdir(), "puzzlelib-cli-"));
}

export function writeNpy(
  path: string,
  data: AnyTypedArray,
  shape: readonly number[],
  dtype: DType,
): void {
  const header = formatHeader(shape, dtype);
  writeFileSync(path, Buffer.concat([header, encodeData(data)]));
}

/**
 * Runs a Python script with numpy imported as np and `folder` as the working directory (to
 * np.save files there, or check them with np.load); resolves to what it prints. A missing numpy
 * fails the test with a message, as in npy-numpy.ts.
 */
export function numpy(script: string, folder: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      PYTHON,
      ["-c", `import numpy as np\n${script}`],
      { encoding: "utf8", cwd: folder, maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        if (error === null) resolve(stdout);
        else
          reject(
            new Error(
              `${PYTHON} with numpy failed (set PUZZLELIB_PYTHON to choose another): ${stderr || error.message}`,
            ),
          );
      },
    );
  });
}

/**
 * A .npy file of a dtype the library has not (such as "<u8", numpy's uint64), as numpy writes
 * one: a header of its own, `shape`, and zero bytes for data.
 */
export function writeOddNpy(
  path: string,
  descr: string,
  shape: readonly number[],
  itemBytes: number,
): void {
  const text = Buffer.from(formatHeader(shape, "float32")).toString("latin1");
  const header = Buffer.from(text.replace(/'[<>]f4'/, `'${descr}'`), "latin1");
  const size = shape.reduce((a, b) => a * b, 1);
  writeFileSync(path, Buffer.concat([header, Buffer.alloc(size * itemBytes)]));
}

/**
 * A whole .npy file as an NDArray of its own dtype (float64 for int64, which NDArray has not), or
 * converted to `target`.
 */
export async function readNpy(path: string, target?: DType): Promise<NDArray> {
  const input = await openNpy(path);
  try {
    const own = input.header.dtype;
    const dtype = target ?? (own === "int64" ? "float64" : own);
    const data = decodeData(await input.read(0, input.header.size), input.header, dtype);
    return new NDArray(data, input.header.shape, dtype);
  } finally {
    await input.close();
  }
}

/**
 * What the library computes in this process, the CLI's result must equal it bit for bit: the
 * forward of x, or with `g` the backward after that forward.
 */
export async function library(
  name: ActivationName,
  x: NDArray,
  options: { slc?: Slice; args?: number[]; g?: NDArray; dtype?: "float32" | "float16" } = {},
): Promise<NDArray> {
  const dtype = options.dtype ?? "float32";
  const act = new Activation(name, { slc: options.slc ?? null, args: options.args });
  act.calcMode(dtype);
  const input = gpuarray.toGpu(x.astype(dtype));
  const y = act.forward(input);
  if (options.g === undefined) return y.get();
  return act.backward(gpuarray.toGpu(options.g.astype(dtype))).get();
}

export function bytesOf(array: NDArray): Buffer {
  return Buffer.from(array.data.buffer, array.data.byteOffset, array.data.byteLength);
}

export function assertSame(actual: NDArray, expected: NDArray): void {
  assert.deepEqual(actual.shape, expected.shape);
  assert.equal(actual.dtype, expected.dtype);
  assert.ok(bytesOf(actual).equals(bytesOf(expected)), "results differ");
}

/** An error run: the exit code, one line on stderr matching `message`, nothing on stdout. */
export function assertError(run: Run, code: number, message: RegExp): void {
  assert.equal(run.code, code, run.stderr);
  assert.match(run.stderr, message);
  assert.equal(run.stderr.trimEnd().split("\n").length, 1, run.stderr);
  assert.equal(run.stdout, "");
}

/** Tags open and close in order: an SVG is well-formed XML, as far as the plot's writer goes. */
export function assertBalancedTags(svg: string): void {
  const stack: string[] = [];
  for (const [tag, closing, name, selfClosing] of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    if (selfClosing) continue;
    if (closing) assert.equal(stack.pop(), name, `unbalanced ${tag}`);
    else stack.push(name!);
  }
  assert.deepEqual(stack, []);
}

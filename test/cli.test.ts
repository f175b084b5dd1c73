// The `puzzlelib` command, run as users run it (node dist/cli/main.js; `npm test` builds first):
// apply and grad equal the library, streaming gives the same result as one pass, info lists what
// there is. Help, bad usage and failures are in cli-errors.test.ts.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { Activation, np, setBackend, slice, type Slice } from "../src/index.js";
import { ACTIVATION_NAMES, ACTIVATIONS, type ActivationName } from "../src/ops/activations.js";
import { formatParam } from "../src/cli/activation-args.js";
import { NDArray } from "../src/host/ndarray.js";
import { BACKENDS_UNDER_TEST } from "./backends.js";
import {
  assertError,
  assertSame,
  cli,
  FIXTURES,
  library,
  readNpy,
  tempFolder,
  writeNpy,
} from "./cli-helpers.js";

describe("puzzlelib apply and grad", () => {
  test("apply equals the library, for every supported input file", async () => {
    const dir = tempFolder();
    for (const name of [
      "v1-f4.npy",
      "v2-f8.npy",
      "v3-f2.npy",
      "be-f4.npy",
      "be-i4.npy",
      "scalar-0d.npy",
      "empty.npy",
    ]) {
      const out = join(dir, `tanh-${name}`);
      const run = await cli(["apply", "tanh", FIXTURES + name, "-o", out]);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /^wrote .*: shape \(.*\), float32\n$/);
      const x = await readNpy(FIXTURES + name);
      // A note says when the input is converted, and only then.
      assert.equal(run.stderr.includes("note:"), x.dtype !== "float32", run.stderr);
      assertSame(await readNpy(out), await library("tanh", x));
    }
  });

  test("--slice in Python's syntax, --args, --dtype float16", async () => {
    const dir = tempFolder();
    const x = await readNpy(FIXTURES + "v2-f8.npy");
    const cases: [string, Slice][] = [
      ["::2", slice(null, null, 2)],
      ["-5:", slice(-5, null)],
      ["3:-4:2", slice(3, -4, 2)],
      ["::-3", slice(null, null, -3)],
      ["100:", slice(100, null)],
    ];
    for (const [text, slc] of cases) {
      const out = join(dir, `slice${cases.findIndex((c) => c[0] === text)}.npy`);
      const run = await cli([
        "apply",
        "leakyRelu",
        FIXTURES + "v2-f8.npy",
        "-o",
        out,
        `--slice=${text}`,
        "--args",
        "0.25",
      ]);
      assert.equal(run.code, 0, run.stderr);
      assertSame(await readNpy(out), await library("leakyRelu", x, { slc, args: [0.25] }));
    }
    const half = join(dir, "half.npy");
    const run = await cli([
      "apply",
      "clip",
      FIXTURES + "v1-f4.npy",
      "-o",
      half,
      "--dtype",
      "float16",
      "--args",
      "-1,1.5",
    ]);
    assert.equal(run.code, 0, run.stderr);
    const y = await readNpy(half);
    assert.equal(y.dtype, "float16");
    assertSame(y, await library("clip", x, { args: [-1, 1.5], dtype: "float16" }));
  });

  test("grad equals the library's backward", async () => {
    const dir = tempFolder();
    const x = await readNpy(FIXTURES + "v1-f4.npy");
    const y = await library("elu", x);
    const g = new NDArray(
      Float32Array.from({ length: 12 }, (_, i) => i - 3.5),
      [3, 4],
      "float32",
    );
    writeNpy(join(dir, "y.npy"), y.data, y.shape, "float32");
    writeNpy(join(dir, "g.npy"), g.data, g.shape, "float32");
    const out = join(dir, "gx.npy");
    const run = await cli([
      "grad",
      "elu",
      join(dir, "y.npy"),
      join(dir, "g.npy"),
      "-o",
      out,
      "--slice",
      "1::3",
    ]);
    assert.equal(run.code, 0, run.stderr);
    assertSame(await readNpy(out), await library("elu", x, { g, slc: slice(1, null, 3) }));
  });

  for (const backend of BACKENDS_UNDER_TEST) {
    test(`--backend ${backend} gives what the library gives on ${backend}`, async () => {
      const dir = tempFolder();
      const out = join(dir, `${backend}.npy`);
      const input = FIXTURES + "v1-f4.npy";
      const run = await cli(["apply", "softPlus", input, "-o", out, "--backend", backend]);
      assert.equal(run.code, 0, run.stderr);
      const x = await readNpy(input);
      await setBackend(backend);
      try {
        assertSame(await readNpy(out), await library("softPlus", x));
      } finally {
        await setBackend("cpu");
      }
    });
  }
});

describe("grad of every activation in the table", { concurrency: true }, () => {
  // The saved array is the output y, given first, or the input x, given as --x, for functions
  // whose backward reads x (threshold does when its value is above its threshold). Refusals and
  // the float64 oracles: cli-grad.test.ts.
  const cases: [ActivationName, number[] | undefined][] = [
    ...ACTIVATION_NAMES.map((name) => [name, undefined] as [ActivationName, undefined]),
    ["threshold", [0, 2]],
  ];
  for (const [name, args] of cases) {
    test(`${name}${args ? `(${args})` : ""}`, async () => {
      const dir = tempFolder();
      np.random.seed(7);
      const x = np.random.randn(4, 25).astype("float32");
      for (let i = 0; i < 100; i += 9) x.data[i] = (i - 50) / 4; // some larger magnitudes
      const g = np.random.randn(4, 25).astype("float32");
      const reads = new Activation(name, { args }).backwardFrom;
      const saved = reads === "x" ? x : await library(name, x, { args });
      writeNpy(join(dir, "saved.npy"), saved.data, saved.shape, "float32");
      writeNpy(join(dir, "g.npy"), g.data, g.shape, "float32");
      const out = join(dir, "gx.npy");
      const options = args ? ["--args", args.join(",")] : [];
      const files = [...(reads === "x" ? ["--x"] : []), join(dir, "saved.npy"), join(dir, "g.npy")];
      const run = await cli(["grad", name, ...files, "-o", out, ...options]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stderr, "");
      assertSame(await readNpy(out), await library(name, x, { g, args }));
    });
  }
});

describe("streaming", () => {
  test("a file larger than a chunk: the result equals one pass over the whole array", async () => {
    const dir = tempFolder();
    const size = 10_007; // not a multiple of the chunk size
    np.random.seed(5);
    const x = np.random.randn(size).astype("float64");
    for (let i = 0; i < size; i += 97) x.data[i] = i % 2 ? Infinity : NaN;
    writeNpy(join(dir, "x.npy"), x.data, [size], "float64");
    for (const text of ["", "3:-4:7", "::-3", "-1000::2"]) {
      const whole = join(dir, "whole.npy");
      const chunked = join(dir, "chunked.npy");
      const options = text === "" ? [] : ["--slice", text];
      const one = await cli([
        "apply",
        "softPlus",
        join(dir, "x.npy"),
        "-o",
        whole,
        "--force",
        ...options,
      ]);
      assert.equal(one.code, 0, one.stderr);
      const many = await cli(
        ["apply", "softPlus", join(dir, "x.npy"), "-o", chunked, "--force", ...options],
        {
          PUZZLELIB_CHUNK_ELEMENTS: "1000",
        },
      );
      assert.equal(many.code, 0, many.stderr);
      // No progress bar: stderr is not a terminal here.
      assert.doesNotMatch(many.stderr, /\r|#/);
      assert.ok(readFileSync(whole).equals(readFileSync(chunked)), `slice ${text}`);
      const [start, stop, step] =
        text === "" ? [] : text.split(":").map((p) => (p === "" ? null : Number(p)));
      const slc = text === "" ? undefined : slice(start, stop, step);
      assertSame(await readNpy(chunked), await library("softPlus", x, { slc }));
    }
  });

  test("grad streams two files in step", async () => {
    const dir = tempFolder();
    const size = 5_003;
    np.random.seed(6);
    const x = np.random.randn(size).astype("float32");
    const y = await library("sigmoid", x);
    const g = np.random.randn(size).astype("float64");
    writeNpy(join(dir, "y.npy"), y.data, [size], "float32");
    writeNpy(join(dir, "g.npy"), g.data, [size], "float64");
    const run = await cli(
      [
        "grad",
        "sigmoid",
        join(dir, "y.npy"),
        join(dir, "g.npy"),
        "-o",
        join(dir, "gx.npy"),
        "--slice",
        "::3",
      ],
      {
        PUZZLELIB_CHUNK_ELEMENTS: "256",
      },
    );
    assert.equal(run.code, 0, run.stderr);
    assertSame(
      await readNpy(join(dir, "gx.npy")),
      await library("sigmoid", x, { g, slc: slice(null, null, 3) }),
    );
  });

  test("a bad chunk size is reported", async () => {
    const dir = tempFolder();
    const run = await cli(["apply", "relu", FIXTURES + "v1-f4.npy", "-o", join(dir, "y.npy")], {
      PUZZLELIB_CHUNK_ELEMENTS: "0",
    });
    assertError(run, 2, /PUZZLELIB_CHUNK_ELEMENTS=0 is not a positive integer/);
  });
  // Ctrl-C and the other signals during a run: test/cli-signals.test.ts.
});

describe("puzzlelib info", () => {
  test("version, backends, and every activation of the table with its defaults", async () => {
    const run = await cli(["info"]);
    assert.equal(run.code, 0, run.stderr);
    const version = (
      JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
        version: string;
      }
    ).version;
    assert.match(
      run.stdout,
      new RegExp(`^puzzlelib-ts ${version.replace(/\./g, "\\.")} \\(Node v`),
    );
    assert.match(
      run.stdout,
      /^ {2}cpu {5}available: WebAssembly SIMD (on|off)[^\n]*, threads (on|off) \(\d+\)/m,
    );
    assert.match(run.stdout, /^ {2}js {6}available/m);
    assert.match(run.stdout, /^ {2}webgpu {2}(available: .+ \(through .+\)|unavailable: .+)$/m);
    for (const name of ACTIVATION_NAMES) {
      const params = ACTIVATIONS[name].params
        .map((p) => `${p.name}=${formatParam(p.default)}`)
        .join(", ");
      const heading = params === "" ? name : `${name}(${params})`;
      assert.ok(
        run.stdout.includes(`\n  ${heading}\n      forward   y = ${ACTIVATIONS[name].formula}\n`),
        heading,
      );
    }
  });

  test("takes no arguments", async () => {
    assertError(
      await cli(["info", "extra"]),
      2,
      /^puzzlelib info: unexpected argument extra; info takes none/,
    );
  });
});

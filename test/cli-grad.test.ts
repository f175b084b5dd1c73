// `puzzlelib grad` and the saved array it reads: the output y for most functions (first, or as
// --y), the input x for those whose backward reads x, which must be named with --x. A first file
// without --x is refused for them, since a user following the usual form passes y, and --x is
// refused where the backward reads y. Results are checked against the float64 oracles of
// test/reference and, bit for bit, against the library.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { Activation, np } from "../src/index.js";
import { ACTIVATION_NAMES, ACTIVATIONS, type ActivationName } from "../src/ops/activations.js";
import { TOLERANCES } from "./backends.js";
import {
  assertError,
  assertSame,
  cli,
  library,
  MAIN,
  readNpy,
  tempFolder,
  writeNpy,
} from "./cli-helpers.js";
import { backward, forward, ulpDistance32 } from "./reference/oracles.js";

type Case = [ActivationName, number[] | undefined];

const readsOf = ([name, args]: Case): "x" | "y" => new Activation(name, { args }).backwardFrom;
const label = ([name, args]: Case): string => (args ? `${name}(${args})` : name);
const argOptions = ([, args]: Case): string[] => (args ? ["--args", args.join(",")] : []);

// Every function at its defaults, and threshold where its value is above its threshold (then its
// backward reads x: y = value comes from both pieces).
const CASES: Case[] = [
  ...ACTIVATION_NAMES.map((name): Case => [name, undefined]),
  ["threshold", [0, 2]],
];
const FROM_X = CASES.filter((c) => readsOf(c) === "x");
const FROM_Y = CASES.filter((c) => readsOf(c) === "y");

/** x (some larger magnitudes among normal values), g, and y = f(x) as the library computes it. */
async function saved(
  dir: string,
  [name, args]: Case,
): Promise<{ x: string; y: string; g: string }> {
  np.random.seed(11);
  const x = np.random.randn(5, 20).astype("float32");
  for (let i = 0; i < 100; i += 7) x.data[i] = (i - 50) / 5;
  const g = np.random.randn(5, 20).astype("float32");
  const y = await library(name, x, { args });
  const files = { x: join(dir, "x.npy"), y: join(dir, "y.npy"), g: join(dir, "g.npy") };
  writeNpy(files.x, x.data, x.shape, "float32");
  writeNpy(files.y, y.data, y.shape, "float32");
  writeNpy(files.g, g.data, g.shape, "float32");
  return files;
}

/** The CLI's gradient is within the cpu backend's tolerance of the float64 oracle. */
async function assertNearOracle(out: string, files: { x: string; g: string }, [name, args]: Case) {
  const [x, g, gx] = await Promise.all([readNpy(files.x), readNpy(files.g), readNpy(out)]);
  const y = await library(name, x, { args });
  const full = args ?? [];
  for (let i = 0; i < x.size; i++) {
    const at = { x: x.data[i]!, y: y.data[i]! };
    const expected = Math.fround(backward(name, g.data[i]!, at, full));
    // The oracle's forward agrees with the library's y (which a from-y backward reads).
    assert.ok(ulpDistance32(at.y, Math.fround(forward(name, at.x, full))) <= 4, `${name} y[${i}]`);
    const distance = ulpDistance32(gx.data[i]!, expected);
    assert.ok(
      distance <= TOLERANCES.cpu.float32Ulp,
      `${name}: x=${at.x} g=${g.data[i]} expected ${expected} got ${gx.data[i]} (${distance} ulps)`,
    );
  }
}

describe("grad of a function whose backward reads x", { concurrency: true }, () => {
  test("they are the ones the table says, at their args", () => {
    const names = FROM_X.map(label);
    for (const name of ["hardSwish", "silu", "gelu", "mish", "threshold(0,2)"]) {
      assert.ok(names.includes(name), name);
    }
    for (const name of ["sigmoid", "softPlus", "threshold", "relu"]) {
      assert.ok(!names.includes(name), name);
    }
  });

  for (const c of FROM_X) {
    test(`${label(c)}: a first file without --x is refused; --x x.npy gives the oracle's gradient`, async () => {
      const dir = tempFolder();
      const files = await saved(dir, c);
      const before = readdirSync(dir).sort();
      const out = join(dir, "gx.npy");
      // What the usage line of other functions says: y first. Refused, before reading anything.
      const refused = await cli(["grad", c[0], files.y, files.g, "-o", out, ...argOptions(c)]);
      assertError(
        refused,
        2,
        new RegExp(
          `^puzzlelib grad: ${c[0]}'s backward (with --args ${c[1]?.join(",")} )?reads the input x, not the output y; pass it as --x x\\.npy`,
        ),
      );
      // --y says the same, and only g given (no saved array at all) too.
      assertError(
        await cli(["grad", c[0], "--y", files.y, files.g, "-o", out, ...argOptions(c)]),
        2,
        /reads the input x, not the output y; pass it as --x x\.npy instead of --y/,
      );
      assertError(
        await cli(["grad", c[0], files.g, "-o", out, ...argOptions(c)]),
        2,
        /reads the input x, not the output y; pass it as --x x\.npy/,
      );
      assert.deepEqual(readdirSync(dir).sort(), before);

      const run = await cli(["grad", c[0], "--x", files.x, files.g, "-o", out, ...argOptions(c)]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stderr, "");
      await assertNearOracle(out, files, c);
      const [x, g] = await Promise.all([readNpy(files.x), readNpy(files.g)]);
      assertSame(await readNpy(out), await library(c[0], x, { g, args: c[1] }));
    });
  }

  test("--x=FILE, --x after g, and --x - (stdin) give the same file", async () => {
    const c: Case = ["gelu", undefined];
    const dir = tempFolder();
    const files = await saved(dir, c);
    const one = join(dir, "one.npy");
    assert.equal((await cli(["grad", "gelu", "--x", files.x, files.g, "-o", one])).code, 0);
    const two = join(dir, "two.npy");
    const run = await cli(["grad", "gelu", files.g, `--x=${files.x}`, "-o", two]);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(readFileSync(one).equals(readFileSync(two)));
    const three = join(dir, "three.npy");
    const piped = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [
        MAIN,
        "grad",
        "gelu",
        "--x",
        "-",
        files.g,
        "-o",
        three,
      ]);
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      child.on("close", (code) => resolve({ code, stderr }));
      child.stdin.end(readFileSync(files.x));
    });
    assert.equal(piped.code, 0, piped.stderr);
    assert.ok(readFileSync(one).equals(readFileSync(three)));
    // g from stdin, x from a file, in the same way.
    const four = join(dir, "four.npy");
    const gPiped = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, [
        MAIN,
        "grad",
        "gelu",
        "--x",
        files.x,
        "-",
        "-o",
        four,
      ]);
      child.on("close", resolve);
      child.stdin.end(readFileSync(files.g));
    });
    assert.equal(gPiped, 0);
    assert.ok(readFileSync(one).equals(readFileSync(four)));
    assertError(
      await cli(["grad", "gelu", "--x", "-", "-", "-o", join(dir, "five.npy")]),
      2,
      /^puzzlelib grad: only one input can be - \(stdin\)/,
    );
  });

  test("--x with two more files is refused", async () => {
    const dir = tempFolder();
    assertError(
      await cli(["grad", "silu", "--x", "x.npy", "y.npy", "g.npy", "-o", join(dir, "gx.npy")]),
      2,
      /^puzzlelib grad: with --x, give g as the only file: expected <activation> --x <x\.npy> <g\.npy>, got 2 files/,
    );
  });
});

describe("grad of a function whose backward reads y", { concurrency: true }, () => {
  for (const c of FROM_Y) {
    test(`${label(c)}: y first or as --y, the oracle's gradient; --x is refused`, async () => {
      const dir = tempFolder();
      const files = await saved(dir, c);
      const first = join(dir, "first.npy");
      const run = await cli(["grad", c[0], files.y, files.g, "-o", first, ...argOptions(c)]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stderr, "");
      await assertNearOracle(first, files, c);
      const [x, g] = await Promise.all([readNpy(files.x), readNpy(files.g)]);
      assertSame(await readNpy(first), await library(c[0], x, { g, args: c[1] }));
      const named = join(dir, "named.npy");
      const viaY = await cli([
        "grad",
        c[0],
        "--y",
        files.y,
        files.g,
        "-o",
        named,
        ...argOptions(c),
      ]);
      assert.equal(viaY.code, 0, viaY.stderr);
      assert.ok(readFileSync(first).equals(readFileSync(named)));
      assertError(
        await cli([
          "grad",
          c[0],
          "--x",
          files.x,
          files.g,
          "-o",
          join(dir, "gx.npy"),
          ...argOptions(c),
        ]),
        2,
        new RegExp(
          `^puzzlelib grad: ${c[0]}'s backward (with its default args )?reads the output y, not the input x; pass y instead of --x`,
        ),
      );
    });
  }

  test("--y with two more files, or y twice, is refused", async () => {
    const dir = tempFolder();
    assertError(
      await cli(["grad", "sigmoid", "--y", "y.npy", "y.npy", "g.npy", "-o", join(dir, "gx.npy")]),
      2,
      /^puzzlelib grad: with --y, give g as the only file/,
    );
    assertError(
      await cli(["grad", "sigmoid", "y.npy", "-o", join(dir, "gx.npy")]),
      2,
      /^puzzlelib grad: expected <activation> <y\.npy> <g\.npy>, got 2 arguments/,
    );
  });

  test("apply takes neither --x nor --y", async () => {
    for (const option of ["--x", "--y"]) {
      assertError(
        await cli(["apply", "gelu", option, "x.npy", "-o", "y.npy"]),
        2,
        new RegExp(`^puzzlelib apply: unknown option ${option}`),
      );
    }
  });
});

describe("grad's help and info say which functions read x", () => {
  test("grad --help: both forms, --x and --y, and the functions that read x", async () => {
    const run = await cli(["grad", "--help"]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^usage: puzzlelib grad <activation> <y\.npy> <g\.npy> -o <gx\.npy>/);
    assert.match(
      run.stdout,
      /\n {7}puzzlelib grad <activation> --x <x\.npy> <g\.npy> -o <gx\.npy>/,
    );
    assert.match(run.stdout, /\n {2}--x FILE {12}the saved input x/);
    assert.match(run.stdout, /\n {2}--y FILE {12}the saved output y/);
    const always = ACTIVATION_NAMES.filter((name) => ACTIVATIONS[name].backwardFrom === "x");
    assert.ok(run.stdout.includes(`${always.join(", ")}, and threshold for some --args.`));
  });

  test("info marks the functions that read x with grad's --x", async () => {
    const run = await cli(["info"]);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.split("\n");
    for (const name of ACTIVATION_NAMES) {
      const from = ACTIVATIONS[name].backwardFrom;
      const heading = lines.findIndex((l) => l === `  ${name}` || l.startsWith(`  ${name}(`));
      const line = lines[heading + 2]!;
      assert.match(line, /^ {6}backward {2}/, name);
      const mark =
        from === "x"
          ? "  (reads x: grad --x x.npy)"
          : typeof from === "function"
            ? "  (reads x for some parameters: then grad --x x.npy)"
            : null;
      if (mark === null) assert.doesNotMatch(line, /reads x/, name);
      else assert.ok(line.endsWith(mark), `${name}: ${line}`);
    }
  });
});

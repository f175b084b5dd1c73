// The `puzzlelib` command's help, bad usage and failures, run as users run it (node
// dist/cli/main.js; `npm test` builds first): bad usage exits 2 and failures 1 with one clear line,
// and no failed run leaves a partial output behind.

import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { ACTIVATION_NAMES } from "../src/ops/activations.js";
import { assertError, cli, FIXTURES, readNpy, tempFolder } from "./cli-helpers.js";

const COMMANDS = ["demo", "apply", "grad", "plot", "info"];

describe("puzzlelib --help", { concurrency: true }, () => {
  test("the command list; no command is bad usage", async () => {
    const help = await cli(["--help"]);
    assert.equal(help.code, 0);
    for (const command of COMMANDS) assert.match(help.stdout, new RegExp(`^  ${command} `, "m"));
    const bare = await cli([]);
    assert.equal(bare.code, 2);
    assert.match(bare.stderr, /usage: puzzlelib <command>/);
  });

  for (const command of COMMANDS) {
    test(`puzzlelib ${command} --help`, async () => {
      for (const flag of ["--help", "-h"]) {
        const run = await cli([command, flag]);
        assert.equal(run.code, 0, run.stderr);
        assert.match(run.stdout, new RegExp(`^usage: puzzlelib ${command}`));
        assert.equal(run.stderr, "");
        if (["apply", "grad", "plot"].includes(command)) {
          // The list comes from the table, so every activation is there.
          const listed = run.stdout.slice(run.stdout.indexOf("\nactivations:"));
          for (const name of ACTIVATION_NAMES) assert.match(listed, new RegExp(`[ :]${name}[,\n]`));
        }
      }
    });
  }

  test("puzzlelib help <command>", async () => {
    const run = await cli(["help", "grad"]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^usage: puzzlelib grad <activation> <y\.npy> <g\.npy>/);
  });

  test("an unknown command", async () => {
    assertError(
      await cli(["aply"]),
      2,
      /^puzzlelib: unknown command "aply"; run 'puzzlelib --help'/,
    );
  });

  test("help for an unknown command is bad usage too", async () => {
    assertError(
      await cli(["help", "aply"]),
      2,
      /^puzzlelib: unknown command "aply"; run 'puzzlelib --help'/,
    );
    assertError(await cli(["help", "grad", "apply"]), 2, /^puzzlelib: unexpected argument apply/);
    assert.equal((await cli(["help"])).code, 0);
  });
});

describe("bad usage exits 2", { concurrency: true }, () => {
  const input = FIXTURES + "v1-f4.npy";
  const cases: [string, string[], RegExp][] = [
    [
      "unknown activation",
      ["apply", "sigmoids", input, "-o", "y.npy"],
      /unknown activation "sigmoids"; run 'puzzlelib info'/,
    ],
    ["missing -o", ["apply", "relu", input], /no output file; give one with -o/],
    ["missing input", ["apply", "relu", "-o", "y.npy"], /expected <activation> <in\.npy>/],
    [
      "grad needs two inputs",
      ["grad", "relu", input, "-o", "y.npy"],
      /expected <activation> <y\.npy> <g\.npy>/,
    ],
    [
      "unknown option",
      ["apply", "relu", input, "-o", "y.npy", "--sliec", "::2"],
      /unknown option --sliec; run 'puzzlelib apply --help'/,
    ],
    [
      "option twice",
      ["apply", "relu", input, "-o", "a.npy", "-o", "b.npy"],
      /--output is given twice/,
    ],
    [
      "bad slice",
      ["apply", "relu", input, "-o", "y.npy", "--slice", "1:2:3:4"],
      /is not a slice; write start:stop\[:step\]/,
    ],
    ["zero step", ["apply", "relu", input, "-o", "y.npy", "--slice", "::0"], /step cannot be zero/],
    [
      "bad args",
      ["apply", "elu", input, "-o", "y.npy", "--args", "1,x"],
      /"x" is not a finite number/,
    ],
    [
      "args count",
      ["apply", "elu", input, "-o", "y.npy", "--args", "1,2"],
      /elu takes 1 args \(alpha \[1\]\), got 2; fix --args/,
    ],
    [
      "args check",
      ["apply", "clip", input, "-o", "y.npy", "--args", "2,1"],
      /clip min \(2\) must not exceed max \(1\)/,
    ],
    [
      "bad dtype",
      ["apply", "relu", input, "-o", "y.npy", "--dtype", "float64"],
      /--dtype "float64" is not one of float32, float16/,
    ],
    [
      "bad backend",
      ["apply", "relu", input, "-o", "y.npy", "--backend", "cuda"],
      /--backend "cuda" is not one of cpu, js, webgpu/,
    ],
    ["value missing", ["apply", "relu", input, "-o"], /option --output needs a value/],
  ];
  for (const [what, args, message] of cases) {
    test(what, async () => {
      const dir = tempFolder();
      assertError(
        await cli(args, {}, dir),
        2,
        new RegExp(`^puzzlelib ${args[0]}: .*${message.source}`),
      );
      assert.deepEqual(readdirSync(dir), []);
    });
  }
});

describe("failures exit 1 and leave nothing behind", { concurrency: true }, () => {
  const cases: [string, (dir: string) => string[], RegExp][] = [
    [
      "missing file",
      (dir) => ["apply", "relu", join(dir, "nope.npy"), "-o", join(dir, "y.npy")],
      /cannot read .*nope\.npy: no such file; check the path/,
    ],
    [
      "not a .npy file",
      (dir) => ["apply", "relu", FIXTURES + "not-npy.npy", "-o", join(dir, "y.npy")],
      /is not a \.npy file/,
    ],
    [
      "truncated data",
      (dir) => ["apply", "relu", FIXTURES + "truncated.npy", "-o", join(dir, "y.npy")],
      /is truncated: shape \(3, 4\)/,
    ],
    [
      "a lying header",
      (dir) => ["apply", "relu", FIXTURES + "lying-shape.npy", "-o", join(dir, "y.npy")],
      /header that does not match its data/,
    ],
    [
      "Fortran order",
      (dir) => ["apply", "relu", FIXTURES + "fortran.npy", "-o", join(dir, "y.npy")],
      /Fortran \(column-major\) order/,
    ],
    [
      "unsupported dtype",
      (dir) => ["apply", "relu", FIXTURES + "i8.npy", "-o", join(dir, "y.npy")],
      /dtype '<i8', which is not supported/,
    ],
    [
      "size overflow",
      (dir) => ["apply", "relu", FIXTURES + "overflow.npy", "-o", join(dir, "y.npy")],
      /overflows what can be addressed/,
    ],
    [
      "output folder missing",
      (dir) => ["apply", "relu", FIXTURES + "v1-f4.npy", "-o", join(dir, "no", "y.npy")],
      /the folder .*no does not exist; create it first \(mkdir -p/,
    ],
    [
      "grad shapes differ",
      (dir) => [
        "grad",
        "relu",
        FIXTURES + "v1-f4.npy",
        FIXTURES + "i4.npy",
        "-o",
        join(dir, "y.npy"),
      ],
      /has shape \(3, 4\) but .*i4\.npy has \(2, 6\); the saved array and g must have the same shape/,
    ],
  ];
  for (const [what, args, message] of cases) {
    test(what, async () => {
      const dir = tempFolder();
      const argv = args(dir);
      assertError(await cli(argv), 1, new RegExp(`^puzzlelib ${argv[0]}: .*${message.source}`));
      assert.deepEqual(readdirSync(dir), []);
    });
  }

  test("an existing output is kept unless --force", async () => {
    const dir = tempFolder();
    const out = join(dir, "y.npy");
    writeFileSync(out, "precious");
    assertError(
      await cli(["apply", "relu", FIXTURES + "v1-f4.npy", "-o", out]),
      1,
      /y\.npy already exists; pass --force to overwrite it/,
    );
    assert.equal(readFileSync(out, "utf8"), "precious");
    const forced = await cli(["apply", "relu", FIXTURES + "v1-f4.npy", "-o", out, "--force"]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.deepEqual(readdirSync(dir), ["y.npy"]);
    assert.deepEqual((await readNpy(out)).shape, [3, 4]);
  });
});

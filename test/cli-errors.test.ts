// The `puzzlelib` command's help, bad usage and failures, run as users run it (node
// dist/cli/main.js; `npm test` builds first): bad usage exits 2 and failures 1 with one clear line,
// and no failed run leaves a partial output behind.

import assert from "node:assert/strict";
import {
  copyFileSync,
  linkSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { temporaryName } from "../src/cli/npy-output.js";
import { ACTIVATION_NAMES } from "../src/ops/activations.js";
import { assertError, cli, FIXTURES, readNpy, tempFolder, writeOddNpy } from "./cli-helpers.js";

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

// numpy's uint64, which the CLI does not read (int64, numpy's default integer, it does).
const UINT64 = join(tempFolder(), "u8.npy");
writeOddNpy(UINT64, "<u8", [4], 8);

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
      (dir) => ["apply", "relu", UINT64, "-o", join(dir, "y.npy")],
      /dtype "<u8", which is not supported; supported: <f4, <f2, <f8, <i4, <i8/,
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

describe(
  "an output that is an input is refused, however it is named",
  { concurrency: true },
  () => {
    // With --force the output would replace the input; the same device and inode is the same
    // file, whatever the path says.
    const cases: [string, (dir: string) => string[]][] = [
      ["the same name", (dir) => ["apply", "relu", join(dir, "x.npy"), "-o", join(dir, "x.npy")]],
      ["./x and x", () => ["apply", "relu", "x.npy", "-o", "./x.npy"]],
      ["a hard link", (dir) => ["apply", "relu", join(dir, "x.npy"), "-o", join(dir, "hard.npy")]],
      [
        "a symbolic link",
        (dir) => ["apply", "relu", join(dir, "soft.npy"), "-o", join(dir, "x.npy")],
      ],
      [
        "grad's second input",
        (dir) => [
          "grad",
          "relu",
          join(dir, "g.npy"),
          join(dir, "x.npy"),
          "-o",
          join(dir, "hard.npy"),
        ],
      ],
    ];
    for (const [what, args] of cases) {
      test(what, async () => {
        const dir = tempFolder();
        copyFileSync(FIXTURES + "v1-f4.npy", join(dir, "x.npy"));
        copyFileSync(FIXTURES + "v1-f4.npy", join(dir, "g.npy"));
        linkSync(join(dir, "x.npy"), join(dir, "hard.npy"));
        symlinkSync(join(dir, "x.npy"), join(dir, "soft.npy"));
        const argv = [...args(dir), "--force"];
        assertError(
          await cli(argv, {}, dir),
          1,
          /is the input .*\.npy \(the same file\); writing it would destroy the input: choose another -o/,
        );
        assert.deepEqual(readFileSync(join(dir, "x.npy")), readFileSync(FIXTURES + "v1-f4.npy"));
        assert.deepEqual(readdirSync(dir).sort(), ["g.npy", "hard.npy", "soft.npy", "x.npy"]);
      });
    }
  },
);

describe("long names and odd values stay one short line", { concurrency: true }, () => {
  test("the temporary name fits in 255 bytes for any output name that does", () => {
    for (const base of ["y.npy", "a".repeat(249), "é".repeat(127), "😀".repeat(63) + "xyz"]) {
      const name = temporaryName(join("/some/folder", base), 4194304);
      assert.ok(Buffer.byteLength(name) <= 255, `${Buffer.byteLength(name)} bytes`);
      assert.match(name, /\.puzzlelib-partial-4194304-[0-9a-f]{8}\.tmp$/);
      // Cut at a character boundary: the name is valid UTF-8, a prefix of the target's.
      assert.ok(base.startsWith(name.slice(0, name.indexOf(".puzzlelib-partial-"))));
    }
  });

  test("a legal 249-character output name is written; a 256-byte one is refused", async () => {
    const dir = tempFolder();
    for (const name of ["a".repeat(249), "é".repeat(127)]) {
      const run = await cli(["apply", "relu", FIXTURES + "v1-f4.npy", "-o", join(dir, name)]);
      assert.equal(run.code, 0, run.stderr);
    }
    assert.deepEqual(readdirSync(dir).sort(), ["a".repeat(249), "é".repeat(127)].sort());
    assertError(
      await cli(["apply", "relu", FIXTURES + "v1-f4.npy", "-o", join(dir, "b".repeat(256))]),
      1,
      /^puzzlelib apply: cannot write .*b\.\.\.\(\d+ more characters\)\.\.\.b+: the name is too long for the file system/,
    );
    assert.equal(readdirSync(dir).length, 2);
  });

  test("a path with a newline is quoted; a 5,000-digit dimension is cut", async () => {
    const dir = tempFolder();
    const odd = join(dir, "two\nlines.npy");
    writeFileSync(odd, "not a .npy file");
    const run = await cli(["apply", "relu", odd, "-o", join(dir, "y.npy")]);
    assertError(run, 1, /^puzzlelib apply: ".*two\\nlines\.npy" is not a \.npy file/);
    const text = `{'descr': '<f4', 'fortran_order': False, 'shape': (${"7".repeat(5000)},), }\n`;
    const header = Buffer.alloc(10 + text.length);
    header.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    header.writeUInt16LE(text.length, 8);
    header.write(text, 10, "latin1");
    writeFileSync(join(dir, "long.npy"), header);
    const long = await cli(["apply", "relu", join(dir, "long.npy"), "-o", join(dir, "y.npy")]);
    assertError(
      long,
      1,
      /has shape \(7+\.\.\.\(\d+ more characters\)\.\.\.7+,\), whose size overflows/,
    );
    assert.ok(long.stderr.length < 300, `${long.stderr.length} characters`);
    assert.deepEqual(readdirSync(dir).sort(), ["long.npy", "two\nlines.npy"]);
  });
});

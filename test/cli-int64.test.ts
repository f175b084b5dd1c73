// Integer .npy inputs: int64 (<i8, numpy's default integer: np.arange, np.array([1, 2])) and
// int32 are converted to the calc dtype exactly, with a note, and a value the calc dtype cannot
// hold is refused with the file's name, its flat index and the value in full: 2^24 + 1 in
// float32, 2049 in float16, and past 2^53 values a double would have rounded to one float32
// holds (2^62 + 1). Files are written by numpy, and the outputs checked with it.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { decodeData, formatHeader, NpyError, parseHeader } from "../src/cli/npy.js";
import type { DType } from "../src/core/dtype.js";
import { halfToNumber } from "../src/host/float16.js";
import { cli, MAIN, numpy, readNpy, tempFolder } from "./cli-helpers.js";
import { mulberry32 } from "./seeded.js";

const NOTE =
  /note: .*\.npy holds int64 \((<|>)i8\); converting it to (float32|float16), the calc dtype \(choose with --dtype\); every value must convert exactly\n/;

/** np.save of each Python expression, by file name, in a new folder. */
async function saved(arrays: Record<string, string>): Promise<string> {
  const dir = tempFolder();
  const lines = Object.entries(arrays).map(
    ([name, expr]) => `np.save(${JSON.stringify(name)}, ${expr})`,
  );
  await numpy(lines.join("\n"), dir);
  return dir;
}

/** numpy's answer to an expression over the files of `dir` (printed as JSON). */
async function ask(dir: string, expr: string): Promise<unknown> {
  return JSON.parse(await numpy(`import json\nprint(json.dumps(${expr}))`, dir));
}

function runWithStdin(args: string[], input: Buffer, env: NodeJS.ProcessEnv = {}) {
  return new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env } });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("close", (code) => resolve({ code, stderr }));
    child.stdin.end(input);
  });
}

describe("int64 .npy inputs", { concurrency: true }, () => {
  test("np.arange: converted with a note; the output is what numpy computes", async () => {
    const dir = await saved({ "x.npy": "np.arange(-6, 6).reshape(3, 4)" });
    assert.deepEqual(await ask(dir, "np.load('x.npy').dtype.str"), "<i8");
    const run = await cli(["apply", "relu", join(dir, "x.npy"), "-o", join(dir, "y.npy")]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, NOTE);
    assert.equal(run.stderr.split("\n").length, 2, run.stderr); // the note, one line
    assert.match(run.stdout, /^wrote .*y\.npy: shape \(3, 4\), float32\n$/);
    assert.deepEqual(
      await ask(
        dir,
        "[np.load('y.npy').dtype.str, list(np.load('y.npy').shape), bool(np.array_equal(np.load('y.npy'), np.maximum(np.load('x.npy'), 0).astype(np.float32)))]",
      ),
      ["<f4", [3, 4], true],
    );
  });

  test("the same bytes as the float32 file of the same values: little- and big-endian, chunked, streamed", async () => {
    // Large exact values (2^24, 2^25 + 4, 2^62, -2^63, 2^53 + 2^30) and negatives, over chunks of 7
    // elements (56 bytes of int64, 28 of float32).
    const values =
      "np.array([0, -1, 5, -7, 2**24, -2**24, 2**25 + 4, 2**62, -2**63, 2**53 + 2**30, -(2**40)] + list(range(-50, 50)))";
    const dir = await saved({
      "i8.npy": values,
      "be.npy": `${values}.astype('>i8')`,
      "f4.npy": `${values}.astype(np.float32)`,
    });
    assert.deepEqual(
      await ask(dir, "[np.load(f).dtype.str for f in ['i8.npy', 'be.npy', 'f4.npy']]"),
      ["<i8", ">i8", "<f4"],
    );
    const want = join(dir, "want.npy");
    const ok = await cli(["apply", "tanh", join(dir, "f4.npy"), "-o", want, "--slice", "::2"]);
    assert.equal(ok.code, 0, ok.stderr);
    const expected = readFileSync(want);
    for (const [input, env] of [
      ["i8.npy", {}],
      ["be.npy", {}],
      ["i8.npy", { PUZZLELIB_CHUNK_ELEMENTS: "7" }],
      ["be.npy", { PUZZLELIB_CHUNK_ELEMENTS: "7" }],
    ] as const) {
      const out = join(dir, `out-${input}-${Object.keys(env).length}.npy`);
      const run = await cli(["apply", "tanh", join(dir, input), "-o", out, "--slice", "::2"], env);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stderr, NOTE);
      assert.ok(readFileSync(out).equals(expected), `${input} ${JSON.stringify(env)}`);
    }
    for (const input of ["i8.npy", "be.npy"]) {
      const out = join(dir, `stdin-${input}`);
      const run = await runWithStdin(
        ["apply", "tanh", "-", "-o", out, "--slice", "::2"],
        readFileSync(join(dir, input)),
        { PUZZLELIB_CHUNK_ELEMENTS: "3" },
      );
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stderr, /note: stdin holds int64/);
      assert.ok(readFileSync(out).equals(expected), `stdin ${input}`);
    }
    // Nothing selected: the output is the input converted, as numpy's astype converts it.
    const copy = join(dir, "copy.npy");
    assert.equal(
      (await cli(["apply", "relu", join(dir, "be.npy"), "-o", copy, "--slice", "0:0"])).code,
      0,
    );
    assert.equal(
      await ask(
        dir,
        "bool(np.array_equal(np.load('copy.npy'), np.load('be.npy').astype(np.float32)))",
      ),
      true,
    );
  });

  test("a value float32 cannot hold is refused with its file, index and value", async () => {
    const dir = await saved({
      "small.npy": "np.array([1, 2, 2**24 + 1, 4])",
      "neg.npy": "np.array([[0, 1, 2], [3, -(2**24 + 3), 5]])",
      "huge.npy": "np.array([0, 2**62, 2**62 + 1])",
      "max.npy": "np.array([2**63 - 1])",
      "late.npy": "np.concatenate([np.arange(1000), [2**53 + 1], np.arange(10)])",
      "be.npy": "np.array([3, -(2**62) - 1]).astype('>i8')",
    });
    const cases: [string, number, string, Record<string, string>][] = [
      ["small.npy", 2, "16777217", {}],
      ["neg.npy", 4, "-16777219", {}],
      // 2^62 is a float32 (a power of two); 2^62 + 1 is not, though as a double it is 2^62.
      ["huge.npy", 2, "4611686018427387905", {}],
      ["max.npy", 0, "9223372036854775807", {}],
      // In the 143rd chunk of 7: the index counts from the file's start.
      ["late.npy", 1000, "9007199254740993", { PUZZLELIB_CHUNK_ELEMENTS: "7" }],
      ["be.npy", 1, "-4611686018427387905", {}],
    ];
    for (const [name, index, value, env] of cases) {
      const out = join(dir, "y.npy");
      const run = await cli(["apply", "relu", join(dir, name), "-o", out], env);
      assert.equal(run.code, 1, run.stderr);
      assert.equal(run.stdout, "");
      const [note, error, ...rest] = run.stderr.split("\n");
      assert.match(`${note}\n`, NOTE);
      assert.deepEqual(rest, [""]);
      assert.match(
        error!,
        new RegExp(
          `^puzzlelib apply: \\S*${name.replace(".", "\\.")} holds ${value} at flat index ${index}, which float32 cannot represent exactly \\(it holds every integer up to 2\\^24 = 16777216 in magnitude, and beyond it only some\\); convert the int64 array yourself \\(a\\.astype\\(np\\.float32\\)\\) if rounding is acceptable$`,
        ),
      );
    }
    // No output, and no temporary file left behind.
    assert.deepEqual(readdirSync(dir).sort(), cases.map(([name]) => name).sort());
  });

  test("--dtype float16: integers up to 2048 exactly, and only some beyond", async () => {
    const dir = await saved({
      "ok.npy": "np.array([-2048, 2048, 2050, 4096, 65504, -65504, 0, 7])",
      "odd.npy": "np.array([2048, 2049])",
      "past.npy": "np.array([65504, 65536])",
      "far.npy": "np.array([2**62])",
    });
    const run = await cli([
      "apply",
      "relu",
      join(dir, "ok.npy"),
      "-o",
      join(dir, "h.npy"),
      "--dtype",
      "float16",
      "--slice",
      "0:0",
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, NOTE);
    assert.deepEqual(
      await ask(
        dir,
        "[np.load('h.npy').dtype.str, bool(np.array_equal(np.load('h.npy'), np.load('ok.npy').astype(np.float16)))]",
      ),
      ["<f2", true],
    );
    const half = await readNpy(join(dir, "h.npy"));
    assert.deepEqual(
      Array.from(half.data as Uint16Array, halfToNumber),
      [-2048, 2048, 2050, 4096, 65504, -65504, 0, 7],
    );
    // Each of them is a float32: the message says so.
    for (const [name, index, value] of [
      ["odd.npy", 1, "2049"],
      ["past.npy", 1, "65536"],
      ["far.npy", 0, "4611686018427387904"],
    ] as const) {
      const refused = await cli([
        "apply",
        "relu",
        join(dir, name),
        "-o",
        join(dir, "y.npy"),
        "--dtype",
        "float16",
      ]);
      assert.equal(refused.code, 1, refused.stderr);
      assert.match(
        refused.stderr,
        new RegExp(
          `\\npuzzlelib apply: \\S*${name.replace(".", "\\.")} holds ${value} at flat index ${index}, which float16 cannot represent exactly \\(it holds every integer up to 2048 in magnitude, only some up to 65504, and none beyond\\); use --dtype float32, which holds it, or convert`,
        ),
      );
    }
  });

  test("grad: int64 y and g", async () => {
    const dir = await saved({
      "y.npy": "np.arange(-3, 9).reshape(3, 4)",
      "g.npy": "np.arange(12).reshape(3, 4) * 1000",
      "yf.npy": "np.arange(-3, 9).reshape(3, 4).astype(np.float32)",
      "gf.npy": "(np.arange(12).reshape(3, 4) * 1000).astype(np.float32)",
    });
    const run = await cli([
      "grad",
      "relu",
      join(dir, "y.npy"),
      join(dir, "g.npy"),
      "-o",
      join(dir, "a.npy"),
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr.match(/note: /g)?.length, 2, run.stderr);
    const ref = await cli([
      "grad",
      "relu",
      join(dir, "yf.npy"),
      join(dir, "gf.npy"),
      "-o",
      join(dir, "b.npy"),
    ]);
    assert.equal(ref.code, 0, ref.stderr);
    assert.ok(readFileSync(join(dir, "a.npy")).equals(readFileSync(join(dir, "b.npy"))));
  });
});

describe("int32 inputs follow the same rule", () => {
  test("exact values convert, 2^24 + 1 is refused", async () => {
    const dir = await saved({
      "ok.npy": "np.array([-2**31, 2**31 - 128, 2**24, -5], dtype=np.int32)",
      "bad.npy": "np.array([0, 2**24 + 1], dtype=np.int32)",
      "half.npy": "np.array([4095], dtype='>i4')",
    });
    const run = await cli([
      "apply",
      "relu",
      join(dir, "ok.npy"),
      "-o",
      join(dir, "y.npy"),
      "--slice",
      "0:0",
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stderr,
      /note: .*ok\.npy holds int32 \(<i4\); converting it to float32, .*; every value must convert exactly/,
    );
    assert.equal(
      await ask(
        dir,
        "bool(np.array_equal(np.load('y.npy'), np.load('ok.npy').astype(np.float32)))",
      ),
      true,
    );
    const bad = await cli(["apply", "relu", join(dir, "bad.npy"), "-o", join(dir, "z.npy")]);
    assert.equal(bad.code, 1, bad.stderr);
    assert.match(
      bad.stderr,
      /\npuzzlelib apply: \S*bad\.npy holds 16777217 at flat index 1, which float32 cannot represent exactly .*convert the int32 array yourself/,
    );
    const half = await cli([
      "apply",
      "relu",
      join(dir, "half.npy"),
      "-o",
      join(dir, "h.npy"),
      "--dtype",
      "float16",
    ]);
    assert.equal(half.code, 1);
    assert.match(
      half.stderr,
      /half\.npy holds 4095 at flat index 0, which float16 cannot represent exactly .*use --dtype float32, which holds it/,
    );
  });
});

describe("decodeData: int64 exactness against BigInt arithmetic", () => {
  // Independent of the code under test: an integer v is a float with p mantissa bits iff v is 0
  // or, with its trailing zero bits removed, fits in p bits, and its magnitude is in range.
  function holdsExactly(v: bigint, target: DType): boolean {
    if (v === 0n) return true;
    let m = v < 0n ? -v : v;
    const bits = m.toString(2).length; // 2^(bits-1) <= |v| < 2^bits
    while ((m & 1n) === 0n) m >>= 1n;
    const mantissa = m.toString(2).length;
    if (target === "float64") return mantissa <= 53;
    if (target === "float32") return mantissa <= 24 && bits <= 128;
    if (target === "float16") return mantissa <= 11 && bits <= 16 && (v < 0n ? -v : v) <= 65504n;
    return v >= -(2n ** 31n) && v < 2n ** 31n;
  }

  const random = mulberry32(64);
  const word = (): bigint => BigInt(Math.floor(random() * 2 ** 32));
  function sample(): bigint {
    // Mostly values near the edges that matter: powers of two, plus or minus a little, scaled.
    const kind = Math.floor(random() * 4);
    const shift = BigInt(Math.floor(random() * 63));
    let v: bigint;
    if (kind === 0) v = BigInt.asIntN(64, (word() << 32n) | word());
    else if (kind === 1) v = (1n << shift) + BigInt(Math.floor(random() * 5) - 2);
    else if (kind === 2) v = BigInt(Math.floor(random() * 2 ** 11)) << shift;
    else v = BigInt(Math.floor(random() * 2 ** 25)) << BigInt(Math.floor(random() * 40));
    v = BigInt.asIntN(64, v);
    return random() < 0.5 ? BigInt.asIntN(64, -v) : v;
  }

  for (const target of ["float32", "float16", "float64", "int32"] as const) {
    test(`to ${target}: 4,000 values in both byte orders, refused exactly when not exact`, () => {
      for (const littleEndian of [true, false]) {
        const values = [
          ...Array.from({ length: 4000 }, sample),
          -(2n ** 63n),
          2n ** 63n - 1n,
          0n,
          -1n,
        ];
        const header = parseHeader(formatHeader([1], "float32"), null);
        const i8 = {
          ...header,
          descr: littleEndian ? "<i8" : ">i8",
          dtype: "int64" as const,
          littleEndian,
        };
        let refused = 0;
        values.forEach((v, i) => {
          const raw = new Uint8Array(8);
          new DataView(raw.buffer).setBigInt64(0, v, littleEndian);
          if (holdsExactly(v, target)) {
            const data = decodeData(raw, i8, target, i);
            const got = target === "float16" ? halfToNumber(data[0]!) : data[0]!;
            assert.equal(BigInt(got), v, `${v} to ${target}`);
          } else {
            refused++;
            assert.throws(
              () => decodeData(raw, i8, target, i),
              (error: unknown) =>
                error instanceof NpyError &&
                error.message.startsWith(
                  `holds ${v} at flat index ${i}, which ${target} cannot represent exactly`,
                ),
              `${v} to ${target}`,
            );
          }
        });
        assert.ok(refused > 100 && refused < values.length - 100, `${refused} refused`);
      }
    });
  }

  test("an unaligned chunk (a stream's bytes after a short header) is read as well", () => {
    const header = {
      ...parseHeader(formatHeader([3], "float32"), null),
      descr: "<i8",
      dtype: "int64" as const,
      littleEndian: true,
    };
    const buffer = new Uint8Array(8 * 3 + 3);
    const view = new DataView(buffer.buffer);
    [-(2n ** 40n), 7n, 2n ** 62n].forEach((v, i) => view.setBigInt64(3 + 8 * i, v, true));
    assert.deepEqual(Array.from(decodeData(buffer.subarray(3), header, "float32")), [
      -(2 ** 40),
      7,
      2 ** 62,
    ]);
  });
});

// The .npy reader and writer against files numpy wrote (test/fixtures/npy, made by
// scripts/make-npy-fixtures.py): every supported version, dtype and byte order, and each kind of
// bad file with its own message.

import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { CliError } from "../src/cli/errors.js";
import { decodeData, encodeData, formatHeader, parseHeader } from "../src/cli/npy.js";
import { openNpy } from "../src/cli/npy-file.js";
import { FIXTURES, readNpy, tempFolder, writeOddNpy } from "./cli-helpers.js";
import type { DType } from "../src/core/dtype.js";

const expected = JSON.parse(readFileSync(`${FIXTURES}expected.json`, "utf8")) as Record<
  string,
  { shape: number[]; descr: string; values: (number | string)[] }
>;

const DTYPE_OF: Record<string, DType> = {
  f2: "float16",
  f4: "float32",
  f8: "float64",
  i4: "int32",
};

describe(".npy files written by numpy", () => {
  for (const [name, { shape, descr, values }] of Object.entries(expected)) {
    test(`${name}: ${descr}, shape (${shape.join(", ")})`, async () => {
      const array = await readNpy(FIXTURES + name);
      assert.deepEqual(array.shape, shape);
      assert.equal(array.dtype, DTYPE_OF[descr.slice(1)]);
      const want = values.map((v) =>
        typeof v === "string" ? Number(v.replace("inf", "Infinity")) : v,
      );
      assert.deepEqual(
        Array.from({ length: array.size }, (_, i) => array.item(i)),
        want,
      );
    });
  }

  test("the version is read from the file", async () => {
    for (const [name, version] of [
      ["v1-f4.npy", "1.0"],
      ["v2-f8.npy", "2.0"],
      ["v3-f2.npy", "3.0"],
    ] as const) {
      const input = await openNpy(`${FIXTURES}${name}`);
      assert.equal(input.header.version, version);
      await input.close();
    }
  });

  test("conversion to the calc dtype rounds like numpy's astype", async () => {
    // 1e-3 is not a float32; 70000 overflows float16 to Infinity; NaN, infinities and -0 survive.
    const f32 = await readNpy(FIXTURES + "special-f8.npy", "float32");
    assert.deepEqual(Array.from(f32.data), [
      0,
      -0,
      Infinity,
      -Infinity,
      NaN,
      Math.fround(1e-3),
      70000,
    ]);
    const f16 = await readNpy(FIXTURES + "special-f8.npy", "float16");
    assert.deepEqual(
      Array.from({ length: f16.size }, (_, i) => f16.item(i)),
      [0, -0, Infinity, -Infinity, NaN, 0.0010004043579101562, Infinity],
    );
    const ints = await readNpy(FIXTURES + "be-i4.npy", "float32");
    assert.deepEqual(Array.from(ints.data), [-6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5]);
  });

  test("int64 (i8.npy, np.arange(4)) is read, and converted exactly", async () => {
    const input = await openNpy(`${FIXTURES}i8.npy`);
    assert.equal(input.header.dtype, "int64");
    assert.equal(input.header.dataBytes, 32);
    // Elements 1 and 2 only: ranges are whole 8-byte elements.
    assert.deepEqual(
      Array.from(decodeData(await input.read(1, 2), input.header, "float32")),
      [1, 2],
    );
    await input.close();
    const ints = await readNpy(FIXTURES + "i8.npy");
    assert.equal(ints.dtype, "float64");
    assert.deepEqual(Array.from(ints.data), [0, 1, 2, 3]);
    assert.deepEqual(Array.from((await readNpy(FIXTURES + "i8.npy", "int32")).data), [0, 1, 2, 3]);
  });

  test("a range of elements reads only those", async () => {
    const input = await openNpy(`${FIXTURES}be-f8.npy`);
    const part = decodeData(await input.read(5, 3), input.header, "float64");
    await input.close();
    assert.deepEqual(Array.from(part), [-0.25, 0.25, 0.75]);
  });
});

describe(".npy writing", () => {
  // Byte-identical to numpy's own header means numpy loads what we write.
  for (const name of ["v1-f4.npy", "empty.npy", "scalar-0d.npy"]) {
    test(`the header of ${name} is numpy's, byte for byte`, () => {
      const file = readFileSync(`${FIXTURES}${name}`);
      const header = parseHeader(file, file.length);
      const ours = formatHeader(header.shape, "float32");
      assert.deepEqual(Buffer.from(ours), file.subarray(0, header.dataOffset));
    });
  }

  test("float16 header, and a round trip of the data", () => {
    const values = new Uint16Array([0x3c00, 0xc000, 0x7c00, 0x0001]);
    const header = formatHeader([2, 2], "float16");
    const file = new Uint8Array(header.length + values.byteLength);
    file.set(header);
    file.set(encodeData(values), header.length);
    const parsed = parseHeader(file, file.length);
    assert.equal(parsed.descr, "<f2");
    assert.deepEqual(parsed.shape, [2, 2]);
    assert.equal(parsed.dataOffset % 64, 0);
    const back = decodeData(file.slice(parsed.dataOffset), parsed, "float16");
    assert.deepEqual(Array.from(back), Array.from(values));
  });

  test("a header longer than 65535 bytes is written as version 2.0", () => {
    // No array numpy loads has such a header (it allows 32 dimensions), and reading refuses it.
    const shape = Array.from({ length: 30000 }, () => 1);
    const header = formatHeader(shape, "float32");
    assert.deepEqual([header[6], header[7]], [2, 0]);
    assert.equal(new DataView(header.buffer).getUint32(8, true), header.length - 12);
    assert.throws(
      () => parseHeader(new Uint8Array([...header, 0, 0, 0, 0]), header.length + 4),
      /has 30000 dimensions; numpy allows at most 32/,
    );
  });
});

describe("bad .npy files: each has its own message", () => {
  const cases: [string, RegExp][] = [
    ["missing.npy", /cannot read .*missing\.npy: no such file; check the path/],
    ["not-npy.npy", /is not a \.npy file \(it does not start with \\x93NUMPY\)/],
    [
      "truncated.npy",
      /is truncated: shape \(3, 4\) of <f4 needs 48 bytes of data, the file holds 42/,
    ],
    ["truncated-header.npy", /is truncated inside its header/],
    [
      "lying-shape.npy",
      /header that does not match its data: shape \(2,\) of <f4 accounts for 8 bytes, the file holds 12/,
    ],
    ["fortran.npy", /Fortran \(column-major\) order.*np\.ascontiguousarray/],
    ["structured.npy", /structured dtype/],
    ["overflow.npy", /shape \(4294967296, 4294967296\).*overflows/],
    ["version-9.npy", /format version 9\.0; only 1\.0, 2\.0 and 3\.0/],
  ];
  for (const [name, message] of cases) {
    test(name, async () => {
      await assert.rejects(openNpy(`${FIXTURES}${name}`), (error: unknown) => {
        assert.ok(error instanceof CliError, String(error));
        assert.match(error.message, message);
        assert.doesNotMatch(error.message, /\n/);
        return true;
      });
    });
  }

  test("a dtype numpy has and the CLI does not read: uint64", async () => {
    const path = join(tempFolder(), "u8.npy");
    writeOddNpy(path, "<u8", [2, 2], 8);
    await assert.rejects(openNpy(path), (error: unknown) => {
      assert.ok(error instanceof CliError, String(error));
      assert.match(
        error.message,
        /u8\.npy has dtype "<u8", which is not supported; supported: <f4, <f2, <f8, <i4, <i8 and their big-endian \(>\) forms\. Convert it with a\.astype\(np\.float32\)$/,
      );
      return true;
    });
  });

  test("a header longer than numpy's max_header_size is reported as corrupt", async () => {
    // Version 2.0 with a header length of 20000 (the file holds it) or 4 GiB: too long to trust.
    const file = new Uint8Array(12 + 20000 + 16).fill(0x20);
    file.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0]);
    const folder = tempFolder();
    for (const [length, name] of [
      [20000, "long.npy"],
      [0xffffffff, "huge.npy"],
    ] as const) {
      new DataView(file.buffer).setUint32(8, length, true);
      writeFileSync(join(folder, name), file);
      await assert.rejects(openNpy(join(folder, name)), (error: unknown) => {
        assert.ok(error instanceof CliError, String(error));
        assert.match(
          error.message,
          new RegExp(
            `${name} has a corrupt header: it claims ${length} bytes, more than the 10000`,
          ),
        );
        return true;
      });
    }
  });

  test("a header that is not a Python dict literal", () => {
    const bad = formatHeader([3], "float32");
    bad.set(new TextEncoder().encode("{'descr': <f4"), 10);
    assert.throws(() => parseHeader(bad, bad.length + 12), /malformed header/);
  });

  test("a header with other keys", () => {
    const text = "{'descr': '<f4', 'shape': (1,), }";
    const bytes = new Uint8Array(64).fill(0x20);
    bytes.set(formatHeader([1], "float32").subarray(0, 10));
    bytes[8] = 54; // the header's length, little-endian
    bytes.set(new TextEncoder().encode(text), 10);
    bytes[63] = 0x0a;
    assert.throws(
      () => parseHeader(bytes, 68),
      /keys \{"descr", "shape"\}, not \{descr, fortran_order, shape\}/,
    );
  });
});

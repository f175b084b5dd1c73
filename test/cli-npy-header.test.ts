// The .npy header parser against numpy itself: every header numpy refuses is refused, with the
// file's own one-line message, and every header accepted is read as numpy reads it (shape and
// dtype). The cases are the corners of numpy's Python-literal grammar: tuples and lists, leading
// zeros, grouping parentheses, Python 2 longs, whitespace numpy's tokenizer does or does not
// know, nesting, dimension counts and sizes.

import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { CliError } from "../src/cli/errors.js";
import { NpyError, parseHeader } from "../src/cli/npy.js";
import { openNpy } from "../src/cli/npy-file.js";
import { tempFolder } from "./cli-helpers.js";
import { numpyCheck } from "./npy-numpy.js";

/** A .npy file with this exact header text (no padding added) and `dataBytes` zero bytes. */
function npyBytes(text: string, major = 1, dataBytes = 0): Uint8Array {
  const header = major === 3 ? Buffer.from(text, "utf8") : Buffer.from(text, "latin1");
  const preamble = major === 1 ? 10 : 12;
  const bytes = new Uint8Array(preamble + header.length + dataBytes);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const view = new DataView(bytes.buffer);
  if (major === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  bytes.set(header, preamble);
  return bytes;
}

const dict = (shape: string, descr = "'<f4'", fortran = "False", tail = "\n"): string =>
  `{'descr': ${descr}, 'fortran_order': ${fortran}, 'shape': ${shape}, }${tail}`;

// [header text, data bytes the header's shape needs (what numpy would read)]
const CASES: [string, number][] = [
  [dict("(3, 4)"), 48],
  [dict("[3, 4]"), 48],
  [dict("(03, 4)"), 48],
  [dict("(00, 4)"), 0],
  [dict("(12)"), 48],
  [dict("((3), 4)"), 48],
  [dict("(3L, 4)"), 48],
  [dict("(3, 4 L)"), 48],
  [dict("(+3, 4)"), 48],
  [dict("(-0, 12)"), 0],
  [dict("(3, - 4)"), 48],
  [dict("(0x3, 4)"), 48],
  [dict("(1_2,)"), 48],
  [dict("(True, 12)"), 48],
  [dict("(3, 4,)"), 48],
  [dict("(3, 4),,"), 48],
  [dict("()"), 4],
  [dict(`(${"1, ".repeat(32)})`), 4],
  [dict(`(${"1, ".repeat(33)})`), 4],
  [dict("(0, 4503599627370496)"), 0],
  [dict("(0, 9223372036854775807)"), 0],
  [dict("(1099511627776, 1099511627776, 0)"), 0],
  [dict(`(${"(".repeat(40)}3${")".repeat(40)},)`), 12],
  [dict("(3, 4)", "'|f4'"), 48],
  [dict("(3, 4)", "'=f4'"), 48],
  [dict("(3, 4)", "'f4'"), 48],
  [dict("(3, 4)", "'>f8'"), 96],
  [dict("(3, 4)", "'|i4'"), 48],
  [dict("(3, 4)", "'<f4 '"), 48],
  [dict("(3, 4)", "u'<f4'"), 48],
  [dict("(3, 4)", '"<f4"'), 48],
  [dict("(3, 4)", "'<f4'", "0"), 48],
  [dict("(3, 4)", "'<f4'", "None"), 48],
  [dict("(3, 4)", "'<f4'", "True"), 48],
  [dict("(12, 1)", "'<f4'", "True"), 48],
  [dict("(3, 4)", "'<f4'", "False", ""), 48],
  [dict("(3, 4)", "'<f4'", "False", "\n   "), 48],
  [dict("(3, 4)", "'<f4'", "False", " \r\n"), 48],
  [dict("(3, 4)", "'<f4'", "False", "\f\n"), 48],
  [dict("(3, 4)", "'<f4'", "False", "\0\n"), 48],
  [dict("(3, 4)", "'<f4'", "False", " # comment\n"), 48],
  [dict("(3, 4)", "'<f4'", "False", "\\\n"), 48],
  [dict("(3,\r\n\t 4)"), 48],
  [dict("(3,\f4)"), 48],
  [dict("(3,\v4)"), 48],
  [dict("(3,\u00a04)"), 48],
  ["  " + dict("(3, 4)"), 48],
  ["\n " + dict("(3, 4)"), 48],
  ["{'descr':'<f4','fortran_order':False,'shape':(3,4)}\n", 48],
  ["{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), 'descr': '<i8'}\n", 48],
  ["{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), 'x': 1}\n", 48],
  ["{'descr': '<f4', 'fortran_order': False}\n", 48],
  ["{'descr': '<\u00e9f4', 'fortran_order': False, 'shape': (3, 4), }\n", 48],
  ["{'descr': '<f\\x34', 'fortran_order': False, 'shape': (3, 4), }\n", 48],
];

describe(".npy headers: refused where numpy refuses them", () => {
  test("every case, in versions 1.0 and 3.0, against numpy", async () => {
    const folder = tempFolder();
    const files: { path: string; ours: Error | { shape: number[]; descr: string } }[] = [];
    for (const major of [1, 3]) {
      CASES.forEach(([text, dataBytes], i) => {
        const path = join(folder, `v${major}-${i}.npy`);
        const bytes = npyBytes(text, major, dataBytes);
        writeFileSync(path, bytes);
        let ours: Error | { shape: number[]; descr: string };
        try {
          const header = parseHeader(bytes, bytes.length);
          const order = header.littleEndian ? "<" : ">";
          ours = { shape: [...header.shape], descr: order + header.descr.slice(-2) };
        } catch (error) {
          assert.ok(error instanceof NpyError, `${JSON.stringify(text)}: ${String(error)}`);
          assert.doesNotMatch(error.message, /[\n\r]/);
          ours = error;
        }
        files.push({ path, ours });
      });
    }
    const { loads } = await numpyCheck(files.map((file) => file.path));
    let accepted = 0;
    files.forEach(({ path, ours }, i) => {
      const theirs = loads[i]!;
      const what = `${path}: ours ${ours instanceof Error ? ours.message : JSON.stringify(ours)}, numpy's ${JSON.stringify(theirs)}`;
      if (!theirs.ok) assert.ok(ours instanceof Error, `numpy refuses it, we accept it: ${what}`);
      if (!(ours instanceof Error)) {
        accepted++;
        assert.ok(theirs.ok, what);
        assert.deepEqual(ours, { shape: theirs.shape, descr: theirs.descr }, what);
      }
    });
    assert.ok(accepted >= 30, `only ${accepted} of the cases are accepted`);
  });
});

describe(".npy headers: one-line messages whatever the header holds", () => {
  const refuse = (text: string, message: RegExp, major = 1, dataBytes = 48): void => {
    const bytes = npyBytes(text, major, dataBytes);
    assert.throws(
      () => parseHeader(bytes, bytes.length),
      (error: unknown) => {
        assert.ok(error instanceof NpyError, String(error));
        assert.match(error.message, message);
        assert.doesNotMatch(error.message, /[\n\r]/);
        assert.ok(error.message.length < 300, `${error.message.length} characters`);
        return true;
      },
    );
  };

  test("4,000 nested parentheses: a message, not a stack overflow", () => {
    refuse(dict(`${"(".repeat(4000)}3${")".repeat(4000)}`), /nested more than 32 brackets/);
    refuse(dict(`(${"[".repeat(4000)}`), /nested more than 32 brackets/);
  });

  test("more than numpy's 32 dimensions", () => {
    refuse(dict(`(${"1, ".repeat(2001)})`), /has 2001 dimensions; numpy allows at most 32/, 1, 4);
  });

  test("a list, leading zeros, a bare parenthesized number", () => {
    for (const shape of ["[3, 4]", "(03, 4)", "(12)"]) refuse(dict(shape), /shape|malformed/);
  });

  test("Python 2 longs only in versions 1.0 and 2.0, as numpy's header filter", () => {
    const bytes = npyBytes(dict("(3L, 4)"), 1, 48);
    assert.deepEqual(parseHeader(bytes, bytes.length).shape, [3, 4]);
    refuse(dict("(3L, 4)"), /malformed header/, 3);
  });

  test("a 3.0 header that is not UTF-8", () => {
    const bytes = npyBytes(dict("(3, 4)", "'<f4'"), 3, 48);
    bytes[14] = 0xff;
    assert.throws(() => parseHeader(bytes, bytes.length), /3\.0 header that is not valid UTF-8/);
  });

  test("a 5,000-digit dimension and long values are cut", () => {
    refuse(dict(`(${"9".repeat(5000)},)`), /shape \(9+\.\.\.\(\d+ more characters\)\.\.\.9+,\)/);
    refuse(dict("(3, 4)", `'${"x".repeat(5000)}'`), /dtype "x+\.\.\.\(\d+ more characters\)/);
    refuse(
      `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), '${"k".repeat(5000)}': 1}\n`,
      /keys \{.*more characters.*\}, not \{descr, fortran_order, shape\}/,
    );
    refuse(
      dict("(3, 4)", "'<f4'", "False", `${"\u0001".repeat(5000)}\n`),
      /malformed header near "\\u0001/,
    );
  });

  test("a size that overflows, even with a zero dimension", () => {
    refuse(dict("(1099511627776, 1099511627776, 0)"), /overflows what can be addressed/, 1, 0);
  });

  test("through openNpy, the file's name and one line", async () => {
    const folder = tempFolder();
    const path = join(folder, "deep\nname.npy");
    writeFileSync(path, npyBytes(dict(`${"(".repeat(4000)}3${")".repeat(4000)}`), 1, 48));
    await assert.rejects(openNpy(path), (error: unknown) => {
      assert.ok(error instanceof CliError, String(error));
      assert.match(error.message, /^".*deep\\nname\.npy" has a header nested more than 32/);
      assert.doesNotMatch(error.message, /\n/);
      return true;
    });
  });
});

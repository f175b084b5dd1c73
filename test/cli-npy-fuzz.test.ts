// A seeded fuzz of `puzzlelib apply relu` over mutants of valid .npy files: byte flips,
// truncations, appended bytes, broken magic, versions and length fields, and header edits (shape,
// descr, fortran_order, keys, padding and whitespace). Each run must either succeed with an output
// that numpy loads, of the input's shape (as numpy reads the input) in float32 with relu's values,
// or fail as a CliError (exit 1) with one short line and nothing else on stderr; and no run may
// leave a file behind. The command runs in this process (its main function, with console output
// captured), as spawning node for each of the mutants would take minutes.

import assert from "node:assert/strict";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { elementwiseCommand } from "../src/cli/apply.js";
import { CliError } from "../src/cli/errors.js";
import { tempFolder } from "./cli-helpers.js";
import { numpyCheck } from "./npy-numpy.js";
import { mulberry32 } from "./seeded.js";

const SEED = 20240611;
const MUTANTS = 1000;

const random = mulberry32(SEED);
const int = (low: number, high: number): number => low + Math.floor(random() * (high - low + 1));
const pick = <T>(items: readonly T[]): T => items[int(0, items.length - 1)]!;
const chance = (p: number): boolean => random() < p;

const DESCRS = ["<f4", ">f4", "<f8", ">f8", "<f2", ">f2", "<i4", ">i4", "|f4", "=f8", "f4"];
const ODD_SHAPES = [
  "[3, 4]",
  "(03, 4)",
  "(12)",
  "((3), 4)",
  "(+3, 4)",
  "(3L, 4)",
  "(-1, 4)",
  "(True, 2)",
  "(0x3,)",
  "()",
  `(${"1, ".repeat(33)})`,
  `(${"1, ".repeat(32)})`,
  `(${"9".repeat(5000)},)`,
  "(0, 4503599627370496)",
  "(1099511627776, 1099511627776, 0)",
  "(4294967296, 4294967296)",
];
const ODD_DESCRS = ["'<i8'", "'<f4 '", "u'<f4'", '"<f4"', "'|u1'", "'<c8'", "[('a', '<f4')]"];
const ODD_FORTRAN = ["True", "0", "None", "'False'", "1"];
const ODD_CHARS = [" ", "\t", "\f", "\v", "\u00a0", "\r", "\n", "\0", "#", "\\", "'", "(", ","];

interface Header {
  descr: string;
  fortran: string;
  shape: string;
  keys: "normal" | "extra" | "missing" | "duplicate";
}

function headerText({ descr, fortran, shape, keys }: Header): string {
  const entries = [`'descr': ${descr}`, `'fortran_order': ${fortran}`, `'shape': ${shape}`];
  if (keys === "extra") entries.push("'x': 1");
  if (keys === "missing") entries.splice(int(0, 2), 1);
  if (keys === "duplicate") entries.push(`'descr': '<f4'`);
  return `{${entries.join(", ")}, }`;
}

/** A file as numpy writes one: the header padded with spaces and a newline to 64 bytes. */
function npyFile(text: string, major: number, data: Uint8Array): Uint8Array {
  const encoded = Buffer.from(text, major === 3 ? "utf8" : "latin1");
  const preamble = major === 1 ? 10 : 12;
  const padded = Math.ceil((preamble + encoded.length + 1) / 64) * 64;
  const bytes = new Uint8Array(padded + data.length).fill(0x20, preamble, padded);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const view = new DataView(bytes.buffer);
  if (major === 1) view.setUint16(8, padded - preamble, true);
  else view.setUint32(8, padded - preamble, true);
  bytes.set(encoded, preamble);
  bytes[padded - 1] = 0x0a;
  bytes.set(data, padded);
  return bytes;
}

function mutant(): Uint8Array {
  const dims = Array.from({ length: int(0, 4) }, () => int(0, 5));
  const descr = pick(DESCRS);
  const item = Number(descr.slice(-1));
  const data = Uint8Array.from({ length: dims.reduce((a, b) => a * b, 1) * item }, () =>
    int(0, 255),
  );
  const header: Header = {
    descr: `'${descr}'`,
    fortran: chance(0.5) ? "False" : "True",
    shape: `(${dims.join(", ")}${dims.length === 1 ? "," : ""})`,
    keys: "normal",
  };
  const clean = chance(0.25);
  if (!clean) {
    if (chance(0.3)) header.shape = pick(ODD_SHAPES);
    if (chance(0.15)) header.shape = `${"(".repeat(int(1, 5000))}3${")".repeat(int(0, 40))}`;
    if (chance(0.2)) header.descr = pick(ODD_DESCRS);
    if (chance(0.15)) header.fortran = pick(ODD_FORTRAN);
    if (chance(0.15)) header.keys = pick(["extra", "missing", "duplicate"] as const);
  }
  let text = headerText(header);
  if (!clean && chance(0.3)) {
    const at = int(0, text.length);
    text = text.slice(0, at) + pick(ODD_CHARS) + text.slice(at);
  }
  const major = pick([1, 1, 2, 3]);
  let bytes = npyFile(text, major, data);
  if (clean) return bytes;
  const headerEnd = bytes.length - data.length;
  if (chance(0.2)) bytes[int(0, Math.min(bytes.length - 1, headerEnd + 8))]! ^= int(1, 255);
  if (chance(0.1)) bytes[int(0, 5)] = int(0, 255);
  if (chance(0.1)) [bytes[6], bytes[7]] = [int(0, 4), pick([0, 0, 1])];
  if (chance(0.15)) {
    const view = new DataView(bytes.buffer);
    const length = chance(0.8) ? headerEnd - 10 + int(-70, 70) : int(0, 0xffff);
    view.setUint16(8, Math.max(0, Math.min(0xffff, length)), true);
  }
  if (chance(0.2)) bytes = bytes.slice(0, int(0, bytes.length));
  if (chance(0.1))
    bytes = Uint8Array.from([...bytes, ...Array.from({ length: int(1, 16) }, () => int(0, 255))]);
  return bytes;
}

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** `puzzlelib apply ...argv` in this process, printing as main.ts prints, into strings. */
async function apply(argv: string[]): Promise<Outcome> {
  const outcome: Outcome = { code: 0, stdout: "", stderr: "" };
  const { log, error } = console;
  console.log = (...parts: unknown[]) => void (outcome.stdout += `${parts.join(" ")}\n`);
  console.error = (...parts: unknown[]) => void (outcome.stderr += `${parts.join(" ")}\n`);
  try {
    outcome.code = await elementwiseCommand("forward", argv);
  } catch (thrown) {
    // Only a CliError is a reported failure: anything else (a RangeError from a deep header, a
    // TypeError) is a bug, even though main.ts would print it on one line.
    if (!(thrown instanceof CliError)) throw thrown;
    outcome.code = 1;
    outcome.stderr += `puzzlelib apply: ${thrown.message}\n`;
  } finally {
    Object.assign(console, { log, error });
  }
  return outcome;
}

test(`${MUTANTS} seeded mutants of .npy files through apply relu`, async (t) => {
  const folder = tempFolder();
  const succeeded: [string, string][] = [];
  const expected: string[] = [];
  let failed = 0;
  let integerRefusals = 0;
  for (let i = 0; i < MUTANTS; i++) {
    const input = join(folder, `in-${i}.npy`);
    const output = join(folder, `out-${i}.npy`);
    writeFileSync(input, mutant());
    expected.push(`in-${i}.npy`);
    const run = await apply(["relu", input, "-o", output]);
    if (run.code === 0) {
      succeeded.push([input, output]);
      expected.push(`out-${i}.npy`);
      continue;
    }
    failed++;
    assert.equal(run.code, 1, `mutant ${i}: ${run.stderr}`);
    assert.equal(run.stdout, "", `mutant ${i}`);
    // One line; before it, only the conversion note of a file whose integers float32 cannot
    // hold, which is found once the data are read.
    const lines = run.stderr.split("\n").slice(0, -1);
    const notes = lines.slice(0, -1);
    assert.ok(lines.length >= 1 && notes.length <= 1, `mutant ${i}: ${run.stderr}`);
    if (notes.length === 1) {
      assert.match(notes[0]!, /^puzzlelib apply: note: .* holds int(32|64) /, `mutant ${i}`);
      assert.match(
        lines[1]!,
        / holds -?\d+ at flat index \d+, which float32 cannot represent exactly/,
        `mutant ${i}`,
      );
      integerRefusals++;
    }
    for (const line of lines) {
      assert.ok(line.length < 400, `mutant ${i}: a ${line.length}-character line`);
      assert.doesNotMatch(line, /[\r\0\v\f\u0085\u2028]/, `mutant ${i}`);
    }
  }
  // Nothing but the inputs and the outputs of the runs that succeeded: no temporary files.
  assert.deepEqual(readdirSync(folder).sort(), expected.sort());
  // Both outcomes must be well represented, or the fuzz tests little.
  assert.ok(
    succeeded.length >= MUTANTS * 0.15 && failed >= MUTANTS * 0.4,
    `${succeeded.length} ok, ${failed} failed`,
  );
  const { numpy, relu } = await numpyCheck([], succeeded);
  t.diagnostic(
    `${succeeded.length} succeeded, ${failed} failed (${integerRefusals} of them integers float32 cannot hold); checked with numpy ${numpy}`,
  );
  relu.forEach(({ input, output, valuesMatch }, i) => {
    const [inPath] = succeeded[i]!;
    assert.ok(input.ok, `we accepted ${inPath}, numpy refuses it: ${JSON.stringify(input)}`);
    assert.ok(output.ok, `numpy cannot load our output for ${inPath}: ${JSON.stringify(output)}`);
    assert.deepEqual(output.shape, input.shape, inPath);
    assert.equal(output.descr, "<f4", inPath);
    assert.ok(valuesMatch, `relu's values differ for ${inPath}`);
  });
});

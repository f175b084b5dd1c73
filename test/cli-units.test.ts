// The CLI's pure parts: option parsing, slices over chunks, the progress bar.

import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { parseArgs, parseNumbers, parseRange, parseSlice } from "../src/cli/args.js";
import { progression, sliceInChunk } from "../src/cli/chunks.js";
import { UsageError } from "../src/cli/errors.js";
import { AtomicOutput } from "../src/cli/npy-file.js";
import { niceTicks, yDomain } from "../src/cli/plot-svg.js";
import { Progress } from "../src/cli/progress.js";
import { normalizeSlice, slice } from "../src/core/slice.js";

describe("argument parsing", () => {
  const specs = { output: { kind: "value", short: "o" }, force: { kind: "flag" } } as const;

  test("values that start with '-', --name=value, -- and negative numbers", () => {
    const parsed = parseArgs("x", ["a", "-o", "-5:", "--force", "-3", "--", "--b"], specs);
    assert.deepEqual(parsed.positionals, ["a", "-3", "--b"]);
    assert.equal(parsed.values.get("output"), "-5:");
    assert.ok(parsed.flags.has("force"));
    assert.equal(parseArgs("x", ["--output=a=b"], specs).values.get("output"), "a=b");
    assert.throws(() => parseArgs("x", ["--force=1"], specs), /takes no value/);
  });

  test("Python slices", () => {
    assert.deepEqual(parseSlice("::10"), slice(null, null, 10));
    assert.deepEqual(parseSlice("-5:"), slice(-5, null));
    assert.deepEqual(parseSlice("3:-4:2"), slice(3, -4, 2));
    assert.deepEqual(parseSlice(":"), slice());
    for (const bad of ["5", "a:b", "1.5:", "1:2:3:4", "::0", "99999999999999999999:"]) {
      assert.throws(() => parseSlice(bad), UsageError, bad);
    }
  });

  test("numbers and ranges", () => {
    assert.deepEqual(parseNumbers("args", "-1, 2.5,1e-3"), [-1, 2.5, 0.001]);
    for (const bad of ["", "1,", "nan", "Infinity", "0x"]) {
      assert.throws(() => parseNumbers("args", bad), UsageError, bad);
    }
    assert.deepEqual(parseRange("-6:6"), [-6, 6]);
    for (const bad of ["6:-6", "1:1", "-6", ":6", "a:b"]) {
      assert.throws(() => parseRange(bad), UsageError, bad);
    }
  });
});

describe("a flat slice cut into chunks", () => {
  // Every element selected by the whole-array slice is selected in exactly one chunk, and no other.
  test("matches the whole-array slice for many slices, lengths and chunk sizes", () => {
    const bounds = [null, 0, 1, 3, 7, -1, -4, -20, 50];
    const steps = [null, 1, 2, 3, 7, -1, -2, -5];
    for (const length of [0, 1, 10, 23]) {
      for (const chunk of [1, 4, 5, 64]) {
        for (const start of bounds)
          for (const stop of bounds)
            for (const step of steps) {
              const slc = slice(start, stop, step);
              const want = new Set<number>();
              const n = normalizeSlice(slc, length);
              for (let k = 0; k < n.count; k++) want.add(n.start + k * n.step);
              const got = new Set<number>();
              const selected = progression(slc, length);
              for (let begin = 0; begin < length; begin += chunk) {
                const size = Math.min(chunk, length - begin);
                const local = normalizeSlice(sliceInChunk(selected, begin, begin + size), size);
                for (let k = 0; k < local.count; k++) got.add(begin + local.start + k * local.step);
              }
              assert.deepEqual(
                [...got].sort((a, b) => a - b),
                [...want].sort((a, b) => a - b),
              );
            }
      }
    }
  });
});

describe("progress bar", () => {
  function fakeStream(isTTY: boolean) {
    const writes: string[] = [];
    return { isTTY, columns: 80, writes, write: (text: string) => writes.push(text) };
  }

  test("drawn on a terminal after a second, throttled, cleared at the end", () => {
    let now = 0;
    const stream = fakeStream(true);
    const bar = new Progress(2_000_000_000, { stream, now: () => now });
    now = 500;
    bar.update(100_000_000);
    assert.deepEqual(stream.writes, []); // under a second: nothing
    now = 1000;
    bar.update(500_000_000);
    assert.equal(stream.writes.length, 1);
    assert.match(
      stream.writes[0]!,
      /^\r\[#{8}-{24}\]  25%  500\.0 MB \/ 2\.0 GB  500\.0 MB\/s  3s left\x1b\[K$/,
    );
    now = 1050;
    bar.update(600_000_000);
    assert.equal(stream.writes.length, 1); // throttled
    bar.finish();
    assert.equal(stream.writes.at(-1), "\r\x1b[K");
  });

  test("nothing when stderr is not a terminal", () => {
    let now = 0;
    const stream = fakeStream(false);
    const bar = new Progress(100, { stream, now: () => now });
    now = 5000;
    bar.update(50);
    bar.finish();
    assert.deepEqual(stream.writes, []);
  });
});

describe("atomic output", () => {
  test("nothing appears under the name until commit; abort leaves nothing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "puzzlelib-atomic-"));
    const path = join(dir, "out.bin");
    const output = await AtomicOutput.create(path, false);
    await output.write(new Uint8Array([1, 2, 3]));
    assert.equal(existsSync(path), false);
    assert.equal(readdirSync(dir).length, 1); // the temporary file, in the same folder
    await output.commit();
    assert.deepEqual(readdirSync(dir), ["out.bin"]);
    assert.deepEqual([...readFileSync(path)], [1, 2, 3]);

    const failed = await AtomicOutput.create(path, true);
    await failed.write(new Uint8Array([9]));
    await failed.abort();
    assert.deepEqual(readdirSync(dir), ["out.bin"]);
    assert.deepEqual([...readFileSync(path)], [1, 2, 3]);
    await assert.rejects(AtomicOutput.create(path, false), /already exists; pass --force/);
    await assert.rejects(AtomicOutput.create(dir, true), /it is a folder; give a file name/);
  });

  test("a file that appears after create is not overwritten without force", async () => {
    const dir = mkdtempSync(join(tmpdir(), "puzzlelib-atomic-"));
    const path = join(dir, "out.bin");
    const output = await AtomicOutput.create(path, false);
    await output.write(new Uint8Array([1, 2, 3]));
    writeFileSync(path, new Uint8Array([7]));
    await assert.rejects(output.commit(), /out\.bin already exists; pass --force/);
    await output.abort();
    assert.deepEqual(readdirSync(dir), ["out.bin"]);
    assert.deepEqual([...readFileSync(path)], [7]);

    const forced = await AtomicOutput.create(path, true);
    await forced.write(new Uint8Array([4, 5]));
    await forced.commit();
    assert.deepEqual(readdirSync(dir), ["out.bin"]);
    assert.deepEqual([...readFileSync(path)], [4, 5]);
  });
});

describe("plot scales", () => {
  test("ticks are round numbers covering the range", () => {
    assert.deepEqual(niceTicks(-6, 6), [-6, -4, -2, 0, 2, 4, 6]);
    assert.deepEqual(niceTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
    assert.deepEqual(niceTicks(-0.001, 0.001), [-0.001, -0.0005, 0, 0.0005, 0.001]);
    assert.deepEqual(niceTicks(-1.3, 4.2), [-1, 0, 1, 2, 3, 4]);
  });

  test("the y domain: the finite values and a 5% margin; flat curves get room", () => {
    const series = (ys: number[]) => ({
      label: "f",
      id: "f",
      color: "#000",
      dashed: false,
      xs: new Float64Array(ys.length),
      ys: Float64Array.from(ys),
    });
    assert.deepEqual(yDomain([series([0, NaN, 10, Infinity])]), [-0.5, 10.5]);
    assert.deepEqual(yDomain([series([1, 1]), series([1])]), [0, 2]);
    assert.deepEqual(yDomain([series([NaN])]), [-1, 1]);
    const [low, high] = yDomain([series([0, 1e-120])]);
    assert.ok(low < 0 && high > 1e-120 && high < 1e-119);
  });
});

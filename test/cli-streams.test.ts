// Inputs and outputs that are streams (node dist/cli/main.js; build first): "-" for stdin and
// stdout, /dev/stdin, FIFOs with and without a writer or reader. A stream is read in chunks as
// it comes (the output starts before the input ends), its length is checked against its header
// at the end, and a reader that closes stdout ends the run quietly.

import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createWriteStream, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { formatHeader } from "../src/cli/npy.js";
import { assertError, cli, FIXTURES, MAIN, tempFolder, writeNpy, type Run } from "./cli-helpers.js";

const POSIX = process.platform !== "win32";
const X = FIXTURES + "v1-f4.npy";

interface Started {
  readonly child: ReturnType<typeof spawn>;
  readonly done: Promise<Run & { signal: NodeJS.Signals | null; stdoutBytes: Buffer }>;
}

/** Starts the command with pipes on all three streams; `done` has stdout as bytes too. */
function start(args: readonly string[], env: NodeJS.ProcessEnv = {}): Started {
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const out: Buffer[] = [];
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => out.push(chunk));
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin!.on("error", () => undefined); // a run that fails early closes its stdin
  const done = new Promise<Run & { signal: NodeJS.Signals | null; stdoutBytes: Buffer }>(
    (resolve) =>
      child.on("close", (code, signal) => {
        const stdoutBytes = Buffer.concat(out);
        resolve({ code, signal, stdout: stdoutBytes.toString("latin1"), stderr, stdoutBytes });
      }),
  );
  return { child, done };
}

/** The output of `apply relu X` written to a file, to compare streamed runs with. */
async function reference(dir: string): Promise<Buffer> {
  const run = await cli(["apply", "relu", X, "-o", join(dir, "reference.npy")]);
  assert.equal(run.code, 0, run.stderr);
  return readFileSync(join(dir, "reference.npy"));
}

describe("stdin and stdout", { skip: !POSIX, concurrency: true }, () => {
  test("- reads stdin from a pipe, /dev/stdin too", async () => {
    const dir = tempFolder();
    const expected = await reference(dir);
    for (const [name, input] of [
      ["a.npy", "-"],
      ["b.npy", "/dev/stdin"],
    ] as const) {
      const run = start(["apply", "relu", input, "-o", join(dir, name)]);
      run.child.stdin!.end(readFileSync(X));
      const result = await run.done;
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`^wrote .*${name}: shape \\(3, 4\\), float32\\n$`));
      assert.deepEqual(readFileSync(join(dir, name)), expected);
    }
  });

  test("-o - writes the .npy to stdout, and nothing else there", async () => {
    const dir = tempFolder();
    const expected = await reference(dir);
    for (const output of ["-", "/dev/stdout"]) {
      const run = start(["apply", "relu", X, "-o", output]);
      run.child.stdin!.end();
      const result = await run.done;
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stderr, "");
      assert.deepEqual(result.stdoutBytes, expected);
    }
    assert.deepEqual(readdirSync(dir), ["reference.npy"]);
  });

  test("a stream is processed as it comes, not read whole first", async () => {
    const size = 1 << 20;
    const header = formatHeader([size], "float32");
    const data = Buffer.from(new Float32Array(size).fill(-1).buffer);
    const run = start(["apply", "relu", "-", "-o", "-"], { PUZZLELIB_CHUNK_ELEMENTS: "4096" });
    // A quarter of the data, then wait: output must come back before the input ends.
    run.child.stdin!.write(Buffer.concat([header, data.subarray(0, data.length / 4)]));
    let seen = 0;
    await new Promise<void>((resolve) =>
      run.child.stdout!.on("data", (chunk: Buffer) => {
        seen += chunk.length;
        if (seen > header.length + 4096 * 4) resolve();
      }),
    );
    run.child.stdin!.end(data.subarray(data.length / 4));
    const result = await run.done;
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdoutBytes.length, header.length + data.length);
    assert.ok(result.stdoutBytes.subarray(header.length).every((byte) => byte === 0));
  });

  test("a short stream, and one longer than its header says, are refused", async () => {
    const dir = tempFolder();
    const file = readFileSync(X);
    const cases: [Buffer, RegExp][] = [
      [
        file.subarray(0, file.length - 8),
        /stdin is truncated: shape \(3, 4\) of <f4 needs 48 bytes of data, the stream ended after 40/,
      ],
      [
        Buffer.concat([file, Buffer.from("more")]),
        /stdin has a header that does not match its data: .* the stream holds more/,
      ],
      [
        file.subarray(0, 60),
        /stdin is truncated inside its header \(the header is 128 bytes, the stream ended after 60\)/,
      ],
      [Buffer.alloc(0), /stdin is not a \.npy file/],
    ];
    for (const [bytes, message] of cases) {
      const run = start(["apply", "relu", "-", "-o", join(dir, "y.npy")]);
      run.child.stdin!.end(bytes);
      assertError(await run.done, 1, new RegExp(`^puzzlelib apply: ${message.source}`));
      assert.deepEqual(readdirSync(dir), []);
    }
  });

  test("grad: one input from stdin, not two", async () => {
    const dir = tempFolder();
    const run = start(["grad", "relu", "-", X, "-o", join(dir, "gx.npy")]);
    run.child.stdin!.end(readFileSync(X));
    const result = await run.done;
    assert.equal(result.code, 0, result.stderr);
    assertError(
      await cli(["grad", "relu", "-", "-", "-o", join(dir, "g2.npy")]),
      2,
      /^puzzlelib grad: only one input can be - \(stdin\)/,
    );
  });

  test("a reader that closes stdout ends the run quietly with 141, as SIGPIPE would", async () => {
    const dir = tempFolder();
    const size = 1 << 21;
    writeNpy(join(dir, "x.npy"), new Float32Array(size), [size], "float32");
    const run = start(["apply", "relu", join(dir, "x.npy"), "-o", "-"], {
      PUZZLELIB_CHUNK_ELEMENTS: "64",
    });
    run.child.stdout!.once("data", () => run.child.stdout!.destroy());
    const result = await run.done;
    assert.deepEqual([result.code, result.stderr], [141, ""]);
    assert.deepEqual(readdirSync(dir), ["x.npy"]);
    // The same when only the summary line meets a closed stdout: no stack trace for EPIPE.
    const closed = start(["apply", "relu", X, "-o", join(dir, "y.npy")]);
    closed.child.stdout!.destroy();
    const summary = await closed.done;
    assert.equal(summary.stderr, "");
    assert.ok(summary.code === 0 || summary.code === 141, String(summary.code));
    assert.deepEqual(readdirSync(dir).sort(), ["x.npy", "y.npy"]);
  });
});

describe("FIFOs", { skip: !POSIX, concurrency: true }, () => {
  const fifo = (dir: string, name: string): string => {
    const path = join(dir, name);
    assert.equal(spawnSync("mkfifo", [path]).status, 0);
    return path;
  };

  test("a fed FIFO is read like a file", async () => {
    const dir = tempFolder();
    const expected = await reference(dir);
    const input = fifo(dir, "in.fifo");
    const run = start(["apply", "relu", input, "-o", join(dir, "y.npy")]);
    createWriteStream(input).end(readFileSync(X));
    const result = await run.done;
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(readFileSync(join(dir, "y.npy")), expected);
  });

  test("a FIFO with no writer waits, and Ctrl-C ends the wait", async () => {
    const dir = tempFolder();
    const run = start(["apply", "relu", fifo(dir, "in.fifo"), "-o", join(dir, "y.npy")]);
    let ended = false;
    void run.done.then(() => (ended = true));
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(ended, false, "it should wait for a writer");
    run.child.kill("SIGINT");
    const result = await run.done;
    assert.equal(result.code, 130, result.stderr);
    assert.deepEqual(readdirSync(dir), ["in.fifo"]);
  });

  test("an output FIFO: written when read, refused at once when no one reads it", async () => {
    const dir = tempFolder();
    const expected = await reference(dir);
    const output = fifo(dir, "out.fifo");
    assertError(
      await cli(["apply", "relu", X, "-o", output]),
      1,
      /cannot write .*out\.fifo: no one is reading the FIFO; start its reader first/,
    );
    const reader = spawn("cat", [output], { stdio: ["ignore", "pipe", "inherit"] });
    const chunks: Buffer[] = [];
    reader.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
    const read = new Promise((resolve) => reader.on("close", resolve));
    await new Promise((resolve) => setTimeout(resolve, 200)); // cat has opened the FIFO
    const run = await cli(["apply", "relu", X, "-o", output]);
    assert.equal(run.code, 0, run.stderr);
    await read;
    assert.deepEqual(Buffer.concat(chunks), expected);
  });
});

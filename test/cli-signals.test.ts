// Signals during a long `puzzlelib apply` (node dist/cli/main.js; build first): every catchable
// terminating signal removes the temporary output and exits with 128 + the signal's number, as a
// shell shows a process killed by it. SIGKILL cannot be caught: it leaves the temporary file,
// whose name says what it is, and a later run is not disturbed by it.

import assert from "node:assert/strict";
import { spawn, type ChildProcessByStdio } from "node:child_process";
import { readdirSync } from "node:fs";
import { constants } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { describe, test } from "node:test";
import { cli, MAIN, readNpy, tempFolder, writeNpy } from "./cli-helpers.js";

const POSIX = process.platform !== "win32";
const PARTIAL = /^y\.npy\.puzzlelib-partial-\d+-[0-9a-f]{8}\.tmp$/;

interface LongRun {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

/**
 * Starts an apply of 2^21 elements in chunks of 64 (32,768 chunks: far longer than the polls
 * below) and resolves once its temporary output exists, so that a signal lands mid-write.
 */
async function startLongRun(dir: string): Promise<LongRun> {
  const size = 1 << 21;
  writeNpy(join(dir, "x.npy"), new Float32Array(size), [size], "float32");
  const child = spawn(
    process.execPath,
    [MAIN, "apply", "relu", join(dir, "x.npy"), "-o", join(dir, "y.npy")],
    {
      env: { ...process.env, PUZZLELIB_CHUNK_ELEMENTS: "64" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  let running = true;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => {
      running = false;
      resolve({ code, signal });
    }),
  );
  while (running && !readdirSync(dir).some((name) => PARTIAL.test(name))) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.ok(running, `the run ended before it could be interrupted: ${stderr}`);
  return { child, exited, stderr: () => stderr };
}

describe("signals during a run", { skip: !POSIX, concurrency: 2 }, () => {
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGPIPE"] as const) {
    const code = 128 + constants.signals[signal];
    test(`${signal}: no temporary file, exit ${code}`, async () => {
      const dir = tempFolder();
      const run = await startLongRun(dir);
      run.child.kill(signal);
      assert.deepEqual(await run.exited, { code, signal: null }, run.stderr());
      assert.deepEqual(readdirSync(dir), ["x.npy"]);
      if (signal === "SIGPIPE") {
        // As cat and head: a reader that went away asked for no more output.
        assert.equal(run.stderr(), "");
      } else {
        const how = signal === "SIGINT" ? "" : ` \\(${signal}\\)`;
        assert.match(
          run.stderr(),
          new RegExp(`^\\npuzzlelib: interrupted${how}; .*y\\.npy was not written\\n$`),
        );
      }
    });
  }

  test("SIGKILL leaves a temporary file that says what it is; a later run still works", async () => {
    const dir = tempFolder();
    const run = await startLongRun(dir);
    run.child.kill("SIGKILL");
    assert.deepEqual(await run.exited, { code: null, signal: "SIGKILL" });
    const left = readdirSync(dir).filter((name) => name !== "x.npy");
    assert.equal(left.length, 1);
    assert.match(left[0]!, PARTIAL);
    assert.match(left[0]!, new RegExp(`-${run.child.pid}-`));
    const again = await cli(["apply", "relu", join(dir, "x.npy"), "-o", join(dir, "y.npy")]);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual((await readNpy(join(dir, "y.npy"))).shape, [1 << 21]);
    // Another run's partial file is not ours to remove: its writer may be alive.
    assert.deepEqual(readdirSync(dir).sort(), [left[0]!, "x.npy", "y.npy"].sort());
  });
});

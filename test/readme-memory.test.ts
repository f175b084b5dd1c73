// The README's "Memory: who owns an array" section, tested as documentation: each TypeScript
// example in it runs as a user's script would (against the package's source), and prints exactly
// the text block that follows it.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";

const README = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const SECTION_TITLE = "### Memory: who owns an array";

function section(): string {
  const start = README.indexOf(SECTION_TITLE);
  assert.ok(start >= 0, `the README has no "${SECTION_TITLE}" section`);
  const end = README.indexOf("\n#", start + SECTION_TITLE.length);
  return README.slice(start, end < 0 ? undefined : end);
}

const SOURCE = new URL("../src/index.ts", import.meta.url).href;
const EXAMPLE = /```ts\n([\s\S]*?)```\s*```text\n([\s\S]*?)```/g;

describe("the README's memory section", () => {
  const examples = [...section().matchAll(EXAMPLE)];

  it("has examples, each with its output", () => {
    assert.ok(examples.length > 0);
    // A ts block without its text block would be skipped silently by the loop below.
    assert.equal(examples.length, section().split("```ts").length - 1);
  });

  for (const [i, [, code, output]] of examples.entries()) {
    it(`example ${i + 1} prints what the README says`, () => {
      // An ES module file of its own, as a user's script is, importing the package's source.
      const folder = mkdtempSync(join(tmpdir(), "puzzlelib-readme-"));
      const file = join(folder, `example-${i + 1}.mts`);
      try {
        writeFileSync(file, code!.replaceAll('from "puzzlelib-ts"', `from "${SOURCE}"`));
        const printed = execFileSync(process.execPath, ["--import", "tsx", file], {
          encoding: "utf8",
          timeout: 60_000,
        });
        assert.equal(printed, output);
      } finally {
        rmSync(folder, { recursive: true, force: true });
      }
    });
  }
});

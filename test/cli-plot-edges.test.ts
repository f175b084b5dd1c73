// `puzzlelib plot` at the edges: ranges at float32's limits give a whole plot or a one-line
// error, quickly; titles the SVG cannot hold are refused; and a machine without a Vulkan driver
// gets one line about webgpu, not Dawn's. The CLI runs from source (tsx) under a time limit, so a
// hang fails the test instead of hanging the run.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { svgToPng } from "../src/cli/plot-png.js";
import { renderSvg, yDomain, type Series } from "../src/cli/plot-svg.js";
import { ACTIVATION_NAMES } from "../src/ops/activations.js";
import { assertBalancedTags, tempFolder, writeNpy, type Run } from "./cli-helpers.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SOURCE_MAIN = join(ROOT, "src/cli/main.ts");
/** Generous for a loaded machine; a run that loops or grows forever is killed. */
const LIMIT_MS = 10_000;

function run(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Run & { ms: number }> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--import", "tsx", SOURCE_MAIN, ...args],
      { encoding: "utf8", env: { ...process.env, ...env }, cwd: ROOT, timeout: LIMIT_MS },
      (error, stdout, stderr) => {
        const ms = performance.now() - start;
        if (error !== null && (error as { killed?: boolean }).killed) {
          reject(new Error(`puzzlelib ${args.join(" ")} ran past ${LIMIT_MS} ms`));
          return;
        }
        const code = error === null ? 0 : (error as { code?: unknown }).code;
        if (typeof code !== "number") reject(error);
        else resolve({ code, stdout, stderr, ms });
      },
    );
  });
}

/** Characters outside XML 1.0's Char production, which no well-formed document holds. */
const NOT_XML = /[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u;

/** Well-formed as far as this writer goes, and parsed by resvg, whose XML parser is strict. */
async function assertValidSvg(svg: string): Promise<void> {
  assert.doesNotMatch(svg, NOT_XML);
  assert.doesNotMatch(svg, /NaN|Infinity/);
  assert.doesNotMatch(svg, /&(?!amp;|lt;|gt;|quot;)/, "a bare & outside an entity");
  assertBalancedTags(svg);
  await svgToPng(svg, 0.25);
}

const asNumbers = (text: string): number[] => text.split(" ").map(Number);

/** Each curve's points in pixels, and the plot box they must spread across. */
function pathsOf(svg: string): { box: number[]; paths: Map<string, number[][]> } {
  const group = /data-y-domain="([^"]+)" data-plot-box="([^"]+)"/.exec(svg);
  assert.ok(group, "the curves' group records its domains");
  const domain = asNumbers(group[1]!);
  assert.ok(domain.every(Number.isFinite) && domain[0]! < domain[1]!, `y domain ${group[1]}`);
  const paths = new Map<string, number[][]>();
  for (const [, id, d] of svg.matchAll(/<path data-series="([^"]+)"[^>]* d="([^"]*)"/g)) {
    paths.set(
      id!,
      [...d!.matchAll(/[ML](\S+) (\S+)/g)].map(([, x, y]) => [Number(x), Number(y)]),
    );
  }
  return { box: asNumbers(group[2]!), paths };
}

describe("puzzlelib plot: ranges at float32's limits", { concurrency: 2 }, () => {
  // Every activation and derivative at once: the extremes give Inf and NaN in some of them.
  const drawn = [
    "-6:6",
    "-3.4028235e38:3.4028235e38",
    "3e38:3.4028234e38",
    "-3.4e38:-1e38",
    "0:1e-41", // float32 subnormals
    "-1e-40:1e-40",
    "1e15:1.0001e15",
    "1:1.000144", // just wide enough: 1,200 float32 steps
    "100000:100009.38",
  ];
  for (const range of drawn) {
    test(`--range ${range}: every curve drawn across the plot, no NaN`, async () => {
      const out = join(tempFolder(), "edge.svg");
      const result = await run([
        "plot",
        ...ACTIVATION_NAMES,
        "--derivative",
        `--range=${range}`,
        "-o",
        out,
      ]);
      assert.equal(result.code, 0, result.stderr);
      const svg = readFileSync(out, "utf8");
      await assertValidSvg(svg);
      const { box, paths } = pathsOf(svg);
      assert.equal(paths.size, 2 * ACTIVATION_NAMES.length);
      for (const [id, points] of paths) {
        const xs = points.map(([x]) => x!);
        // Not collapsed to a point: distinct samples across the frame (selu stops short where
        // it overflows to Infinity, so not every curve reaches both sides).
        assert.ok(new Set(xs).size > 500, `${id}: ${new Set(xs).size} distinct x`);
        assert.ok(Math.max(...xs) - Math.min(...xs) > (box[2]! - box[0]!) / 2, id);
      }
      assert.ok((svg.match(/text-anchor="middle">[^<]+</g) ?? []).length >= 3, "x tick labels");
    });
  }

  const refused: [string, RegExp][] = [
    [
      "1e15:1.0000000000000002e15",
      /near 1e15 its values are 67108864 apart.*at least 8\.06e10 wide/,
    ],
    [
      "100000:100000.00000000001",
      /near 100000 its values are 0\.0078125 apart.*at least 9\.38 wide/,
    ],
    ["-1:-0.9999", /near -1 its values are 1\.1920929e-7 apart.*at least 0\.000144 wide/],
    ["0:1e-300", /at least 1\.69e-42 wide/],
    ["0:5e-324", /at least 1\.69e-42 wide/],
    ["-1e308:1e308", /goes beyond float32.*within -3\.4028235e38 and 3\.4028235e38/],
    ["-1.7976931348623157e308:1.7976931348623157e308", /goes beyond float32/],
    ["3e38:3.5e38", /goes beyond float32/],
  ];
  for (const [range, message] of refused) {
    test(`--range ${range}: one line saying why`, async () => {
      const dir = tempFolder();
      const result = await run(["plot", "sigmoid", `--range=${range}`, "-o", join(dir, "a.svg")]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /^puzzlelib plot: --range ".*" (is too narrow|goes beyond)/);
      assert.match(result.stderr, message);
      assert.equal(result.stderr.trimEnd().split("\n").length, 1, result.stderr);
      assert.deepEqual(readdirSync(dir), []);
      assert.ok(result.ms < LIMIT_MS / 2, `${result.ms} ms`);
    });
  }

  test("curves that are flat, huge or infinite keep a finite, open y axis", async () => {
    const cases = [
      ["clip", "--args", "1e30,1e30"], // y is 1e30 everywhere: 1e30 +- 1 is 1e30
      ["clip", "--args", "1e30,1e30", "--derivative"], // and y' is 0
      ["hardTanh", "--args", "5,5", "--range", "-1:1"], // y is 5
      ["leakyRelu", "--args", "3e38", "--derivative"], // y overflows to -Infinity for x < -1.2
      ["selu", "--range", "-3.4e38:3.4e38", "--derivative"], // Infinity on the right
    ];
    for (const args of cases) {
      const out = join(tempFolder(), "y.svg");
      const result = await run(["plot", ...args, "-o", out]);
      assert.equal(result.code, 0, result.stderr);
      const svg = readFileSync(out, "utf8");
      await assertValidSvg(svg);
      for (const [id, points] of pathsOf(svg).paths) assert.ok(points.length > 500, id);
    }
  });
});

describe("the SVG writer on its own", () => {
  const series = (ys: number[]): Series => ({
    id: "f",
    label: "f",
    color: "#000000",
    dashed: false,
    xs: Float64Array.from(ys, (_, i) => i),
    ys: Float64Array.from(ys),
  });

  test("ticks for a step below the values' resolution end (none, not a loop)", async () => {
    // In a child process, under the time limit: the old loop never ended, and grew until V8 died.
    const script = `import("./src/cli/plot-svg.ts").then(({ niceTicks }) => console.log(JSON.stringify(
      [niceTicks(1e15, 1e15 + 0.125), niceTicks(-Infinity, Infinity), niceTicks(-6, 6)])))`;
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ["--import", "tsx", "--input-type=module", "-e", script],
        { encoding: "utf8", cwd: ROOT, timeout: LIMIT_MS },
        (error, out) => (error === null ? resolve(out) : reject(error)),
      );
    });
    assert.deepEqual(JSON.parse(stdout), [[], [], [-6, -4, -2, 0, 2, 4, 6]]);
  });

  test("y domains stay finite and open", () => {
    for (const ys of [
      [1e30, 1e30],
      [-Number.MAX_VALUE, Number.MAX_VALUE],
      [Infinity, NaN],
      [0, 0],
    ]) {
      const [low, high] = yDomain([series(ys)]);
      assert.ok(
        Number.isFinite(low) && Number.isFinite(high) && low < high,
        `${ys}: ${low} ${high}`,
      );
    }
  });

  test("text XML cannot hold becomes U+FFFD; the rest is escaped", async () => {
    const title = 'a\u0001b\u000c\u001b\ufffe\uffff \ud800 \udc00 <&>" \ud83d\ude00';
    const svg = renderSvg({
      title,
      xLabel: "x\u0000",
      yLabel: "y",
      xDomain: [0, 1],
      series: [{ ...series([0, 1]), label: "f\u0007", id: "f\u0002" }],
    });
    await assertValidSvg(svg);
    assert.match(
      svg,
      /<title>a\ufffdb\ufffd\ufffd\ufffd\ufffd \ufffd \ufffd &lt;&amp;&gt;&quot; \ud83d\ude00<\/title>/,
    );
  });
});

describe("puzzlelib plot --title", { concurrency: 2 }, () => {
  const refused: [string, string][] = [
    ["a\u0001b", "U+0001"],
    ["a\u000cb", "U+000C"],
    ["a\u001bb", "U+001B"],
    ["a\ufffeb", "U+FFFE"],
    ["two\nlines", "U+000A"],
    ["a\tb", "U+0009"],
    ["a\u007fb", "U+007F"],
    ["a\u0085b", "U+0085"],
  ];
  for (const [title, code] of refused) {
    test(`a title with ${code} is refused, SVG and PNG`, async () => {
      for (const name of ["t.svg", "t.png"]) {
        const dir = tempFolder();
        const result = await run(["plot", "sigmoid", "--title", title, "-o", join(dir, name)]);
        assert.equal(result.code, 2, result.stderr);
        assert.match(
          result.stderr,
          new RegExp(`^puzzlelib plot: --title ".*" has .*${code.replace("+", "\\+")}`),
        );
        assert.equal(result.stderr.trimEnd().split("\n").length, 1, result.stderr);
        assert.deepEqual(readdirSync(dir), []);
      }
    });
  }

  test("any other text is kept, escaped, in the SVG and drawn in the PNG", async () => {
    const dir = tempFolder();
    const title = `<b>&"quotes'</b> \u00fc \u4e2d \ud83d\ude00 \u2212`;
    const svgRun = await run(["plot", "sigmoid", "--title", title, "-o", join(dir, "t.svg")]);
    assert.equal(svgRun.code, 0, svgRun.stderr);
    const svg = readFileSync(join(dir, "t.svg"), "utf8");
    await assertValidSvg(svg);
    assert.ok(svg.includes(`&lt;b&gt;&amp;&quot;quotes'&lt;/b&gt; \u00fc \u4e2d \ud83d\ude00`));
    const pngRun = await run(["plot", "sigmoid", "--title", title, "-o", join(dir, "t.png")]);
    assert.equal(pngRun.code, 0, pngRun.stderr);
    assert.equal(readFileSync(join(dir, "t.png")).subarray(1, 4).toString(), "PNG");
  });
});

// Dawn prints the Vulkan loader's complaints to stderr itself; the loader checks first.
const dawnHere = process.platform === "linux" && existsSync(join(ROOT, "node_modules/webgpu"));
describe("webgpu without a Vulkan driver", { skip: !dawnHere, concurrency: 2 }, () => {
  const noDriver = { VK_ICD_FILENAMES: "/nonexistent.json" };

  test("apply --backend webgpu: exactly one line on stderr", async () => {
    const dir = tempFolder();
    const input = join(dir, "in.npy");
    writeNpy(input, new Float32Array([1, -1]), [2], "float32");
    const apply = await run(
      ["apply", "relu", input, "-o", join(dir, "out.npy"), "--backend", "webgpu"],
      noDriver,
    );
    assert.equal(apply.code, 1, apply.stderr);
    assert.equal(apply.stderr.trimEnd().split("\n").length, 1, apply.stderr);
    assert.match(
      apply.stderr,
      /^puzzlelib apply: the webgpu backend cannot start \(webgpu: VK_ICD_FILENAMES names "\/nonexistent\.json", where there is no Vulkan driver manifest/,
    );
    assert.doesNotMatch(apply.stderr, /Warning|CheckVkSuccessImpl/);
    assert.deepEqual(readdirSync(dir), ["in.npy"]);
  });

  test("info: nothing on stderr, and webgpu unavailable with the reason", async () => {
    for (const env of [
      noDriver,
      { VK_DRIVER_FILES: "/nonexistent.json" },
      { DAWNNODE_BACKEND: "null" },
    ]) {
      const result = await run(["info"], env);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stderr, "");
      const line = result.stdout.split("\n").find((l) => l.startsWith("  webgpu "));
      assert.match(
        line ?? "",
        /^ {2}webgpu {2}unavailable: (VK_\w+ names "\/nonexistent\.json"|DAWNNODE_BACKEND=null)/,
      );
    }
  });
});

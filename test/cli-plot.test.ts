// `puzzlelib plot`: the SVG holds the expected curves (read back from the path data and compared
// with the functions), derivatives dashed, a legend and a title; the PNG decodes to that picture.

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { inflateSync } from "node:zlib";
import { assertBalancedTags, cli, tempFolder } from "./cli-helpers.js";

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

interface Curve {
  dashed: boolean;
  color: string;
  points: [number, number][];
}

/** Each path's points, mapped back from pixels to data with the domains the SVG records. */
function curves(svg: string): Map<string, Curve> {
  const group = /data-x-domain="([^"]+)" data-y-domain="([^"]+)" data-plot-box="([^"]+)"/.exec(svg);
  assert.ok(group, "the curves' group records its domains");
  const [x0, x1] = group[1]!.split(" ").map(Number) as [number, number];
  const [y0, y1] = group[2]!.split(" ").map(Number) as [number, number];
  const [left, top, right, bottom] = group[3]!.split(" ").map(Number) as [
    number,
    number,
    number,
    number,
  ];
  const found = new Map<string, Curve>();
  for (const match of svg.matchAll(
    /<path data-series="([^"]+)" stroke="([^"]+)"( stroke-dasharray="[^"]+")? d="([^"]*)"/g,
  )) {
    const points = [...match[4]!.matchAll(/[ML]([-\d.]+) ([-\d.]+)/g)].map(([, px, py]) => [
      x0 + ((Number(px) - left) / (right - left)) * (x1 - x0),
      y0 + ((bottom - Number(py)) / (bottom - top)) * (y1 - y0),
    ]) as [number, number][];
    found.set(match[1]!.replace(/&#39;|'/, "'"), {
      dashed: match[3] !== undefined,
      color: match[2]!,
      points,
    });
  }
  return found;
}

/** A PNG's pixels (8-bit RGBA, as resvg writes), undoing the row filters. */
function decodePng(png: Buffer): { width: number; height: number; rgba: Uint8Array } {
  assert.ok(
    png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
    "PNG signature",
  );
  assert.equal(png.toString("latin1", 12, 16), "IHDR");
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  assert.deepEqual([png[24], png[25], png[28]], [8, 6, 0], "8-bit RGBA, not interlaced");
  const idat: Buffer[] = [];
  for (let at = 8; at < png.length;) {
    const length = png.readUInt32BE(at);
    const type = png.toString("latin1", at + 4, at + 8);
    if (type === "IDAT") idat.push(png.subarray(at + 8, at + 8 + length));
    at += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * 4;
  assert.equal(raw.length, height * (stride + 1));
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    assert.ok(filter <= 4, `filter ${filter}`);
    const row = y * stride;
    for (let i = 0; i < stride; i++) {
      const value = raw[y * (stride + 1) + 1 + i]!;
      const a = i >= 4 ? rgba[row + i - 4]! : 0;
      const b = y > 0 ? rgba[row - stride + i]! : 0;
      const c = i >= 4 && y > 0 ? rgba[row - stride + i - 4]! : 0;
      let predictor = 0;
      if (filter === 1) predictor = a;
      else if (filter === 2) predictor = b;
      else if (filter === 3) predictor = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      rgba[row + i] = (value + predictor) & 0xff;
    }
  }
  return { width, height, rgba };
}

describe("puzzlelib plot", () => {
  test("SVG: each curve and its dashed derivative, as the functions are", async () => {
    const dir = tempFolder();
    const out = join(dir, "plot.svg");
    const run = await cli([
      "plot",
      "sigmoid",
      "leakyRelu",
      "--derivative",
      "--args",
      "0.2",
      "--range",
      "-4:3",
      "-o",
      out,
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, `wrote ${out}\n`);
    const svg = readFileSync(out, "utf8");
    assertBalancedTags(svg);
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.match(svg, /<title>sigmoid, leakyRelu and derivatives<\/title>/);
    for (const label of [
      "sigmoid",
      "sigmoid\u2032",
      "leakyRelu\\(alpha=0.2\\)",
      "leakyRelu\\(alpha=0.2\\)\u2032",
    ]) {
      assert.match(svg, new RegExp(`<text [^>]*>${label}</text>`), label);
    }
    assert.match(svg, />\u22124<\/text>/); // tick labels with a minus sign
    const found = curves(svg);
    assert.deepEqual([...found.keys()], ["sigmoid", "sigmoid'", "leakyRelu", "leakyRelu'"]);
    const expected: Record<string, (x: number) => number> = {
      sigmoid,
      "sigmoid'": (x) => sigmoid(x) * (1 - sigmoid(x)),
      leakyRelu: (x) => (x < 0 ? 0.2 * x : x),
      "leakyRelu'": (x) => (x <= 0 ? 0.2 : 1),
    };
    for (const [id, curve] of found) {
      assert.equal(curve.dashed, id.endsWith("'"), id);
      assert.ok(curve.points.length > 500, id);
      assert.ok(
        Math.abs(curve.points[0]![0] - -4) < 0.01 && Math.abs(curve.points.at(-1)![0] - 3) < 0.01,
      );
      for (const [x, y] of curve.points) {
        // Pixel coordinates have 2 decimals: 0.005 px is about 0.0001 here.
        if (id === "leakyRelu'" && Math.abs(x) < 0.01) continue; // the step at 0
        assert.ok(Math.abs(y - expected[id]!(x)) < 2e-3, `${id}(${x}) = ${y}`);
      }
    }
    assert.equal(found.get("sigmoid")!.color, found.get("sigmoid'")!.color);
    assert.notEqual(found.get("sigmoid")!.color, found.get("leakyRelu")!.color);
  });

  test("PNG: decodes, at twice the SVG's size, with the curves drawn", async () => {
    const dir = tempFolder();
    const out = join(dir, "plot.png");
    const run = await cli(["plot", "tanh", "-o", out]);
    assert.equal(run.code, 0, run.stderr);
    const { width, height, rgba } = decodePng(readFileSync(out));
    assert.deepEqual([width, height], [1440, 900]);
    let white = 0;
    let blue = 0; // tanh's colour, #1f77b4
    for (let i = 0; i < rgba.length; i += 4) {
      const [r, g, b] = [rgba[i]!, rgba[i + 1]!, rgba[i + 2]!];
      if (r > 250 && g > 250 && b > 250) white++;
      if (Math.abs(r - 0x1f) < 12 && Math.abs(g - 0x77) < 12 && Math.abs(b - 0xb4) < 12) blue++;
    }
    assert.ok(white > width * height * 0.7, `mostly white background (${white})`);
    assert.ok(blue > 2000, `the curve is drawn (${blue} blue pixels)`);
  });

  const usage: [string, string[], RegExp][] = [
    ["no activation", ["plot", "-o", "a.svg"], /no activation given/],
    ["unknown activation", ["plot", "sigmoidd", "-o", "a.svg"], /unknown activation "sigmoidd"/],
    ["no output", ["plot", "relu"], /no output file; give one with -o/],
    [
      "unknown format",
      ["plot", "relu", "-o", "a.jpg"],
      /cannot tell the format of a\.jpg; name the output \.svg or \.png/,
    ],
    [
      "bad range",
      ["plot", "relu", "-o", "a.svg", "--range", "6:-6"],
      /--range "6:-6" is not a range/,
    ],
    [
      "args for another count",
      ["plot", "elu", "clip", "-o", "a.svg", "--args", "1"],
      /clip takes 2 args/,
    ],
  ];
  for (const [what, args, message] of usage) {
    test(`bad usage: ${what}`, async () => {
      const dir = tempFolder();
      const run = await cli(args, {}, dir);
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, new RegExp(`^puzzlelib plot: .*${message.source}`));
      assert.equal(run.stderr.trimEnd().split("\n").length, 1);
      assert.deepEqual(readdirSync(dir), []);
    });
  }

  test("an existing plot is kept unless --force", async () => {
    const dir = tempFolder();
    const out = join(dir, "a.svg");
    assert.equal((await cli(["plot", "relu", "-o", out])).code, 0);
    const again = await cli(["plot", "relu", "-o", out]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists; pass --force/);
    assert.equal((await cli(["plot", "relu", "-o", out, "--force"])).code, 0);
    assert.deepEqual(readdirSync(dir), ["a.svg"]);
  });
});

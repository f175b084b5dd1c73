// `puzzlelib plot`: activations and their derivatives over a range, as SVG or PNG. The curves are
// what the library computes: the Activation module on the cpu backend, forward for f and backward
// (with an incoming gradient of ones) for f': from the output, or from the input for the functions
// whose backward reads it (backwardFrom "x").

import { extname } from "node:path";
import { gpuarray } from "../backends/gpuarray.js";
import { setBackend } from "../backends/registry.js";
import { NDArray } from "../host/ndarray.js";
import { ACTIVATIONS, type ActivationName } from "../ops/activations.js";
import {
  activationList,
  checkActivation,
  describeArgs,
  makeActivation,
} from "./activation-args.js";
import { OUTPUT_OPTIONS, parseArgs, parseNumbers, parseRange, requireOutput } from "./args.js";
import { quote } from "../core/describe.js";
import { UsageError } from "./errors.js";
import { AtomicOutput } from "./npy-file.js";
import { svgToPng } from "./plot-png.js";
import { NOT_XML_CHAR, PALETTE, renderSvg, type Series } from "./plot-svg.js";

export const PLOT_HELP = `usage: puzzlelib plot <activation...> -o <file.svg|file.png> [options]

Draws each activation over a range, as computed by the library (cpu backend, float32), with axes,
ticks, a legend and a title. The file's extension chooses the format: .svg is written directly,
.png is rendered from the same SVG with @resvg/resvg-js.

options:
  -o, --output FILE   the .svg or .png file to write (required)
  --range LOW:HIGH    the x range (default -6:6); within float32's range (about +-3.4e38) and
                      wide enough for 1201 distinct float32 samples (an error says how wide)
  --derivative        also draw each derivative, dashed, in the same colour
  --args A,B,...      parameters for the activations that take them (same count for each);
                      activations without parameters ignore them
  --title TEXT        the title (default: the activations' names); control characters
                      (newlines and tabs too) are refused, as an SVG cannot show them
  -f, --force         overwrite FILE if it exists
  -h, --help          show this help

${activationList()}

example:
  puzzlelib plot sigmoid tanh softPlus --derivative -o activations.png`;

const OPTIONS = {
  ...OUTPUT_OPTIONS,
  range: { kind: "value" },
  derivative: { kind: "flag" },
  args: { kind: "value" },
  title: { kind: "value" },
} as const;

/** Samples per curve: smooth at the chart's width, and the kinks of relu and clip stay sharp. */
const POINTS = 1201;

export async function plotCommand(argv: readonly string[]): Promise<number> {
  const parsed = parseArgs("plot", argv, OPTIONS);
  if (parsed.flags.has("help")) {
    console.log(PLOT_HELP);
    return 0;
  }
  if (parsed.positionals.length === 0) {
    throw new UsageError(
      "no activation given; name one or more, e.g. puzzlelib plot sigmoid -o sigmoid.svg",
    );
  }
  const names = parsed.positionals.map(checkActivation);
  const output = requireOutput(parsed, "<file.svg|file.png>");
  const format = extname(output).toLowerCase();
  if (format !== ".svg" && format !== ".png") {
    throw new UsageError(`cannot tell the format of ${output}; name the output .svg or .png`);
  }
  const rangeText = parsed.values.get("range") ?? "-6:6";
  const range = checkSampleRange(rangeText, parseRange(rangeText));
  const title = checkTitle(parsed.values.get("title"));
  const args = parsed.values.has("args")
    ? parseNumbers("args", parsed.values.get("args")!)
    : undefined;
  const derivative = parsed.flags.has("derivative");
  // Checks every activation's args before computing anything.
  const argsOf = (name: ActivationName): readonly number[] | undefined =>
    ACTIVATIONS[name].params.length === 0 ? undefined : args;
  for (const name of names) makeActivation(name, argsOf(name));

  await setBackend("cpu");
  const series: Series[] = [];
  for (const [i, name] of names.entries()) {
    const color = PALETTE[i % PALETTE.length]!;
    const act = makeActivation(name, argsOf(name));
    const params = describeArgs(name, act.args);
    const label = params === "" ? name : `${name}(${params})`;
    const curves = await sample(name, argsOf(name), range);
    series.push({ id: `${name}`, label, color, dashed: false, xs: curves.xs, ys: curves.ys });
    if (derivative) {
      series.push({
        id: `${name}'`,
        label: `${label}\u2032`,
        color,
        dashed: true,
        xs: curves.xs,
        ys: curves.dys,
      });
    }
  }
  const svg = renderSvg({
    title: title ?? `${names.join(", ")}${derivative ? " and derivatives" : ""}`,
    xLabel: "x",
    yLabel: derivative ? "f(x), f\u2032(x) (dashed)" : "f(x)",
    xDomain: range,
    series,
  });
  const data = format === ".svg" ? svg : await svgToPng(svg);
  await AtomicOutput.writeFile(output, parsed.flags.has("force"), data);
  console.log(`wrote ${output}`);
  return 0;
}

/**
 * The range, if the samples can show it: they are float32, so both ends must be finite there,
 * and the range must span POINTS - 1 float32 steps at its widest spacing, or the samples fall on
 * fewer distinct values (the curve collapses, and the ticks would need more digits than float64
 * has).
 */
export function checkSampleRange(text: string, [low, high]: [number, number]): [number, number] {
  if (!Number.isFinite(Math.fround(low)) || !Number.isFinite(Math.fround(high))) {
    throw new UsageError(
      `--range ${quote(text)} goes beyond float32, which the plot computes in; keep both ends ` +
        `within -3.4028235e38 and 3.4028235e38`,
    );
  }
  // The end farther from 0, where float32 values are farthest apart.
  const widest = Math.abs(low) > Math.abs(high) ? low : high;
  const step = float32Spacing(widest);
  const least = (POINTS - 1) * step;
  if (high - low < least) {
    throw new UsageError(
      `--range ${quote(text)} is too narrow for float32, which the plot computes in: near ` +
        `${formatNumber(widest)} its values are ${formatNumber(step)} apart, so the ${POINTS} ` +
        `samples need a range at least ${formatNumber(roundUp(least))} wide there; widen it`,
    );
  }
  return [low, high];
}

/** The distance from float32 |x| to the next float32 up (2^-149 among the subnormals). */
function float32Spacing(x: number): number {
  const magnitude = Math.abs(Math.fround(x));
  if (magnitude < 2 ** -126) return 2 ** -149;
  let exponent = Math.floor(Math.log2(magnitude));
  // log2 may round across a power of two; fix the exponent so 2^e <= |x| < 2^(e+1).
  if (2 ** exponent > magnitude) exponent--;
  if (2 ** (exponent + 1) <= magnitude) exponent++;
  return 2 ** (exponent - 23);
}

/** Three significant digits, rounded up, so that a width the message names is enough. */
function roundUp(value: number): number {
  const unit = 10 ** (Math.floor(Math.log10(value)) - 2);
  return Number((Math.ceil(value / unit) * unit).toPrecision(3));
}

/** Eight significant digits; the exponent form for long ones (1e15, not 1000000000000000). */
function formatNumber(value: number): string {
  const plain = String(Number(value.toPrecision(8)));
  return plain.length > 10 ? Number(plain).toExponential().replace("e+", "e") : plain;
}

// What a title may not hold: the characters XML cannot (NOT_XML_CHAR), and the control characters
// it can but the SVG would not show (a newline is drawn as a space, DEL and C1 as nothing).
const TITLE_REFUSED = new RegExp(`[\\u0000-\\u001f\\u007f-\\u009f]|${NOT_XML_CHAR.source}`);

/** The --title text, if given, refused when it has a character the SVG cannot show. */
export function checkTitle(title: string | undefined): string | undefined {
  if (title === undefined) return undefined;
  const found = TITLE_REFUSED.exec(title);
  if (found !== null) {
    const code = found[0].charCodeAt(0);
    const kind = code < 0xa0 ? "the control character" : "the character";
    const position = [...title.slice(0, found.index)].length + 1;
    throw new UsageError(
      `--title ${quote(title)} has ${kind} U+${code.toString(16).toUpperCase().padStart(4, "0")} ` +
        `at position ${position}, which a plot title cannot show; remove it`,
    );
  }
  return title;
}

/** f and f' at POINTS float32 x values spread evenly over the range, computed by the module. */
async function sample(
  name: ActivationName,
  args: readonly number[] | undefined,
  [low, high]: readonly [number, number],
): Promise<{ xs: Float64Array; ys: Float64Array; dys: Float64Array }> {
  // At most high: the last sum can round past it, and past float32's largest value to Infinity.
  const x = Float32Array.from({ length: POINTS }, (_, i) =>
    Math.min(high, low + ((high - low) * i) / (POINTS - 1)),
  );
  const act = makeActivation(name, args);
  const input = gpuarray.toGpu(new NDArray(x, [POINTS], "float32"));
  const y = act.forward(input);
  const ones = gpuarray.toGpu(new NDArray(new Float32Array(POINTS).fill(1), [POINTS], "float32"));
  const dy = act.backward(ones);
  const [ys, dys] = await Promise.all([y.get(), dy.get()]);
  for (const array of [input, y, ones, dy]) array.dispose();
  return {
    xs: Float64Array.from(x),
    ys: Float64Array.from(ys.data),
    dys: Float64Array.from(dys.data),
  };
}

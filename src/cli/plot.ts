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
import { UsageError } from "./errors.js";
import { AtomicOutput } from "./npy-file.js";
import { svgToPng } from "./plot-png.js";
import { PALETTE, renderSvg, type Series } from "./plot-svg.js";

export const PLOT_HELP = `usage: puzzlelib plot <activation...> -o <file.svg|file.png> [options]

Draws each activation over a range, as computed by the library (cpu backend, float32), with axes,
ticks, a legend and a title. The file's extension chooses the format: .svg is written directly,
.png is rendered from the same SVG with @resvg/resvg-js.

options:
  -o, --output FILE   the .svg or .png file to write (required)
  --range LOW:HIGH    the x range (default -6:6)
  --derivative        also draw each derivative, dashed, in the same colour
  --args A,B,...      parameters for the activations that take them (same count for each);
                      activations without parameters ignore them
  --title TEXT        the title (default: the activations' names)
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
  const range = parseRange(parsed.values.get("range") ?? "-6:6");
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
  const title =
    parsed.values.get("title") ?? `${names.join(", ")}${derivative ? " and derivatives" : ""}`;
  const svg = renderSvg({
    title,
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

/** f and f' at POINTS float32 x values spread evenly over the range, computed by the module. */
async function sample(
  name: ActivationName,
  args: readonly number[] | undefined,
  [low, high]: readonly [number, number],
): Promise<{ xs: Float64Array; ys: Float64Array; dys: Float64Array }> {
  const x = Float32Array.from(
    { length: POINTS },
    (_, i) => low + ((high - low) * i) / (POINTS - 1),
  );
  const act = makeActivation(name, args);
  const input = gpuarray.toGpu(new NDArray(x, [POINTS], "float32"));
  const y = act.forward(input);
  const ones = gpuarray.toGpu(new NDArray(new Float32Array(POINTS).fill(1), [POINTS], "float32"));
  const dy = act.backward(ones)!;
  const [ys, dys] = await Promise.all([y.get(), dy.get()]);
  for (const array of [input, y, ones, dy]) array.dispose();
  return {
    xs: Float64Array.from(x),
    ys: Float64Array.from(ys.data),
    dys: Float64Array.from(dys.data),
  };
}

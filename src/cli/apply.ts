// `puzzlelib apply` and `puzzlelib grad`: an activation's forward or backward pass over .npy files,
// streamed in chunks so that memory stays bounded whatever the file size.

import type { BackendName } from "../backends/backend.js";
import { gpuarray, type GPUArray } from "../backends/gpuarray.js";
import { setBackend } from "../backends/registry.js";
import { clipText } from "../core/describe.js";
import type { TypedArrayOf } from "../core/dtype.js";
import { formatShape, sameShape } from "../core/shape.js";
import type { Slice } from "../core/slice.js";
import { NDArray } from "../host/ndarray.js";
import type { ActivationName } from "../ops/activations.js";
import {
  OUTPUT_OPTIONS,
  parseArgs,
  parseChoice,
  parseNumbers,
  parseSlice,
  requireOutput,
} from "./args.js";
import { chunkElements, progression, sliceInChunk } from "./chunks.js";
import { CliError, UsageError } from "./errors.js";
import { activationList, checkActivation, makeActivation } from "./activation-args.js";
import { decodeData, encodeData, formatHeader } from "./npy.js";
import { openNpy, type NpyInput } from "./npy-file.js";
import { openOutput, sameFile } from "./npy-output.js";
import { Progress } from "./progress.js";

type CalcDType = "float32" | "float16";
type Direction = "forward" | "backward";

const BACKENDS: readonly BackendName[] = ["cpu", "js", "webgpu"];
const DTYPES: readonly CalcDType[] = ["float32", "float16"];

const OPTIONS = {
  ...OUTPUT_OPTIONS,
  args: { kind: "value" },
  slice: { kind: "value" },
  backend: { kind: "value" },
  dtype: { kind: "value" },
} as const;

const COMMON_HELP = `options:
  -o, --output FILE   the .npy file to write (required); written atomically; - for stdout
  --args A,B,...      the activation's parameters (default: its defaults; see puzzlelib info)
  --slice START:STOP[:STEP]
                      only these elements of the flattened array, in Python's slice syntax
                      (::10, -5:, 3:-4:2); the others pass through unchanged
  --backend NAME      cpu (default), js or webgpu
  --dtype NAME        the calc dtype and the output's: float32 (default) or float16
  -f, --force         overwrite FILE if it exists
  -h, --help          show this help

Inputs: .npy files (format 1.0, 2.0 or 3.0) of <f4, <f2, <f8 or <i4, either byte order, in C
order. float64 and int32 data are converted to the calc dtype (a note says so). Large files are
streamed in chunks, in bounded memory. An input may be - for stdin, a pipe or a FIFO (at most
one of grad's two); it is read once, in order.

${activationList()}`;

export const APPLY_HELP = `usage: puzzlelib apply <activation> <in.npy> -o <out.npy> [options]

Applies an activation (its forward pass) to every element of a .npy file and writes the result,
of the same shape, to another .npy file.

${COMMON_HELP}

example:
  puzzlelib apply leakyRelu x.npy -o y.npy --args 0.2 --slice ::2`;

export const GRAD_HELP = `usage: puzzlelib grad <activation> <y.npy> <g.npy> -o <gx.npy> [options]

The backward pass: from a saved output y = f(x) and the incoming gradient g (same shape), writes
the gradient with respect to the input, as Activation.backward computes it. Outside --slice the
gradient passes through unchanged. The few functions whose derivative is not a function of y
(puzzlelib info marks them "reads x") take the saved input x in place of y.

${COMMON_HELP}

example:
  puzzlelib grad sigmoid y.npy g.npy -o gx.npy`;

interface Job {
  readonly command: string;
  readonly activation: ActivationName;
  readonly args: readonly number[] | undefined;
  readonly slc: Slice | null;
  readonly backend: BackendName;
  readonly dtype: CalcDType;
  readonly inputs: readonly string[];
  readonly output: string;
  readonly force: boolean;
  /** Elements per chunk. */
  readonly chunk: number;
}

/** Runs `apply` (forward) or `grad` (backward); returns the exit code. */
export async function elementwiseCommand(
  direction: Direction,
  argv: readonly string[],
): Promise<number> {
  const command = direction === "forward" ? "apply" : "grad";
  const parsed = parseArgs(command, argv, OPTIONS);
  if (parsed.flags.has("help")) {
    console.log(direction === "forward" ? APPLY_HELP : GRAD_HELP);
    return 0;
  }
  const files = direction === "forward" ? ["<in.npy>"] : ["<y.npy>", "<g.npy>"];
  const [activation, ...inputs] = parsed.positionals;
  if (activation === undefined || inputs.length !== files.length) {
    throw new UsageError(
      `expected <activation> ${files.join(" ")}, got ${parsed.positionals.length} argument${parsed.positionals.length === 1 ? "" : "s"}; run 'puzzlelib ${command} --help'`,
    );
  }
  if (inputs.filter((input) => input === "-").length > 1) {
    throw new UsageError(
      "only one input can be - (stdin); save the other to a file and give its name",
    );
  }
  const output = requireOutput(parsed, "<out.npy>");
  const args = parsed.values.has("args")
    ? parseNumbers("args", parsed.values.get("args")!)
    : undefined;
  const job: Job = {
    command,
    activation: checkActivation(activation),
    args,
    slc: parsed.values.has("slice") ? parseSlice(parsed.values.get("slice")!) : null,
    backend: parseChoice("backend", parsed.values.get("backend") ?? "cpu", BACKENDS),
    dtype: parseChoice("dtype", parsed.values.get("dtype") ?? "float32", DTYPES),
    inputs,
    output,
    force: parsed.flags.has("force"),
    chunk: chunkElements(),
  };
  makeActivation(job.activation, job.args); // bad args are a usage error, before any I/O
  await run(job, direction);
  return 0;
}

async function run(job: Job, direction: Direction): Promise<void> {
  try {
    await setBackend(job.backend);
  } catch (error) {
    throw new CliError(
      `the ${job.backend} backend cannot start (${clipText(error instanceof Error ? error.message : String(error), 200)}); use --backend cpu`,
    );
  }
  const inputs: NpyInput[] = [];
  try {
    for (const path of job.inputs) inputs.push(await openNpy(path));
    const [first, second] = inputs as [NpyInput, NpyInput | undefined];
    if (
      second !== undefined &&
      (first.streamed || second.streamed) &&
      sameFile(first.identity, second.identity)
    ) {
      throw new CliError(
        `${first.name} and ${second.name} are the same pipe, which can be read only once; save it to a file and give that twice`,
      );
    }
    if (second !== undefined && !sameShape(first.header.shape, second.header.shape)) {
      throw new CliError(
        `${first.name} has shape ${clipText(formatShape(first.header.shape))} but ${second.name} has ${clipText(formatShape(second.header.shape))}; the saved array and g must have the same shape`,
      );
    }
    if (direction === "backward" && makeActivation(job.activation, job.args).backwardFrom === "x") {
      console.error(
        `puzzlelib grad: note: ${job.activation}'s backward reads the input x, not the output: ${first.name} is taken as x`,
      );
    }
    for (const input of inputs) {
      if (input.header.dtype !== job.dtype) {
        console.error(
          `puzzlelib ${job.command}: note: ${input.name} holds ${input.header.dtype} (${input.header.descr}); converting it to ${job.dtype}, the calc dtype (choose with --dtype)`,
        );
      }
    }
    await stream(job, direction, inputs);
  } finally {
    await Promise.all(inputs.map((input) => input.close()));
  }
}

async function stream(job: Job, direction: Direction, inputs: readonly NpyInput[]): Promise<void> {
  const { shape, size } = inputs[0]!.header;
  const output = await openOutput(job.output, job.force, inputs);
  const totalBytes = inputs.reduce((sum, input) => sum + input.header.dataBytes, 0);
  const progress = new Progress(totalBytes);
  try {
    await output.write(formatHeader(shape, job.dtype));
    const selected = progression(job.slc, size);
    let doneBytes = 0;
    for (let begin = 0; begin < size; begin += job.chunk) {
      const count = Math.min(job.chunk, size - begin);
      const raw = await Promise.all(inputs.map((input) => input.read(begin, count)));
      const arrays = raw.map((bytes, i) =>
        gpuarray.toGpu(
          new NDArray<CalcDType>(
            decodeData(bytes, inputs[i]!.header, job.dtype) as TypedArrayOf<CalcDType>,
            [count],
            job.dtype,
          ),
        ),
      );
      const slc = sliceInChunk(selected, begin, begin + count);
      const result = await compute(job, direction, arrays, slc);
      await output.write(encodeData(result.data));
      doneBytes += raw.reduce((sum, bytes) => sum + bytes.length, 0);
      progress.update(doneBytes);
    }
    // A stream's length is only known at its end: one that goes on past the data is refused
    // before the output is published.
    await Promise.all(inputs.map((input) => input.finish()));
    await output.commit();
  } finally {
    progress.finish();
    await output.abort();
  }
  // No summary for a stream output: on stdout, where it would go, it would corrupt the data.
  if (!output.streamed)
    console.log(`wrote ${output.name}: shape ${formatShape(shape)}, ${job.dtype}`);
}

/**
 * One chunk through the Activation module. Not in place: the functions whose backward reads x
 * refuse it, and one more chunk-sized array is cheap.
 */
async function compute(
  job: Job,
  direction: Direction,
  arrays: readonly GPUArray[],
  slc: Slice,
): Promise<NDArray> {
  const act = makeActivation(job.activation, job.args, { slc });
  act.calcMode(job.dtype);
  const made: GPUArray[] = [];
  try {
    if (direction === "forward") {
      made.push(act.forward(arrays[0]!));
    } else {
      // The saved array is what a forward would have left: the output y, or the input x for the
      // functions whose backward reads x. Module.backward checks g against `data`'s shape.
      act.data = arrays[0]!;
      if (act.backwardFrom === "x") act.inData = arrays[0]!;
      made.push(act.backward(arrays[1]!));
    }
    return await made[0]!.get();
  } finally {
    for (const array of [...arrays, ...made]) array.dispose();
  }
}

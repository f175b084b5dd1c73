// `puzzlelib apply` and `puzzlelib grad`: an activation's forward or backward pass over .npy files,
// streamed in chunks so that memory stays bounded whatever the file size.

import type { BackendName } from "../backends/backend.js";
import { gpuarray, type GPUArray } from "../backends/gpuarray.js";
import { setBackend } from "../backends/registry.js";
import { clipText } from "../core/describe.js";
import type { AnyTypedArray, TypedArrayOf } from "../core/dtype.js";
import { formatShape, sameShape } from "../core/shape.js";
import type { Slice } from "../core/slice.js";
import { NDArray } from "../host/ndarray.js";
import { ACTIVATION_NAMES, ACTIVATIONS, type ActivationName } from "../ops/activations.js";
import {
  OUTPUT_OPTIONS,
  parseArgs,
  type ParsedArgs,
  parseChoice,
  parseNumbers,
  parseSlice,
  requireOutput,
} from "./args.js";
import { chunkElements, progression, sliceInChunk } from "./chunks.js";
import { CliError, showText, UsageError } from "./errors.js";
import { activationList, checkActivation, makeActivation } from "./activation-args.js";
import { decodeData, encodeData, formatHeader, NpyError } from "./npy.js";
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

/** grad names its saved array when it is given as an option: --x for x, and --y for y. */
const GRAD_OPTIONS = { ...OPTIONS, x: { kind: "value" }, y: { kind: "value" } } as const;

const OPTIONS_HELP = `  -o, --output FILE   the .npy file to write (required); written atomically; - for stdout
  --args A,B,...      the activation's parameters (default: its defaults; see puzzlelib info)
  --slice START:STOP[:STEP]
                      only these elements of the flattened array, in Python's slice syntax
                      (::10, -5:, 3:-4:2); the others pass through unchanged
  --backend NAME      cpu (default), js or webgpu
  --dtype NAME        the calc dtype and the output's: float32 (default) or float16
  -f, --force         overwrite FILE if it exists
  -h, --help          show this help`;

const INPUTS_HELP = `Inputs: .npy files (format 1.0, 2.0 or 3.0) of <f4, <f2, <f8, <i4 or <i8, either byte order,
in C order. Other dtypes are converted to the calc dtype (a note says so): float64 rounds as
numpy's astype does; int32 and int64 (np.arange's default) convert exactly, and a value the calc
dtype cannot hold exactly is refused with its index (float32 holds every integer up to 2^24,
float16 up to 2048; beyond, only some). Large files are streamed in chunks, in bounded memory.
An input may be - for stdin, a pipe or a FIFO (at most one of grad's two); it is read once, in
order.

${activationList()}`;

export const APPLY_HELP = `usage: puzzlelib apply <activation> <in.npy> -o <out.npy> [options]

Applies an activation (its forward pass) to every element of a .npy file and writes the result,
of the same shape, to another .npy file.

options:
${OPTIONS_HELP}

${INPUTS_HELP}

example:
  puzzlelib apply leakyRelu x.npy -o y.npy --args 0.2 --slice ::2`;

/** The functions whose backward reads x, from the table: "hardSwish, silu, ..." */
function readsX(): string {
  const always = ACTIVATION_NAMES.filter((name) => ACTIVATIONS[name].backwardFrom === "x");
  const some = ACTIVATION_NAMES.filter(
    (name) => typeof ACTIVATIONS[name].backwardFrom === "function",
  );
  return `${always.join(", ")}${some.length > 0 ? `, and ${some.join(", ")} for some --args` : ""}`;
}

export const GRAD_HELP = `usage: puzzlelib grad <activation> <y.npy> <g.npy> -o <gx.npy> [options]
       puzzlelib grad <activation> --x <x.npy> <g.npy> -o <gx.npy> [options]

The backward pass, as Activation.backward computes it: from the incoming gradient g and the
array the activation's backward reads (same shape), writes the gradient with respect to the
input. Outside --slice the gradient passes through unchanged.

Most functions read the saved output y = f(x): give it first, or as --y. The functions whose
derivative is not a function of y (puzzlelib info marks them "reads x") read the saved input x,
which must be given as --x x.npy; for them a first file without --x is refused (it would be
taken for y), and for the others --x is refused. They are:
${wrap(readsX(), 2)}.

options:
  --x FILE            the saved input x, for the functions whose backward reads x
  --y FILE            the saved output y (the same as giving it first)
${OPTIONS_HELP}

${INPUTS_HELP}

examples:
  puzzlelib grad sigmoid y.npy g.npy -o gx.npy
  puzzlelib grad gelu --x x.npy g.npy -o gx.npy`;

/** Text wrapped at 100 columns, each line indented. */
function wrap(text: string, indent: number): string {
  const lines = [""];
  for (const word of text.split(" ")) {
    const last = lines.length - 1;
    if (lines[last] !== "" && indent + lines[last]!.length + 1 + word.length > 100)
      lines.push(word);
    else lines[last] = lines[last] === "" ? word : `${lines[last]} ${word}`;
  }
  return lines.map((line) => " ".repeat(indent) + line).join("\n");
}

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
  const parsed = parseArgs(command, argv, direction === "forward" ? OPTIONS : GRAD_OPTIONS);
  if (parsed.flags.has("help")) {
    console.log(direction === "forward" ? APPLY_HELP : GRAD_HELP);
    return 0;
  }
  const [activation, ...files] = parsed.positionals;
  const args = (): number[] | undefined =>
    parsed.values.has("args") ? parseNumbers("args", parsed.values.get("args")!) : undefined;
  let inputs: string[];
  if (direction === "forward") {
    if (activation === undefined || files.length !== 1) throw countError(command, parsed);
    inputs = files;
  } else {
    // Which saved array grad reads depends on the function, and on its args for some.
    if (activation === undefined) throw countError(command, parsed);
    inputs = gradInputs(parsed, checkActivation(activation), args());
  }
  if (inputs.filter((input) => input === "-").length > 1) {
    throw new UsageError(
      "only one input can be - (stdin); save the other to a file and give its name",
    );
  }
  const output = requireOutput(parsed, "<out.npy>");
  const job: Job = {
    command,
    activation: checkActivation(activation),
    args: args(),
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

/** Too few or too many positionals; `forms` are what was expected. */
function countError(
  command: string,
  parsed: ParsedArgs,
  forms = command === "apply"
    ? "<activation> <in.npy>"
    : "<activation> <y.npy> <g.npy> (or <activation> --x <x.npy> <g.npy> where the backward reads x)",
): UsageError {
  const count = parsed.positionals.length;
  return new UsageError(
    `expected ${forms}, got ${count} argument${count === 1 ? "" : "s"}; run 'puzzlelib ${command} --help'`,
  );
}

/**
 * grad's inputs, [saved, g]: the saved array is the output y (first, or --y) for most functions,
 * and the input x (--x, nothing else) for those whose backward reads x. Taking a first file as x
 * would silently compute from y for a user following the usual form, so it is refused, as is
 * --x where the backward reads y.
 */
function gradInputs(
  parsed: ParsedArgs,
  name: ActivationName,
  args: readonly number[] | undefined,
): string[] {
  const from = makeActivation(name, args).backwardFrom; // bad args are a usage error here
  const subject =
    typeof ACTIVATIONS[name].backwardFrom === "function"
      ? `${name}'s backward with ${args === undefined ? "its default args" : `--args ${showText(parsed.values.get("args")!)}`}`
      : `${name}'s backward`;
  const files = parsed.positionals.slice(1);
  const x = parsed.values.get("x");
  const y = parsed.values.get("y");
  const onlyG = (option: string): void => {
    if (files.length !== 1) {
      throw new UsageError(
        `with --${option}, give g as the only file: expected <activation> --${option} <${option}.npy> <g.npy>, got ${files.length} file${files.length === 1 ? "" : "s"}; run 'puzzlelib grad --help'`,
      );
    }
  };
  if (from === "x") {
    if (x === undefined || y !== undefined) {
      throw new UsageError(
        `${subject} reads the input x, not the output y; pass it as --x x.npy${y === undefined ? "" : " instead of --y"} (puzzlelib grad ${name} --x x.npy g.npy -o gx.npy)`,
      );
    }
    onlyG("x");
    return [x, files[0]!];
  }
  if (x !== undefined) {
    throw new UsageError(
      `${subject} reads the output y, not the input x; pass y instead of --x (puzzlelib grad ${name} y.npy g.npy -o gx.npy)`,
    );
  }
  if (y !== undefined) {
    onlyG("y");
    return [y, files[0]!];
  }
  if (files.length !== 2) throw countError("grad", parsed, "<activation> <y.npy> <g.npy>");
  return files;
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
    for (const input of inputs) {
      if (input.header.dtype !== job.dtype) {
        // Integers are converted exactly or refused (decodeData), floats rounded as by astype.
        const integer = input.header.dtype === "int32" || input.header.dtype === "int64";
        const exactly = integer ? "; every value must convert exactly" : "";
        console.error(
          `puzzlelib ${job.command}: note: ${input.name} holds ${input.header.dtype} (${input.header.descr}); converting it to ${job.dtype}, the calc dtype (choose with --dtype)${exactly}`,
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
            decode(inputs[i]!, bytes, job.dtype, begin) as TypedArrayOf<CalcDType>,
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

/** A chunk's data in the calc dtype; an integer it cannot hold is a CliError naming the file. */
function decode(
  input: NpyInput,
  bytes: Uint8Array,
  dtype: CalcDType,
  begin: number,
): AnyTypedArray {
  try {
    return decodeData(bytes, input.header, dtype, begin);
  } catch (error) {
    if (error instanceof NpyError) throw new CliError(`${input.name} ${error.message}`);
    throw error;
  }
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
      made.push(act.backward(arrays[1]!)!);
    }
    return await made[0]!.get();
  } finally {
    for (const array of [...arrays, ...made]) array.dispose();
  }
}

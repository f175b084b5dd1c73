// numpy's `str(ndarray)` (numpy 1.24, default print options), reproduced character for character.
//
// The pieces follow numpy's array2string: a per-array element formatter (FloatingFormat or
// IntegerFormat) sized from the elements that will be printed, then a recursive layout that
// wraps rows at the line width and separates higher-dimensional blocks with blank lines.
// Decimal digits come from exact arithmetic in ./format-float.ts, so they match Dragon4.

import { roundToHalf } from "./float16.js";
import {
  FLOAT16,
  FLOAT32,
  FLOAT64,
  dragon4Digits,
  shortestDigits,
  type BinaryFormat,
  type Decimal,
} from "./format-float.js";

export type PrintDType = "float64" | "float32" | "float16" | "int32";

// numpy's default print options.
const PRECISION = 8;
const THRESHOLD = 1000;
const EDGE_ITEMS = 3;
const LINE_WIDTH = 75;

type ElementFormatter = (value: number) => string;

interface FloatDType {
  readonly format: BinaryFormat;
  /** Rounds a double to the nearest value of this dtype (numpy's cast). */
  readonly round: (value: number) => number;
}

const FLOAT_DTYPES: Record<Exclude<PrintDType, "int32">, FloatDType> = {
  float64: { format: FLOAT64, round: (value) => value },
  float32: { format: FLOAT32, round: Math.fround },
  float16: { format: FLOAT16, round: roundToHalf },
};

/** Exactly what numpy 1.24's str(arr) prints for an array of these values, shape and dtype (C order). */
export function formatArray(
  values: ArrayLike<number>,
  shape: readonly number[],
  dtype: PrintDType,
): string {
  const { at, size } = prepare(values, shape, dtype);
  // str() of a 0-d array prints the scalar, without the array's precision limit.
  if (shape.length === 0) return formatScalar(at(0), dtype);
  // Any zero-length axis prints as an empty list, whatever the other axes are.
  if (size === 0) return "[]";
  return formatNonEmpty(at, shape, dtype, { separator: " ", prefix: "", width: LINE_WIDTH });
}

/**
 * Exactly what numpy 1.24's repr(arr) prints for an array of these values, shape and dtype
 * (C order), e.g. `array([[ 3., -8.],\n       [ 0.,  1.]], dtype=float32)`.
 *
 * numpy's _array_repr_implementation: array2string with separator ", " and prefix "array(",
 * the line width reduced by the suffix that follows the list (")" when the dtype is implied,
 * "," when a dtype follows), then " dtype=...)" appended, or put on its own line indented past
 * "array(" when it would take the last line past the line width. Only float64 is implied here
 * (numpy's implied int is int64, so int32 shows its dtype), and only for non-empty arrays.
 */
export function formatRepr(
  values: ArrayLike<number>,
  shape: readonly number[],
  dtype: PrintDType,
): string {
  const { at, size } = prepare(values, shape, dtype);
  const prefix = "array(";
  const skipDType = dtype === "float64" && size > 0;
  const suffix = skipDType ? ")" : ",";

  let list: string;
  if (size > 0) {
    // A 0-d array goes through the same path: its one value is formatted with an array
    // formatter sized from that value ("3.", not str()'s "3.0"), without brackets.
    const options = { separator: ", ", prefix, width: LINE_WIDTH - suffix.length };
    list = formatNonEmpty(at, shape, dtype, options);
  } else if (shape.length === 1) {
    list = "[]";
  } else {
    // Python's repr of the shape tuple; only (0,) is left out, so never a 1-tuple here.
    list = `[], shape=(${shape.join(", ")})`;
  }

  const text = prefix + list + suffix;
  if (skipDType) return text;
  const dtypeText = `dtype=${dtype})`;
  const lastLineLength = text.length - (text.lastIndexOf("\n") + 1);
  const spacer =
    lastLineLength + dtypeText.length + 1 > LINE_WIDTH ? "\n" + " ".repeat(prefix.length) : " ";
  return text + spacer + dtypeText;
}

/** Checks the shape and returns an accessor for the values cast to the dtype. */
function prepare(values: ArrayLike<number>, shape: readonly number[], dtype: PrintDType) {
  const size = shape.reduce((product, length) => product * length, 1);
  if (shape.some((length) => !Number.isInteger(length) || length < 0) || size !== values.length) {
    throw new RangeError(`shape [${shape.join(", ")}] does not hold ${values.length} values`);
  }
  // Values are cast to the dtype first, as numpy would store them; exact inputs are unchanged.
  const cast = dtype === "int32" ? (value: number) => value | 0 : FLOAT_DTYPES[dtype].round;
  const at = (index: number) => cast(values[index]!);
  return { at, size };
}

/** How array2string was called: the separator between elements, the text before the
 * first "[" (which also indents continuation lines), and the line width. */
interface LayoutOptions {
  readonly separator: string;
  readonly prefix: string;
  readonly width: number;
}

/** numpy's _array2string for a non-empty array (0-d included). */
function formatNonEmpty(
  at: (index: number) => number,
  shape: readonly number[],
  dtype: PrintDType,
  options: LayoutOptions,
): string {
  const size = shape.reduce((product, length) => product * length, 1);
  const summarise = size > THRESHOLD;
  const strides = contiguousStrides(shape);
  // numpy sizes the formatter from the summarised data only: exactly the elements printed.
  const shown: number[] = [];
  visitShown(shape, strides, summarise, (index) => shown.push(at(index)));
  const formatter =
    dtype === "int32" ? integerFormatter(shown) : floatFormatter(shown, FLOAT_DTYPES[dtype]);
  return layOut(shape, strides, summarise, (index) => formatter(at(index)), options);
}

/** Element strides of a C-ordered array. */
function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    strides[axis] = stride;
    stride *= shape[axis]!;
  }
  return strides;
}

/**
 * The positions printed along an axis of this length, with `null` for the "..." marker:
 * a summarised array keeps only `edgeitems` at each end of axes longer than twice that.
 */
function shownPositions(length: number, summarise: boolean): (number | null)[] {
  if (summarise && length > 2 * EDGE_ITEMS) {
    const head = Array.from({ length: EDGE_ITEMS }, (_, i) => i);
    const tail = Array.from({ length: EDGE_ITEMS }, (_, i) => length - EDGE_ITEMS + i);
    return [...head, null, ...tail];
  }
  return Array.from({ length }, (_, i) => i);
}

/** Calls `visit` with the flat index of every printed element, in order. */
function visitShown(
  shape: readonly number[],
  strides: readonly number[],
  summarise: boolean,
  visit: (index: number) => void,
): void {
  const walk = (axis: number, offset: number): void => {
    if (axis === shape.length) return visit(offset);
    for (const position of shownPositions(shape[axis]!, summarise)) {
      if (position !== null) walk(axis + 1, offset + position * strides[axis]!);
    }
  };
  walk(0, 0);
}

/**
 * numpy's _formatArray: each nesting level adds "[" and a one-space hanging indent and takes
 * one column off the width (for the closing "]"); the innermost axis is a row of words joined
 * by the separator and wrapped at the width; outer axes stack their sub-blocks, each followed
 * by the right-trimmed separator and one newline per remaining axis. Continuation lines are
 * indented past the prefix and the "["; the prefix itself is not part of the result.
 * A 0-d array is its one element, without brackets.
 */
function layOut(
  shape: readonly number[],
  strides: readonly number[],
  summarise: boolean,
  formatAt: (index: number) => string,
  { separator, prefix, width }: LayoutOptions,
): string {
  const lineSeparator = separator.trimEnd();
  const block = (axis: number, offset: number, indent: string, width: number): string => {
    if (axis === shape.length) return formatAt(offset);
    const items = shownPositions(shape[axis]!, summarise).map((position) =>
      position === null
        ? "..."
        : block(axis + 1, offset + position * strides[axis]!, indent + " ", width - 1),
    );
    // The row's words must leave room for the separator's visible part or the "]".
    const elementWidth = width - Math.max(lineSeparator.length, 1);
    const body =
      axis === shape.length - 1
        ? wrapRow(items, separator, indent, elementWidth)
        : items
            .map((item) => indent + item)
            .join(lineSeparator + "\n".repeat(shape.length - axis - 1));
    // The first line's indent is where the "[" goes.
    return "[" + body.slice(indent.length) + "]";
  };
  return block(0, 0, " ".repeat(prefix.length + 1), width);
}

/**
 * Joins words with the separator, starting each line with `indent`, and breaks before a word
 * that would make the line longer than `width` (never on a line that holds only the indent).
 * Lines are right-trimmed where they break. (numpy's _extendLine; the words are one line each.)
 */
function wrapRow(
  words: readonly string[],
  separator: string,
  indent: string,
  width: number,
): string {
  let text = "";
  let line = indent;
  words.forEach((word, i) => {
    if (line.length + word.length > width && line.length > indent.length) {
      text += line.trimEnd() + "\n";
      line = indent;
    }
    line += word;
    if (i < words.length - 1) line += separator;
  });
  return text + line;
}

/** numpy's IntegerFormat: right-aligned to the wider of the printed maximum and minimum. */
function integerFormatter(shown: readonly number[]): ElementFormatter {
  let max = -Infinity;
  let min = Infinity;
  for (const value of shown) {
    max = Math.max(max, value);
    min = Math.min(min, value);
  }
  const width = Math.max(String(max).length, String(min).length);
  return (value) => String(value).padStart(width);
}

/** How the finite values of one array are laid out (numpy's FloatingFormat after fillFormat). */
interface FloatLayout {
  readonly scientific: boolean;
  /** Characters before the decimal point, sign included. */
  readonly padLeft: number;
  /** Characters after the decimal point (positional), or fraction digits (scientific). */
  readonly padRight: number;
  /** Minimum exponent digits (scientific only). */
  readonly exponentDigits: number;
}

/** numpy's FloatingFormat with floatmode 'maxprec', precision 8, sign '-'. */
function floatFormatter(shown: readonly number[], dtype: FloatDType): ElementFormatter {
  const finite = shown.filter(Number.isFinite);
  const scientific = needsScientific(finite, dtype);
  const layout = scientific
    ? scientificLayout(finite, dtype.format)
    : positionalLayout(finite, dtype.format);
  const nonFinite = nonFiniteWidth(shown, finite.length, layout);
  return (value) => {
    if (!Number.isFinite(value)) return nonFiniteName(value).padStart(nonFinite);
    return scientific
      ? scientificString(value, dtype.format, layout, nonFinite)
      : positionalString(value, dtype.format, layout, nonFinite);
  };
}

/**
 * numpy switches the whole array to scientific notation when its nonzero finite magnitudes
 * reach 1e8, go below 1e-4, or span more than a factor 1000. The ratio is computed in the
 * array's dtype, so it rounds (and for float16 overflows) as numpy's does.
 */
function needsScientific(finite: readonly number[], dtype: FloatDType): boolean {
  let max = 0;
  let min = Infinity;
  for (const value of finite) {
    if (value === 0) continue;
    max = Math.max(max, Math.abs(value));
    min = Math.min(min, Math.abs(value));
  }
  if (max === 0) return false;
  return max >= 1e8 || min < 1e-4 || dtype.round(max / min) > 1e3;
}

/** The sign and digit parts of a positional value; the fraction may be empty ("3."). */
function positionalParts(value: number, decimal: Decimal): { whole: string; fraction: string } {
  const sign = value < 0 || Object.is(value, -0) ? "-" : "";
  const { digits, exponent } = decimal;
  if (exponent < 0) return { whole: sign + "0", fraction: "0".repeat(-exponent - 1) + digits };
  return {
    whole: sign + digits.slice(0, exponent + 1).padEnd(exponent + 1, "0"),
    fraction: digits.slice(exponent + 1),
  };
}

/** The sign, leading digit, fraction digits and exponent of a scientific value. */
function scientificParts(value: number, decimal: Decimal) {
  const sign = value < 0 || Object.is(value, -0) ? "-" : "";
  return {
    whole: sign + decimal.digits.slice(0, 1),
    fraction: decimal.digits.slice(1),
    exponent: decimal.exponent,
  };
}

/**
 * Positional: every value gets its shortest digits (at most 8 after the point), and the
 * columns are padded to the longest integer part on the left and the longest fraction on the
 * right, with spaces, keeping the bare "." of whole numbers (numpy's trim='.').
 */
function positionalLayout(finite: readonly number[], format: BinaryFormat): FloatLayout {
  let padLeft = 0;
  let padRight = 0;
  for (const value of finite) {
    const decimal = dragon4Digits(value, format, { scientific: false, precision: PRECISION });
    const parts = positionalParts(value, decimal);
    padLeft = Math.max(padLeft, parts.whole.length);
    padRight = Math.max(padRight, parts.fraction.length);
  }
  return { scientific: false, padLeft, padRight, exponentDigits: 0 };
}

/**
 * Scientific: the fraction length is the longest any value needs (at most 8), and every value
 * is then printed with exactly that many fraction digits; exponents have at least two digits,
 * or as many as the widest needs.
 */
function scientificLayout(finite: readonly number[], format: BinaryFormat): FloatLayout {
  let padLeft = 0;
  let padRight = 0;
  let exponentDigits = 2;
  for (const value of finite) {
    const decimal = dragon4Digits(value, format, { scientific: true, precision: PRECISION });
    const parts = scientificParts(value, decimal);
    padLeft = Math.max(padLeft, parts.whole.length);
    padRight = Math.max(padRight, parts.fraction.length);
    exponentDigits = Math.max(exponentDigits, String(Math.abs(parts.exponent)).length);
  }
  return { scientific: true, padLeft, padRight, exponentDigits };
}

/**
 * The width of every element: nan and inf are right-aligned in it, and numpy widens the
 * integer side when "nan", "inf" or "-inf" would not fit in the finite values' width.
 */
function nonFiniteWidth(
  shown: readonly number[],
  finiteCount: number,
  layout: FloatLayout,
): number {
  const right = layout.scientific
    ? layout.padRight + layout.exponentDigits + 2 // fraction, "e", exponent sign and digits
    : layout.padRight;
  let left = layout.padLeft;
  if (finiteCount < shown.length) {
    const infLength = shown.includes(-Infinity) ? 4 : 3;
    left = Math.max(left, 3 - (right + 1), infLength - (right + 1));
  }
  return left + 1 + right;
}

function nonFiniteName(value: number): string {
  if (Number.isNaN(value)) return "nan";
  return value < 0 ? "-inf" : "inf";
}

/**
 * A finite value in positional layout, widened on the left if nan/inf need more room.
 * numpy asks Dragon4 for at least the units digit here (min_digits=0), so a whole float32
 * like 67108872 prints its true digits rather than its shortest form 67108870.
 */
function positionalString(
  value: number,
  format: BinaryFormat,
  layout: FloatLayout,
  width: number,
): string {
  const limits = { scientific: false, precision: PRECISION, minDigits: 0 };
  const parts = positionalParts(value, dragon4Digits(value, format, limits));
  const padLeft = width - 1 - layout.padRight;
  return parts.whole.padStart(padLeft) + "." + parts.fraction.padEnd(layout.padRight);
}

/**
 * A finite value in scientific layout, widened on the left if nan/inf need more room.
 * numpy asks Dragon4 for exactly the layout's fraction length (precision = min_digits), so
 * values shorter than that get more true digits of their exact value, not zeros (float16 0.1
 * becomes 9.998e-02); only exact zeros and round-ups like 9.99 -> 1.0 are zero-padded.
 */
function scientificString(
  value: number,
  format: BinaryFormat,
  layout: FloatLayout,
  width: number,
): string {
  const digits = layout.padRight;
  const limits = { scientific: true, precision: digits, minDigits: digits };
  const parts = scientificParts(value, dragon4Digits(value, format, limits));
  const padLeft = width - 1 - (layout.padRight + layout.exponentDigits + 2);
  const exponentSign = parts.exponent < 0 ? "-" : "+";
  return (
    parts.whole.padStart(padLeft) +
    "." +
    parts.fraction.padEnd(layout.padRight, "0") +
    "e" +
    exponentSign +
    String(Math.abs(parts.exponent)).padStart(layout.exponentDigits, "0")
  );
}

/**
 * str() of a numpy scalar: the shortest round-trip digits with no precision limit,
 * positional with at least one fraction digit ("3.0") for zero and magnitudes in [1e-4, 1e16),
 * scientific without a bare point otherwise ("1e+20", "1.5e-05").
 */
function formatScalar(value: number, dtype: PrintDType): string {
  if (dtype === "int32") return String(value);
  if (!Number.isFinite(value)) return nonFiniteName(value);
  const decimal = shortestDigits(value, FLOAT_DTYPES[dtype].format);
  const magnitude = Math.abs(value);
  if (magnitude === 0 || (magnitude >= 1e-4 && magnitude < 1e16)) {
    const parts = positionalParts(value, decimal);
    return parts.whole + "." + (parts.fraction || "0");
  }
  const parts = scientificParts(value, decimal);
  const exponent = String(Math.abs(parts.exponent)).padStart(2, "0");
  const fraction = parts.fraction ? "." + parts.fraction : "";
  return `${parts.whole}${fraction}e${parts.exponent < 0 ? "-" : "+"}${exponent}`;
}

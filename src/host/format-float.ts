// Exact decimal digits of binary floating-point values, matching what numpy's Dragon4 prints.
//
// Everything is done with exact BigInt arithmetic on the value's binary significand, so the
// digits do not depend on how the JS engine formats numbers, and the rounding interval is that
// of the value's own format (float16/32/64), not of the double holding it.

/** The layout of a binary floating-point format. */
export interface BinaryFormat {
  /** Significand bits, counting the implicit leading one. */
  readonly significandBits: number;
  /** The exponent of the unit in the last place of subnormals (the smallest step). */
  readonly minUnitExponent: number;
}

export const FLOAT64: BinaryFormat = { significandBits: 53, minUnitExponent: -1074 };
export const FLOAT32: BinaryFormat = { significandBits: 24, minUnitExponent: -149 };
export const FLOAT16: BinaryFormat = { significandBits: 11, minUnitExponent: -24 };

/**
 * A non-negative decimal `d0.d1d2... × 10^exponent`. `digits` has no trailing zeros; zero is
 * `{ digits: "0", exponent: 0 }`.
 */
export interface Decimal {
  readonly digits: string;
  readonly exponent: number;
}

const ZERO: Decimal = { digits: "0", exponent: 0 };

/** A positive value as `significand × 2^exponent` in its own format. */
interface ExactBinary {
  readonly significand: bigint;
  readonly exponent: number;
  /**
   * True for powers of two above the smallest normal: the neighbour below is half as far away
   * as the neighbour above, so the rounding interval is lopsided.
   */
  readonly unequalMargins: boolean;
}

const scratch = new DataView(new ArrayBuffer(8));

/** Splits a positive finite double, which must be exactly representable in `format`. */
function decompose(value: number, format: BinaryFormat): ExactBinary {
  scratch.setFloat64(0, value);
  const high = scratch.getUint32(0);
  const low = scratch.getUint32(4);
  const biased = (high >>> 20) & 0x7ff;
  const fraction = (BigInt(high & 0xfffff) << 32n) | BigInt(low);
  let significand = biased === 0 ? fraction : fraction | (1n << 52n);
  let exponent = biased === 0 ? -1074 : biased - 1075;
  // Re-express with the narrower format's unit in the last place, so that the neighbours (and
  // with them the rounding interval) are those of that format.
  const topBit = exponent + significand.toString(2).length - 1;
  const unitExponent = Math.max(topBit - (format.significandBits - 1), format.minUnitExponent);
  const shift = BigInt(unitExponent - exponent);
  if (shift > 0n) {
    if (significand % (1n << shift) !== 0n) {
      throw new RangeError(`${value} is not representable in the requested float format`);
    }
    significand >>= shift;
    exponent = unitExponent;
  }
  const unequalMargins =
    significand === 1n << BigInt(format.significandBits - 1) && exponent > format.minUnitExponent;
  return { significand, exponent, unequalMargins };
}

/**
 * The value and a quarter of its unit in the last place, both in units of 10^position, as
 * fractions over a common denominator. A quarter unit is the finest step needed: the rounding
 * interval reaches half a unit up and half (or, with unequal margins, a quarter) unit down.
 */
function scaleTo(binary: ExactBinary, position: number) {
  const quarterExponent = binary.exponent - 2;
  let value = binary.significand << 2n;
  let quarter = 1n;
  let denominator = 1n;
  if (quarterExponent >= 0) {
    value <<= BigInt(quarterExponent);
    quarter <<= BigInt(quarterExponent);
  } else {
    denominator <<= BigInt(-quarterExponent);
  }
  if (position >= 0) {
    denominator *= 10n ** BigInt(position);
  } else {
    const power = 10n ** BigInt(-position);
    value *= power;
    quarter *= power;
  }
  return { value, quarter, denominator };
}

/** The decimal `integer × 10^position`. */
function fromInteger(integer: bigint, position: number): Decimal {
  if (integer === 0n) return ZERO;
  const text = integer.toString();
  const digits = text.replace(/0+$/, "");
  return { digits, exponent: position + text.length - 1 };
}

/** floor(log10(binary)), exact. */
function decimalExponent(value: number, binary: ExactBinary): number {
  let exponent = Math.floor(Math.log10(value));
  // log10 can be off by one next to powers of ten; settle it with exact comparisons.
  for (;;) {
    const scaled = scaleTo(binary, exponent);
    if (scaled.value < scaled.denominator) exponent--;
    else if (scaled.value >= 10n * scaled.denominator) exponent++;
    else return exponent;
  }
}

/** Digit limits, as numpy passes them to Dragon4. */
export interface DigitLimits {
  /**
   * Whether the limits count digits after the leading digit (scientific notation) rather than
   * after the decimal point (positional notation).
   */
  readonly scientific: boolean;
  /** At most this many digits past the point (numpy's `precision`); no limit if omitted. */
  readonly precision?: number;
  /** At least this many digits past the point (numpy's `min_digits`); none if omitted. */
  readonly minDigits?: number;
}

/**
 * The decimal digits numpy's Dragon4 prints in its "unique" mode: digits of the exact value
 * are generated from the leading one down, stopping at the first position where rounding
 * (down, or up) would still read back as `value` in `format`, but never before `minDigits`
 * and never past `precision`. The last digit is rounded toward whichever of the two
 * candidates reads back, or to the nearest (ties to even) when both or neither do.
 *
 * Without limits this is the shortest round-trip string, closest to the exact value. With
 * `minDigits` beyond that, the extra digits are true digits of the exact binary value, not
 * zeros: numpy prints float16 0.1 as 9.998e-02 next to 3.333e-01.
 *
 * `value` must be finite and exactly representable in `format`; its sign is ignored.
 */
export function dragon4Digits(value: number, format: BinaryFormat, limits: DigitLimits): Decimal {
  const magnitude = Math.abs(value);
  if (magnitude === 0) return ZERO;
  const binary = decompose(magnitude, format);
  const leading = decimalExponent(magnitude, binary);
  const origin = limits.scientific ? leading : 0;
  const finest = limits.precision === undefined ? -Infinity : origin - limits.precision;
  const coarsest = limits.minDigits === undefined ? Infinity : origin - limits.minDigits;
  const downMargin = binary.unequalMargins ? 1n : 2n;
  const even = binary.significand % 2n === 0n;
  // Positional precision can cut above the leading digit (values below 10^-precision); Dragon4
  // then starts at the cutoff position and rounds there.
  for (let position = Math.max(leading, finest); ; position--) {
    const { value: scaled, quarter, denominator } = scaleTo(binary, position);
    const truncated = scaled / denominator;
    const remainder = scaled % denominator;
    // Rounding down reads back as `value` when it stays within the rounding interval below
    // it, rounding up when it stays within the interval above. The interval's ends belong to
    // it when round-half-to-even reading lands on `value` (even significand).
    const downDistance = remainder;
    const upDistance = denominator - remainder;
    const downOk = even
      ? downDistance <= quarter * downMargin
      : downDistance < quarter * downMargin;
    const upOk = even ? upDistance <= quarter * 2n : upDistance < quarter * 2n;
    const done = ((downOk || upOk) && position <= coarsest) || position <= finest;
    if (!done) continue;
    const up = downOk !== upOk ? upOk : roundsUp(truncated, remainder, denominator);
    return fromInteger(up ? truncated + 1n : truncated, position);
  }
}

/** The shortest decimal that reads back as `value` in `format`. */
export function shortestDigits(value: number, format: BinaryFormat): Decimal {
  return dragon4Digits(value, format, { scientific: false });
}

/** Round-to-nearest of `truncated + remainder / denominator`: up unless below half, ties to even. */
function roundsUp(truncated: bigint, remainder: bigint, denominator: bigint): boolean {
  const twice = 2n * remainder;
  if (twice !== denominator) return twice > denominator;
  return truncated % 2n === 1n;
}

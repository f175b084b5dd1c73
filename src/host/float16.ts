// IEEE 754 binary16 <-> number conversion. Halves are kept as their 16 raw bits in a Uint16Array,
// because Node 20 has neither Float16Array nor Math.f16round.

const HALF_TO_NUMBER = buildDecodeTable();

function buildDecodeTable(): Float32Array {
  const table = new Float32Array(65536);
  for (let bits = 0; bits < 65536; bits++) {
    const sign = bits & 0x8000 ? -1 : 1;
    const exponent = (bits >> 10) & 0x1f;
    const mantissa = bits & 0x3ff;
    let value: number;
    if (exponent === 0) value = mantissa * 2 ** -24;
    else if (exponent === 31) value = mantissa === 0 ? Infinity : NaN;
    else value = (1024 + mantissa) * 2 ** (exponent - 25);
    table[bits] = sign * value;
  }
  return table;
}

/** The exact value of the half whose raw bits are `bits`. */
export function halfToNumber(bits: number): number {
  return HALF_TO_NUMBER[bits & 0xffff]!;
}

/**
 * Rounds `value` (any double) to the nearest half, ties to even, in one step, and returns its
 * bits. Rounding straight from the double avoids the double rounding of a trip through float32.
 */
export function numberToHalf(value: number): number {
  if (Number.isNaN(value)) return 0x7e00;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const magnitude = Math.abs(value);
  // 65520 is the midpoint between the largest half (65504) and 2^16: it and above round to Inf.
  if (magnitude >= 65520) return sign | 0x7c00;
  if (magnitude < 2 ** -14) {
    // Subnormal range: a fixed step of 2^-24, so round magnitude / 2^-24 to an integer.
    return sign | roundHalfEven(magnitude * 2 ** 24);
  }
  let exponent = Math.floor(Math.log2(magnitude));
  // log2 can be off by one next to powers of two; fix it so 2^e <= magnitude < 2^(e+1).
  if (2 ** exponent > magnitude) exponent--;
  else if (2 ** (exponent + 1) <= magnitude) exponent++;
  const scaled = roundHalfEven(magnitude * 2 ** (10 - exponent)); // in [1024, 2048]
  // A carry to 2048 moves to the next binade, which the bit layout handles by itself.
  return sign | (((exponent + 15) << 10) + (scaled - 1024));
}

/** Rounds a non-negative number to an integer, ties to even. */
function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const fraction = x - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** Rounds a number to the nearest half and returns that half's value. */
export function roundToHalf(value: number): number {
  return halfToNumber(numberToHalf(value));
}

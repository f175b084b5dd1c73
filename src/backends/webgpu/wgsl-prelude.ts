// WGSL helpers that give every IR op IEEE binary32 meaning on any adapter. WGSL lets an
// implementation assume there is no NaN or Inf and flush subnormals (SwiftShader flushes both
// operands and results, and folds NaN comparisons), so:
// - comparisons, select, neg, abs and copysign work on the bit patterns;
// - kernels compute with the hardware's add, sub, mul and div and flag, per element, any operation
//   where a subnormal was involved or may have been flushed (lost_*); a flagged element is computed
//   again by an interpreter of the same IR (wgsl-renderer.ts) whose f_add, f_sub, f_mul and f_div
//   redo such operations with significands and exponents held apart and build the subnormal result
//   with integer rounding (to nearest, ties to even). Inlining those exact helpers at every
//   operation instead made SwiftShader take up to 50 s to compile one kernel;
// - float16 is converted with integer code too: pack2x16float is undefined out of range and
//   unpack2x16float may flush half subnormals.

export const WGSL_PRELUDE = /* wgsl */ `
const SIGN: u32 = 0x80000000u;
const MAGNITUDE: u32 = 0x7fffffffu;
const INFINITY_BITS: u32 = 0x7f800000u;
const SMALLEST_NORMAL_BITS: u32 = 0x00800000u;

// Not const-evaluated, so NaN and Inf bit patterns are allowed (a constant bitcast to NaN is an error).
fn from_bits(b: u32) -> f32 { return bitcast<f32>(b); }
const NAN_BITS: u32 = 0x7fc00000u;

fn mag(a: f32) -> u32 { return bitcast<u32>(a) & MAGNITUDE; }
fn is_nan(a: f32) -> bool { return mag(a) > INFINITY_BITS; }
fn is_finite(a: f32) -> bool { return mag(a) < INFINITY_BITS; }
// Nonzero and below the smallest normal: the values flushing hardware loses.
fn is_tiny(a: f32) -> bool { return mag(a) - 1u < SMALLEST_NORMAL_BITS - 1u; } // wraps for 0

// An integer that orders like the float (NaN excluded) with -0 == +0.
fn order_key(a: f32) -> i32 {
  let b = bitcast<i32>(a);
  return select(b, -(b & 0x7fffffff), b < 0);
}
fn ordered(a: f32, b: f32) -> bool { return max(mag(a), mag(b)) <= INFINITY_BITS; }
fn f_lt(a: f32, b: f32) -> bool { return ordered(a, b) & (order_key(a) < order_key(b)); }
fn f_le(a: f32, b: f32) -> bool { return ordered(a, b) & (order_key(a) <= order_key(b)); }
fn f_gt(a: f32, b: f32) -> bool { return f_lt(b, a); }
fn f_ge(a: f32, b: f32) -> bool { return f_le(b, a); }
fn f_eq(a: f32, b: f32) -> bool { return ordered(a, b) & (order_key(a) == order_key(b)); }

fn f_select(c: bool, a: f32, b: f32) -> f32 {
  return bitcast<f32>(select(bitcast<u32>(b), bitcast<u32>(a), c));
}
fn f_neg(a: f32) -> f32 { return bitcast<f32>(bitcast<u32>(a) ^ SIGN); }
fn f_abs(a: f32) -> f32 { return bitcast<f32>(mag(a)); }
fn f_copysign(a: f32, b: f32) -> f32 {
  return bitcast<f32>(mag(a) | (bitcast<u32>(b) & SIGN));
}
fn f_round(a: f32) -> f32 { return round(a); }

// A finite nonzero a as m * 2^e with 1 <= |m| < 2, subnormals included.
struct Split { m: f32, e: i32 }
fn split(a: f32) -> Split {
  let bits = bitcast<u32>(a);
  var biased = i32((bits >> 23u) & 0xffu);
  var mantissa = bits & 0x7fffffu;
  if (biased == 0) {
    let shift = countLeadingZeros(mantissa) - 8u;
    mantissa = (mantissa << shift) & 0x7fffffu;
    biased = 1 - i32(shift);
  }
  return Split(bitcast<f32>((bits & SIGN) | 0x3f800000u | mantissa), biased - 127);
}

fn f_ilogb(a: f32) -> f32 { return f32(split(a).e); }

// v * 2^k rounded once, for v normal (zero, Inf and NaN pass through), any result range.
fn scale_normal(v: f32, k: i32) -> f32 {
  let bits = bitcast<u32>(v);
  let sign = bits & SIGN;
  let biased = i32((bits >> 23u) & 0xffu);
  if (biased == 0 || biased == 255) { return v; }
  let scaled = biased + k;
  if (scaled >= 255) { return bitcast<f32>(sign | INFINITY_BITS); }
  if (scaled >= 1) { return bitcast<f32>(sign | (u32(scaled) << 23u) | (bits & 0x7fffffu)); }
  let shift = u32(1 - scaled);
  if (shift > 24u) { return bitcast<f32>(sign); }
  let significand = (bits & 0x7fffffu) | 0x800000u;
  let kept = significand >> shift;
  let rest = significand & ((1u << shift) - 1u);
  let half = 1u << (shift - 1u);
  let up = rest > half || (rest == half && (kept & 1u) == 1u);
  return bitcast<f32>(sign | (kept + select(0u, 1u, up)));
}

fn f_ldexp(a: f32, k: f32) -> f32 {
  if (is_tiny(a)) {
    let s = split(a);
    return scale_normal(s.m, s.e + i32(k));
  }
  return scale_normal(a, i32(k));
}

fn f_mul(a: f32, b: f32) -> f32 {
  let p = a * b;
  if (!is_tiny(a) && !is_tiny(b) && (mag(p) >= SMALLEST_NORMAL_BITS || mag(a) == 0u || mag(b) == 0u)) {
    return p;
  }
  if (is_nan(a) || is_nan(b)) { return from_bits(NAN_BITS); }
  let sign = (bitcast<u32>(a) ^ bitcast<u32>(b)) & SIGN;
  if (mag(a) == 0u || mag(b) == 0u) { return bitcast<f32>(sign); }
  if (!is_finite(a) || !is_finite(b)) { return bitcast<f32>(sign | INFINITY_BITS); }
  let sa = split(a);
  let sb = split(b);
  return scale_normal(sa.m * sb.m, sa.e + sb.e);
}

fn f_div(a: f32, b: f32) -> f32 {
  let q = a / b;
  if (!is_tiny(a) && !is_tiny(b) && mag(b) != 0u && is_finite(b)
      && (mag(q) >= SMALLEST_NORMAL_BITS || mag(a) == 0u)) {
    return q;
  }
  if (is_nan(a) || is_nan(b) || (mag(a) == 0u && mag(b) == 0u) || (!is_finite(a) && !is_finite(b))) {
    return from_bits(NAN_BITS);
  }
  let sign = (bitcast<u32>(a) ^ bitcast<u32>(b)) & SIGN;
  if (mag(a) == 0u || !is_finite(b)) { return bitcast<f32>(sign); }
  if (mag(b) == 0u || !is_finite(a)) { return bitcast<f32>(sign | INFINITY_BITS); }
  let sa = split(a);
  let sb = split(b);
  return scale_normal(sa.m / sb.m, sa.e - sb.e);
}

// a scaled by 2^64 exactly, for |a| < 2^-100: subnormals are rebuilt from their integer significand.
fn scale_up(a: f32) -> f32 {
  if (is_tiny(a)) {
    let magnitude = f32(mag(a)) * bitcast<f32>(0x15000000u); // the significand times 2^-85
    return f_copysign(magnitude, a);
  }
  return a * bitcast<f32>(0x5f800000u); // 2^64
}

fn f_add(a: f32, b: f32) -> f32 {
  let s = a + b;
  if (!is_tiny(a) && !is_tiny(b) && (mag(s) >= SMALLEST_NORMAL_BITS || !is_finite(s))) { return s; }
  if (mag(s) == 0u && !is_tiny(a) && !is_tiny(b) && bitcast<u32>(a) == (bitcast<u32>(b) ^ SIGN)) {
    return 0.0; // x + (-x) is +0
  }
  // A subnormal beside an operand of 2^-100 or more is below half its ULP: the sum is that operand.
  if (mag(a) >= 0x0d800000u) { return a; }
  if (mag(b) >= 0x0d800000u) { return b; }
  let scaled = scale_up(a) + scale_up(b);
  if (mag(scaled) == 0u) { return bitcast<f32>(bitcast<u32>(a) & bitcast<u32>(b) & SIGN); }
  return scale_normal(scaled, -64);
}

fn f_sub(a: f32, b: f32) -> f32 { return f_add(a, f_neg(b)); }

// The checks below use the non-short-circuit & and |: && and || become branches, and branches made
// SwiftShader's shader compiler several times slower.
// Whether the hardware result of an operation may differ from IEEE's because of a subnormal: an
// operand is subnormal (it may have been read as 0) or the result fell below the smallest normal
// (it may have been flushed) without being an exact zero.
fn lost_mul(a: f32, b: f32, p: f32) -> bool {
  return is_tiny(a) | is_tiny(b) | ((mag(p) < SMALLEST_NORMAL_BITS) & (mag(a) != 0u) & (mag(b) != 0u));
}
fn lost_div(a: f32, b: f32, q: f32) -> bool {
  return is_tiny(a) | is_tiny(b) | ((mag(q) < SMALLEST_NORMAL_BITS) & (mag(a) != 0u));
}
fn lost_add(a: f32, b: f32, s: f32) -> bool {
  let cancels = bitcast<u32>(a) == (bitcast<u32>(b) ^ SIGN);
  let zero_or_tiny = mag(s) < SMALLEST_NORMAL_BITS;
  return is_tiny(a) | is_tiny(b) | (zero_or_tiny & ((mag(a) | mag(b)) != 0u) & !cancels);
}
fn lost_sub(a: f32, b: f32, s: f32) -> bool { return lost_add(a, f_neg(b), s); }

fn half_to_f32(h: u32) -> f32 {
  let sign = (h & 0x8000u) << 16u;
  let biased = (h >> 10u) & 0x1fu;
  let mantissa = h & 0x3ffu;
  if (biased == 0u) {
    return f_copysign(f32(mantissa) * bitcast<f32>(0x33800000u), bitcast<f32>(sign)); // 2^-24
  }
  if (biased == 31u) { return bitcast<f32>(sign | INFINITY_BITS | (mantissa << 13u)); }
  return bitcast<f32>(sign | ((biased + 112u) << 23u) | (mantissa << 13u));
}

// Rounds to the nearest half, ties to even; NaN stays NaN, overflow gives Inf.
fn f32_to_half(a: f32) -> u32 {
  let bits = bitcast<u32>(a);
  let sign = (bits >> 16u) & 0x8000u;
  let magnitude = bits & MAGNITUDE;
  if (magnitude > INFINITY_BITS) { return sign | 0x7e00u; }
  if (magnitude >= 0x477ff000u) { return sign | 0x7c00u; } // 65520 and above round to Inf
  var shift: u32;
  var base: u32;
  var significand = (magnitude & 0x7fffffu) | 0x800000u;
  if (magnitude >= 0x38800000u) { // a normal half: drop 13 mantissa bits
    shift = 13u;
    base = ((magnitude >> 23u) - 112u) << 10u;
    significand = magnitude & 0x7fffffu;
  } else { // a subnormal half (or zero): units of 2^-24
    if (magnitude < 0x33000000u) { return sign; } // below 2^-25, including float32 subnormals
    shift = 126u - (magnitude >> 23u);
    base = 0u;
  }
  let kept = significand >> shift;
  let rest = significand & ((1u << shift) - 1u);
  let half = 1u << (shift - 1u);
  let up = rest > half || (rest == half && (kept & 1u) == 1u);
  return sign | (base + kept + select(0u, 1u, up));
}
`;

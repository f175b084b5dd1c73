// numpy's legacy `np.random.RandomState` (MT19937), reproduced bit for bit so that seeded runs give
// the same numbers as the Python original. Written from the algorithm descriptions (Matsumoto &
// Nishimura's MT19937, numpy's legacy distributions); every path is checked against numpy 1.24
// output in test/random.test.ts.

import { describeValue } from "../core/describe.js";
import { allocateTyped } from "../core/dtype.js";
import { BackendError } from "../core/errors.js";

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;

const TWO_POW_32 = 2 ** 32;
const TWO_POW_53 = 2 ** 53;

function checkSize(size: number): void {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new BackendError(`size must be a non-negative integer, got ${describeValue(size)}`);
  }
}

/** A 32-bit seed from whatever the host offers without importing anything (browser-safe). */
function entropySeed(): number {
  const clock = typeof performance !== "undefined" ? performance.now() * 1000 : 0;
  let h = Math.imul(Date.now() >>> 0, 0x9e3779b1) ^ Math.floor(Math.random() * TWO_POW_32);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) ^ (clock >>> 0);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

// ---- Natural log, correctly rounded ----
// numpy's legacy gauss calls the C library's log. Math.log is not specified to be exact: with
// V8's, 3% of standardNormal values differed from numpy's (glibc 2.36, x86-64) in the last bits.
// This log works in double-double (error far below 2^-70) and rounds once, so it is correctly
// rounded; that leaves 0.04% (1 to 3 ulp, measured over 1e7 draws), because glibc's log is itself
// off the exact rounding for 0.08% of inputs. Matching those would take glibc's own table-driven
// algorithm (whose x86-64 variant is picked by CPU at run time). A side benefit: the stream no
// longer depends on the JS engine's Math.log.

const SPLITTER = 134217729; // 2^27 + 1, splits a double into two 26-bit halves (Veltkamp)
// Double-double helpers return the high word and leave the low word in dd.lo. An object field,
// not a module-level `let`: V8 boxes a double held in a `let`, allocating on every write.
const dd = { lo: 0 };

/** a * b exactly, as hi (returned) + dd.lo (Dekker's product, since JS has no fma). */
function twoProd(a: number, b: number): number {
  const p = a * b;
  let t = SPLITTER * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLITTER * b;
  const bh = t - (t - b);
  const bl = b - bh;
  dd.lo = ah * bh - p + ah * bl + al * bh + al * bl;
  return p;
}

/** a + b exactly, as hi (returned) + dd.lo (Knuth's two-sum). */
function twoSum(a: number, b: number): number {
  const s = a + b;
  const bb = s - a;
  dd.lo = a - (s - bb) + (b - bb);
  return s;
}

function mulDD(ah: number, al: number, bh: number, bl: number): number {
  const p = twoProd(ah, bh);
  const e = dd.lo + (ah * bl + al * bh);
  const r = p + e;
  dd.lo = e - (r - p);
  return r;
}

function addDD(ah: number, al: number, bh: number, bl: number): number {
  const s = twoSum(ah, bh);
  const e = dd.lo + al + bl;
  const r = s + e;
  dd.lo = e - (r - s);
  return r;
}

/** 1 / (2k + 1) as a double-double. */
function oddReciprocal(k: number): number {
  const d = 2 * k + 1;
  const h = 1 / d;
  const p = twoProd(h, d);
  dd.lo = (1 - p - dd.lo) / d;
  return h;
}

const LN2_LO = 2.3190468138462996e-17; // ln 2 - Math.LN2
const THIRD_HI = oddReciprocal(1);
const THIRD_LO = dd.lo;

// log(c) as double-doubles for the grid c = i / 64, i in [48, 96] (c in [0.75, 1.5]). Built once
// with the slow all-double-double series 2 atanh(s), s = (c - 1) / (c + 1), |s| <= 0.2.
const LOG_GRID_HI = new Float64Array(49);
const LOG_GRID_LO = new Float64Array(49);
for (let i = 48; i <= 96; i++) {
  const c = i / 64;
  const sh = (c - 1) / (c + 1);
  const sl = (c - 1 - twoProd(sh, c + 1) - dd.lo) / (c + 1);
  const zh = mulDD(sh, sl, sh, sl);
  const zl = dd.lo;
  let ph = 0;
  let pl = 0;
  for (let k = 30; k >= 0; k--) {
    const rh = oddReciprocal(k);
    ph = addDD(rh, dd.lo, mulDD(ph, pl, zh, zl), dd.lo); // arguments evaluate left to right
    pl = dd.lo;
  }
  LOG_GRID_HI[i - 48] = 2 * mulDD(sh, sl, ph, pl);
  LOG_GRID_LO[i - 48] = 2 * dd.lo;
}

const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
const HIGH_WORD = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

/** ln(x) correctly rounded, for finite x > 0. */
function log(x: number): number {
  let e = -1023;
  if (x < 2 ** -1022) {
    x *= 2 ** 54; // subnormal: make the exponent field meaningful
    e -= 54;
  }
  // x = 2^e * y with y in [0.75, 1.5), so that y = 1 needs no table term (no cancellation).
  F64[0] = x;
  const hi = U32[HIGH_WORD]!;
  e += hi >>> 20;
  U32[HIGH_WORD] = (hi & 0xfffff) | 0x3ff00000;
  let y = F64[0]!;
  if (y >= 1.5) {
    y *= 0.5;
    e++;
  }
  // y = c (1 + t) with c the nearest grid point: log(y) = log(c) + 2 atanh(s), s = (y-c)/(y+c),
  // |s| < 2^-7.5, so the series needs few terms.
  const i = Math.round(y * 64);
  const c = i / 64;
  const num = y - c; // exact (Sterbenz)
  const dh = twoSum(y, c);
  const dl = dd.lo;
  const sh = num / dh;
  const sl = (num - twoProd(sh, dh) - dd.lo - sh * dl) / dh;
  // 2 atanh(s) = 2s (1 + z q), z = s^2, q = 1/3 + z/5 + ... + z^5/13 (next term < 2^-110).
  // The z/5 tail is small enough for plain doubles; the rest needs double-doubles.
  const zh = twoProd(sh, sh);
  const zl = dd.lo + 2 * sh * sl;
  const tail = zh * (1 / 5 + zh * (1 / 7 + zh * (1 / 9 + zh * (1 / 11 + zh / 13))));
  const qh = twoSum(THIRD_HI, tail);
  const zqh = mulDD(zh, zl, qh, dd.lo + THIRD_LO);
  const szqh = mulDD(sh, sl, zqh, dd.lo);
  const lh = addDD(sh, sl, szqh, dd.lo);
  const ll = dd.lo;
  // e ln2 + log(c) + 2 atanh(s); the last is the smallest, so add it last.
  const eh = twoProd(e, Math.LN2);
  const bh = addDD(eh, dd.lo + e * LN2_LO, LOG_GRID_HI[i - 48]!, LOG_GRID_LO[i - 48]!);
  return addDD(bh, dd.lo, 2 * lh, 2 * ll);
}

export class RandomState {
  private readonly key = new Uint32Array(N);
  private pos = N;
  // Legacy gauss cache: the polar method makes two normals per accepted pair; numpy returns one
  // and keeps the other for the next call, so the cache is part of the stream's state.
  private hasGauss = false;
  private gauss = 0;

  constructor(seed?: number) {
    this.seed(seed === undefined ? entropySeed() : seed);
  }

  /** As `np.random.seed(n)` for an integer n: init_genrand, then the gauss cache is dropped. */
  seed(seed: number): void {
    if (!Number.isInteger(seed) || seed < 0 || seed >= TWO_POW_32) {
      throw new BackendError(`Seed must be between 0 and 2**32 - 1, got ${describeValue(seed)}`);
    }
    const key = this.key;
    let s = seed >>> 0;
    for (let i = 0; i < N; i++) {
      key[i] = s;
      // 1812433253 * (s ^ (s >> 30)) + i + 1 modulo 2^32; Math.imul keeps the low 32 bits exact.
      s = (Math.imul(1812433253, s ^ (s >>> 30)) + i + 1) >>> 0;
    }
    this.pos = N;
    this.hasGauss = false;
    this.gauss = 0;
  }

  /** Regenerates all N words of state at once (the "twist"), in place, indices modulo N. */
  private twist(): void {
    const key = this.key;
    for (let kk = 0; kk < N; kk++) {
      const y = (key[kk]! & UPPER_MASK) | (key[(kk + 1) % N]! & LOWER_MASK);
      key[kk] = key[(kk + M) % N]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    this.pos = 0;
  }

  /** Next raw 32-bit output, as an unsigned number in [0, 2^32). */
  integer32(): number {
    if (this.pos >= N) this.twist();
    let y = this.key[this.pos++]!;
    // Tempering.
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** One double in [0, 1) from 27 + 26 bits of two draws, as numpy's mt19937_next_double. */
  private nextDouble(): number {
    const a = this.integer32() >>> 5;
    const b = this.integer32() >>> 6;
    return (a * 67108864.0 + b) / 9007199254740992.0;
  }

  /** `np.random.random_sample(size)` / `np.random.rand(size)`. */
  randomSample(size: number): Float64Array {
    checkSize(size);
    const out = allocateTyped("float64", size) as Float64Array;
    for (let i = 0; i < size; i++) out[i] = this.nextDouble();
    return out;
  }

  /** numpy's legacy_gauss: the Marsaglia polar method, caching the second value. */
  private nextGauss(): number {
    if (this.hasGauss) {
      this.hasGauss = false;
      const cached = this.gauss;
      this.gauss = 0;
      return cached;
    }
    let x1: number;
    let x2: number;
    let r2: number;
    do {
      x1 = 2.0 * this.nextDouble() - 1.0;
      x2 = 2.0 * this.nextDouble() - 1.0;
      r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1.0 || r2 === 0.0);
    // sqrt is correctly rounded in both JS and C; log is the concern (see log above).
    const f = Math.sqrt((-2.0 * log(r2)) / r2);
    this.gauss = f * x1;
    this.hasGauss = true;
    return f * x2;
  }

  /** `np.random.standard_normal(size)` / `np.random.randn(size)`. */
  standardNormal(size: number): Float64Array {
    checkSize(size);
    const out = allocateTyped("float64", size) as Float64Array;
    for (let i = 0; i < size; i++) out[i] = this.nextGauss();
    return out;
  }

  /**
   * `np.random.randint(low, high, size)` with the default int64 dtype: integers in [low, high).
   * Returns an Int32Array when every possible value fits in int32, else a Float64Array holding
   * exact integers (so low and high are limited to [-2^53, 2^53]).
   */
  randint(low: number, high: number, size: number): Int32Array | Float64Array {
    if (!Number.isInteger(low) || !Number.isInteger(high)) {
      throw new BackendError(
        `randint bounds must be integers, got low=${describeValue(low)}, high=${describeValue(high)}`,
      );
    }
    if (low < -TWO_POW_53 || high > TWO_POW_53) {
      throw new BackendError(`randint bounds must lie in [-2**53, 2**53], got [${low}, ${high})`);
    }
    if (low >= high) throw new BackendError(`low >= high (low=${low}, high=${high})`);
    checkSize(size);
    const fitsInt32 = low >= -(2 ** 31) && high <= 2 ** 31;
    const out = allocateTyped(fitsInt32 ? "int32" : "float64", size) as Int32Array | Float64Array;
    // numpy draws on the closed interval [low, high - 1]: rng is the inclusive span.
    const rng = high - 1 - low;
    if (rng === 0) {
      out.fill(low);
    } else if (rng === 0xffffffff) {
      // A full 32-bit span needs no rejection: every raw output is used as is.
      for (let i = 0; i < size; i++) out[i] = low + this.integer32();
    } else if (rng < 0xffffffff) {
      // Masked rejection sampling: keep the low bits that cover rng, redraw when above it. The
      // legacy RandomState always uses this (not Lemire's method), hence the exact same stream.
      const mask = 0xffffffff >>> Math.clz32(rng); // smallest 2^k - 1 >= rng
      for (let i = 0; i < size; i++) {
        let v: number;
        do v = (this.integer32() & mask) >>> 0;
        while (v > rng);
        out[i] = low + v;
      }
    } else {
      this.fillBounded64(out, low, high, size);
    }
    return out;
  }

  /** Spans wider than 32 bits: 64-bit draws. BigInt, as the span itself may exceed 2^53. */
  private fillBounded64(out: Float64Array | Int32Array, low: number, high: number, size: number) {
    const off = BigInt(low);
    const rng = BigInt(high) - 1n - off;
    const mask = (1n << BigInt(rng.toString(2).length)) - 1n;
    for (let i = 0; i < size; i++) {
      let v: bigint;
      do {
        // numpy's next_uint64 for MT19937 puts the first draw in the high word.
        const hi = BigInt(this.integer32());
        const lo = BigInt(this.integer32());
        v = ((hi << 32n) | lo) & mask;
      } while (v > rng);
      out[i] = Number(off + v);
    }
  }
}

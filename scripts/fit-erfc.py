"""Fits the polynomials behind erfc: src/backends/cpu/erfc64-coefficients.ts (float64, the js
backend) and the constants of src/ops/libm-erfc.ts (float32 expansion). Prints both as TypeScript.

    python3 scripts/fit-erfc.py   # needs mpmath, numpy, scipy; about 10 s

float64: erfcx(x) = exp(x^2) erfc(x) is smooth and slowly varying, so erfc = exp(-x^2) erfcx(x)
needs only erfcx approximated. On [0.5, 3] it is fitted per interval of width 0.5 as a polynomial
in s = x - mid, |s| <= 0.25 (coefficients shrink, so Horner in s is well conditioned); past 3,
x erfcx(x) -> 1/sqrt(pi) is a polynomial in u = 1/x^2 - U_MID (the asymptotic series, made
convergent by the finite interval). Each fit is mpmath's chebyfit (interpolation at Chebyshev
nodes, within a small factor of minimax) at 40 digits; the degree is the least that brings the
relative error under 2^-57, a sixteenth of a double ULP.

float32: erfcx(a) = 1 / (sqrt(pi) a + G(a)) on [0, 10.1] (all of float32 erfc's non-trivial
range), G one rational P4(a)/Q5(a), and an exp polynomial, each a minimax fit by Lawson's iteration (weighted least squares
whose weights grow where the error is largest), then rounded to float32 coefficients one at a
time, refitting the rest after each rounding so the later coefficients absorb the rounding.
"""

import mpmath as mp
import numpy as np
from scipy.special import erfcx

mp.mp.dps = 40
TARGET64 = mp.mpf(2) ** -57
TAIL_START = 3
TAIL_END = 28  # erfc(27.3) underflows in float64
U_LO, U_HI = mp.mpf(1) / TAIL_END**2, mp.mpf(1) / TAIL_START**2
U_MID = (U_LO + U_HI) / 2


def erfcx_mp(x):
    return mp.erfc(x) * mp.exp(x * x)


def least_degree(f, lo, hi, scale):
    for n in range(4, 40):
        coeffs, err = mp.chebyfit(f, [lo, hi], n + 1, error=True)
        if err / scale < TARGET64:
            return coeffs[::-1], err / scale  # lowest degree first
    raise RuntimeError("no degree reaches the target")


def ts_array(values, per_line=3):
    parts = [repr(float(v)) for v in values]
    return "[" + ", ".join(parts) + "]"


def fit64():
    print("// --- float64 (erfc64-coefficients.ts) ---")
    mids = [mp.mpf(m) / 4 for m in (3, 5, 7, 9, 11)]  # 0.75 .. 2.75
    for mid in mids:
        f = lambda s, mid=mid: erfcx_mp(mid + s)
        coeffs, rel = least_degree(f, -0.25, 0.25, erfcx_mp(mid + 0.25))
        print(f"// mid {mid}: degree {len(coeffs) - 1}, relative error 2^{float(mp.log(rel, 2)):.1f}")
        print(f"{{ mid: {float(mid)}, coefficients: {ts_array(coeffs)} }},")
    h = lambda u: (lambda x: x * erfcx_mp(x))(1 / mp.sqrt(u + U_MID))
    coeffs, rel = least_degree(h, U_LO - U_MID, U_HI - U_MID, 1 / mp.sqrt(mp.pi))
    terms = sum(abs(c) * (U_HI - U_MID) ** i for i, c in enumerate(coeffs))
    print(f"// tail: U_MID {float(U_MID)!r}, degree {len(coeffs) - 1}, relative error "
          f"2^{float(mp.log(rel, 2)):.1f}, sum of |terms| / value {float(terms / h(U_HI - U_MID)):.3f}")
    print(f"TAIL = {ts_array(coeffs)}")


def f32(v):
    return float(np.float32(v))


def lawson(basis, target, weight, fixed, iters=400):
    """Minimax of |weight * (basis @ c + fixed - target)| by Lawson's iteration."""
    w = np.full(len(target), 1 / len(target))
    best = None
    for _ in range(iters):
        sw = np.sqrt(w) * weight
        c, *_ = np.linalg.lstsq(basis * sw[:, None], (target - fixed) * sw, rcond=None)
        err = weight * (basis @ c + fixed - target)
        e = np.abs(err).max()
        if best is None or e < best[0]:
            best = (e, c)
        w = w * np.abs(err)
        w /= w.sum()
    return best[1]


def round_one_by_one(solve, count):
    """Rounds coefficient i to float32 with 0..i-1 already rounded and i+1.. refitted."""
    rounded = []
    for i in range(count):
        free = solve(rounded)
        rounded.append(f32(free[0]))
    return rounded


def fit_exp32():
    # e^r = 1 + r + r^2 P(r) on |r| <= 0.39; the error that matters is r^2 dP / e^r.
    r = np.linspace(-0.39, 0.39, 4001)
    r = r[r != 0]
    target = np.expm1(r) - r
    degree = 4

    def solve(rounded):
        k = len(rounded)
        fixed = sum(c * r ** (i + 2) for i, c in enumerate(rounded)) if rounded else 0 * r
        basis = np.stack([r ** (i + 2) for i in range(k, degree + 1)], axis=1)
        return lawson(basis, target, 1 / np.exp(r), fixed)

    coeffs = round_one_by_one(solve, degree + 1)
    mpe = max(abs((1 + mp.mpf(x) + mp.mpf(x) ** 2 * sum(mp.mpf(c) * mp.mpf(x) ** i for i, c in enumerate(coeffs))) / mp.exp(x) - 1) for x in np.linspace(-0.39, 0.39, 2001))
    print(f"// exp polynomial: relative error of e^r 2^{float(mp.log(mpe, 2)):.1f}")
    print(f"EXP_POLY = {ts_array(coeffs)}")


def fit_rational32(scale=1.0, hi=10.1, names=("SQRT_PI", "G_N", "G_Q")):
    # 1/erfcx(scale a) = C a + G(a), C = f32(sqrt(pi) scale), G = P(a) / Q(a), P of degree 4, Q
    # of degree 5, P(0) = Q(0) = 1. An error dG moves erfcx by dG erfcx relatively, so that is
    # what is minimised. Linearised: (P - G Q) erfcx / Qprev, Qprev the previous iteration's Q
    # (Loeb). scale = 1 is erfc's own form; scale = 1/sqrt(2) is gelu's, in x itself.
    n, m = 4, 5
    a = hi / 2 + hi / 2 * np.cos(np.pi * (np.arange(6000) + 0.5) / 6000)
    e = erfcx(scale * a)
    c_lead = f32(np.sqrt(np.pi) * scale)
    g = 1 / e - c_lead * a
    columns = {("p", i): a**i for i in range(1, n + 1)}
    columns.update({("q", i): -g * a**i for i in range(1, m + 1)})
    keys = list(columns)

    def solve(rounded):
        fixed = 1 - g + sum(c * columns[key] for key, c in zip(keys, rounded))
        free = keys[len(rounded) :]
        basis = np.stack([columns[key] for key in free], axis=1)
        q = np.ones_like(a)
        c = None
        for _ in range(8):
            c = lawson(basis, 0 * a, e / q, fixed, iters=150)
            coeffs = list(rounded) + list(c)
            q = 1 + sum(coeffs[n + i - 1] * a**i for i in range(1, m + 1))
        return c

    coeffs = round_one_by_one(solve, n + m)
    p = [1.0] + coeffs[:n]
    q = [1.0] + coeffs[n:]

    # G = 1 - a N(a) / Q(a) with N = (Q - P) / a: all of N's coefficients are positive, and the
    # denominator becomes 1 + a (C - N/Q), exact to first order for small a. q_i - p_i is
    # rounded to float32 (some are inexact), so the error is measured on that form.
    nc = [f32(q[i] - p[i]) for i in range(1, n + 1)] + [q[m]]
    s = mp.mpf(scale)

    def erfcx_fit(x):
        return 1 / (1 + x * (c_lead - mp.polyval(nc[::-1], x) / mp.polyval(q[::-1], x)))

    worst = max(abs(erfcx_fit(mp.mpf(x)) / erfcx_mp(s * mp.mpf(x)) - 1) for x in np.linspace(0, hi, 3001))
    print(f"// scale {scale}, [0, {hi}]: 1 / (1 + a (C - N/Q)): relative error of erfcx 2^{float(mp.log(worst, 2)):.1f}")
    print(f"{names[0]} = {c_lead!r}")
    print(f"{names[1]} = {ts_array(nc)}")
    print(f"{names[2]} = {ts_array(q)}")


if __name__ == "__main__":
    fit64()
    fit_exp32()
    fit_rational32()
    fit_rational32(1 / np.sqrt(2), 15, ("SQRT_HALF_PI", "PHI_N", "PHI_Q"))

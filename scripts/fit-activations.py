#!/usr/bin/env python3
"""Polynomial fits used by src/ops/activations/from-input.ts, self-gated.ts and gaussian.ts, with their float32
errors.

    python3 scripts/fit-activations.py      (needs mpmath and numpy)

Each fit is a near-minimax (Lawson-reweighted least squares at Chebyshev nodes, in mpmath's
precision) of a function of z = x^2 on [0, 1], in relative error; coefficients are rounded to
float32 and the rounded polynomial is checked in float32 Horner arithmetic on a dense grid.
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 40


def tanh_shrink_ratio(z):  # (x - tanh x) / x^3
    if z == 0:
        return mp.mpf(1) / 3
    x = mp.sqrt(z)
    return (x - mp.tanh(x)) / x**3


def tanh_square_ratio(z):  # tanh(x)^2 / x^2
    if z == 0:
        return mp.mpf(1)
    x = mp.sqrt(z)
    return (mp.tanh(x) / x) ** 2


def fit(f, degree, lo=0.0, hi=1.0, nodes=400, rounds=60):
    t = [mp.cos(mp.pi * (k + mp.mpf(1) / 2) / nodes) for k in range(nodes)]
    zs = [lo + (hi - lo) * (tk + 1) / 2 for tk in t]
    fs = [f(z) for z in zs]
    w = np.ones(nodes)
    for _ in range(rounds):
        a = np.array([[float(z**j / fz) * w[i] for j in range(degree + 1)] for i, (z, fz) in enumerate(zip(zs, fs))])
        b = w.copy()
        c, *_ = np.linalg.lstsq(a, b, rcond=None)
        err = np.abs(a @ c / w - 1)
        w = w * err ** 0.5
        w /= w.sum() / nodes
    return [float(np.float32(v)) for v in c]


def check(f, coefficients, lo=0.0, hi=1.0, n=20000):
    worst = 0.0
    cs = [np.float32(c) for c in coefficients]
    for z in np.linspace(lo, hi, n, dtype=np.float64):
        z32 = np.float32(z)
        acc = cs[-1]
        for c in reversed(cs[:-1]):
            acc = np.float32(np.float32(acc * z32) + c)
        exact = f(mp.mpf(float(z32)))
        worst = max(worst, abs(float((mp.mpf(float(acc)) - exact) / exact)))
    return worst / 2**-24  # in units of 2^-24 relative (about an ULP)


def fit_sequential(f, degree, lo, hi, nodes=300, rounds=30):
    """Relative fit of f on [lo, hi], one coefficient at a time, lowest first: each is fitted
    (reweighted least squares as in fit) with the ones below it already rounded to float32 and
    fixed, so the higher ones absorb that rounding. The gelu fits below come from this."""
    ts = [lo + (hi - lo) * (mp.cos(mp.pi * (k + mp.mpf(1) / 2) / nodes) + 1) / 2 for k in range(nodes)]
    fs = [f(t) for t in ts]
    a = np.array([[float(t**j / ft) for j in range(degree + 1)] for t, ft in zip(ts, fs)])
    fixed = []
    for j in range(degree + 1):
        rhs = 1 - a[:, :j] @ np.array(fixed) if j else np.ones(nodes)
        w = np.ones(nodes)
        for _ in range(rounds):
            c, *_ = np.linalg.lstsq(a[:, j:] * w[:, None], rhs * w, rcond=None)
            err = np.abs(a[:, j:] @ c - rhs)
            w = w * (err + 1e-30) ** 0.5
            w /= w.sum() / nodes
        fixed.append(float(np.float32(c[0])))
    return fixed


def gauss_phi(x):  # the standard normal density
    return mp.exp(-x * x / 2) / mp.sqrt(2 * mp.pi)


def gauss_cdf(x):  # Phi(x)
    return mp.erfc(-x / mp.sqrt(2)) / 2


def gelu_derivative(x):  # Phi(x) + x phi(x)
    return gauss_cdf(x) + x * gauss_phi(x)


GELU_X0 = mp.findroot(gelu_derivative, -0.75)  # -0.7517915246935644...


def gelu_root_ratio(t):
    """P(t) = h(x0 + t) / t / sqrt(2 pi), h = Phi/phi + x, so that gelu'(x) = e^(-x^2/2) t P(t),
    t = x - x0 (GELU_ROOT_POLY, fitted on x in [-3, 0]); P(0) = h'(x0) / sqrt(2 pi) = (2 - x0^2) /
    sqrt(2 pi), since Phi/phi = -x0 at the root."""
    if t == 0:
        return (2 - GELU_X0**2) / mp.sqrt(2 * mp.pi)
    x = GELU_X0 + t
    return (gauss_cdf(x) / gauss_phi(x) + x) / t / mp.sqrt(2 * mp.pi)


def mills_s(w):
    """S(w) = -x Phi(x) / phi(x), x = -1/sqrt(w) (millsS, fitted on x <= -3: w in [0, 1/9]);
    S(0) = 1, the limit, which fit_sequential's first coefficient keeps."""
    if w == 0:
        return mp.mpf(1)
    u = 1 / mp.sqrt(w)
    return u * gauss_cdf(-u) / gauss_phi(u)


for name, f, degree in [("TANH_SHRINK_POLY", tanh_shrink_ratio, 8), ("TANH_SQUARE_POLY", tanh_square_ratio, 8)]:
    c = fit(f, degree)
    print(f"const {name} = {c};  // float32 Horner error {check(f, c):.2f} x 2^-24")


# gaussian.ts: the root of gelu's derivative as float32 hi + lo, and its two fits. Their errors
# print relative to 2^-24; P lies in [0.48, 0.67] and S in [0.9, 1], so in ULPs of the result
# they are about 0.7 and 0.6.
x0_hi = float(np.float32(float(GELU_X0)))
x0_lo = float(np.float32(float(GELU_X0 - x0_hi)))
print(f"GELU_X0_HI = {x0_hi}; GELU_X0_LO = {x0_lo}")
lo, hi = -3 - float(GELU_X0), -float(GELU_X0)
c = fit_sequential(gelu_root_ratio, 12, lo, hi)
print(f"GELU_ROOT_POLY = {c};  // float32 Horner error {check(gelu_root_ratio, c, lo, hi):.2f} x 2^-24")
c = fit_sequential(mills_s, 9, 0, 1 / 9)
print(f"millsS = {c};  // float32 Horner error {check(mills_s, c, 0, 1 / 9):.2f} x 2^-24")


# self-gated.ts: mish' = t P(th) on [-2, 0), t = x - x0, th = x - MISH_X0_HI.
def mish_derivative(x):  # tanh(sp) + x sigmoid(x) sech^2(sp), sp = softplus(x)
    th = mp.tanh(mp.log1p(mp.exp(x)))
    return th + x * (1 - th * th) / (1 + mp.exp(-x))


MISH_X0 = mp.findroot(mish_derivative, -1.19)  # -1.1924312145154952...


def mish_root_ratio(t):
    return mp.diff(mish_derivative, MISH_X0) if t == 0 else mish_derivative(MISH_X0 + t) / t


lo, hi = -2 - float(MISH_X0), -float(MISH_X0)
c = fit_sequential(mish_root_ratio, 11, lo, hi)
print(f"MISH_ROOT_POLY = {c};  // float32 Horner error {check(mish_root_ratio, c, lo, hi):.2f} x 2^-24")


# from-input.ts: silu' = s (1 + z (1 - s)), a function of z = beta x, is t P(th) on [-2, 0),
# t = z - z0, th = z - Z0_HI.
def silu_derivative(z):
    s = 1 / (1 + mp.exp(-z))
    return s * (1 + z * (1 - s))


SILU_Z0 = mp.findroot(silu_derivative, -1.2785)  # -1.2784645427610738...


def silu_root_ratio(t):
    return mp.diff(silu_derivative, SILU_Z0) if t == 0 else silu_derivative(SILU_Z0 + t) / t


lo, hi = -2 - float(SILU_Z0), -float(SILU_Z0)
c = fit_sequential(silu_root_ratio, 10, lo, hi)
print(f"SILU_ROOT_POLY = {c};  // float32 Horner error {check(silu_root_ratio, c, lo, hi):.2f} x 2^-24")


# self-gated.ts: geluTanh' = t P(th) on [-1.2, 0), t = x - x0, th = x - GT_X0_HI.
GT_C = mp.sqrt(2 / mp.pi)


def gelu_tanh_derivative(x):  # (1 + tanh u) / 2 + x (1 - tanh^2 u) u' / 2, u = c (x + 0.044715 x^3)
    u = GT_C * (x + mp.mpf("0.044715") * x**3)
    th = mp.tanh(u)
    return (1 + th) / 2 + x * (1 - th * th) * GT_C * (1 + 3 * mp.mpf("0.044715") * x * x) / 2


GT_X0 = mp.findroot(gelu_tanh_derivative, -0.7525)  # -0.7524614220710163...


def gelu_tanh_root_ratio(t):
    return mp.diff(gelu_tanh_derivative, GT_X0) if t == 0 else gelu_tanh_derivative(GT_X0 + t) / t


lo, hi = -1.2 - float(GT_X0), -float(GT_X0)
c = fit_sequential(gelu_tanh_root_ratio, 10, lo, hi)
print(f"GT_ROOT_POLY = {c};  // float32 Horner error {check(gelu_tanh_root_ratio, c, lo, hi):.2f} x 2^-24")

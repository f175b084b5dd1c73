#!/usr/bin/env python3
"""Polynomial fits used by src/ops/activations/from-input.ts, with their float32 errors.

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


for name, f, degree in [("TANH_SHRINK_POLY", tanh_shrink_ratio, 8), ("TANH_SQUARE_POLY", tanh_square_ratio, 8)]:
    c = fit(f, degree)
    print(f"const {name} = {c};  // float32 Horner error {check(f, c):.2f} x 2^-24")

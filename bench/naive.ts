// The naive JavaScript loop: what a user would write without a library, one Math call per element
// over Float32Arrays, into a preallocated output. One function per activation and direction, so
// that V8 compiles each loop for its own body. Written for PuzzleLib's seven (CORE_FUNCTIONS);
// the others are left out: they have no one obvious form (gelu needs an erf that Math lacks).

import type { CORE_NAMES } from "../src/ops/activations/core.js";

type Core = (typeof CORE_NAMES)[number];

/** out[i] = f(x[i]). */
export type NaiveForward = (x: Float32Array, out: Float32Array, args: readonly number[]) => void;
/** out[i] = f'(g[i], y[i]), from the forward output y. */
export type NaiveBackward = (
  g: Float32Array,
  y: Float32Array,
  out: Float32Array,
  args: readonly number[],
) => void;

export const NAIVE_FORWARD: Record<Core, NaiveForward> = {
  sigmoid: (x, out) => {
    for (let i = 0; i < x.length; i++) out[i] = 1 / (1 + Math.exp(-x[i]!));
  },
  tanh: (x, out) => {
    for (let i = 0; i < x.length; i++) out[i] = Math.tanh(x[i]!);
  },
  relu: (x, out) => {
    for (let i = 0; i < x.length; i++) out[i] = x[i]! > 0 ? x[i]! : 0;
  },
  leakyRelu: (x, out, [alpha = 0]) => {
    const a = Math.fround(alpha);
    for (let i = 0; i < x.length; i++) out[i] = x[i]! >= 0 ? x[i]! : a * x[i]!;
  },
  elu: (x, out, [alpha = 0]) => {
    const a = Math.fround(alpha);
    for (let i = 0; i < x.length; i++) out[i] = x[i]! > 0 ? x[i]! : a * Math.expm1(x[i]!);
  },
  softPlus: (x, out) => {
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      out[i] = Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
    }
  },
  clip: (x, out, [lo = 0, hi = 0]) => {
    const [a, b] = [Math.fround(lo), Math.fround(hi)];
    for (let i = 0; i < x.length; i++) out[i] = Math.min(Math.max(x[i]!, a), b);
  },
};

export const NAIVE_BACKWARD: Record<Core, NaiveBackward> = {
  sigmoid: (g, y, out) => {
    for (let i = 0; i < g.length; i++) out[i] = g[i]! * y[i]! * (1 - y[i]!);
  },
  tanh: (g, y, out) => {
    for (let i = 0; i < g.length; i++) out[i] = g[i]! * (1 - y[i]!) * (1 + y[i]!);
  },
  relu: (g, y, out) => {
    for (let i = 0; i < g.length; i++) out[i] = y[i]! > 0 ? g[i]! : 0;
  },
  leakyRelu: (g, y, out, [alpha = 0]) => {
    const a = Math.fround(alpha);
    for (let i = 0; i < g.length; i++) out[i] = y[i]! > 0 ? g[i]! : a * g[i]!;
  },
  elu: (g, y, out, [alpha = 0]) => {
    const a = Math.fround(alpha);
    for (let i = 0; i < g.length; i++) out[i] = y[i]! > 0 ? g[i]! : g[i]! * (y[i]! + a);
  },
  softPlus: (g, y, out) => {
    for (let i = 0; i < g.length; i++) out[i] = -g[i]! * Math.expm1(-y[i]!);
  },
  clip: (g, y, out, [lo = 0, hi = 0]) => {
    const [a, b] = [Math.fround(lo), Math.fround(hi)];
    for (let i = 0; i < g.length; i++) out[i] = a < y[i]! && y[i]! < b ? g[i]! : 0;
  },
};

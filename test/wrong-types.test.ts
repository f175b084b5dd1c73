// Every public entry point, given values of the wrong type or range, as a JavaScript user (no
// TypeScript) passes them: each call succeeds or throws the library's own ModuleError or
// BackendError, with a one-line message of bounded length; never a bare TypeError or RangeError
// from deep inside, and never a hang. The values are drawn with a fixed seed.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Activation,
  BackendError,
  Blueprint,
  ModuleError,
  gpuarray,
  keep,
  np,
  setBackend,
  slice,
  tidy,
} from "../src/index.js";
import { mulberry32 } from "./seeded.js";

const deep = (levels: number): unknown => {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = [value];
  return value;
};

/** Values a caller can pass by mistake: wrong types, extremes, and shapes of the wrong kind. */
const FIXED: unknown[] = [
  null,
  undefined,
  1n,
  2n ** 70n,
  Symbol("s"),
  "",
  "relu ",
  "x".repeat(10_000),
  "a\u0000\u001b[31mb\n",
  true,
  NaN,
  Infinity,
  -Infinity,
  -1,
  -0,
  1.5,
  2 ** 40,
  2 ** 53,
  1e308,
  -1e308,
  5e-324,
  {},
  [],
  [null],
  ["3"],
  [1, [2]],
  [[1, 2], [3]],
  [-1],
  [2 ** 40, 2 ** 40],
  new Array(40).fill(1),
  deep(20_000),
  () => 1,
  new Date(0),
  new Map(),
  new BigInt64Array([1n]),
  new Float32Array(2),
  new Uint8Array([1, 2]),
  new DataView(new ArrayBuffer(4)),
  Object.create(null),
  { start: 0, stop: "2" },
  { toString: () => "boom", valueOf: () => 7 },
];

function randomValue(random: () => number): unknown {
  const pick = random();
  if (pick < 0.55) return FIXED[Math.floor(random() * FIXED.length)];
  if (pick < 0.7) return Math.floor((random() - 0.5) * 2 ** Math.floor(random() * 60));
  if (pick < 0.8) return (random() - 0.5) * 10 ** Math.floor(random() * 40 - 20);
  if (pick < 0.9) {
    const length = Math.floor(random() * 5);
    return Array.from({ length }, () => (random() < 0.5 ? Math.floor(random() * 4) : FIXED[0]));
  }
  return String.fromCharCode(...Array.from({ length: 8 }, () => Math.floor(random() * 0x10000)));
}

type Entry = [name: string, call: (value: any) => unknown];

const relu = () => new Activation("relu");
const ready = () => {
  const act = relu();
  act.forward(gpuarray.toGpu(np.array([-1, 2], "float32")));
  return act;
};

const ENTRIES: Entry[] = [
  ["np.array(v)", (v) => np.array(v)],
  ["np.array([1], v)", (v) => np.array([1], v)],
  ["np.zeros(v)", (v) => np.zeros(v)],
  ["np.zeros([2], v)", (v) => np.zeros([2], v)],
  ["np.empty(v)", (v) => np.empty(v)],
  ["np.random.seed(v)", (v) => np.random.seed(v)],
  ["np.random.randint(v, 5)", (v) => np.random.randint(v, 5)],
  ["np.random.randint(0, v)", (v) => np.random.randint(0, v)],
  ["np.random.randint(0, 5, v)", (v) => np.random.randint(0, 5, v)],
  ["np.random.randn(v)", (v) => np.random.randn(v)],
  ["np.random.rand(2, v)", (v) => np.random.rand(2, v)],
  ["new np.random.RandomState(v)", (v) => new np.random.RandomState(v)],
  ["NDArray.reshape(v)", (v) => np.zeros([2, 3]).reshape(v)],
  ["NDArray.astype(v)", (v) => np.zeros([2]).astype(v)],
  ["NDArray.item(v)", (v) => np.zeros([2]).item(v)],
  ["gpuarray.toGpu(v)", (v) => gpuarray.toGpu(v)],
  ["gpuarray.empty(v)", (v) => gpuarray.empty(v)],
  ["gpuarray.empty([2], v)", (v) => gpuarray.empty([2], v)],
  ["gpuarray.zeros(v)", (v) => gpuarray.zeros(v)],
  ["keep(v)", (v) => keep(v)],
  ["tidy(v)", (v) => tidy(v)],
  ["slice(v)", (v) => slice(v)],
  ["slice(0, v, v)", (v) => slice(0, v, v)],
  ["new Activation(v)", (v) => new Activation(v)],
  ["new Activation(relu, v)", (v) => new Activation("relu", v)],
  ["new Activation(relu, {slc: v})", (v) => new Activation("relu", { slc: v })],
  ["new Activation(relu, {inplace: v})", (v) => new Activation("relu", { inplace: v })],
  ["new Activation(relu, {name: v})", (v) => new Activation("relu", { name: v })],
  ["new Activation(clip, {args: v})", (v) => new Activation("clip", { args: v })],
  ["new Activation(leakyRelu, {args: [v]})", (v) => new Activation("leakyRelu", { args: [v] })],
  ["act.forward(v)", (v) => relu().forward(v)],
  ["act.backward(v)", (v) => ready().backward(v)],
  ["act.backward(g, v)", (v) => ready().backward(gpuarray.toGpu(np.array([1, 1], "float32")), v)],
  [
    "act.backward(g, {scale: v, updGrad: v})",
    (v) => ready().backward(gpuarray.toGpu(np.array([1, 1], "float32")), { scale: v, updGrad: v }),
  ],
  ["act.calcMode(v)", (v) => relu().calcMode(v)],
  ["Blueprint.build(v)", (v) => Blueprint.build(v)],
  ["Blueprint.build({classname: v})", (v) => Blueprint.build({ classname: v, scheme: {} })],
  [
    "Blueprint.build({Activation, scheme: v})",
    (v) => Blueprint.build({ classname: "Activation", scheme: v }),
  ],
  [
    "Blueprint.build({Activation, scheme: {activation: relu, slc: v}})",
    (v) => Blueprint.build({ classname: "Activation", scheme: { activation: "relu", slc: v } }),
  ],
  ["setBackend(v)", (v) => setBackend(v)],
  ["setBackend(cpu, v)", (v) => setBackend("cpu", v)],
  ["setBackend(cpu, {threads: v})", (v) => setBackend("cpu", { threads: v })],
];

const CASES_PER_ENTRY = 24;
const MESSAGE_LIMIT = 400;

/** What a call did: "ok", or the error's class and message; a rejected Promise is awaited. */
async function outcome(call: () => unknown): Promise<"ok" | Error | unknown> {
  try {
    const result = call();
    if (result instanceof Promise) await result;
    return "ok";
  } catch (error) {
    return error;
  }
}

function show(value: unknown): string {
  if (typeof value === "number") return String(value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "symbol" || typeof value === "function") return typeof value;
  if (typeof value === "string") return JSON.stringify(value.slice(0, 40));
  try {
    const text = JSON.stringify(value);
    return text === undefined ? String(value) : text.slice(0, 60);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

describe("wrong types and ranges at every entry point", () => {
  it(`${ENTRIES.length} entry points x ${CASES_PER_ENTRY} values (seed 11): library errors only`, async () => {
    const random = mulberry32(11);
    const problems: string[] = [];
    let thrown = 0;
    for (const [name, call] of ENTRIES) {
      for (let i = 0; i < CASES_PER_ENTRY; i++) {
        const value = i < FIXED.length && i % 2 === 0 ? FIXED[i] : randomValue(random);
        const result = await outcome(() => call(value));
        if (result === "ok") continue;
        thrown++;
        const ours = result instanceof ModuleError || result instanceof BackendError;
        const message = result instanceof Error ? result.message : String(result);
        if (!ours) {
          problems.push(`${name} with ${show(value)}: ${String(result).slice(0, 200)}`);
        } else if (message.length > MESSAGE_LIMIT || message.includes("\n")) {
          problems.push(`${name} with ${show(value)}: message of ${message.length} characters`);
        }
      }
    }
    await setBackend("cpu", { threads: 1 });
    assert.deepEqual(
      problems,
      [],
      `${problems.length} calls failed badly:\n${problems.join("\n")}`,
    );
    assert.ok(thrown > ENTRIES.length * 4, `only ${thrown} calls threw: the values are too tame`);
  });

  // The cases the adversarial pass found, each with the class it must throw.
  const MUST_THROW: [string, () => unknown, typeof ModuleError | typeof BackendError, RegExp][] = [
    ["np.zeros([2**40])", () => np.zeros([2 ** 40]), BackendError, /cannot allocate/],
    ["np.array 20,000 deep", () => np.array(deep(20_000) as never), BackendError, /32 levels/],
    ["np.zeros(null)", () => np.zeros(null as never), BackendError, /got null/],
    [
      "np.array(BigInt64Array)",
      () => np.array(new BigInt64Array([1n]) as never),
      BackendError,
      /BigInt64Array/,
    ],
    [
      "new Activation(1n)",
      () => new Activation(1n as never),
      ModuleError,
      /unknown activation the BigInt 1n/,
    ],
    [
      "act.backward(g, null)",
      () => ready().backward(gpuarray.toGpu(np.array([1, 1], "float32")), null as never),
      ModuleError,
      /got null/,
    ],
    ["setBackend(cpu, null)", () => setBackend("cpu", null as never), BackendError, /got null/],
    [
      "setBackend(cpu, {threads: 1e9})",
      () => setBackend("cpu", { threads: 1e9 }),
      BackendError,
      /threads must be at most \d+/,
    ],
    [
      "slc: [0, 2]",
      () => new Activation("relu", { slc: [0, 2] as never }),
      ModuleError,
      /got an array of length 2; write slice/,
    ],
    [
      "slc: {start: 0, end: 2}",
      () => new Activation("relu", { slc: { start: 0, end: 2 } as never }),
      ModuleError,
      /unknown key "end"/,
    ],
    ["np.array([[...33 levels]])", () => np.array(deep(33) as never), BackendError, /32 levels/],
    [
      "gpuarray.empty(new Array(33).fill(1))",
      () => gpuarray.empty(new Array(33).fill(1)),
      BackendError,
      /at most 32 dimensions/,
    ],
  ];
  for (const [what, call, kind, message] of MUST_THROW) {
    it(`${what} throws ${kind.name} ${message}`, async () => {
      const result = await outcome(call);
      assert.ok(result instanceof kind, `${what}: got ${String(result)}`);
      assert.match((result as Error).message, message);
    });
  }

  it("np.zeros(5) and gpuarray.empty(5) / zeros(5) agree: a number is a 1-d shape", async () => {
    assert.deepEqual(np.zeros(5).shape, [5]);
    assert.deepEqual(gpuarray.empty(5).shape, [5]);
    assert.deepEqual([...(await gpuarray.zeros(5).get()).data], [0, 0, 0, 0, 0]);
  });

  it("a threads count that is refused starts no worker and leaves the backend usable", async () => {
    await assert.rejects(setBackend("cpu", { threads: 200 }), BackendError);
    const act = new Activation("relu");
    const y = await act.forward(gpuarray.toGpu(np.array([-1, 2], "float32"))).get();
    assert.deepEqual([...y.data], [0, 2]);
  });

  it("data of a dtype no calcMode takes gets advice that works", async () => {
    const act = new Activation("relu");
    const host = np.array([-1, 2]); // int32
    const error = await outcome(() => act.forward(gpuarray.toGpu(host)));
    assert.ok(error instanceof ModuleError);
    assert.doesNotMatch(error.message, /calcMode/);
    const advice = /e\.g\. (gpuarray\.toGpu\(host\.astype\("(\w+)"\)\))/.exec(error.message);
    assert.ok(advice, error.message);
    // The advice, followed: it works.
    const y = await act.forward(gpuarray.toGpu(host.astype(advice[2] as "float32"))).get();
    assert.deepEqual([...y.data], [0, 2]);
    // float16 data does take calcMode, and the advice says so.
    const half = await outcome(() => act.forward(gpuarray.toGpu(np.array([1], "float16"))));
    assert.match((half as Error).message, /call calcMode\("float16"\)/);
  });
});

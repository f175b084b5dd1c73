// Measures the worst error of every activation, per direction and dtype, on one backend, against
// the float64 oracles of the tests, over a strided sweep of all 2^32 float32 bit patterns (and all
// 65,536 halves). It prints the README's numerics table rows. Not a test: it takes minutes.
//
//   node --import tsx scripts/accuracy.ts --backend webgpu [--stride 257] [--functions silu,gelu]

import { parseArgs } from "node:util";
import { Activation, gpuarray, np, setBackend, type BackendName } from "../src/index.js";
import { currentBackend } from "../src/backends/registry.js";
import { halfToNumber } from "../src/host/float16.js";
import {
  backward,
  CONFIGS,
  err16,
  err32,
  forward,
  label,
  type Config,
} from "../test/reference/oracles.js";

const { values } = parseArgs({
  options: {
    backend: { type: "string", default: "cpu" },
    stride: { type: "string", default: "257" },
    functions: { type: "string" },
  },
});
const only = values.functions?.split(",");
const backend = values.backend as BackendName;
const stride = Number(values.stride);
const CHUNK = 1 << 22;

interface Worst {
  ulp: number;
  at: string;
}
const worse = (w: Worst, ulp: number, at: () => string): void => {
  if (ulp > w.ulp) Object.assign(w, { ulp, at: at() });
};

/** A pseudo-random float32 bit pattern per index: g covers the whole range, NaN and Inf included. */
const gradientBits = (i: number): number => Math.imul(i + 1, 0x9e3779b1) >>> 0;

async function float32(config: Config): Promise<[Worst, Worst, number]> {
  const fwd = { ulp: 0, at: "" };
  const bwd = { ulp: 0, at: "" };
  let count = 0;
  const act = new Activation(config.name, { args: [...config.args] });
  for (let start = 0; start < 2 ** 32; start += CHUNK * stride) {
    const n = Math.min(CHUNK, Math.ceil((2 ** 32 - start) / stride));
    const bits = new Uint32Array(n);
    const gBits = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      bits[i] = start + i * stride;
      gBits[i] = gradientBits(start / stride + i);
    }
    const x = new Float32Array(bits.buffer);
    const g = new Float32Array(gBits.buffer);
    const y = (await act.forward(gpuarray.toGpu(np.array(x))).get()).data as Float32Array;
    const gx = (await act.backward(gpuarray.toGpu(np.array(g))).get()).data;
    for (let i = 0; i < n; i++) {
      worse(fwd, err32(y[i]!, forward(config.name, x[i]!, config.args)), () => `x=${x[i]}`);
      const want = backward(config.name, g[i]!, { x: x[i]!, y: y[i]! }, config.args);
      worse(bwd, err32(gx[i]!, want), () => `g=${g[i]} y=${y[i]}`);
    }
    count += n;
  }
  return [fwd, bwd, count];
}

async function float16(config: Config): Promise<[Worst, Worst]> {
  const fwd = { ulp: 0, at: "" };
  const bwd = { ulp: 0, at: "" };
  const act = new Activation(config.name, { args: [...config.args] });
  act.calcMode("float16");
  const bits = new Uint16Array(65536).map((_, i) => i);
  const gBits = new Uint16Array(65536).map((_, i) => gradientBits(i) >>> 16);
  const y = (await act.forward(gpuarray.toGpu(np.array(bits, "float16"))).get()).data;
  const gx = (await act.backward(gpuarray.toGpu(np.array(gBits, "float16"))).get()).data;
  for (let i = 0; i < 65536; i++) {
    const x = halfToNumber(i);
    const yv = halfToNumber(y[i]!);
    worse(fwd, err16(y[i]!, forward(config.name, x, config.args)), () => `x=${x}`);
    const g = halfToNumber(gBits[i]!);
    worse(
      bwd,
      err16(gx[i]!, backward(config.name, g, { x, y: yv }, config.args)),
      () => `g=${g} y=${yv}`,
    );
  }
  return [fwd, bwd];
}

await setBackend(backend);
const started = Date.now();
const cpuInfo = (currentBackend() as { info?: { fusedMultiplyAdd?: boolean } }).info;
const fused =
  cpuInfo?.fusedMultiplyAdd === undefined
    ? ""
    : ` (fused multiply-add ${cpuInfo.fusedMultiplyAdd ? "on" : "off"})`;
console.log(
  `backend ${backend}${fused}, float32 inputs: every ${stride}th bit pattern; float16: all\n`,
);
console.log(
  "| function | float32 forward | float32 backward | float16 forward | float16 backward |",
);
console.log("|---|---|---|---|---|");
let inputs = 0;
for (const config of CONFIGS.filter((c) => only === undefined || only.includes(c.name))) {
  const [f32f, f32b, count] = await float32(config);
  const [f16f, f16b] = await float16(config);
  inputs = count;
  const cell = (w: Worst): string => (w.ulp === 0 ? "0" : `${w.ulp} (${w.at})`);
  console.log(
    `| ${label(config)} | ${cell(f32f)} | ${cell(f32b)} | ${cell(f16f)} | ${cell(f16b)} |`,
  );
}
console.log(
  `\n${inputs} float32 inputs per function; ${((Date.now() - started) / 1000).toFixed(0)} s`,
);

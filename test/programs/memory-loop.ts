// A user's training loop that never calls dispose(), run in a child process by memory.test.ts so
// that nothing else in the test run distorts the heap. Prints one JSON line: the backend's memory
// figures, RSS, and the last step's results with the inputs that made them.
//   node --import tsx test/programs/memory-loop.ts <variant> <steps> <backend>
// Variants: repeat (one module), chain (three modules), to-gpu (new toGpu inputs every step) or
// new-module (a new module every step, dropped with its outputs), each optionally with -yield (a
// macrotask every step) or -get (await get() every 100 steps).

import {
  Activation,
  gpuarray,
  np,
  setBackend,
  type BackendName,
  type GPUArray,
} from "../../src/index.js";

const [variant = "repeat", stepsText = "1000", backend = "cpu"] = process.argv.slice(2);
const [loop, pause] =
  variant.split("-yield").length > 1
    ? [variant.replace("-yield", ""), "yield"]
    : variant.endsWith("-get")
      ? [variant.replace("-get", ""), "get"]
      : [variant, "none"];
const steps = Number(stepsText);
await setBackend(backend as BackendName);

const N = 1 << 16;
np.random.seed(7);
const xHost = np.random.randn(N).astype("float32");
const gHost = np.random.randn(N).astype("float32");
const x = gpuarray.toGpu(xHost);
const g = gpuarray.toGpu(gHost);
const sigmoid = new Activation("sigmoid");
const chain = [sigmoid, new Activation("tanh"), new Activation("relu")];

let y: GPUArray = x;
let dx: GPUArray | null = null;
for (let step = 0; step < steps; step++) {
  if (loop === "chain") {
    y = chain.reduce((input, module) => module.forward(input), x);
    dx = chain.reduceRight<GPUArray>((grad, module) => module.backward(grad), g);
  } else if (loop === "new-module") {
    const module = new Activation("sigmoid");
    y = module.forward(x);
    dx = module.backward(g);
  } else if (loop === "to-gpu") {
    y = sigmoid.forward(gpuarray.toGpu(xHost));
    dx = sigmoid.backward(gpuarray.toGpu(gHost));
  } else {
    y = sigmoid.forward(x);
    dx = sigmoid.backward(g);
  }
  if (pause === "yield") await new Promise((resolve) => setImmediate(resolve));
  if (pause === "get" && step % 100 === 99) await y.get();
}

const stats =
  (x.backend as { info?: object; stats?: object }).info ?? (x.backend as { stats?: object }).stats;
console.log(
  JSON.stringify({
    backend: stats,
    rss: process.memoryUsage().rss,
    x: Array.from(xHost.data as Float32Array),
    g: Array.from(gHost.data as Float32Array),
    y: Array.from((await y.get()).data as Float32Array),
    dx: Array.from((await dx!.get()).data as Float32Array),
  }),
);

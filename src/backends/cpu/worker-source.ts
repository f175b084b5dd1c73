// The code of a cpu worker thread (see threads.ts), as text for `new Worker(code, { eval: true })`:
// one self-contained script works the same from TypeScript sources (the tests, under tsx) and
// from the built package, with no file to locate. It waits for jobs in its control block and
// runs them with the kernels the main thread posted, on the shared memory.

import { CONTROL } from "./threads-protocol.js";

export const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const C = ${JSON.stringify(CONTROL)};
const { memory, control } = workerData;
const params = new Float32Array(control.buffer, control.byteOffset, C.WORDS);
const kernels = new Map();
const arrivals = new Map();

parentPort.on("message", ({ kernel, module }) => {
  kernels.set(kernel, new WebAssembly.Instance(module, { env: { memory } }).exports);
  const arrived = arrivals.get(kernel);
  if (arrived) arrived();
});

// A job can overtake the message that carries its kernel: wait for the message.
async function kernelFor(id) {
  while (!kernels.has(id)) await new Promise((resolve) => arrivals.set(id, resolve));
  return kernels.get(id);
}

async function serve() {
  let seen = 0;
  for (;;) {
    // waitAsync keeps this thread's event loop free to receive kernels.
    const waiting = Atomics.waitAsync(control, C.SEQ, seen);
    if (waiting.async) await waiting.value;
    seen = Atomics.load(control, C.SEQ);
    // Take the job, unless the main thread took it back after waiting too long for this thread.
    if (Atomics.compareExchange(control, C.CLAIM, seen - 1, seen) !== seen - 1) continue;
    const run = await kernelFor(control[C.KERNEL]);
    const p = Array.from(params.subarray(C.PARAMS, C.PARAMS + 8));
    const [a, b, c, d] = control.subarray(C.RANGE, C.RANGE + 4);
    const pointers = [control[C.SCRATCH], control[C.OUT], control[C.IN0], control[C.IN1]];
    if (control[C.STRIDED] === 1) run.strided(...pointers, a, b, c, d, ...p);
    else run.contiguous(...pointers, a, b, ...p);
    Atomics.store(control, C.DONE, seen);
    Atomics.notify(control, C.DONE);
  }
}

serve();
parentPort.postMessage("ready");
`;

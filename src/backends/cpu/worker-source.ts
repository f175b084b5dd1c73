// The code of a cpu worker thread (see threads.ts), as text for `new Worker(code, { eval: true })`:
// one self-contained script works the same from TypeScript sources (the tests, under tsx) and
// from the built package, with no file to locate. It sleeps until a job is posted in the shared
// job block, then takes chunks of it until none is left, with the kernels the main thread
// posted, on the shared memory.

import { CHUNK_BITS, JOB } from "./threads-protocol.js";
import { PARAM_SLOTS } from "./wasm/kernel.js";

export const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const J = ${JSON.stringify(JOB)};
const CHUNK_BITS = ${CHUNK_BITS};
const PARAM_SLOTS = ${PARAM_SLOTS};
const { memory, block } = workerData;
let scratch = 0;
const params = new Float32Array(block.buffer, block.byteOffset, J.WORDS);
const kernels = new Map();
const arrivals = new Map();

parentPort.on("message", ({ kernel, module, scratchArea }) => {
  // The first message gives this thread's scratch area; it comes before any kernel's.
  if (scratchArea !== undefined) return void (scratch = scratchArea);
  kernels.set(kernel, new WebAssembly.Instance(module, { env: { memory } }).exports);
  const arrived = arrivals.get(kernel);
  if (arrived) arrived();
});

// A job can overtake the message that carries its kernel: wait for the message.
async function kernelFor(id) {
  while (!kernels.has(id)) await new Promise((resolve) => arrivals.set(id, resolve));
  return kernels.get(id);
}

/** Takes the next chunk of the job posted under this claim word's tag, or returns -1. */
function claim() {
  for (;;) {
    const word = Atomics.load(block, J.CLAIM);
    const chunk = word & ((1 << CHUNK_BITS) - 1);
    if (chunk >= Atomics.load(block, J.CHUNKS)) return -1;
    if (Atomics.compareExchange(block, J.CLAIM, word, word + 1) === word) return chunk;
  }
}

async function serve() {
  let seen = 0;
  for (;;) {
    // waitAsync keeps this thread's event loop free to receive kernels.
    const waiting = Atomics.waitAsync(block, J.SEQ, seen);
    if (waiting.async) await waiting.value;
    seen = Atomics.load(block, J.SEQ);
    for (let chunk = claim(); chunk >= 0; chunk = claim()) {
      // The block cannot change before this chunk is counted: the main thread waits for it.
      const run = await kernelFor(block[J.KERNEL]);
      const p = Array.from(params.subarray(J.PARAMS, J.PARAMS + PARAM_SLOTS));
      const size = block[J.CHUNK];
      const k0 = chunk * size;
      const k1 = Math.min(block[J.COUNT], k0 + size);
      const pointers = [scratch, block[J.OUT], block[J.IN0], block[J.IN1]];
      if (block[J.STRIDED] === 1) run.strided(...pointers, block[J.START], block[J.STEP], k0, k1, ...p);
      else run.contiguous(...pointers, block[J.START] + k0, block[J.START] + k1, ...p);
      Atomics.add(block, J.FINISHED, 1);
      Atomics.notify(block, J.FINISHED);
    }
  }
}

serve();
parentPort.postMessage("ready");
`;

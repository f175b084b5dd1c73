// numpy as the judge of .npy files: which ones it loads, with what shape and dtype, and how their
// values compare with relu of the input. One python3 process checks a whole batch.
// PUZZLELIB_PYTHON picks the interpreter (default python3); a missing numpy fails the tests that
// use it, with a message, rather than skipping them.

import { execFile } from "node:child_process";

export const PYTHON = process.env.PUZZLELIB_PYTHON ?? "python3";

export type Loaded =
  | { readonly ok: true; readonly shape: number[]; readonly descr: string }
  | { readonly ok: false; readonly error: string };

export interface ReluCheck {
  readonly input: Loaded;
  readonly output: Loaded;
  /** relu's output equals max(x, 0) wherever x is a number (NaN left out). */
  readonly valuesMatch: boolean;
}

const SCRIPT = String.raw`
import json, sys
import numpy as np

def load(path):
    try:
        a = np.load(path, allow_pickle=False)
        return a, {"ok": True, "shape": list(a.shape), "descr": a.dtype.str}
    except Exception as e:
        return None, {"ok": False, "error": type(e).__name__ + ": " + str(e)[:200]}

request = json.load(sys.stdin)
answer = {"numpy": np.__version__, "loads": [load(p)[1] for p in request["loads"]], "relu": []}
for src, dst in request["relu"]:
    x, xi = load(src)
    y, yi = load(dst)
    match = False
    if x is not None and y is not None and x.shape == y.shape:
        x32 = x.astype(np.float32)
        pos, neg = x32 > 0, x32 <= 0
        match = bool(np.array_equal(y[pos], x32[pos]) and np.all(y[neg] == 0))
    answer["relu"].append({"input": xi, "output": yi, "valuesMatch": match})
json.dump(answer, sys.stdout)
`;

/** Loads each file of `loads` with np.load, and checks each [input, output] pair of `relu`. */
export function numpyCheck(
  loads: readonly string[],
  relu: readonly (readonly [string, string])[] = [],
): Promise<{ numpy: string; loads: Loaded[]; relu: ReluCheck[] }> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      PYTHON,
      ["-c", SCRIPT],
      { encoding: "utf8", maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        if (error !== null) {
          reject(
            new Error(
              `${PYTHON} with numpy is needed to check .npy files (set PUZZLELIB_PYTHON to choose another): ${stderr || error.message}`,
            ),
          );
        } else {
          resolve(JSON.parse(stdout));
        }
      },
    );
    child.stdin!.end(JSON.stringify({ loads, relu }));
  });
}

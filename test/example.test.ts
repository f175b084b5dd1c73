// The example of PuzzleLib's Activation page (shared seed, activation.txt), verbatim.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, it } from "node:test";
import { Activation, gpuarray, np, setBackend } from "../src/index.js";

// The page prints the sigmoid with 8 to 11 digits from a GPU kernel; float32 carries about 7.
const PAGE_SIGMOID = [
  [0.95257413, 0.00033535017, 0.00033535017],
  [0.01798621, 0.999089, 0.99987662],
  [0.5, 0.00012339462, 0.000045397865],
];

describe("the documented example", () => {
  it("makes the page's data and prints it as numpy does", async () => {
    np.random.seed(123);
    const [h, w] = [3, 3];
    const data = gpuarray.toGpu(np.random.randint(-10, 10, [h, w]).astype("float32"));
    assert.equal(
      String(await data.get()),
      "[[  3.  -8.  -8.]\n [ -4.   7.   9.]\n [  0.  -9. -10.]]",
    );

    const sigmoid = await new Activation("sigmoid").forward(data).get();
    (sigmoid.toArray() as number[][]).flat().forEach((value, i) => {
      const page = PAGE_SIGMOID.flat()[i]!;
      assert.ok(
        Math.abs(value - page) <= 1e-6 * page,
        `sigmoid element ${i}: ${value} vs page ${page}`,
      );
    });
    // Printed as numpy prints these float32 values. The default cpu backend computes in float32
    // (as numpy's own float32 sigmoid, and the page, give 0.999089 for x = 7); the js backend
    // rounds the float64 sigmoid once, as numpy prints (1 / (1 + np.exp(-x64))).astype(float32).
    const printed = {
      cpu: " [1.7986210e-02 9.9908900e-01 9.9987662e-01]\n",
      js: " [1.7986210e-02 9.9908894e-01 9.9987662e-01]\n",
    };
    assert.equal(
      String(sigmoid),
      "[[9.5257413e-01 3.3535014e-04 3.3535014e-04]\n" +
        printed.cpu +
        " [5.0000000e-01 1.2339458e-04 4.5397868e-05]]",
    );
    await setBackend("js");
    const exact = await new Activation("sigmoid").forward(gpuarray.toGpu(await data.get())).get();
    await setBackend("cpu");
    assert.equal(
      String(exact),
      "[[9.5257413e-01 3.3535014e-04 3.3535014e-04]\n" +
        printed.js +
        " [5.0000000e-01 1.2339458e-04 4.5397868e-05]]",
    );

    const relu = await new Activation("relu").forward(data).get();
    assert.equal(String(relu), "[[3. 0. 0.]\n [0. 7. 9.]\n [0. 0. 0.]]");
  });

  it("runs as `puzzlelib demo` from the built package", () => {
    const output = execFileSync(process.execPath, ["dist/cli/main.js", "demo"], {
      encoding: "utf8",
    });
    assert.match(
      output,
      /\[\[ {2}3\. {2}-8\. {2}-8\.\]\n \[ -4\. {3}7\. {3}9\.\]\n \[ {2}0\. {2}-9\. -10\.\]\]/,
    );
    assert.match(output, /\[\[3\. 0\. 0\.\]\n \[0\. 7\. 9\.\]\n \[0\. 0\. 0\.\]\]/);
  });

  it("is importable by package name through the exports map", async () => {
    const root = await import("puzzlelib-ts");
    const backend = await import("puzzlelib-ts/backend");
    const modules = await import("puzzlelib-ts/modules");
    assert.equal(typeof root.np.array, "function");
    assert.equal(backend.getBackend(), "cpu");
    assert.deepEqual(Object.keys(backend).sort(), [
      "GPUArray",
      "getBackend",
      "gpuarray",
      "keep",
      "setBackend",
      "tidy",
    ]);
    assert.deepEqual(Object.keys(modules).sort(), [
      "Activation",
      "ActivationType",
      "Blueprint",
      "Module",
      "ModuleError",
      "slice",
    ]);
  });
});

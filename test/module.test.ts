// Module and Activation behaviour other than numerics: options, errors, aliasing, blueprints.

import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import {
  Activation,
  ActivationType,
  Blueprint,
  gpuarray,
  GPUArray,
  Module,
  ModuleError,
  np,
  slice,
} from "../src/index.js";
import { BACKENDS_UNDER_TEST, useBackend } from "./backends.js";

const f32 = (values: number[]): GPUArray => gpuarray.toGpu(np.array(values, "float32"));
const values = async (array: GPUArray): Promise<number[]> => Array.from((await array.get()).data);

for (const backend of BACKENDS_UNDER_TEST) {
  describe(`Activation on ${backend}`, () => {
    before(() => useBackend(backend));

    it("is a Module with PuzzleLib's defaults", () => {
      const act = new Activation(ActivationType.leakyRelu, { name: "act1" });
      assert.ok(act instanceof Module);
      assert.equal(String(act), "Module Activation (name: act1)");
      assert.deepEqual(act.args, [0.01]);
      assert.deepEqual(new Activation("elu").args, [1]);
      assert.deepEqual(new Activation("clip").args, [0, 6]);
      assert.deepEqual(new Activation("clip", { args: [-1, 1] }).args, [-1, 1]);
      assert.equal(act.calctype, "float32");
      assert.equal(act.train, true);
      assert.equal(act.numOfParams(), 0);
      assert.equal(act.paramSize(), 0);
      assert.deepEqual(act.dataShapeFrom([2, 3]), [2, 3]);
      assert.deepEqual(act.gradShapeFrom([4]), [4]);
      act.evalMode();
      assert.equal(act.train, false);
      act.trainMode();
      assert.equal(act.train, true);
    });

    it("leaves its input untouched and returns a new array when not in place", async () => {
      const x = f32([-2, -1, 0, 1, 2]);
      const act = new Activation("relu");
      const y = act.forward(x);
      assert.notEqual(y, x);
      assert.equal(act.inData, x);
      assert.equal(act.data, y);
      assert.deepEqual(await values(x), [-2, -1, 0, 1, 2]);
      assert.deepEqual(await values(y), [0, 0, 0, 1, 2]);
      const g = f32([1, 1, 1, 1, 1]);
      const gx = act.backward(g);
      assert.equal(act.grad, gx);
      assert.notEqual(gx, g);
      assert.deepEqual(await values(g), [1, 1, 1, 1, 1]);
      assert.deepEqual(await values(gx), [0, 0, 0, 1, 1]);
    });

    it("overwrites and returns the same objects in place, and backward still uses the output", async () => {
      const x = f32([-3, 0, 3]);
      const act = new Activation("sigmoid", { inplace: true });
      const y = act.forward(x);
      assert.equal(y, x);
      const sig = [1 / (1 + Math.exp(3)), 0.5, 1 / (1 + Math.exp(-3))].map(Math.fround);
      assert.deepEqual(await values(x), sig);
      const g = f32([2, 2, 2]);
      const gx = act.backward(g);
      assert.equal(gx, g);
      assert.equal(act.grad, g);
      const expected = sig.map((s) => Math.fround(2 * s * (1 - s)));
      (await values(g)).forEach((v, i) =>
        assert.ok(Math.abs(v - expected[i]!) <= 1e-7, `${v} vs ${expected[i]}`),
      );
    });

    it("activates only the slice and passes the rest through, forward and backward", async () => {
      const act = new Activation("relu", { slc: slice(1, null, 2) });
      const y = act.forward(f32([-1, -2, -3, -4, -5]));
      assert.deepEqual(await values(y), [-1, 0, -3, 0, -5]);
      const gx = act.backward(f32([7, 7, 7, 7, 7]));
      assert.deepEqual(await values(gx), [7, 0, 7, 0, 7]);
      const reversed = new Activation("clip", { slc: slice(null, 1, -1), args: [0, 1] });
      assert.deepEqual(await values(reversed.forward(f32([-1, 5, 5, 5]))), [-1, 5, 1, 1]);
    });

    it("computes in float16 after calcMode", async () => {
      const act = new Activation("tanh");
      act.calcMode("float16");
      assert.equal(act.calctype, "float16");
      const y = await act.forward(gpuarray.toGpu(np.array([0.5, -20, 0], "float16"))).get();
      assert.equal(y.dtype, "float16");
      assert.equal(String(y), "[ 0.4622 -1.      0.    ]");
      assert.throws(() => act.forward(f32([1])), /expects data of dtype float16/);
    });

    describe("errors", () => {
      it("names the allowed values for bad constructor arguments", () => {
        assert.throws(() => new Activation("prelu" as never), {
          name: "ModuleError",
          message:
            /unknown activation "prelu"; allowed: sigmoid, tanh, relu, leakyRelu, elu, softPlus, clip/,
        });
        assert.throws(
          () => new Activation("clip", { args: [1] }),
          /clip takes 2 args \(min \[0\], max \[6\]\), got 1/,
        );
        assert.throws(
          () => new Activation("relu", { args: [1] }),
          /relu takes 0 args \(none\), got 1/,
        );
        assert.throws(
          () => new Activation("elu", { args: [Number.NaN] }),
          /finite float32 numbers, got NaN/,
        );
        assert.throws(() => new Activation("leakyRelu", { args: [Infinity] }), ModuleError);
        assert.throws(
          () => new Activation("elu", { args: [1e39] }),
          /finite float32 numbers, got 1e\+39/,
        );
        assert.throws(
          () => new Activation("clip", { args: [2, 1] }),
          /clip min \(2\) must not exceed max \(1\)/,
        );
        assert.throws(() => new Activation("relu", { slc: slice(0, 1, 0) }), /step cannot be zero/);
        assert.throws(
          () => new Activation("relu", { slc: { start: 0.5, stop: null, step: null } }),
          /start must be an integer/,
        );
        assert.throws(
          () => new Activation("relu", { inplace: "yes" as never }),
          /inplace must be true or false/,
        );
        assert.throws(
          () => new Activation("relu", { slice: null } as never),
          /unknown Activation option "slice"/,
        );
        assert.throws(
          () => new Activation("relu", { name: 3 as never }),
          /name must be a string or null/,
        );
      });

      it("rejects bad data and gradients and changes nothing", async () => {
        const act = new Activation("relu");
        assert.throws(() => act.backward(f32([1])), /backward called before forward/);
        assert.throws(() => act.forward(gpuarray.toGpu(np.array([1, 2], "float64"))), {
          name: "ModuleError",
          message: /expects data of dtype float32 \(its calctype\), got float64/,
        });
        assert.throws(() => act.forward([1, 2] as never), /data must be a GPUArray/);
        assert.equal(act.data, null);
        assert.equal(act.inData, null);

        const y = act.forward(f32([-1, 1]));
        assert.throws(
          () => act.backward(f32([1, 1, 1])),
          /grad must have the output's shape \(2,\) and dtype float32, got \(3,\) float32/,
        );
        assert.throws(
          () => act.backward(gpuarray.toGpu(np.array([1, 1], "float16"))),
          /got \(2,\) float16/,
        );
        assert.equal(act.grad, null);
        assert.equal(act.data, y);
        assert.throws(
          () => act.calcMode("float64"),
          /does not support dtype "float64"; supported: float32, float16/,
        );
        assert.equal(act.calctype, "float32");
      });

      it("refuses disposed arrays", async () => {
        const act = new Activation("relu");
        const x = f32([1, -1]);
        x.dispose();
        x.dispose();
        assert.throws(() => act.forward(x), {
          name: "ModuleError",
          message: /use of a disposed array/,
        });
        await assert.rejects(x.get(), /use of a disposed array/);
        const y = act.forward(f32([1, -1]));
        y.dispose();
        assert.throws(() => act.backward(f32([1, 1])), /use of a disposed array/);
        const g = f32([1, 1]);
        act.forward(f32([2, 2]));
        g.dispose();
        assert.throws(() => act.backward(g), /use of a disposed array: grad/);
      });
    });

    describe("functions whose backward reads the input", () => {
      it("refuse in place at construction, saying why", () => {
        for (const [name, args] of [
          ["hardSwish", []],
          ["threshold", [0.1, 20]],
          ["gelu", []],
          ["swish", []],
        ] as const) {
          assert.throws(() => new Activation(name, { args: [...args], inplace: true }), {
            name: "ModuleError",
            message: new RegExp(`${name}.* cannot run in place: its backward reads the input x`),
          });
          assert.equal(new Activation(name, { args: [...args] }).backwardFrom, "x");
        }
        // value <= threshold: y > threshold exactly where x > threshold, so y will do.
        const relu = new Activation("threshold", { args: [1, -1], inplace: true });
        assert.equal(relu.backwardFrom, "y");
        assert.equal(new Activation("relu6", { inplace: true }).backwardFrom, "y");
      });

      it("keep the input for a sliced backward and refuse it once disposed", async () => {
        const act = new Activation("hardSwish", { slc: slice(1, null, 2) });
        const x = f32([-4, -1.5, 1, 1, 2, 4]);
        const y = act.forward(x);
        assert.equal(act.inData, x);
        assert.deepEqual(await values(y), [-4, -0.375, 1, Math.fround(4 / 6), 2, 4]);
        const gx = act.backward(f32([6, 6, 6, 6, 6, 6]));
        // slope (2x + 3) / 6 at x = -1.5 and 1; 1 at 4; outside the slice g passes through.
        assert.deepEqual(await values(gx), [6, 0, 6, 5, 6, 6]);
        x.dispose();
        assert.throws(() => act.backward(f32([1, 1, 1, 1, 1, 1])), {
          name: "ModuleError",
          message: /the input of forward was disposed, and hardSwish's backward reads it/,
        });
      });

      it("round-trip through a blueprint and compute the same", async () => {
        const act = new Activation("threshold", { args: [0.1, 20], slc: slice(0, 3), name: "t" });
        const rebuilt = Blueprint.build(
          JSON.parse(JSON.stringify(act.getBlueprint())),
        ) as Activation;
        assert.deepEqual(rebuilt.getBlueprint(), act.getBlueprint());
        assert.equal(rebuilt.backwardFrom, "x");
        const x = f32([20, 0, 5, -1]);
        assert.deepEqual(await values(rebuilt.forward(x)), [20, 20, 5, -1]);
        assert.deepEqual(await values(rebuilt.backward(f32([3, 3, 3, 3]))), [3, 0, 3, 3]);
      });

      it("keep an alias's name through a blueprint (swish stays swish)", async () => {
        const act = new Activation("swish", { args: [0.7] });
        const blueprint = JSON.parse(JSON.stringify(act.getBlueprint()));
        assert.equal(blueprint.scheme.activation, "swish");
        const rebuilt = Blueprint.build(blueprint) as Activation;
        assert.deepEqual(rebuilt.getBlueprint(), act.getBlueprint());
        assert.equal(rebuilt.backwardFrom, "x");
        const silu = new Activation("silu", { args: [0.7] });
        const x = [-3, -1, 0, 2];
        assert.deepEqual(await values(rebuilt.forward(f32(x))), await values(silu.forward(f32(x))));
      });
    });

    it("takes softPlus's beta alone or with a threshold; no args is PuzzleLib's softPlus", () => {
      assert.deepEqual(new Activation("softPlus").args, [1, 3.4028234663852886e38]);
      assert.deepEqual(new Activation("softPlus", { args: [2] }).args, [2, 3.4028234663852886e38]);
      assert.deepEqual(new Activation("softPlus", { args: [2, 20] }).args, [2, 20]);
      assert.throws(
        () => new Activation("softPlus", { args: [1, 20, 3] }),
        /softPlus takes 1 to 2 args \(beta \[1\], threshold \[3\.4028234663852886e\+38\]\), got 3/,
      );
      assert.throws(
        () => new Activation("softPlus", { args: [1, 10] }),
        /threshold must be at least 18/,
      );
      assert.throws(() => new Activation("softPlus", { args: [0] }), /beta must be positive/);
      assert.throws(() => new Activation("celu", { args: [0] }), /celu alpha must be positive/);
      assert.throws(() => new Activation("hardSigmoid", { args: [0, 1] }), /alpha must not be 0/);
      assert.throws(() => new Activation("softShrink", { args: [-1] }), /lambda must be >= 0/);
      assert.throws(
        () => new Activation("hardTanh", { args: [1, -1] }),
        /hardTanh min \(1\) must not exceed max/,
      );
      assert.deepEqual(new Activation("hardSigmoid").args, [1 / 6, 0.5]);
    });

    it("round-trips every option through a JSON blueprint", async () => {
      const act = new Activation("clip", {
        slc: slice(-4, null, 2),
        inplace: true,
        name: "clipper",
        args: [-0.5, 0.5],
      });
      const blueprint = act.getBlueprint();
      assert.deepEqual(blueprint, {
        classname: "Activation",
        scheme: {
          activation: "clip",
          slc: { start: -4, stop: null, step: 2 },
          inplace: true,
          name: "clipper",
          args: [-0.5, 0.5],
        },
      });
      const rebuilt = Blueprint.build(JSON.parse(JSON.stringify(blueprint))) as Activation;
      assert.ok(rebuilt instanceof Activation);
      assert.deepEqual(rebuilt.getBlueprint(), blueprint);
      const x = f32([-1, -1, -1, -1, -1, -1]);
      const y = rebuilt.forward(x);
      assert.equal(y, x);
      assert.deepEqual(await values(y), [-1, -1, -0.5, -1, -0.5, -1]);
      const plain = Blueprint.build(
        JSON.parse(JSON.stringify(new Activation("relu").getBlueprint())),
      );
      assert.equal(String(plain), "Module Activation (name: null)");
      assert.throws(
        () => Blueprint.build({ classname: "Linear", scheme: {} }),
        /unknown module class "Linear"/,
      );
    });
  });
}

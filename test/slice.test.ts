import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ModuleError, slice } from "../src/index.js";
import { normalizeSlice } from "../src/core/slice.js";

// [start, stop, step, length, then Python's slice(start, stop, step).indices(length) start and
// step, and len(range(...))], produced by CPython 3.11.
const PYTHON_INDICES: readonly (number | null)[][] = [
  [null, null, null, 10, 0, 1, 10],
  [2, 8, null, 10, 2, 1, 6],
  [-3, null, null, 10, 7, 1, 3],
  [null, null, -1, 10, 9, -1, 10],
  [8, 2, -2, 10, 8, -2, 3],
  [-100, 100, 3, 10, 0, 3, 4],
  [100, null, null, 10, 10, 1, 0],
  [null, -100, -1, 10, 9, -1, 10],
  [5, 5, 1, 10, 5, 1, 0],
  [3, -4, 2, 10, 3, 2, 2],
  [null, null, 7, 5, 0, 7, 1],
  [-1, null, -3, 10, 9, -3, 4],
  [null, null, null, 0, 0, 1, 0],
  [null, null, -1, 0, -1, -1, 0],
  [1, null, 2, 1, 1, 2, 0],
  [-5, null, null, 3, 0, 1, 3],
  [null, null, -2, 7, 6, -2, 4],
  [2, null, -1, 10, 2, -1, 3],
  [null, 3, -1, 10, 9, -1, 6],
];

describe("slice", () => {
  for (const [start, stop, step, length, ...expected] of PYTHON_INDICES) {
    it(`slice(${start}, ${stop}, ${step}).indices(${length})`, () => {
      const { start: s, step: st, count } = normalizeSlice(slice(start, stop, step), length!);
      assert.deepEqual([s, st, count], expected);
    });
  }

  it("treats undefined as omitted and null slc as everything", () => {
    assert.deepEqual(slice(), { start: null, stop: null, step: null });
    assert.deepEqual(normalizeSlice(null, 4), { start: 0, step: 1, count: 4 });
  });

  it("rejects step 0 and non-integer bounds with ModuleError", () => {
    assert.throws(() => slice(0, 4, 0), { name: "ModuleError", message: /step cannot be zero/ });
    assert.throws(() => slice(0.5), ModuleError);
    assert.throws(() => slice(0, Number.NaN), /stop must be an integer/);
    assert.throws(() => slice(0, 2, Infinity), /step must be an integer/);
  });
});

// node:assert/strict for the page bundle: test/reference/oracles.ts imports it for Tally.assert,
// which the benchmark never calls. Only what oracles.ts uses.

function equal(actual: unknown, expected: unknown, message?: string): void {
  if (!Object.is(actual, expected)) {
    throw new Error(message ?? `${String(actual)} !== ${String(expected)}`);
  }
}

export default Object.assign(
  (value: unknown, message?: string) => {
    if (!value) throw new Error(message ?? "assertion failed");
  },
  { equal },
);

// Printing the side-by-side benchmark: one block per size (every implementation's row per
// function and direction), a summary matrix at the end, and the JSON file.

import { writeFileSync } from "node:fs";
import { line, num, printTitles, rule, type Column } from "./report.js";
import { BYTES, COPY_BYTES, type CompareResult, type SizeReport } from "./compare.js";
import type { HostReport } from "./host.js";
import type { Impl } from "./impl.js";
import { MIN_REPS } from "./timing.js";

export interface CompareInfo {
  readonly date: string;
  readonly node: string;
  readonly cpu: string;
  readonly cores: number;
  readonly reps: number;
  readonly targetMs: number;
  readonly budgetMs: number;
  readonly sizes: readonly number[];
  readonly impls: readonly { id: string; kind: string; description: string }[];
  readonly versions: Readonly<Record<string, string>>;
  readonly problems: readonly string[];
  readonly notes: readonly string[];
}

type Print = (text: string) => void;

export function printCompareHeader(info: CompareInfo, print: Print): void {
  print(`puzzlelib-ts side-by-side benchmark, ${info.date}`);
  print(`node ${info.node}, ${info.cpu}, ${info.cores} cores`);
  print(
    `${info.reps} repetitions per row (median and min), each >= ${info.targetMs} ms of calls ` +
      `(down to ${MIN_REPS} where one call is slow, to keep a row near ${info.budgetMs / 1000} s); ` +
      (info.sizes.length > 0
        ? `sizes ${info.sizes.map((s) => `2^${s}`).join(", ")} float32 elements`
        : "no activation rows"),
  );
  // --host-only: no implementations, and none of the notes on their rows.
  if (info.sizes.length === 0) {
    for (const note of info.notes) print(`note: ${note}`);
    return;
  }
  print("");
  print("implementations:");
  for (const impl of info.impls)
    print(`  ${impl.id.padEnd(16)} ${impl.kind.padEnd(9)} ${impl.description}`);
  for (const problem of info.problems) print(`  missing: ${problem}`);
  print("");
  for (const note of info.notes) print(`note: ${note}`);
  print(
    `note: bytes counted: forward ${BYTES.forward} B/element (read x, write y), backward ` +
      `${BYTES.backward} B/element (read g and y or x, write dx); the copy anchor is one ` +
      `Float32Array.prototype.set of the N floats, ${COPY_BYTES} B/element; "of copy" = GB/s / ` +
      `the copy's GB/s at the same size, so backward rows can exceed a copy's time and still ` +
      `reach 1.0`,
  );
  print(
    `note: "/peer" = median time / the fastest peer's median time for the same function and ` +
      `direction (below 1: faster than every peer); peers: tfjs-cpu, tfjs-wasm, ort-1t, ort-2t`,
  );
  print(
    "note: every row's output is read back and checked against the float64 reference (relative " +
      "1e-5; up to 2^21 elements, evenly strided) after its first call, before it is timed, and " +
      "again after its last repetition; a row that fails is reported as FAIL, and not timed; " +
      '"ULP" = the row\'s largest distance, in float32 ULPs, from the float64 reference rounded ' +
      "to float32 over those elements (FAIL rows too)",
  );
}

const ROWS: readonly Column[] = [
  { title: "function", width: 11, align: "left" },
  { title: "dir", width: 3, align: "left" },
  { title: "implementation", width: 17, align: "left" },
  { title: "ns/el med", width: 9 },
  { title: "ns/el min", width: 9 },
  { title: "GB/s", width: 7 },
  { title: "/peer", width: 6 },
  { title: "ULP", width: 7 },
  { title: "of copy", width: 7 },
  { title: "notes", width: 5, align: "left" },
];

function rowNotes(r: CompareResult): string {
  const notes: string[] = [];
  if (r.status === "fail") notes.push(`FAIL: ${r.message}`);
  else if (r.status === "error") notes.push(`ERROR: ${r.message}`);
  else if (r.status === "n/a") notes.push(`n/a: ${r.message}`);
  if (r.saved === "x") notes.push("from x");
  notes.push(...(r.notes ?? []));
  if (r.deviation !== undefined) notes.push("known deviation, see below");
  if (r.bestPeer !== undefined && r.kind === "peer" && r.vsBestPeer === 1)
    notes.push("fastest peer");
  return notes.join("; ");
}

/** A worst ULP distance: an integer, in exponent form past a million. */
function ulps(value: number | undefined): string {
  if (value === undefined) return "";
  return value >= 1e6 && Number.isFinite(value) ? value.toExponential(1) : String(value);
}

/** The known deviations met at this size, once each, with the rows they apply to. */
function printDeviations(results: readonly CompareResult[], print: Print): void {
  const rows = new Map<string, { where: string[]; example: string }>();
  for (const r of results) {
    if (r.deviation === undefined) continue;
    const entry = rows.get(r.deviation) ?? { where: [], example: r.deviationDetail ?? "" };
    entry.where.push(`${r.impl} ${r.function} ${r.direction === "forward" ? "fwd" : "bwd"}`);
    rows.set(r.deviation, entry);
  }
  for (const [deviation, { where, example }] of rows) {
    print(`  known deviation: ${deviation}; rows ${where.join(", ")}; e.g. ${example}`);
  }
}

export function printSize(report: SizeReport, print: Print): void {
  const { copy } = report;
  print("");
  print(
    `2^${report.log2} = ${report.size} elements; copy anchor ${num(copy.nsPerElementMedian)} ns/element, ` +
      `${num(copy.gbps)} GB/s (best ${num(copy.gbpsBest)})`,
  );
  printTitles(ROWS, print);
  let previous = "";
  for (const r of report.results.slice().sort(byFunctionDirection(report.results))) {
    const group = `${r.function}/${r.direction}`;
    const first = group !== previous;
    previous = group;
    print(
      line(ROWS, [
        first ? r.function : "",
        first ? (r.direction === "forward" ? "fwd" : "bwd") : "",
        r.impl,
        num(r.nsPerElementMedian),
        num(r.nsPerElementMin),
        num(r.gbps),
        num(r.vsBestPeer),
        ulps(r.worstUlp),
        num(r.copyFraction),
        rowNotes(r),
      ]),
    );
  }
  printDeviations(report.results, print);
}

/** Groups rows by function (in measured order), then direction, keeping the measured order. */
function byFunctionDirection(results: readonly CompareResult[]) {
  const fnOrder = [...new Set(results.map((r) => r.function))];
  const dirOrder = ["forward", "backward"];
  const index = new Map(results.map((r, i) => [r, i]));
  return (a: CompareResult, b: CompareResult) =>
    fnOrder.indexOf(a.function) - fnOrder.indexOf(b.function) ||
    dirOrder.indexOf(a.direction) - dirOrder.indexOf(b.direction) ||
    index.get(a)! - index.get(b)!;
}

function geomean(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  return Math.exp(values.reduce((s, v) => s + Math.log(v), 0) / values.length);
}

/**
 * One matrix per size and direction: ns/element (median) of each implementation side by side,
 * and the geometric mean of its ratio to the fastest peer over the functions; then one per
 * direction of each implementation's worst ULP over the sizes.
 */
export function printSummary(
  reports: readonly SizeReport[],
  impls: readonly Impl[],
  print: Print,
): void {
  const ids = impls.map((i) => i.id);
  const width = Math.max(9, ...ids.map((id) => id.length));
  const columns: Column[] = [
    { title: "", width: 15, align: "left" },
    ...ids.map((id) => ({ title: id, width })),
  ];
  // The functions in the order measured.
  const functions = [...new Set(reports.flatMap((r) => r.results.map((row) => row.function)))];
  /** A matrix of the functions of `rows` by implementation; cell() gets the rows of one cell. */
  const matrix = (
    title: string,
    rows: readonly CompareResult[],
    cell: (rows: CompareResult[]) => string,
  ) => {
    print("");
    print(line(columns, [title, ...ids]));
    print(rule(columns));
    for (const fn of functions.filter((f) => rows.some((r) => r.function === f))) {
      const cells = ids.map((id) => cell(rows.filter((r) => r.function === fn && r.impl === id)));
      print(line(columns, [fn, ...cells]));
    }
  };
  print("");
  print("summary: ns/element (median); last line: geometric mean of /peer over the functions");
  print("(FAIL: wrong result; ERR: threw; n/a: unsupported; x: backward recomputes from x)");
  for (const report of reports) {
    for (const direction of ["forward", "backward"] as const) {
      const rows = report.results.filter((r) => r.direction === direction);
      if (rows.length === 0) continue;
      matrix(`2^${report.log2} ${direction}`, rows, ([r]) => {
        if (r === undefined) return "";
        if (r.status === "fail") return "FAIL";
        if (r.status === "error") return "ERR";
        if (r.status === "n/a") return "n/a";
        return `${r.saved === "x" ? "x " : ""}${num(r.nsPerElementMedian)}`;
      });
      const means = ids.map((id) =>
        num(
          geomean(
            rows
              .filter((r) => r.impl === id && r.vsBestPeer !== undefined)
              .map((r) => r.vsBestPeer!),
          ),
        ),
      );
      if (means.some((m) => m !== "")) print(line(columns, ["/peer geomean", ...means]));
    }
  }
  print("");
  print("worst ULP from the float64 reference, over the sizes (FAIL rows included)");
  for (const direction of ["forward", "backward"] as const) {
    const rows = reports
      .flatMap((r) => r.results)
      .filter((r) => r.direction === direction && r.worstUlp !== undefined);
    if (rows.length === 0) continue;
    matrix(`ULP ${direction}`, rows, (cell) =>
      cell.length === 0 ? "" : ulps(Math.max(...cell.map((r) => r.worstUlp!))),
    );
  }
}

export interface CompareJson {
  readonly info: CompareInfo;
  readonly sizes: readonly SizeReport[];
  /** The host-path section (bench/host.ts); null with --no-host. */
  readonly host: HostReport | null;
}

export function writeCompareJson(file: string, report: CompareJson): void {
  writeFileSync(file, JSON.stringify(report, null, 2) + "\n");
}

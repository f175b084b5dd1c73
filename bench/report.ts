// Printing: a fixed-width table written row by row as results arrive, and the JSON file.

import { writeFileSync } from "node:fs";
import type { HostReport } from "./host.js";
import {
  OURS,
  type DispatchResult,
  type LatencyResult,
  type ThroughputResult,
} from "./puzzlelib.js";

export interface RunInfo {
  readonly date: string;
  readonly backend: string;
  readonly adapter: string;
  readonly origin: string;
  readonly node: string;
  readonly reps: number;
  readonly targetMs: number;
  readonly sizes: readonly number[];
  readonly notes: readonly string[];
}

type Align = "left" | "right";
/** A fixed-width table column, shared by both bench reports. */
export interface Column {
  readonly title: string;
  readonly width: number;
  /** Right-aligned unless "left". */
  readonly align?: Align;
}

export function line(columns: readonly Column[], cells: readonly string[]): string {
  return columns
    .map((c, i) => {
      const cell = cells[i] ?? "";
      return c.align === "left" ? cell.padEnd(c.width) : cell.padStart(c.width);
    })
    .join("  ")
    .trimEnd();
}

/** Three significant digits, without switching to exponents for the usual ranges. */
export function num(value: number | undefined): string {
  if (value === undefined) return "";
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1000) return value.toFixed(0);
  if (abs >= 100) return value.toFixed(1);
  if (abs >= 10) return value.toFixed(2);
  if (abs >= 0.001) return value.toFixed(3);
  return value.toExponential(2);
}

const THROUGHPUT: readonly Column[] = [
  { title: "impl", width: 12, align: "left" },
  { title: "size", width: 6, align: "left" },
  { title: "function", width: 11, align: "left" },
  { title: "direction", width: 9, align: "left" },
  { title: "K", width: 6, align: "right" },
  { title: "ms/call med", width: 11, align: "right" },
  { title: "ms/call min", width: 11, align: "right" },
  { title: "GB/s med", width: 9, align: "right" },
  { title: "GB/s best", width: 9, align: "right" },
  { title: "x copy", width: 8, align: "right" },
  { title: "ULP", width: 6, align: "right" },
];

const LATENCY: readonly Column[] = [
  { title: "function", width: 11, align: "left" },
  { title: "call+readback med us", width: 20, align: "right" },
  { title: "min us", width: 9, align: "right" },
  { title: "queued med us/call", width: 18, align: "right" },
  { title: "min us", width: 9, align: "right" },
];

export function rule(columns: readonly Column[]): string {
  return "-".repeat(columns.reduce((sum, c) => sum + c.width + 2, -2));
}

/** A table's column titles and the rule under them. */
export function printTitles(columns: readonly Column[], print: (text: string) => void): void {
  print(
    line(
      columns,
      columns.map((c) => c.title),
    ),
  );
  print(rule(columns));
}

/** A row's worst ULP, "!" after it where the result is outside the contract. */
function ulpCell(r: ThroughputResult): string {
  return `${r.worstUlp ?? ""}${r.status === "ok" ? "" : "!"}`;
}

export function printHeader(info: RunInfo, print: (text: string) => void): void {
  print(`puzzlelib-ts benchmark, ${info.date}`);
  print(`backend: ${info.backend}    adapter: ${info.adapter}    (${info.origin})`);
  print(`node ${info.node}, ${info.reps} repetitions, each >= ${info.targetMs} ms of calls`);
  for (const note of info.notes) print(`note: ${note}`);
}

export function printThroughputHeader(print: (text: string) => void): void {
  print("");
  print("throughput (float32; bytes counted: forward and copy 8 B/element, backward 12 B/element)");
  printTitles(THROUGHPUT, print);
}

export function throughputRow(r: ThroughputResult): string {
  return line(THROUGHPUT, [
    r.impl,
    `2^${r.log2}`,
    r.function,
    r.direction === "copy" ? "-" : r.direction,
    String(r.timing.k),
    num(r.timing.medianMs),
    num(r.timing.minMs),
    num(r.gbps),
    num(r.gbpsBest),
    num(r.copyRatio),
    ulpCell(r),
  ]);
}

const SIDE_BY_SIDE: readonly Column[] = [
  { title: "size", width: 6, align: "left" },
  { title: "function", width: 11, align: "left" },
  { title: "peer", width: 12, align: "left" },
  { title: "ours GB/s", width: 9, align: "right" },
  { title: "peer GB/s", width: 9, align: "right" },
  { title: "peer/ours time", width: 14, align: "right" },
  { title: "ULP ours", width: 8, align: "right" },
  { title: "ULP peer", width: 8, align: "right" },
];

/** Forward rows of each peer beside ours at the same size: the time ratio and both ULPs. */
export function printSideBySide(
  results: readonly ThroughputResult[],
  print: (text: string) => void,
): void {
  const peers = results.filter((r) => r.impl !== OURS);
  if (peers.length === 0) return;
  print("");
  print("side by side, forward (peer/ours time > 1: ours is faster; ! after a ULP: outside 1e-5)");
  printTitles(SIDE_BY_SIDE, print);
  for (const p of peers) {
    const ours = results.find(
      (r) =>
        r.impl === OURS &&
        r.log2 === p.log2 &&
        r.function === p.function &&
        r.direction === p.direction,
    );
    if (ours === undefined) continue;
    print(
      line(SIDE_BY_SIDE, [
        `2^${p.log2}`,
        p.function,
        p.impl,
        num(ours.gbps),
        num(p.gbps),
        num(p.timing.medianMs / ours.timing.medianMs),
        ulpCell(ours),
        ulpCell(p),
      ]),
    );
  }
  for (const p of peers.filter((r) => r.message !== undefined)) {
    print(`note: ${p.impl} ${p.function} 2^${p.log2}: ${p.message}`);
  }
}

/** The calling thread's cost per call on a small tensor (measureDispatch). */
export function printDispatch(r: DispatchResult, print: (text: string) => void): void {
  print("");
  print(
    `dispatch: ${r.calls} x ${r.function} forward on ${r.size} elements into the module's ` +
      `reused output: ${num(r.cpuMedianUs)} us/call of JavaScript (min ${num(r.cpuMinUs)}), ` +
      `${num(r.doneMedianUs)} us/call until onSubmittedWorkDone (min ${num(r.doneMinUs)})`,
  );
}

export function printLatency(
  results: readonly LatencyResult[],
  print: (text: string) => void,
): void {
  const size = results[0]?.size ?? 0;
  print("");
  print(`latency, ${size}-element float32 tensor (forward; copy is the device copy, the floor)`);
  printTitles(LATENCY, print);
  for (const r of results) {
    print(
      line(LATENCY, [
        r.function,
        num(r.roundTripMedianUs),
        num(r.roundTripMinUs),
        num(r.queuedMedianUs),
        num(r.queuedMinUs),
      ]),
    );
  }
}

export interface Report {
  readonly info: RunInfo;
  /** false while the run is still going (the file is rewritten after each section). */
  readonly complete: boolean;
  readonly throughput: readonly ThroughputResult[];
  readonly latency: readonly LatencyResult[];
  readonly dispatch: DispatchResult | null;
  /** The peers timed beside ours (id: description), their versions, and why any is missing. */
  readonly peers: {
    readonly measured: Record<string, string>;
    readonly versions: Record<string, string>;
    readonly problems: readonly string[];
  };
  /** Why the size sweep or the latency run stopped early, if it did. */
  readonly stopped: readonly string[];
  /** The host-path section (bench/host.ts); null with --no-host. */
  readonly host: HostReport | null;
}

export function writeJson(file: string, report: Report): void {
  writeFileSync(file, JSON.stringify(report, null, 2) + "\n");
}

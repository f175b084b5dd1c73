// What a run undoes when the process is told to stop. A temporary output must not outlive an
// interrupted run, whichever signal interrupts it: Ctrl-C (SIGINT), kill (SIGTERM), a closed
// terminal (SIGHUP), Ctrl-\ (SIGQUIT), a reader that went away (SIGPIPE), resource limits
// (SIGXCPU, SIGXFSZ), timers and supervisors (SIGALRM, SIGUSR2, SIGVTALRM), Ctrl-Break on Windows
// (SIGBREAK). Left alone: SIGKILL and SIGSTOP (they cannot be caught), SIGUSR1 (Node's
// debugger), SIGPROF (V8's profiler), and the faults (SIGSEGV, SIGBUS, ...), after which nothing
// can safely run.

import { constants } from "node:os";

const TERMINATING = [
  "SIGINT",
  "SIGTERM",
  "SIGHUP",
  "SIGQUIT",
  "SIGPIPE",
  "SIGXCPU",
  "SIGXFSZ",
  "SIGALRM",
  "SIGUSR2",
  "SIGVTALRM",
  "SIGBREAK",
] as const;

export interface PendingWork {
  /** Synchronous: the process exits right after. Must not throw. */
  readonly undo: () => void;
  /** What the user is told was not done, e.g. "y.npy was not written". */
  readonly unfinished: string;
}

const pending = new Set<PendingWork>();
let installed = false;

/** The exit status a shell shows for a process killed by `signal`: 128 + its number. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

/**
 * Catches the terminating signals for the rest of the process (idempotent). Once caught, Node no
 * longer ignores SIGPIPE either: a write to a closed pipe ends the run through `terminate`.
 */
export function installSignalHandlers(): void {
  if (installed) return;
  installed = true;
  for (const signal of TERMINATING) {
    // Only the signals this platform has (SIGBREAK is Windows', SIGHUP and others are POSIX's).
    if (constants.signals[signal] === undefined) continue;
    process.on(signal, () => terminate(signal));
  }
}

/** Registers work to undo if a signal ends the run; returns the function that unregisters it. */
export function whileRunning(work: PendingWork): () => void {
  installSignalHandlers();
  pending.add(work);
  return () => pending.delete(work);
}

/**
 * Undoes the pending work, says what was not done, and exits as a process killed by `signal`
 * would (130 for SIGINT). Synchronous all through: nothing after a signal can wait.
 */
export function terminate(signal: NodeJS.Signals): never {
  const unfinished: string[] = [];
  for (const work of pending) {
    try {
      work.undo();
    } catch {
      // Undoing is best effort; the exit must happen.
    }
    unfinished.push(work.unfinished);
  }
  pending.clear();
  // A reader that closed the pipe asked for no more; say nothing more, as cat and head do.
  if (unfinished.length > 0 && signal !== "SIGPIPE") {
    const how = signal === "SIGINT" ? "" : ` (${signal})`;
    try {
      process.stderr.write(`\npuzzlelib: interrupted${how}; ${unfinished.join("; ")}\n`);
    } catch {
      // stderr itself may be gone (a closed terminal).
    }
  }
  process.exit(signalExitCode(signal));
}

// Loads the peer libraries from bench/peers/node_modules, their own package (see package.json
// beside this file), kept out of puzzlelib-ts's dependencies. A peer that is missing or fails to
// start is reported with the reason, and the benchmark goes on without it.

import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Impl } from "../impl.js";
import { OrtImpl, ORT_NOTES, type Ort } from "./ort.js";
import { TfjsImpl, TFJS_NOTES, type Tf } from "./tfjs.js";
import { provideNavigatorGpu, TfjsWebgpu, TFJS_WEBGPU_NOTES, type GpuPeer } from "./tfjs-webgpu.js";

const HERE = dirname(fileURLToPath(import.meta.url));
export const INSTALL_COMMAND = `cd ${relative(process.cwd(), HERE) || "."} && ONNXRUNTIME_NODE_INSTALL=skip npm ci --ignore-scripts`;

export interface PeerSet {
  readonly impls: Impl[];
  /** Why a peer is missing, one line each. */
  readonly problems: string[];
  readonly notes: string[];
  readonly versions: Record<string, string>;
}

const require = createRequire(join(HERE, "package.json"));

/** Imports a package of bench/peers by name; the specifier is a variable so tsc resolves nothing. */
async function importPeer(name: string): Promise<unknown> {
  const resolved = require.resolve(name);
  return import(pathToFileURL(resolved).href);
}

function installedVersion(name: string): string | null {
  try {
    const pkg = require(`${name}/package.json`) as { version?: string };
    return pkg.version ?? null;
  } catch {
    return null;
  }
}

/** The message of an error, first line only. */
function reason(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0]!;
}

const EVENTS = ["uncaughtException", "unhandledRejection"] as const;

/** A snapshot of the process's error handlers; restore() removes the ones added since. */
function processListeners(): { restore(): void } {
  const emitter = process as unknown as NodeJS.EventEmitter;
  const before = EVENTS.map((event) => new Set(emitter.listeners(event)));
  return {
    restore() {
      EVENTS.forEach((event, i) => {
        for (const listener of emitter.listeners(event)) {
          if (!before[i]!.has(listener)) {
            emitter.removeListener(event, listener as (...args: unknown[]) => void);
          }
        }
      });
    },
  };
}

/** The problem reported when bench/peers is not installed; null when it is. */
function notInstalled(): string | null {
  if (existsSync(join(HERE, "node_modules"))) return null;
  return (
    `the peer libraries are not installed (no ${relative(process.cwd(), join(HERE, "node_modules"))}); ` +
    `install them with: ${INSTALL_COMMAND}`
  );
}

/** A tfjs package from bench/peers, in production mode. */
async function importTfjs(name: string): Promise<Tf> {
  const mod = (await importPeer(name)) as Tf & { default?: Tf };
  // A CommonJS package imported from ESM: its exports may sit on `default`.
  const tf = typeof mod.sigmoid === "function" ? mod : mod.default!;
  tf.enableProdMode();
  return tf;
}

export interface GpuPeerSet {
  readonly peers: GpuPeer[];
  readonly problems: string[];
  readonly notes: string[];
  readonly versions: Record<string, string>;
}

/**
 * The WebGPU peers (tfjs-webgpu), on the adapter of `gpu`: the GPU object puzzlelib-ts's webgpu
 * backend requested its adapter from.
 */
export async function loadGpuPeers(gpu: unknown): Promise<GpuPeerSet> {
  const set: GpuPeerSet = { peers: [], problems: [], notes: [], versions: {} };
  const missing = notInstalled();
  if (missing !== null) {
    set.problems.push(missing);
    return set;
  }
  // tfjs-core and the backend alone: the rest of @tensorflow/tfjs is not needed here, which
  // keeps what scripts/device-bench.sh carries small.
  const names = ["@tensorflow/tfjs-core", "@tensorflow/tfjs-backend-webgpu"];
  for (const name of names) {
    const version = installedVersion(name);
    if (version !== null) set.versions[name] = version;
  }
  try {
    provideNavigatorGpu(gpu);
    const tf = await importTfjs(names[0]!);
    await importPeer(names[1]!);
    const version = set.versions[names[1]!] ?? "(version unknown)";
    set.peers.push(await TfjsWebgpu.start(tf, version));
    set.notes.push(...TFJS_WEBGPU_NOTES);
  } catch (error) {
    set.problems.push(
      `tfjs-webgpu not measured: ${reason(error)}; install the peers with: ${INSTALL_COMMAND}`,
    );
  }
  return set;
}

/** Loads the peers named in `wanted` (tfjs-cpu, tfjs-wasm, ort-1t, ort-2t). */
export async function loadPeers(wanted: (id: string) => boolean): Promise<PeerSet> {
  const set: PeerSet = { impls: [], problems: [], notes: [], versions: {} };
  const missing = notInstalled();
  if (missing !== null) {
    set.problems.push(missing);
    return set;
  }
  for (const name of ["@tensorflow/tfjs", "@tensorflow/tfjs-backend-wasm", "onnxruntime-node"]) {
    const version = installedVersion(name);
    if (version !== null) set.versions[name] = version;
  }

  if (wanted("tfjs-cpu") || wanted("tfjs-wasm")) {
    try {
      const tf = await importTfjs("@tensorflow/tfjs");
      set.notes.push(...TFJS_NOTES);
      for (const backend of ["cpu", "wasm"] as const) {
        if (!wanted(`tfjs-${backend}`)) continue;
        const listeners = processListeners();
        try {
          if (backend === "wasm") await importPeer("@tensorflow/tfjs-backend-wasm");
          const impl = new TfjsImpl(tf, backend);
          await impl.start();
          set.impls.push(impl);
        } catch (error) {
          set.problems.push(`tfjs-${backend} not measured: ${reason(error)}`);
        } finally {
          // Emscripten's Node glue (tfjs-wasm) installs process handlers that rethrow every
          // uncaught error from inside its minified source, burying the message; the bench
          // reports its own errors.
          listeners.restore();
        }
      }
    } catch (error) {
      set.problems.push(
        `tfjs not measured: ${reason(error)}; install the peers with: ${INSTALL_COMMAND}`,
      );
    }
  }

  if (wanted("ort-1t") || wanted("ort-2t")) {
    try {
      const mod = (await importPeer("onnxruntime-node")) as Ort & { default?: Ort };
      const ort = typeof mod.InferenceSession === "function" ? mod : mod.default!;
      set.notes.push(...ORT_NOTES);
      for (const threads of [1, 2]) {
        if (wanted(`ort-${threads}t`)) set.impls.push(new OrtImpl(ort, threads));
      }
    } catch (error) {
      set.problems.push(
        `onnxruntime-node not measured: ${reason(error)}; its CPU binary ships in the npm ` +
          `package; install the peers with: ${INSTALL_COMMAND}`,
      );
    }
  }
  return set;
}

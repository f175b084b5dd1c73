// Finds a WebGPU implementation: navigator.gpu in browsers (and Deno), the optional `webgpu`
// npm package (Dawn) in Node. Only this file knows where a GPU comes from.

import { BackendError } from "../../core/errors.js";
import { importNode, isNode } from "../../core/node-import.js";

export interface GpuSource {
  readonly gpu: GPU;
  /** What gave the adapter, for messages and `puzzlelib info`. */
  readonly origin: string;
  /**
   * Keeps Dawn's objects reachable for the backend's life: `webgpu` 0.6.2 crashes the process at
   * garbage collection when nothing references the object create() returned.
   */
  readonly keepAlive: readonly unknown[];
}

// Debian's Chromium ships SwiftShader, a CPU Vulkan driver; Dawn can use it where there is no GPU.
const SWIFTSHADER_ICD = "/usr/lib/chromium/vk_swiftshader_icd.json";
// Where the Vulkan loader looks for installed drivers on Linux.
const SYSTEM_ICD_FOLDERS = [
  "/etc/vulkan/icd.d",
  "/usr/share/vulkan/icd.d",
  "/usr/local/share/vulkan/icd.d",
];

function hasIcd(fs: typeof import("node:fs"), folder: string): boolean {
  try {
    return fs.readdirSync(folder).some((file) => file.endsWith(".json"));
  } catch {
    return false;
  }
}

export async function requestAdapter(): Promise<{ adapter: GPUAdapter; source: GpuSource }> {
  const browserGpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (browserGpu !== undefined) {
    const adapter = await browserGpu.requestAdapter();
    if (adapter === null) throw new BackendError("webgpu: navigator.gpu offers no adapter");
    return { adapter, source: { gpu: browserGpu, origin: "navigator.gpu", keepAlive: [] } };
  }
  if (!isNode()) {
    throw new BackendError("webgpu: this environment has no navigator.gpu");
  }
  return requestNodeAdapter();
}

interface DawnModule {
  create(options: string[]): GPU;
  globals: Record<string, unknown>;
}

async function requestNodeAdapter(): Promise<{ adapter: GPUAdapter; source: GpuSource }> {
  // A variable specifier keeps bundlers from pulling the Node package into browser builds.
  const specifier = "webgpu";
  let dawn: DawnModule;
  try {
    dawn = (await import(/* @vite-ignore */ specifier)) as DawnModule;
  } catch (error) {
    throw new BackendError(
      `webgpu: the optional package "webgpu" is not installed or failed to load ` +
        `(npm install webgpu): ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  // Dawn's constants (GPUBufferUsage, ...) are globals in browsers; define them where missing.
  for (const [name, value] of Object.entries(dawn.globals)) {
    if (!(name in globalThis))
      Object.defineProperty(globalThis, name, { value, configurable: true });
  }
  const keepAlive: unknown[] = [];
  const attempt = async (origin: string) => {
    const gpu = dawn.create([]);
    keepAlive.push(gpu);
    const adapter = await gpu.requestAdapter();
    return adapter === null ? null : { adapter, source: { gpu, origin, keepAlive } };
  };
  // Without a system Vulkan driver, use SwiftShader when Chromium provides it (unless the user
  // chose a driver). Dawn reads the variable when it creates its instance, so set it first.
  const fs = await importNode<typeof import("node:fs")>("fs");
  const software = process.env.VK_ICD_FILENAMES === undefined && fs.existsSync(SWIFTSHADER_ICD);
  if (software && !SYSTEM_ICD_FOLDERS.some((folder) => hasIcd(fs, folder))) {
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    const found = await attempt("webgpu (Dawn) on SwiftShader");
    if (found !== null) return found;
  } else {
    const found = await attempt("webgpu (Dawn)");
    if (found !== null) return found;
    if (software) {
      process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
      const fallback = await attempt("webgpu (Dawn) on SwiftShader");
      if (fallback !== null) return fallback;
    }
  }
  throw new BackendError(
    "webgpu: Dawn found no GPU adapter. Install a Vulkan driver, or Debian's chromium and " +
      "libvulkan1 for the SwiftShader software adapter (apt-get install chromium libvulkan1)",
  );
}

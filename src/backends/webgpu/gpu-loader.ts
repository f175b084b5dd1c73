// Finds a WebGPU implementation: navigator.gpu in browsers (and Deno), the optional `webgpu`
// npm package (Dawn) in Node. Only this file knows where a GPU comes from.

import { quote } from "../../core/describe.js";
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

type Fs = typeof import("node:fs");
type Env = NodeJS.ProcessEnv;

/** Where the Vulkan loader looks for driver manifests on Linux when no variable overrides it. */
function systemIcdFolders(env: Env): string[] {
  const home = env.HOME ?? "";
  const list = (value: string | undefined, fallback: string) =>
    (value || fallback).split(":").filter((folder) => folder !== "");
  const bases = [
    env.XDG_CONFIG_HOME || `${home}/.config`,
    ...list(env.XDG_CONFIG_DIRS, "/etc/xdg"),
    "/etc",
    "/usr/local/etc",
    env.XDG_DATA_HOME || `${home}/.local/share`,
    ...list(env.XDG_DATA_DIRS, "/usr/local/share:/usr/share"),
    // NixOS's loader is patched to look here.
    "/run/opengl-driver/share",
  ];
  return bases.map((base) => `${base}/vulkan/icd.d`);
}

/** Whether `path` is a usable driver manifest, or a folder holding one (the loader takes both). */
function isManifest(fs: Fs, path: string): boolean {
  try {
    if (fs.statSync(path).isFile()) return hasDriverLibrary(fs, path);
    const files = fs.readdirSync(path).filter((file) => file.endsWith(".json"));
    return files.some((file) => hasDriverLibrary(fs, `${path}/${file}`));
  } catch {
    return false;
  }
}

/**
 * Whether the manifest's library can be there: the loader skips (and Dawn prints) a manifest
 * that does not parse or whose library path is missing. A bare name is found by dlopen's search,
 * which this does not repeat, so it counts as there.
 */
function hasDriverLibrary(fs: Fs, manifest: string): boolean {
  try {
    const parsed = JSON.parse(fs.readFileSync(manifest, "utf8")) as {
      ICD?: { library_path?: unknown };
    };
    const library = parsed.ICD?.library_path;
    if (typeof library !== "string") return false;
    if (!library.includes("/")) return true;
    const folder = manifest.slice(0, manifest.lastIndexOf("/") + 1);
    return fs.existsSync(library.startsWith("/") ? library : folder + library);
  } catch {
    return false;
  }
}

/** The variable that replaces the loader's search (VK_DRIVER_FILES wins), if one is set. */
function driverOverride(env: Env): { name: string; value: string } | undefined {
  for (const name of ["VK_DRIVER_FILES", "VK_ICD_FILENAMES"]) {
    const value = env[name];
    if (value !== undefined && value !== "") return { name, value };
  }
  return undefined;
}

const anyManifest = (fs: Fs, paths: string | undefined): boolean =>
  (paths ?? "").split(":").some((path) => path !== "" && isManifest(fs, path));

/**
 * Why the Vulkan loader will find no driver, or undefined when it may find one. Asked before Dawn
 * starts because Dawn writes the loader's complaints to stderr itself (fprintf, with no option of
 * dawn.node's to stop it), four lines before the caller's own error.
 */
function missingVulkanDriver(fs: Fs, env: Env): string | undefined {
  if (process.platform !== "linux") return undefined;
  // dawn.node's own variable; another backend does not go through Vulkan.
  const backend = (env.DAWNNODE_BACKEND ?? "").toLowerCase();
  if (backend !== "" && backend !== "vulkan" && backend !== "vk") return undefined;
  const override = driverOverride(env);
  if (override !== undefined) {
    if (anyManifest(fs, override.value)) return undefined;
    return (
      `${override.name} names ${quote(override.value)}, where there is no Vulkan driver ` +
      `manifest whose library exists; point it at a driver's .json file, or unset it`
    );
  }
  // Added drivers count only here: the loader ignores VK_ADD_DRIVER_FILES under an override.
  if (anyManifest(fs, env.VK_ADD_DRIVER_FILES)) return undefined;
  if (systemIcdFolders(env).some((folder) => isManifest(fs, folder))) return undefined;
  return (
    "no Vulkan driver is installed (no manifest in /usr/share/vulkan/icd.d or the other folders " +
    "the Vulkan loader searches). Install one, or Debian's chromium and libvulkan1 for the " +
    "SwiftShader software adapter (apt-get install chromium libvulkan1)"
  );
}

// What a browser needs, said where it fails: Chromium hides navigator.gpu outside a secure
// context, and on Linux and headless it offers an adapter only behind flags.
const BROWSER_ADVICE =
  "WebGPU needs a secure context (https, localhost or 127.0.0.1), and Chromium on Linux or " +
  "headless offers an adapter only when started with --enable-unsafe-webgpu";

export async function requestAdapter(): Promise<{ adapter: GPUAdapter; source: GpuSource }> {
  const browserGpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (browserGpu !== undefined) {
    const adapter = await browserGpu.requestAdapter();
    if (adapter === null) {
      throw new BackendError(`webgpu: navigator.gpu offers no adapter. ${BROWSER_ADVICE}`);
    }
    return { adapter, source: { gpu: browserGpu, origin: "navigator.gpu", keepAlive: [] } };
  }
  if (!isNode()) {
    throw new BackendError(`webgpu: this environment has no navigator.gpu. ${BROWSER_ADVICE}`);
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
  const fs = await importNode<Fs>("fs");
  const env = process.env;
  if ((env.DAWNNODE_BACKEND ?? "").toLowerCase() === "null") {
    // An adapter that runs no shaders: every result would be garbage, with no error.
    throw new BackendError(
      "webgpu: DAWNNODE_BACKEND=null selects Dawn's null backend, which computes nothing; unset it",
    );
  }
  const missing = missingVulkanDriver(fs, env);
  const software = driverOverride(env) === undefined && fs.existsSync(SWIFTSHADER_ICD);
  if (software && missing !== undefined) {
    env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    const found = await attempt("webgpu (Dawn) on SwiftShader");
    if (found !== null) return found;
  } else {
    if (missing !== undefined) throw new BackendError(`webgpu: ${missing}`);
    const found = await attempt("webgpu (Dawn)");
    if (found !== null) return found;
    if (software) {
      env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
      const fallback = await attempt("webgpu (Dawn) on SwiftShader");
      if (fallback !== null) return fallback;
    }
  }
  throw new BackendError(
    "webgpu: Dawn found no GPU adapter. Install a Vulkan driver, or Debian's chromium and " +
      "libvulkan1 for the SwiftShader software adapter (apt-get install chromium libvulkan1)",
  );
}

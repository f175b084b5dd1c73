#!/usr/bin/env bash
# The webgpu benchmark and numerics run on a bare Linux x86-64 machine with a GPU driver and no
# Node.js (the device machine of DEVELOPERS.md), in one command.
#
#   scripts/device-bench.sh pack           here: build .device/ (about 35 MiB), the folder to carry
#   scripts/device-bench.sh run [options]  there: unpack .device/, run, write to --out (or $OUT)
#   scripts/device-bench.sh --local        here: pack, then run against this machine's adapter
#                                          (SwiftShader without a GPU), into device-out/
#
# run's options: --out DIR (default $OUT), --sizes LIST (the bench's log2 sizes, default
# 20,22,24,26,28 on a GPU; a software adapter gets 20), --stride N (the numerics sweep's stride
# over the 2^32 float32 patterns; default 16411, 1048573 with --local), --bench-seconds S (the
# bench is stopped after S seconds, default 420, so that a device call ends inside its limit;
# 1800 with --local).
#
# .device/ holds: node.xz (this machine's node binary), dawn.node.xz (the webgpu package's Dawn
# build), app/ (the library, bench and numerics script compiled to JavaScript, with the webgpu
# package's JavaScript and tfjs-webgpu bundled for the side-by-side rows) and gl/ (Debian's
# Vulkan loader packages, unpacked there only when the machine has no libvulkan).
#
# What comes back (to --out): accuracy.md (the README's numerics rows for that adapter),
# bench.json and bench.log (`npm run bench -- --backend webgpu`), gpu.txt (nvidia-smi, vulkan
# manifests) and run.json (exit codes and timings).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEVICE="$ROOT/.device"
# The Vulkan loader and the GL dispatch libraries the NVIDIA driver's ICD needs (device notes).
GL_PACKAGES=(libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
SWIFTSHADER_ICD=/usr/lib/chromium/vk_swiftshader_icd.json
NVIDIA_ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
NVIDIA_EGL=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
LIMIT_MIB=60

die() {
  echo "device-bench: $*" >&2
  exit 2
}

# Bundles one tfjs package into a package folder of one CommonJS file, its package.json kept
# (load.ts reads the version from it); tfjs-core stays external to the backend, so both share it.
bundle_peer() {
  local name=$1 external=${2:-} from="$ROOT/bench/peers/node_modules/$1"
  local to="$DEVICE/app/bench/peers/node_modules/$name"
  [ -d "$from" ] || die "$name is not installed; run: cd bench/peers && ONNXRUNTIME_NODE_INSTALL=skip npm ci --ignore-scripts"
  mkdir -p "$to"
  node -e '
    const [from, to] = process.argv.slice(1);
    const p = require(from + "/package.json");
    const kept = { name: p.name, version: p.version, main: "index.js", license: p.license };
    require("fs").writeFileSync(to + "/package.json", JSON.stringify(kept, null, 2) + "\n");
  ' "$from" "$to"
  local main
  main=$(node -p 'require(process.argv[1] + "/package.json").main' "$from")
  "$ROOT/node_modules/.bin/esbuild" "$from/$main" --bundle --platform=node --format=cjs \
    --log-level=error --outfile="$to/index.js" ${external:+--external:$external}
}

pack() {
  command -v xz >/dev/null || die "xz is missing (apt-get install xz-utils)"
  [ -x "$ROOT/node_modules/.bin/tsc" ] || die "run npm ci first"
  [ "$(uname -m)" = x86_64 ] || die "the device machine is x86-64; pack on an x86-64 machine"
  rm -rf "$DEVICE"
  mkdir -p "$DEVICE/app" "$DEVICE/gl"
  echo "device-bench: compiling the library, bench and numerics script"
  "$ROOT/node_modules/.bin/tsc" -p "$ROOT/tsconfig.device.json"
  printf '{ "type": "module", "private": true }\n' >"$DEVICE/app/package.json"
  # The webgpu package without its native builds: dawn.node travels compressed beside it.
  local webgpu="$DEVICE/app/node_modules/webgpu"
  mkdir -p "$webgpu/dist/linux-x64"
  cp "$ROOT/node_modules/webgpu/package.json" "$ROOT/node_modules/webgpu/index.js" "$webgpu/"
  echo "device-bench: bundling tfjs-webgpu"
  bundle_peer @tensorflow/tfjs-core
  bundle_peer @tensorflow/tfjs-backend-webgpu @tensorflow/tfjs-core
  echo "device-bench: compressing node and dawn.node (xz, about a minute)"
  xz -T0 -6 -c "$(command -v node)" >"$DEVICE/node.xz"
  xz -T0 -6 -c "$ROOT/node_modules/webgpu/dist/linux-x64/dawn.node" >"$DEVICE/dawn.node.xz"
  echo "device-bench: downloading ${GL_PACKAGES[*]} (amd64)"
  local lists
  lists=$(mktemp -d)
  mkdir -p "$lists/partial"
  local apt=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 "-oDir::State::Lists=$lists")
  apt-get "${apt[@]}" -qq update
  (cd "$DEVICE/gl" && apt-get "${apt[@]}" -qq download "${GL_PACKAGES[@]}")
  rm -rf "$lists"
  local mib
  mib=$(du -sm "$DEVICE" | cut -f1)
  [ "$mib" -le "$LIMIT_MIB" ] || die ".device is $mib MiB, over the $LIMIT_MIB MiB that may travel"
  echo "device-bench: packed .device ($mib MiB); carry it: run(carry: [\".device\"], command: \"scripts/device-bench.sh run\")"
}

run() {
  local out=${OUT:-} sizes="" stride="" seconds="" local_run=false
  while [ $# -gt 0 ]; do
    case $1 in
      --out) out=$2; shift 2 ;;
      --sizes) sizes=$2; shift 2 ;;
      --stride) stride=$2; shift 2 ;;
      --bench-seconds) seconds=$2; shift 2 ;;
      --local) local_run=true; shift ;;
      *) die "run: unknown option $1" ;;
    esac
  done
  [ -n "$out" ] || die "run: no output folder (--out DIR, or \$OUT)"
  [ -f "$DEVICE/node.xz" ] || die "no .device/node.xz: run scripts/device-bench.sh pack first"
  mkdir -p "$out"
  # Global: the EXIT trap runs after this function's locals are gone.
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  xz -dc "$DEVICE/node.xz" >"$work/node"
  chmod +x "$work/node"
  cp -r "$DEVICE/app" "$work/app"
  xz -dc "$DEVICE/dawn.node.xz" >"$work/app/node_modules/webgpu/dist/linux-x64/dawn.node"
  export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$work}
  if $local_run; then
    # The gl packages are checked, not installed: this machine has its own loader.
    for f in "$DEVICE"/gl/*.deb; do dpkg-deb -f "$f" Package >/dev/null; done
    stride=${stride:-1048573}
    # A software adapter is slow, and no device call limits it here.
    seconds=${seconds:-1800}
  else
    if ! ldconfig -p | grep -q libvulkan.so.1; then
      for f in "$DEVICE"/gl/*.deb; do dpkg -x "$f" /; done
      ldconfig
    fi
    [ -f "$NVIDIA_ICD" ] && export VK_DRIVER_FILES=${VK_DRIVER_FILES:-$NVIDIA_ICD}
    [ -f "$NVIDIA_EGL" ] && export __EGL_VENDOR_LIBRARY_FILENAMES=$NVIDIA_EGL
    sizes=${sizes:-20,22,24,26,28}
  fi
  stride=${stride:-16411}
  seconds=${seconds:-420}
  {
    echo "# $(date -u +%FT%TZ) $(uname -srm)"
    command -v nvidia-smi >/dev/null && nvidia-smi || echo "no nvidia-smi"
    echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-} VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-}"
    ls /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/nvidia/share/vulkan/icd.d 2>/dev/null || true
  } >"$out/gpu.txt" 2>&1
  local node="$work/node" app="$work/app" started accuracy_rc bench_rc
  echo "device-bench: node $("$node" --version), numerics every ${stride}th float32 pattern"
  started=$(date +%s)
  set +e
  "$node" "$app/scripts/accuracy.js" --backend webgpu --stride "$stride" 2>&1 | tee "$out/accuracy.md"
  accuracy_rc=${PIPESTATUS[0]}
  local accuracy_s=$(($(date +%s) - started))
  started=$(date +%s)
  timeout "$seconds" "$node" "$app/bench/main.js" --backend webgpu ${sizes:+--sizes "$sizes"} \
    --json "$out/bench.json" 2>&1 | tee "$out/bench.log"
  bench_rc=${PIPESTATUS[0]}
  set -e
  local bench_s=$(($(date +%s) - started))
  printf '{ "accuracy": { "exit": %d, "seconds": %d, "stride": %d },\n  "bench": { "exit": %d, "seconds": %d, "sizes": "%s", "stoppedAfter": %d } }\n' \
    "$accuracy_rc" "$accuracy_s" "$stride" "$bench_rc" "$bench_s" "${sizes:-default}" "$seconds" >"$out/run.json"
  echo "device-bench: accuracy exit $accuracy_rc (${accuracy_s} s), bench exit $bench_rc (${bench_s} s); wrote $out"
  [ "$accuracy_rc" -eq 0 ] && [ "$bench_rc" -eq 0 ]
}

case ${1:-} in
  pack) pack ;;
  run) shift; run "$@" ;;
  --local)
    shift
    pack
    run --local --out "$ROOT/device-out" "$@"
    ;;
  *) die "usage: scripts/device-bench.sh pack | run [--out DIR] [--sizes LIST] [--stride N] | --local [run options]" ;;
esac

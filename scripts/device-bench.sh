#!/usr/bin/env bash
# The webgpu benchmark and numerics run on a bare Linux x86-64 machine with a GPU driver and no
# Node.js (the device machine of DEVELOPERS.md), in one command.
#
#   scripts/device-bench.sh pack           here: build .device/ (31 MiB), the folder to carry
#   scripts/device-bench.sh run [options]  there: unpack .device/, run, write to --out (or $OUT)
#   scripts/device-bench.sh --local        here: pack, then run against this machine's adapter
#                                          (SwiftShader without a GPU), into device-out/
#
# run's options: --out DIR (default $OUT); --sizes LIST (the bench's log2 sizes, default
# 20,22,24,26,28 on a GPU; a software adapter gets 20); --stride N (the numerics sweep's stride
# over the 2^32 float32 patterns, default 16411, 1048573 with --local); --accuracy-seconds S and
# --bench-seconds S (each step is stopped after its time: 120 s numerics, 60 s host path, 360 s
# bench, so that a device call of 600 s ends in time; --local allows 600, 300 and 1800).
#
# .device/ holds: node.xz (this machine's node binary), dawn.node.xz (the webgpu package's Dawn
# build), app/ (the library, bench and numerics script compiled to JavaScript, with the webgpu
# package's JavaScript and tfjs-webgpu bundled for the side-by-side rows) and gl/ (Debian's
# Vulkan loader packages, unpacked there only when the machine has no libvulkan).
#
# What comes back (to --out, 8 files, the most a device call returns): accuracy.md (the README's
# numerics rows for that adapter); bench.txt and bench.json (`npm run bench -- --backend webgpu
# --no-host`; the JSON is rewritten after each size, so a stopped run keeps what it measured);
# host.txt and host.json (the host path, --host-only, at its default sizes); stderr.log; gpu.txt
# (nvidia-smi, Vulkan manifests); run.json (each step's exit code, time and limit).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEVICE="$ROOT/.device"
# The Vulkan loader and the GL dispatch libraries the NVIDIA driver's ICD needs (device notes).
GL_PACKAGES=(libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
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
  # A distribution's node may link a shared libnode, which a bare machine lacks.
  if ldd "$(command -v node)" | grep -E 'libnode|libuv|libssl' >/dev/null; then
    die "$(command -v node) links shared libraries a bare machine lacks; use an official build"
  fi
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
  local out=${OUT:-} sizes="" stride="" seconds="" local_run=false accuracy_seconds="" host_seconds=""
  while [ $# -gt 0 ]; do
    case $1 in
      --out) out=$2; shift 2 ;;
      --sizes) sizes=$2; shift 2 ;;
      --stride) stride=$2; shift 2 ;;
      --bench-seconds) seconds=$2; shift 2 ;;
      --accuracy-seconds) accuracy_seconds=$2; shift 2 ;;
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
    accuracy_seconds=${accuracy_seconds:-600}
    host_seconds=300
  else
    # grep reads all of ldconfig's output: grep -q could end the pipe early (SIGPIPE, pipefail).
    if ! ldconfig -p | grep libvulkan.so.1 >/dev/null; then
      [ "$(id -u)" -eq 0 ] && command -v dpkg >/dev/null ||
        die "no libvulkan here, and unpacking .device/gl/*.deb into / needs root and dpkg"
      for f in "$DEVICE"/gl/*.deb; do dpkg -x "$f" /; done
      ldconfig
    fi
    [ -f "$NVIDIA_ICD" ] && export VK_DRIVER_FILES=${VK_DRIVER_FILES:-$NVIDIA_ICD}
    [ -f "$NVIDIA_EGL" ] && export __EGL_VENDOR_LIBRARY_FILENAMES=$NVIDIA_EGL
    sizes=${sizes:-20,22,24,26,28}
  fi
  stride=${stride:-16411}
  seconds=${seconds:-360}
  {
    echo "# $(date -u +%FT%TZ) $(uname -srm)"
    command -v nvidia-smi >/dev/null && nvidia-smi || echo "no nvidia-smi"
    echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-} VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-}"
    ls /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/nvidia/share/vulkan/icd.d 2>/dev/null || true
  } >"$out/gpu.txt" 2>&1
  local node="$work/node" app="$work/app"
  echo "device-bench: node $("$node" --version), numerics every ${stride}th float32 pattern"
  local steps=() failed=0
  # step NAME SECONDS OUTPUT COMMAND...: stdout to OUTPUT, stderr to stderr.log (both also on
  # screen), stopped after SECONDS; its exit code and time go into run.json.
  step() {
    local name=$1 limit=$2 output=$3 started rc
    shift 3
    started=$(date +%s)
    set +e
    echo "== $name: $*" >>"$out/stderr.log"
    timeout "$limit" "$@" 2> >(tee -a "$out/stderr.log" >&2) | tee "$output"
    rc=${PIPESTATUS[0]}
    set -e
    local took=$(($(date +%s) - started))
    steps+=("\"$name\": { \"exit\": $rc, \"seconds\": $took, \"limit\": $limit, \"timedOut\": $([ "$rc" -eq 124 ] && echo true || echo false) }")
    echo "device-bench: $name exit $rc (${took} s)"
    [ "$rc" -eq 0 ] || failed=1
  }
  # Under the device's 10-minute call: numerics 120 s, host path 60 s, the bench the rest.
  step accuracy "${accuracy_seconds:-120}" "$out/accuracy.md" \
    "$node" "$app/scripts/accuracy.js" --backend webgpu --stride "$stride"
  step host "${host_seconds:-60}" "$out/host.txt" \
    "$node" "$app/bench/main.js" --backend webgpu --host-only --json "$out/host.json"
  step bench "$seconds" "$out/bench.txt" \
    "$node" "$app/bench/main.js" --backend webgpu --no-host ${sizes:+--sizes "$sizes"} \
    --json "$out/bench.json"
  local joined
  joined=$(printf ',\n  %s' "${steps[@]}")
  printf '{ "stride": %d, "sizes": "%s"%s }\n' "$stride" "${sizes:-default}" "$joined" >"$out/run.json"
  echo "device-bench: wrote $out"
  [ "$failed" -eq 0 ]
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

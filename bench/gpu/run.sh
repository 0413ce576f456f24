#!/usr/bin/env bash
# GPU feature-extraction bench in one command, on the GPU machine, from the repo root:
#   bash bench/gpu/run.sh        (device `run` with carry [".gpu", ".gl"], after bench/gpu/pack.sh here)
# Measures MobileNetV2 fp32 at each batch size: Marquee end to end and inference only on webgpu, cpu
# (and cuda, which shows why it is unavailable), and the PyTorch baseline (bench/gpu/torch_baseline.py);
# prints a markdown table and writes it, with the raw JSON and logs, to $OUT (when set).
# A step that fails (no GPU adapter, no torch, a timeout) becomes a row with its error; the run goes on.
#
# Without .gpu/ (a workstation with Node, a build and ../shared): `npm run build && npm run bench:gpu`.
#
# Settings (environment):
#   GPU_BENCH_BATCHES   batch sizes                           32,64,128,256
#   GPU_BENCH_DEVICES   Marquee providers, in order          "webgpu cpu cuda"
#   GPU_BENCH_IMAGES    images per end-to-end run            2048 (posters cycled, whole batches)
#   GPU_BENCH_POSTERS   posters used (default: all packed, 512)
#   GPU_BENCH_TRIAL_S   seconds per inference trial            1
#   GPU_BENCH_TRIALS    trials per cell (best kept)            3
#   GPU_BENCH_TORCH     0 skips the PyTorch baseline           1
#   PYTHON              interpreter for the baseline    the first of python3, python with torch
#   GPU_BENCH_WORK      scratch folder                          ${TMPDIR:-/tmp}/marquee-gpu-bench
# Time caps per step (s): GPU_BENCH_CAP_TORCH 140, GPU_BENCH_CAP_WEBGPU 180, GPU_BENCH_CAP_CPU 140,
# GPU_BENCH_CAP_CUDA 45 (the whole run stays under the device tool's 10 minutes).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
T0=$(date +%s)
BATCHES=${GPU_BENCH_BATCHES:-32,64,128,256}
DEVICES=${GPU_BENCH_DEVICES:-webgpu cpu cuda}
IMAGES=${GPU_BENCH_IMAGES:-2048}
TRIAL_S=${GPU_BENCH_TRIAL_S:-1}
TRIALS=${GPU_BENCH_TRIALS:-3}
PYTHON=${PYTHON:-}
WORK=${GPU_BENCH_WORK:-${TMPDIR:-/tmp}/marquee-gpu-bench}
OUTDIR=${OUT:-}

say() { printf '[gpu-bench %3ss] %s\n' "$(($(date +%s) - T0))" "$*"; }
cap() { local v="GPU_BENCH_CAP_$(echo "$1" | tr '[:lower:]' '[:upper:]')"; echo "${!v:-$2}"; }

rm -rf "$WORK"
mkdir -p "$WORK"

# 1. Runtime: the packed one (.gpu/) or this machine's.
if [ -d .gpu ]; then
  say "unpacking .gpu/ into $WORK"
  mkdir -p "$WORK/models"
  pids=()
  for a in node node_modules dist; do
    tar -xJf ".gpu/$a.tar.xz" -C "$WORK" & pids+=($!)
  done
  tar -xJf .gpu/models.tar.xz -C "$WORK/models" & pids+=($!)
  for p in "${pids[@]}"; do wait "$p" || say "unpacking failed (pid $p): the rows below will say what is missing"; done
  NODE=$WORK/node
  DIST=$WORK/dist
  MODELS=$WORK/models
  POSTERS=$ROOT/.gpu/posters
else
  say "no .gpu/ here: using this machine's node, dist/ and ../shared"
  NODE=$(command -v node || echo node-not-found)
  DIST=$ROOT/dist
  MODELS=${MARQUEE_MODELS_DIR:-$ROOT/../shared/models}
  POSTERS=${GPU_BENCH_POSTERS_DIR:-$ROOT/../shared/data/posters/images}
  [ -f "$DIST/bench/gpu/bench-gpu.js" ] || say "dist/bench/gpu/bench-gpu.js missing: run 'npm run build' first"
fi
say "node: $("$NODE" --version 2>&1 | head -1) ($NODE); posters: $(find "$POSTERS" -maxdepth 1 -name '*.jpg' 2>/dev/null | wc -l) in $POSTERS"

# 2. The host.
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader > "$WORK/nvidia-smi.txt" 2>&1
  say "nvidia-smi: $(head -1 "$WORK/nvidia-smi.txt")"
else
  say "no nvidia-smi on this host"
fi
say "cpu: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | sed 's/^ *//')"

# 3. Vulkan for WebGPU (Dawn): the loader from .gl/*.deb where the host lacks it (unpacked privately,
#    on LD_LIBRARY_PATH; nothing is installed system-wide), and the NVIDIA ICD, pinned so that a software
#    Vulkan driver (llvmpipe) is never picked instead of the GPU.
have_lib() { # soname: in the loader cache or on LD_LIBRARY_PATH?
  ldconfig -p 2>/dev/null | grep -q "^[[:space:]]*$1 " && return 0
  local d
  IFS=: read -ra _dirs <<< "${LD_LIBRARY_PATH:-}"
  for d in "${_dirs[@]}"; do [ -n "$d" ] && [ -e "$d/$1" ] && return 0; done
  return 1
}
extract_deb() { # deb dest
  if command -v dpkg-deb >/dev/null 2>&1; then
    dpkg-deb -x "$1" "$2"
  else
    "${PYTHON:-python3}" - "$1" "$2" <<'EOF'
import io, sys, tarfile
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"!<arch>\n", "not a .deb"
i = 8
while i < len(data):
    name = data[i:i + 16].decode().strip().rstrip("/"); size = int(data[i + 48:i + 58])
    body = data[i + 60:i + 60 + size]; i += 60 + size + (size & 1)
    if name.startswith("data.tar"):
        tarfile.open(fileobj=io.BytesIO(body)).extractall(sys.argv[2])
EOF
  fi
}
setup_vulkan() {
  local notes=() gl_all=$WORK/gl-all gl_lib=$WORK/gl-lib f so n added=()
  if [ -d .gl ] && ls .gl/*.deb >/dev/null 2>&1; then
    mkdir -p "$gl_all" "$gl_lib"
    for f in .gl/*.deb; do extract_deb "$f" "$gl_all" || notes+=("could not unpack $f"); done
    for so in "$gl_all"/usr/lib/x86_64-linux-gnu/*.so.* "$gl_all"/lib/x86_64-linux-gnu/*.so.*; do
      [ -e "$so" ] || continue
      n=$(basename "$so")
      # Real files (lib*.so.N.M...) all go in; a soname link (lib*.so.N) only where the host lacks it.
      [[ "$n" =~ ^lib.*\.so\.[0-9]+$ ]] || { cp -P "$so" "$gl_lib/" 2>/dev/null; continue; }
      if ! have_lib "$n"; then cp -P "$so" "$gl_lib/"; added+=("$n"); fi
    done
    if [ ${#added[@]} -gt 0 ]; then
      export LD_LIBRARY_PATH="$gl_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
      notes+=("from .gl: ${added[*]}")
    else
      notes+=("host already has the Vulkan loader and GL libraries")
    fi
  else
    notes+=("no .gl/*.deb: relying on the host's libvulkan.so.1")
  fi
  have_lib libvulkan.so.1 || notes+=("libvulkan.so.1 NOT found")

  if [ -n "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ]; then
    notes+=("ICD from the environment: ${VK_DRIVER_FILES:-$VK_ICD_FILENAMES}")
  else
    local icd=""
    for f in /etc/vulkan/icd.d/nvidia*.json /usr/share/vulkan/icd.d/nvidia*.json /usr/local/share/vulkan/icd.d/nvidia*.json \
      /usr/local/nvidia/share/vulkan/icd.d/nvidia*.json /usr/local/nvidia/vulkan/icd.d/nvidia*.json; do
      [ -f "$f" ] && { icd=$f; break; }
    done
    if [ -z "$icd" ]; then
      # No ICD manifest, but the driver's Vulkan entry library may be there (it is libGLX_nvidia).
      local lib=""
      for n in libGLX_nvidia.so.0 libEGL_nvidia.so.0; do
        lib=$(ldconfig -p 2>/dev/null | awk -v n="$n" '$1 == n {print $NF; exit}')
        [ -z "$lib" ] && lib=$(find /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/local/nvidia/lib64 /usr/local/nvidia/lib -maxdepth 1 -name "$n" 2>/dev/null | head -1)
        [ -n "$lib" ] && break
      done
      if [ -n "$lib" ]; then
        icd=$WORK/nvidia_icd.json
        printf '{"file_format_version": "1.0.0", "ICD": {"library_path": "%s", "api_version": "1.3.0"}}\n' "$lib" > "$icd"
        notes+=("no NVIDIA ICD manifest on the host; wrote one for $lib")
      fi
    fi
    if [ -n "$icd" ]; then
      export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd
      notes+=("VK_DRIVER_FILES=$icd")
    else
      notes+=("no NVIDIA Vulkan driver found (no nvidia_icd.json, no libGLX_nvidia.so.0: the container may lack the driver's 'graphics' capability)")
    fi
  fi
  local IFS=';'
  echo "${notes[*]}" | sed 's/;/; /g' > "$WORK/vulkan.txt"
}
if [[ " $DEVICES " == *" webgpu "* ]]; then
  setup_vulkan
  say "vulkan: $(cat "$WORK/vulkan.txt")"
fi

# 4. PyTorch baseline.
if [ "${GPU_BENCH_TORCH:-1}" != 0 ]; then
  if [ -z "$PYTHON" ]; then # the first interpreter that has torch, else python3 (its error becomes the row)
    for p in python3 python; do
      command -v "$p" >/dev/null 2>&1 && "$p" -c 'import torch' >/dev/null 2>&1 && { PYTHON=$p; break; }
    done
    PYTHON=${PYTHON:-python3}
  fi
  c=$(cap torch 140)
  say "PyTorch baseline (cap ${c}s)"
  timeout -k 10 "$c" "$PYTHON" bench/gpu/torch_baseline.py --batch "$BATCHES" --trial-s "$TRIAL_S" --trials "$TRIALS" \
    --budget-s $((c - 30)) --out "$WORK/torch.json" > "$WORK/torch.out" 2> "$WORK/torch.log"
  echo $? > "$WORK/torch.rc"
  say "  exit $(cat "$WORK/torch.rc"); $(tail -n 1 "$WORK/torch.log")"
else
  echo skipped > "$WORK/torch.rc"
fi

# 5. Marquee, one process per provider.
for d in $DEVICES; do
  case $d in webgpu) c=$(cap webgpu 180) ;; cpu) c=$(cap cpu 140) ;; *) c=$(cap "$d" 45) ;; esac
  say "Marquee $d (cap ${c}s)"
  # Vulkan loader errors (and Dawn's warnings, on stdout) end up in the logs, for a webgpu row that fails.
  vkdebug=""; [ "$d" = webgpu ] && vkdebug=error,warn
  VK_LOADER_DEBUG=${VK_LOADER_DEBUG:-$vkdebug} MARQUEE_DEVICE=$d timeout -k 10 "$c" "$NODE" "$DIST/bench/gpu/bench-gpu.js" --device "$d" --batch "$BATCHES" \
    --posters "$POSTERS" --models "$MODELS" ${GPU_BENCH_POSTERS:+--posters-max "$GPU_BENCH_POSTERS"} \
    --pipeline-images "$IMAGES" --trial-s "$TRIAL_S" --trials "$TRIALS" --budget-s $((c * 3 / 4)) \
    --out "$WORK/marquee-$d.json" > "$WORK/marquee-$d.out" 2> "$WORK/marquee-$d.log"
  echo $? > "$WORK/marquee-$d.rc"
  say "  exit $(cat "$WORK/marquee-$d.rc"); $(grep -v '^\s*at ' "$WORK/marquee-$d.log" | tail -n 1)"
done

# 6. The table.
say "done in $(($(date +%s) - T0)) s"
echo
if ! "$NODE" "$DIST/bench/gpu/report.js" --work "$WORK" --devices "$DEVICES" --out "$WORK/gpu-bench.md"; then
  echo "(report.js failed; raw results follow)"
  for f in "$WORK"/*.json; do [ -f "$f" ] && { echo "== $(basename "$f")"; cat "$f"; }; done
fi
if [ -n "$OUTDIR" ]; then
  mkdir -p "$OUTDIR"
  for f in "$WORK"/gpu-bench.md "$WORK"/*.json "$WORK"/*.log "$WORK"/*.out "$WORK"/*.rc "$WORK"/nvidia-smi.txt "$WORK"/vulkan.txt; do
    [ -f "$f" ] && cp "$f" "$OUTDIR/"
  done
  echo "(written to $OUTDIR: gpu-bench.md, raw JSON, logs)"
fi
exit 0

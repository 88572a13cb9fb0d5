#!/usr/bin/env bash
# Builds what scripts/gpu-check.sh runs on a GPU machine that has no network and no cargo: fdl and
# the two GPU benches (two_layer_step, ntk_gram) with the GPU backends, stripped and xz-compressed,
# the peer benchmark (bench.py) and the Vulkan loader's Debian packages, all in .gpu/ (git-ignored;
# a device call carries it: 29 MiB of its 64 for the wgpu build).
#
# Usage: scripts/gpu-pack.sh           (FDL_GPU_FEATURES, default "cuda,wgpu"; FDL_SHARED: ../shared)
# The build lives in target/gpu so that it leaves the CPU build alone; the first one takes 45-60
# minutes on 2 cores. The `cuda` feature needs github.com at build time: cubecl-cuda 0.11.3 links
# LLVM 23 (its nvptx back end), which the tracel-llvm-bundler build script downloads from
# github.com/tracel-ai/tracel-llvm (once, into ~/.local/share/tracel). Where that is not reachable,
# FDL_GPU_FEATURES=wgpu packs the wgpu build alone.
set -euo pipefail
cd "$(dirname "$0")/.."
features="${FDL_GPU_FEATURES:-cuda,wgpu}"
shared="$(realpath "${FDL_SHARED:-../shared}")"
pack=.gpu
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target/gpu}"
# cudarc picks its CUDA API at build time; 13.0 is what the H200 machine's driver (580) serves,
# and with no toolkit here the driver and NVRTC are loaded at run time.
export CUDARC_CUDA_VERSION="${CUDARC_CUDA_VERSION:-13000}"
log() { printf '[gpu-pack %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

rm -rf "$pack" && mkdir -p "$pack"
log "building fdl with --features $features"
cargo build --release --features "$features"
cp "$CARGO_TARGET_DIR/release/fdl" "$pack/fdl"
log "building the GPU benches"
for bench in two_layer_step ntk_gram; do
    exe=$(cargo bench --no-run --features "$features" --bench "$bench" --message-format=json 2>/dev/null |
        python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and "bench" in m["target"]["kind"]:
        print(m["executable"])' | tail -1)
    cp "$exe" "$pack/$bench"
done
echo "$features" > "$pack/features"
git describe --always --dirty > "$pack/commit" 2>/dev/null || echo unknown > "$pack/commit"
for exe in fdl two_layer_step ntk_gram; do
    strip "$pack/$exe"
    xz -T0 -6 "$pack/$exe"
done
cp "$shared/bench/bench.py" "$pack/bench.py"
log "downloading the Vulkan loader and GL vendor-neutral libraries (Debian 12 amd64)"
mkdir -p "$pack/gl" /tmp/amd64/partial
apt_opts=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64)
apt-get "${apt_opts[@]}" update -qq
(cd "$pack/gl" && apt-get "${apt_opts[@]}" download -qq libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
du -sh "$pack"
log "done: carry .gpu and run scripts/gpu-check.sh on the GPU machine"

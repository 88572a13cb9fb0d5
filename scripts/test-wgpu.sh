#!/usr/bin/env bash
# Runs the end-to-end depth-conv test on Burn's wgpu backend. Without a GPU it uses lavapipe,
# Mesa's software Vulkan device, which it installs if missing (Debian/Ubuntu, needs root).
# The first wgpu build takes about 45 minutes on 2 cores (wgpu, naga, cubecl); it lives in its
# own target folder so that it does not invalidate the default CPU build.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! ldconfig -p | grep -q libvulkan.so.1 || ! ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1; then
    if ! ls /usr/share/vulkan/icd.d/*.json >/dev/null 2>&1; then
        echo "installing the Vulkan loader and Mesa's software Vulkan driver (lavapipe)" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mesa-vulkan-drivers libvulkan1 >/dev/null
    fi
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target/wgpu}"
# Mesa warns on every device start without a runtime dir; any writable folder will do.
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
cargo test --release --features wgpu --test wgpu -- --nocapture

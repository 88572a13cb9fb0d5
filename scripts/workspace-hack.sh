#!/usr/bin/env bash
# Regenerates crates/fdl-workspace-hack, the crate every workspace member depends on so that
# every package selection (`cargo test -p fdl-models`, `cargo run -p custom-architecture`)
# builds its dependencies with the same features as the workspace, and none rebuilds Burn.
# cargo-hakari unifies over all features, which would pull wgpu and ndarray into the default
# build, so the GPU/ndarray features are removed from the manifests while it runs. Run it after
# changing any dependency. Needs `cargo install cargo-hakari --locked`.
set -euo pipefail
cd "$(dirname "$0")/.."
manifests=(Cargo.toml crates/fdl-lab/Cargo.toml)
for m in "${manifests[@]}"; do cp "$m" "$m.orig"; done
restore() { for m in "${manifests[@]}"; do mv "$m.orig" "$m"; done; }
trap restore EXIT
for m in "${manifests[@]}"; do sed -i '/^wgpu = \[/d; /^ndarray = \[/d' "$m"; done
cargo hakari generate
cargo hakari manage-deps --yes

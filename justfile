# fdl recipes. Get just with `cargo install just --locked`; every recipe is a plain cargo
# command you can also type yourself.

# Reproduce an experiment with its defaults: `just reproduce depth-conv --quick`
reproduce name="depth-conv" *args:
    cargo run --release -- reproduce {{name}} {{args}}

# List the experiments
list:
    cargo run --release -- list

# Regenerate experiments/*.toml from the configs' doc comments and rules (`fdl config NAME`)
configs:
    cargo build --release
    for e in $(./target/release/fdl list | cut -d' ' -f1); do ./target/release/fdl config $e > experiments/$e.toml; done

# The test suite (what CI runs, with fmt and clippy)
test:
    cargo test --release --workspace

# Formatting and lints, warnings denied
lint:
    cargo fmt --all --check
    cargo clippy --release --workspace --all-targets -- -D warnings

# Everything CI runs
ci:
    bash .ci/run

# Benchmarks of the hot paths (divan): one depth-conv training step (L = 1..4, D = 16 and 64),
# one l_inf / l_1 steepest-descent step on logistic regression (n = d = 1000, f64), Du et al.'s
# two-layer GD step (n = 1000, d = 100, m up to 16384; f32, f64, and f32 unfused), NTK Grams
bench:
    cargo bench --bench depth_conv_step
    cargo bench --bench steepest_step
    cargo bench --bench two_layer_step -- f32
    cargo bench --bench two_layer_step -- f64
    cargo bench --bench ntk_gram
    cargo bench --bench linearization

# fdl and its peers (JAX, neural-tangents) side by side on this machine: one table of medians
# and ratios, written to target/bench-compare/table.csv (creates the peer environments first)
bench-compare:
    bash scripts/bench-compare.sh

# Local sweep throughput: 32 depth-conv --quick cells with --jobs 1 against --jobs <cores>
bench-sweep:
    cargo bench --bench sweep_throughput

# A real single-node Slurm (installed, started and stopped by the script; needs root) runs a
# job-array sweep that must equal the local one
test-slurm:
    cargo build --release
    bash scripts/slurm-local.sh target/release/fdl

# The peer numbers on this machine, side by side: JAX for depth-conv (W3) or steepest-lp (W4)
bench-peer workload="depth-conv":
    bash scripts/peer-bench.sh {{workload}}

# The end-to-end depth-conv test on wgpu (software Vulkan without a GPU; ~45 min first build)
test-wgpu:
    bash scripts/test-wgpu.sh

# Type-check the GPU backends (cuda and wgpu) without a GPU. The cuda feature downloads LLVM 23
# from github.com at build time (cubecl-cuda's nvptx back end); see scripts/gpu-pack.sh
check-gpu:
    CUDARC_CUDA_VERSION=13000 cargo check --release --features cuda,wgpu

# Build and pack fdl and its GPU benches for a GPU machine (.gpu/; FDL_GPU_FEATURES=wgpu without
# github.com); then run `bash scripts/gpu-check.sh` there with .gpu carried
gpu-pack:
    bash scripts/gpu-pack.sh

# A 10^6-step depth-conv run: no NaN or Inf however large the parameter norm grows (~6 min)
soak:
    cargo run --release -- reproduce depth-conv --set training.steps=1000000 --set fc_depths=[] --out runs/depth-conv-soak

#!/usr/bin/env bash
# fdl against its peers on this machine, minutes apart: creates the peer environments (JAX
# 0.10.2; neural-tangents 0.6.5 on JAX 0.4.25 with the pins of ../shared/bench), runs the peer
# workloads (../shared/bench/bench.py, from a writable copy) and fdl's divan benches back to
# back, then prints one table of medians and ratios (and writes target/bench-compare/table.csv).
# Usage: scripts/bench-compare.sh [--skip-peers]   (FDL_SHARED: where shared/ is, default ../shared)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
shared="$(realpath "${FDL_SHARED:-../shared}")"
out="$root/target/bench-compare"
venv="$root/target/peer-venv"
venv_nt="$root/target/peer-venv-nt"
mkdir -p "$out"
log() { printf '[bench-compare %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

if [ "${1:-}" != "--skip-peers" ]; then
    if [ ! -x "$venv/bin/python" ]; then
        log "creating $venv (jax 0.10.2)"
        python3 -m venv "$venv"
        "$venv/bin/pip" install -q jax==0.10.2 jaxlib==0.10.2 numpy==2.4.6 scipy==1.17.1 \
            ml_dtypes==0.6.0 opt_einsum==3.4.0 threadpoolctl==3.8.0
    fi
    if [ ! -x "$venv_nt/bin/python" ] || ! "$venv_nt/bin/python" -c "import neural_tangents" 2>/dev/null; then
        log "creating $venv_nt (neural-tangents 0.6.5, pins of $shared/bench/requirements-nt.lock.txt)"
        python3 -m venv "$venv_nt"
        "$venv_nt/bin/pip" install -q -r "$shared/bench/requirements-nt.lock.txt"
    fi
    rm -rf "$out/peer" && cp -r "$shared/bench" "$out/peer" && chmod -R u+w "$out/peer"
    : > "$out/peers.jsonl"
    peer() { # peer <python> <workload> <impl prefixes>
        log "peer: $2 ($3)"
        (cd "$out/peer" && "$1" bench.py --workload "$2" --impls "$3" --wait-quiet 0 >> "$out/peers.jsonl")
    }
    peer "$venv/bin/python" depth-conv jax
    peer "$venv/bin/python" steepest-lp jax
    peer "$venv/bin/python" two-layer-gd jax
    peer "$venv/bin/python" ntk-gram jax_closed_form
    peer "$venv_nt/bin/python" ntk-gram nt_impl3
fi

log "building fdl's benches"
cargo bench --no-run -q 2>/dev/null
: > "$out/fdl.txt"
for bench in depth_conv_step steepest_step ntk_gram; do
    log "fdl: $bench"
    cargo bench -q --bench "$bench" >> "$out/fdl.txt" 2>/dev/null
done
for precision in f32 f64; do
    log "fdl: two_layer_step $precision"
    cargo bench -q --bench two_layer_step -- "${precision}_5_steps" >> "$out/fdl.txt" 2>/dev/null
done
python3 scripts/bench_compare.py "$out/fdl.txt" "$out/peers.jsonl" "$out/table.csv"

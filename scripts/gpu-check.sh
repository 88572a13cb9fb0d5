#!/usr/bin/env bash
# The GPU check of issue 15, one call on the GPU machine (no network, no cargo): reads what
# scripts/gpu-pack.sh put in .gpu/, then
#   (a) runs every experiment with --quick on each GPU backend compiled in (cuda, wgpu) and on
#       flex (the CPU, same seed, in the background), and compares verdicts and numbers
#       (scripts/compare_runs.py: the largest relative difference per experiment);
#   (b) times the GPU hot paths (fdl's two_layer_step and ntk_gram benches on each backend) and
#       JAX's on the same GPU (bench.py, two-layer-gd and ntk-gram);
#   (c) writes one report, gpu-check.md, with both tables.
# Usage, as a device call: carry [".gpu"], command `bash scripts/gpu-check.sh`. Results go to $OUT
# (or target/gpu-check). Time: GPU_CHECK_BUDGET_S (default 480) bounds the whole check and
# GPU_CHECK_RUNS_S (default 270) part (a); a run or bench left when its time is out is listed as
# not run, so one call stays near 8 minutes. GPU_CHECK_BACKENDS (default "cuda wgpu") picks the
# backends, e.g. a second call with "wgpu" alone.
set -uo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
pack="$root/.gpu"
out="${OUT:-$root/target/gpu-check}"
work=/tmp/fdl-gpu-check
budget="${GPU_CHECK_BUDGET_S:-480}"
runs_budget="${GPU_CHECK_RUNS_S:-270}"
start=$SECONDS
# Seconds left of `budget`, at most $1 (a step's own cap) and at least 0.
left() { local l=$((budget - (SECONDS - start))); [ "$l" -gt "$1" ] && l=$1; [ "$l" -lt 0 ] && l=0; echo "$l"; }
# Runs a command for at most $1 seconds of what is left; skipped (exit 124) under 5 seconds.
within() { local l; l=$(left "$1"); shift; [ "$l" -ge 5 ] || return 124; timeout -k 5 "$l" "$@"; }
mkdir -p "$out" && rm -rf "$work" && mkdir -p "$work/bin"
log() { printf '[gpu-check %(%H:%M:%S)T +%ss] %s\n' -1 "$((SECONDS - start))" "$*" | tee -a "$out/log.txt" >&2; }

[ -f "$pack/fdl.xz" ] || { echo "no $pack/fdl.xz: run scripts/gpu-pack.sh here first, then carry .gpu" >&2; exit 2; }
for exe in fdl two_layer_step ntk_gram; do
    xz -dc "$pack/$exe.xz" > "$work/bin/$exe" && chmod +x "$work/bin/$exe"
done
fdl="$work/bin/fdl"
# The Vulkan loader for wgpu (the machine has the NVIDIA ICD file but no loader).
if [ -d "$pack/gl" ] && [ "$(ldconfig -p | grep -c libvulkan.so.1)" = 0 ]; then
    for f in "$pack"/gl/*.deb; do dpkg -x "$f" /; done
    ldconfig
fi
export VK_DRIVER_FILES="${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}"
export __EGL_VENDOR_LIBRARY_FILENAMES="${__EGL_VENDOR_LIBRARY_FILENAMES:-/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json}"
gpu_name=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1)
gpu_name="${gpu_name:-no NVIDIA GPU (nvidia-smi: none)}"
log "GPU: ${gpu_name:-none found}; fdl $(cat "$pack/commit") with features $(cat "$pack/features")"

# Which GPU backends this binary has and can start (`fdl devices`: a one-element round trip each).
timeout -k 5 120 "$fdl" devices | tee "$out/devices.txt"
backends=()
for b in ${GPU_CHECK_BACKENDS:-cuda wgpu}; do
    if grep -q "^$b  *ready" "$out/devices.txt"; then
        backends+=("$b")
    else
        log "backend $b not used: $(grep "^$b " "$out/devices.txt")"
    fi
done

# (a) Every experiment, --quick, seed 0: flex in the background (8 threads), the GPUs in turn.
experiments=$("$fdl" list | cut -d' ' -f1)
(
    for e in $experiments; do
        [ $((SECONDS - start)) -lt $((runs_budget + 30)) ] || break
        RAYON_NUM_THREADS=8 timeout -k 5 90 "$fdl" reproduce "$e" --quick --device flex \
            --out "$work/flex/$e" > "$work/flex-$e.txt" 2>&1
    done
) &
flex_pid=$!
: > "$work/runs.tsv"
for b in "${backends[@]}"; do
    for e in $experiments; do
        left=$(left $((runs_budget - (SECONDS - start))))
        if [ "$left" -le 5 ]; then
            echo -e "$b\t$e\tnot run (time budget)" >> "$work/runs.tsv"
            continue
        fi
        t0=$SECONDS
        timeout -k 5 "$left" "$fdl" reproduce "$e" --quick --device "$b" --out "$work/$b/$e" \
            > "$work/$b-$e.txt" 2>&1
        rc=$?
        log "$b $e: exit $rc in $((SECONDS - t0)) s"
        case $rc in
            0 | 1 | 4) echo -e "$b\t$e\tran" >> "$work/runs.tsv" ;; # pass, fail, undecided
            124) echo -e "$b\t$e\tstopped by the time budget after $((SECONDS - t0)) s" >> "$work/runs.tsv" ;;
            *) echo -e "$b\t$e\texit $rc: $(tail -1 "$work/$b-$e.txt" | cut -c1-160)" >> "$work/runs.tsv" ;;
        esac
    done
done
wait "$flex_pid"
: > "$out/verdicts.jsonl"
while IFS=$'\t' read -r b e status; do
    if [ "$status" = ran ] && [ -f "$work/flex/$e/report.json" ]; then
        python3 scripts/compare_runs.py "$work/flex/$e" "$work/$b/$e" >> "$out/verdicts.jsonl"
    else
        [ "$status" = ran ] && status="the flex run did not finish: $(tail -1 "$work/flex-$e.txt")"
        python3 -c 'import json,sys; print(json.dumps({"experiment": sys.argv[1], "device": sys.argv[2], "status": sys.argv[3]}))' \
            "$e" "$b" "$status" >> "$out/verdicts.jsonl"
    fi
done < "$work/runs.tsv"

# (b) Hot paths: JAX on this GPU first (the peer numbers), then fdl's benches on each backend.
log "JAX on the same GPU"
: > "$work/jax.jsonl"
for w in two-layer-gd ntk-gram; do
    (cd "$pack" && within 45 python3 bench.py --workload "$w" --impls jax --wait-quiet 0 >> "$work/jax.jsonl" 2>>"$out/log.txt") ||
        log "bench.py $w: exit $?"
done
cp "$work/jax.jsonl" "$out/jax.jsonl"
for b in "${backends[@]}"; do
    log "fdl benches on $b"
    : > "$work/fdl-$b.txt"
    for precision in f32 f64; do
        # divan's filters are regular expressions: `f32_5_steps` alone would run the unfused rows too.
        FDL_BENCH_DEVICE=$b within 45 "$work/bin/two_layer_step" --bench "${precision}_5_steps" \
            --skip unfused >> "$work/fdl-$b.txt" 2>&1 || log "two_layer_step $precision on $b: exit $?"
    done
    FDL_BENCH_DEVICE=$b within 45 "$work/bin/ntk_gram" --bench >> "$work/fdl-$b.txt" 2>&1 ||
        log "ntk_gram on $b: exit $?"
done

# (c) One report.
{
    echo "# fdl GPU check"
    echo
    echo "GPU: ${gpu_name:-none}; fdl $(cat "$pack/commit") (features $(cat "$pack/features")); $(date -u +%FT%TZ)."
    echo "Every experiment with --quick, seed 0, against flex on this machine's CPU (8 threads)."
    echo
    python3 scripts/compare_runs.py --table "$out/verdicts.jsonl"
    for b in "${backends[@]}"; do
        echo
        python3 scripts/bench_compare.py --gpu "$gpu_name, fdl on $b" "$work/fdl-$b.txt" "$work/jax.jsonl" "$out/bench-$b.csv"
    done
} > "$out/gpu-check.md"
cat "$out/gpu-check.md"
log "done in $((SECONDS - start)) s"

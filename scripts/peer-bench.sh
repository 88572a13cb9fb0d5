#!/usr/bin/env bash
# Runs the peer benchmark (shared/bench/bench.py) for one workload with JAX, from a writable
# copy, in a minimal virtual environment (jax 0.10.2 as pinned in the peer lock file, no torch).
# Compare its median_ms with `just bench` run right before or after: machines are noisy.
set -euo pipefail
cd "$(dirname "$0")/.."
workload="${1:-depth-conv}"
shared="${FDL_SHARED:-../shared}"
venv="$(realpath -m "${FDL_PEER_VENV:-target/peer-venv}")"
copy="target/peer-bench"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q jax==0.10.2 jaxlib==0.10.2 numpy==2.4.6 scipy==1.17.1 \
        ml_dtypes==0.6.0 opt_einsum==3.4.0 threadpoolctl==3.8.0
fi
rm -rf "$copy" && cp -r "$shared/bench" "$copy" && chmod -R u+w "$copy"
cd "$copy"
"$venv/bin/python" bench.py --workload "$workload" --impls jax --wait-quiet 0 > "results-$workload.jsonl"
"$venv/bin/python" - "results-$workload.jsonl" <<'PY'
import json, sys
# Size parameters differ per workload (D, L for depth-conv; n, d, norm for steepest-lp).
skip = {"workload", "impl", "threads", "median_ms", "min_ms", "max_ms", "n_reps",
        "load1", "unit", "steps_per_rep", "steps_per_call", "lib", "time"}
for line in open(sys.argv[1]):
    r = json.loads(line)
    size = " ".join(f"{k}={v}" for k, v in r.items() if k not in skip and not isinstance(v, float))
    print(f"{r['impl']:<24}{size:<28}{1000 * r['median_ms']:>12.2f} us/step")
PY

"""Joins fdl's divan output with the peers' JSON lines into one table of medians and ratios.

Usage: bench_compare.py [--gpu NAME] FDL_DIVAN_OUTPUT.txt PEERS.jsonl TABLE.csv
Prints a markdown table (fdl median, best peer median and which, fdl / peer) and writes it as CSV.
With --gpu (scripts/gpu-check.sh): the GPU workloads only (two-layer GD step, NTK Grams), each
next to JAX's one-step-per-call jit and its compiled loop separately, and NAME in the header.
"""

import csv
import json
import re
import sys

UNITS = {"ns": 1e-6, "µs": 1e-3, "us": 1e-3, "ms": 1.0, "s": 1e3}


def divan_medians(path):
    """{(bench, arg path...): median ms} from divan's tree table."""
    medians, stack = {}, []
    for line in open(path, encoding="utf-8"):
        head = line.split("│")[0]
        if head[:1].strip() and not head.startswith(("├", "╰")):
            stack = [head.split()[0]]  # a bench binary's title row: `name  fastest`
            continue
        m = re.match(r"^([ │]*[├╰]─ )(\S+)", line)
        if not m:
            continue  # throughput rows, blank lines
        depth = len(m.group(1)) // 3
        stack = stack[:depth] + [m.group(2)]
        # After the name: fastest │ slowest │ median │ ... (the tree's own │ are before it).
        columns = line[m.end():].split("│")
        value = re.match(r"\s*([\d.]+)\s*(ns|µs|us|ms|s)\b", columns[2] if len(columns) > 2 else "")
        if value:
            medians[tuple(stack)] = float(value.group(1)) * UNITS[value.group(2)]
    return medians


def peers(path):
    return [json.loads(line) for line in open(path) if line.strip().startswith("{")]


def best(records, **match):
    """The fastest peer record whose fields equal `match`."""
    hits = [r for r in records if "median_ms" in r and all(r.get(k) == v for k, v in match.items())]
    return min(hits, key=lambda r: r["median_ms"]) if hits else None


def main():
    args = sys.argv[1:]
    gpu = args[1] if args[:1] == ["--gpu"] else None
    if gpu:
        args = args[2:]
    fdl, peer_records, table = divan_medians(args[0]), peers(args[1]), args[2]
    rows = []

    def row(label, key, per, unit, **match):
        ours = fdl.get(key)
        other = best(peer_records, **match)
        if gpu and "impl" in match:
            label = f"{label} vs {match['impl']}"
        scale = 1e3 if unit == "us" else 1.0
        fdl_v = ours / per * scale if ours is not None else None
        peer_v = other["median_ms"] * scale if other else None
        ratio = fdl_v / peer_v if fdl_v and peer_v else None
        rows.append([label, unit, fdl_v, peer_v, other["impl"] if other else "", ratio])

    if gpu:
        gpu_rows(row)
    else:
        cpu_rows(row)

    machine = gpu or next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                           if l.startswith("model name")), "?")
    fmt = lambda v: "n/a" if v is None else f"{v:.3g}"
    print(f"{'GPU' if gpu else 'CPU'}: {machine}\n")
    print("| workload | unit | fdl | best peer | peer | fdl / peer |\n|---|---|---|---|---|---|")
    for label, unit, ours, other, impl, ratio in rows:
        print(f"| {label} | {unit} | {fmt(ours)} | {fmt(other)} | {impl} | {fmt(ratio)}x |")
    with open(table, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["workload", "unit", "fdl_median", "peer_median", "peer", "ratio", "machine"])
        for r in rows:
            w.writerow(r + [machine])


def cpu_rows(row):
    """The peer benchmark's CPU workloads, each against its fastest peer."""
    for n in (128, 1024):
        row(f"MLP 100-512-512-1 NTK Gram, N = {n}", ("ntk_gram", "mlp_512_structured", str(n)), 1, "ms",
            workload="ntk-gram", part="b_mlp3_ntkparam", N=n)
    row("Du closed-form Gram, n = 1000, m = 4096 (f32)", ("ntk_gram", "du_two_layer_closed_form"), 1, "ms",
        workload="ntk-gram", part="a_du_twolayer")
    for d in (16, 64):
        for depth in (1, 2, 3, 4):
            row(f"depth-conv step, D = {d}, L = {depth} (f64)",
                ("depth_conv_step", "depth_conv_steps", str(d), str(depth)), 10_000, "us",
                workload="depth-conv", D=d, L=depth)
    for norm, name in (("l1", "l_1"), ("linf", "l_inf")):
        row(f"{name} steepest step, n = d = 1000 (f64)", ("steepest_step", "steepest_steps", norm), 1000, "ms",
            workload="steepest-lp", norm=norm)
    for precision, dtype in (("f32", "float32"), ("f64", "float64")):
        for m in (1024, 4096, 16384):
            row(f"two-layer GD step {precision}, m = {m}",
                ("two_layer_step", f"{precision}_5_steps", str(m)), 5, "ms",
                workload="two-layer-gd", m=m, dtype=dtype)


def gpu_rows(row):
    """The GPU workloads of issue 15, against JAX jit (one step per call) and its compiled loop."""
    for precision, dtype in (("f32", "float32"), ("f64", "float64")):
        for m in (1024, 4096, 16384):
            for impl in ("jax_jit", "jax_fori"):
                row(f"two-layer GD step {precision}, m = {m}",
                    ("two_layer_step", f"{precision}_5_steps", str(m)), 5, "ms",
                    workload="two-layer-gd", m=m, dtype=dtype, impl=impl)
    row("Du closed-form Gram, n = 1000, m = 4096 (f32)", ("ntk_gram", "du_two_layer_closed_form"), 1, "ms",
        workload="ntk-gram", part="a_du_twolayer", impl="jax_closed_form")
    for n in (128, 1024):
        row(f"MLP 100-512-512-1 NTK Gram, N = {n}", ("ntk_gram", "mlp_512_structured", str(n)), 1, "ms",
            workload="ntk-gram", part="b_mlp3_ntkparam", N=n, impl="jax_vmap_jacrev_contract")


if __name__ == "__main__":
    main()

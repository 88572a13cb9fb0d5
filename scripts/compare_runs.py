"""Compares two run folders of the same experiment and seed (a reference, e.g. flex, and a GPU run).

Usage: compare_runs.py REFERENCE_RUN OTHER_RUN
       compare_runs.py --table LINES.jsonl   (a markdown table of such lines; scripts/gpu-check.sh)
Prints one JSON line: the two verdicts, whether every check passes or fails alike, and the
largest relative difference over the checks' values and the report's headline numbers (with the
key where it occurs). Relative difference: |a - b| / max(|a|, |b|, 1e-12); equal values give 0,
a number against a NaN (null in JSON) infinity.
"""

import json
import math
import sys


def numbers(value, key=""):
    """Every number in a JSON value, keyed by its path; null (how a NaN or infinity is written)
    is kept as None."""
    if isinstance(value, bool):
        return
    if value is None:
        if key:
            yield key, None
    elif isinstance(value, (int, float)):
        if math.isfinite(value):
            yield key, float(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from numbers(v, f"{key}.{k}" if key else k)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from numbers(v, f"{key}[{i}]")


def relative(a, b):
    """|a - b| / max(|a|, |b|, 1e-12): the floor keeps two round-off-sized values (1e-17 and
    3e-17) from reading as a large difference. A number against a null is infinitely apart."""
    if a is None or b is None:
        return 0.0 if a is b else math.inf
    return 0.0 if a == b else abs(a - b) / max(abs(a), abs(b), 1e-12)


def load(run):
    with open(f"{run}/report.json", encoding="utf-8") as f:
        report = json.load(f)
    with open(f"{run}/manifest.json", encoding="utf-8") as f:
        manifest = json.load(f)
    return report, manifest


def compare(reference, other):
    (ref, ref_manifest), (oth, oth_manifest) = load(reference), load(other)
    ref_checks = {c["name"]: c for c in ref["checks"]}
    oth_checks = {c["name"]: c for c in oth["checks"]}
    same_checks = ref_checks.keys() == oth_checks.keys() and all(
        ref_checks[n]["pass"] == oth_checks[n]["pass"] for n in ref_checks
    )
    ref_numbers = dict(numbers({"checks": {n: c.get("value") for n, c in ref_checks.items()},
                                "headline": ref.get("headline")}))
    oth_numbers = dict(numbers({"checks": {n: c.get("value") for n, c in oth_checks.items()},
                                "headline": oth.get("headline")}))
    worst_key, worst = None, 0.0
    for k in ref_numbers.keys() & oth_numbers.keys():
        d = relative(ref_numbers[k], oth_numbers[k])
        if d > worst:
            worst_key, worst = k, d
    return {
        "experiment": ref["experiment"],
        "dtype": oth_manifest.get("dtype"),
        "reference_device": ref_manifest.get("device"),
        "device": oth_manifest.get("device"),
        "reference_verdict": ref["verdict"],
        "verdict": oth["verdict"],
        "same_verdict": ref["verdict"] == oth["verdict"] and same_checks,
        "checks": len(oth_checks),
        "compared_numbers": len(ref_numbers.keys() & oth_numbers.keys()),
        "unmatched_numbers": len(ref_numbers.keys() ^ oth_numbers.keys()),
        "max_relative_difference": worst,
        "where": worst_key or "(all equal)",
        "reference_seconds": ref_manifest.get("wall_seconds"),
        "seconds": oth_manifest.get("wall_seconds"),
    }


def table(path):
    """Markdown: one row per experiment and device. A line without a verdict says why (its
    `status`: a timeout, an exit code, the time budget)."""
    print("| experiment | dtype | device | verdict (flex) | verdict | same | largest relative "
          "difference | where | flex s | device s |\n|---|---|---|---|---|---|---|---|---|---|")
    for line in open(path, encoding="utf-8"):
        r = json.loads(line)
        if "status" in r:
            print(f"| {r['experiment']} | | {r['device']} | | {r['status']} | no | | | | |")
            continue
        same = "yes" if r["same_verdict"] else "**no**"
        if r["unmatched_numbers"]:
            same += f" ({r['unmatched_numbers']} numbers in one report only)"
        f64_note = " (over 1e-9)" if r["dtype"] == "f64" and r["max_relative_difference"] > 1e-9 else ""
        secs = lambda v: "" if v is None else f"{v:.1f}"
        print(f"| {r['experiment']} | {r['dtype']} | {r['device']} | {r['reference_verdict']} | "
              f"{r['verdict']} | {same} | {r['max_relative_difference']:.2e}{f64_note} | "
              f"{r['where']} | {secs(r['reference_seconds'])} | {secs(r['seconds'])} |")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--table":
        table(sys.argv[2])
    elif len(sys.argv) == 3:
        print(json.dumps(compare(sys.argv[1], sys.argv[2])))
    else:
        sys.exit(__doc__)

#!/usr/bin/env python3
"""Prints the swift-vta benchmark results as ratios against their in-process baselines.

Input: the JMH export(s) of `swift package benchmark --format jmh` (Benchmarks/). Benchmark names
are "<group> [<items> <unit>]: <variant>"; the variant of a group's baseline starts with
"baseline". For every group this prints each variant's median time per iteration, its item rate,
its allocations per iteration and its speed relative to the baseline (baseline time / its time,
so 3.0x means three times faster than the baseline).
"""
import json
import re
import sys


def median(metric):
    return metric["scorePercentiles"]["50.0"]


def main(paths):
    rows = []
    for path in paths:
        with open(path) as f:
            for element in json.load(f):
                # "package.benchmark.<target>.<name with spaces turned into underscores>"
                name = element["benchmark"].split(".", 3)[3].replace("_", " ")
                group, _, variant = name.partition(": ")
                throughput = median(element["primaryMetric"])  # iterations per second
                mallocs = element.get("secondaryMetrics", {}).get("Malloc (total)")
                rows.append((group, variant, throughput, median(mallocs) if mallocs else None))
    if not rows:
        print("no benchmark results found", file=sys.stderr)
        return 1

    groups = {}
    for group, variant, throughput, mallocs in rows:
        groups.setdefault(group, []).append((variant, throughput, mallocs))

    print(f"{'benchmark':<58} {'median/iter':>12} {'items/s':>12} {'mallocs/iter':>12} {'vs baseline':>12}")
    missing = False
    for group in sorted(groups):
        variants = groups[group]
        base = next((t for v, t, _ in variants if v.startswith("baseline")), None)
        m = re.search(r"\[(\d+) ([^\]]+)\]", group)
        items, unit = (int(m.group(1)), m.group(2)) if m else (1, "iterations")
        print(f"{group}  (items: {unit})")
        # Baseline first, then the others.
        for variant, throughput, mallocs in sorted(variants, key=lambda r: not r[0].startswith("baseline")):
            seconds = 1.0 / throughput if throughput > 0 else float("inf")
            rate = items * throughput
            ratio = "baseline" if variant.startswith("baseline") else (
                f"{throughput / base:.2f}x" if base else "no baseline")
            missing = missing or base is None
            print(f"  {variant:<56} {format_time(seconds):>12} {format_rate(rate):>12} "
                  f"{'-' if mallocs is None else int(mallocs):>12} {ratio:>12}")
    return 1 if missing else 0


def format_time(seconds):
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def format_rate(rate):
    for suffix, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if rate >= scale:
            return f"{rate / scale:.3g} {suffix}/s"
    return f"{rate:.3g} /s"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

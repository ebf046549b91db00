#!/usr/bin/env python3
"""Runs bench_reference and writes its figures into docs/results/reference.md between the
markers <!-- results:reference:begin --> and <!-- results:reference:end -->.

Usage: bench/reference/update_results.py BUILD_DIR/bench/reference/bench_reference [extra benchmark flags]

The table is generated, never typed: rerun this script to refresh it.
"""
import json
import pathlib
import platform
import re
import subprocess
import sys

MARK_BEGIN = "<!-- results:reference:begin -->"
MARK_END = "<!-- results:reference:end -->"


def cpu_model():
    out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    m = re.search(r"Model name:\s*(.+)", out)
    return m.group(1).strip() if m else platform.processor()


def load_average():
    return " / ".join(pathlib.Path("/proc/loadavg").read_text().split()[:3])


def main():
    binary = sys.argv[1]
    flags = sys.argv[2:] or ["--benchmark_repetitions=5", "--benchmark_report_aggregates_only=true"]
    load_before = load_average()
    run = subprocess.run([binary, "--benchmark_format=json", *flags], capture_output=True, text=True, check=True)
    load_after = load_average()
    report = json.loads(run.stdout)
    rows = []
    for b in report["benchmarks"]:
        if b.get("aggregate_name", "median") != "median":
            continue
        name = b["run_name"]
        m = re.match(r"BM_(encode_by_traversal|decode_by_traversal|encode|decode)_(.+?)(?:/threads:(\d+))?(?:/real_time)?$", name)
        if not m:
            continue
        op, data, threads = m.group(1), m.group(2), m.group(3)
        threads = "1" if threads is None else ("all (%s)" % report["context"].get("hardware_threads", "?") if threads == "0" else threads)
        scale = {"ms": 1.0, "us": 1e-3, "ns": 1e-6}[b["time_unit"]]
        real_ms, cpu_ms = b["real_time"] * scale, b["cpu_time"] * scale
        gbs_wall = b["bytes_per_second"] / 1e9 if "real_time" in name else b["bytes_per_second"] / 1e9 * cpu_ms / real_ms
        bytes_per_iter = b["bytes_per_second"] * (real_ms if "real_time" in name else cpu_ms) / 1e3
        gbs_cpu = bytes_per_iter / (cpu_ms / 1e3) / 1e9 if threads == "1" else None
        bpw = b.get("bits_per_weight")
        rows.append((op, data, threads, real_ms, gbs_wall, gbs_cpu, bpw))
    lines = [
        MARK_BEGIN,
        "",
        "Machine: %s, %s hardware threads, shared with other builds (load average %s before, %s after)." % (
            cpu_model(), report["context"].get("hardware_threads", "?"), load_before, load_after),
        "Median of the repetitions; GB/s = bytes of BF16 (rows x cols x 2) per second.",
        "",
        "| operation | input | threads | wall time (ms) | GB/s (wall) | GB/s (1 thread, CPU time) | bits/weight |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for op, data, threads, real_ms, gbs_wall, gbs_cpu, bpw in rows:
        lines.append("| %s | %s | %s | %.2f | %.2f | %s | %s |" % (
            op, data, threads, real_ms, gbs_wall, "%.2f" % gbs_cpu if gbs_cpu else "", "%.3f" % bpw if bpw else ""))
    lines += ["", MARK_END]
    page = pathlib.Path(__file__).resolve().parents[2] / "docs" / "results" / "reference.md"
    text = page.read_text()
    start, end = text.index(MARK_BEGIN), text.index(MARK_END) + len(MARK_END)
    page.write_text(text[:start] + "\n".join(lines) + text[end:])
    print("\n".join(lines))


if __name__ == "__main__":
    main()

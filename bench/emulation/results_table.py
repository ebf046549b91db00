#!/usr/bin/env python3
"""Turns one bench_emulation JSON run into the Markdown tables of docs/results/emulation.md.

Usage:
  ./bench_emulation --benchmark_min_time=0.5 --benchmark_repetitions=3 \
      --benchmark_report_aggregates_only=true --benchmark_out=emu.json --benchmark_out_format=json
  python3 results_table.py emu.json                       # prints the tables
  python3 results_table.py emu.json docs/results/emulation.md   # rewrites between the markers

Every ratio is taken between benchmarks of the same run (medians of its repetitions), so the
machine's state is shared. Ratios use CPU time (all threads of the process): on a shared machine
wall time includes waiting for a core; wall times are listed too.
"""
import json
import re
import sys

BEGIN, END = "<!-- results:emulation:begin -->", "<!-- results:emulation:end -->"


def medians(path):
    data = json.load(open(path))
    out = {}
    for b in data["benchmarks"]:
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        name = b["run_name"].replace("/process_time", "").replace("/real_time", "")
        out[name] = b
    return data["context"], out


def table(context, runs):
    lines = []
    lines.append(f"Run: {context.get('date', '?')}, {context.get('num_cpus')} CPUs at "
                 f"{context.get('mhz_per_cpu')} MHz, load average {context.get('load_avg')}; "
                 "medians of 3 repetitions.")
    lines.append("")
    lines.append("**Decode** (4096 x 4096 Gaussian weights, sigma = 0.02; GB/s of BF16 produced, from CPU time)")
    lines.append("")
    lines.append("| decoder | threads | CPU ms | wall ms | GB/s (CPU) | vs reference |")
    lines.append("|---|---|---|---|---|---|")
    ref = runs.get("Decode/reference/4096x4096/threads:1")
    for name, b in runs.items():
        if not name.startswith("Decode/"):
            continue
        _, impl, _, threads = name.split("/")
        gbs = 4096 * 4096 * 2 / (b["cpu_time"] * 1e-3) / 1e9
        ratio = ref["cpu_time"] / b["cpu_time"] if ref else float("nan")
        lines.append(f"| {impl} ({b.get('label', '') or 'scalar'}) | {threads.split(':')[1]} | {b['cpu_time']:.1f} | "
                     f"{b['real_time']:.1f} | {gbs:.2f} | {ratio:.2f}x |")
    lines.append("")
    lines.append("**GEMM** Y = W X, W Gaussian sigma = 0.02 BF16. CPU ms (all threads), wall ms in brackets; "
                 "ratios are dense_gemm CPU time / zipgemm CPU time (> 1: the fused kernel wins) and "
                 "eigen / zipgemm.")
    lines.append("")
    lines.append("| M x K | N | threads | zipgemm | dense_gemm | eigen_fp32 (1 thread) | dense / zip | eigen / zip |")
    lines.append("|---|---|---|---|---|---|---|---|")
    for shape in ("4096x4096", "4096x14336"):
        for n in (1, 8, 32):
            for threads in sorted({int(k.rsplit(":", 1)[1]) for k in runs if k.startswith(f"Gemm/zipgemm/{shape}/N:{n}/")}):
                z = runs.get(f"Gemm/zipgemm/{shape}/N:{n}/threads:{threads}")
                d = runs.get(f"Gemm/dense_gemm/{shape}/N:{n}/threads:{threads}")
                e = runs.get(f"Gemm/eigen_fp32/{shape}/N:{n}/threads:1")
                if not (z and d and e):
                    continue
                lines.append(
                    f"| {shape} | {n} | {threads} | {z['cpu_time']:.1f} ({z['real_time']:.1f}) | "
                    f"{d['cpu_time']:.1f} ({d['real_time']:.1f}) | {e['cpu_time']:.1f} ({e['real_time']:.1f}) | "
                    f"{d['cpu_time'] / z['cpu_time']:.2f} | {e['cpu_time'] / z['cpu_time']:.2f} |")
    validate = {k.split("/")[1]: v for k, v in runs.items() if k.startswith("Validate/")}
    if validate:
        parts = []
        for shape, v in sorted(validate.items()):
            z = runs.get(f"Gemm/zipgemm/{shape}/N:1/threads:1")
            share = f" ({100 * v['cpu_time'] / z['cpu_time']:.0f}% of a 1-thread N = 1 zipgemm)" if z else ""
            parts.append(f"{shape}: {v['cpu_time']:.2f} ms{share}")
        lines.append("")
        lines.append("zipserv::validate() alone, run once per weight at load (emu::ValidatedWeights) and not "
                     "included in the zipgemm figures; zipgemm(const CompressedMatrix&) runs it on every "
                     "call: " + "; ".join(parts) + ".")
    bpw = {k: v.get("bits_per_weight") for k, v in runs.items() if v.get("bits_per_weight")}
    if bpw:
        lines.append("")
        lines.append("Compressed size: " + ", ".join(
            sorted({f"{k.split('/')[2]}: {v:.3f} bits per weight ({16 / v:.3f}x smaller than BF16)"
                    for k, v in bpw.items()})) + ".")
    return "\n".join(lines)


def main():
    context, runs = medians(sys.argv[1])
    text = table(context, runs)
    if len(sys.argv) < 3:
        print(text)
        return
    doc = open(sys.argv[2]).read()
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    open(sys.argv[2], "w").write(pattern.sub(lambda _: f"{BEGIN}\n{text}\n{END}", doc))


if __name__ == "__main__":
    main()

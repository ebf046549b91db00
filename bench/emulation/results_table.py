#!/usr/bin/env python3
"""Turns one bench_emulation JSON run into the Markdown tables of docs/results/emulation.md.

Usage:
  ./bench_emulation --benchmark_min_time=0.5 --benchmark_repetitions=3 \
      --benchmark_enable_random_interleaving=true \
      --benchmark_report_aggregates_only=true --benchmark_out=emu.json --benchmark_out_format=json
  python3 results_table.py emu.json                       # prints the tables
  python3 results_table.py emu.json docs/results/emulation.md   # rewrites between the markers

Every ratio is taken between benchmarks of the same run (medians of its repetitions), so the
machine's state is shared. bench_emulation registers each emulation benchmark once per Highway
target, under the same name, with the target as its label: runs are keyed by (name, label).
Ratios and rates use CPU time (all threads of the process): on a shared machine wall time
includes waiting for a core; wall times are listed too. A rate per CPU second is a rate per busy
core, so the GEMV's compressed bytes per CPU second divided by the read benchmark's bytes per CPU
second (same thread count) is the share of the speed of light a core reaches.
"""
import json
import re
import sys

BEGIN, END = "<!-- results:emulation:begin -->", "<!-- results:emulation:end -->"
IN_CACHE_SHAPE = "256x1024"  # weights that stay in L2: N = 1, one thread, the compute cost alone
SHAPES = ("4096x4096", "4096x14336", IN_CACHE_SHAPE)
GEMV_SPEEDUP_GOAL = 1.2   # N = 1: gemm_dense / zipgemm, same target
DECODE_GOAL_GBS = {"AVX2": 4.0}  # BF16 produced per second, one core


def medians(path):
    data = json.load(open(path))
    out = {}
    reps = 1
    for b in data["benchmarks"]:
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        reps = max(reps, int(b.get("repetitions", 1)))
        name = b["run_name"].replace("/process_time", "").replace("/real_time", "")
        out[(name, b.get("label", ""))] = b
    return data["context"], out, reps


TARGET_ORDER = ("AVX3_SPR", "AVX3_ZEN4", "AVX3_DL", "AVX3", "AVX2", "SSE4", "SSSE3", "EMU128", "SCALAR")


def target_rank(label):
    return TARGET_ORDER.index(label) if label in TARGET_ORDER else len(TARGET_ORDER)


def targets_of(runs, prefix):
    """The labels of the runs whose name starts with `prefix`, widest target first."""
    return sorted({label for (name, label) in runs if name.startswith(prefix)}, key=target_rank)


def ms(value):
    return f"{value:.3f}" if value < 1 else f"{value:.1f}"


def gbs(nbytes, ms):
    return nbytes / (ms * 1e-3) / 1e9


def table(context, runs, reps):
    lines = []
    lines.append(f"Run: {context.get('date', '?')}, {context.get('num_cpus')} CPUs at "
                 f"{context.get('mhz_per_cpu')} MHz, load average {context.get('load_avg')}; "
                 f"medians of {reps} repetitions.")
    lines.append("")
    # The speed of light.
    read = {}
    for (name, label), b in runs.items():
        if name.startswith("Bandwidth/read/"):
            threads = int(name.rsplit(":", 1)[1])
            read[threads] = (gbs(256 * 2**20, b["cpu_time"]), gbs(256 * 2**20, b["real_time"]), label)
    if read:
        lines.append("**Read bandwidth** (`Bandwidth/read/256MiB`: 256 MiB read once per iteration with "
                     "the widest native loads; GB/s per CPU second = per busy core, and per wall second)")
        lines.append("")
        lines.append("| threads | GB/s per CPU second | GB/s wall |")
        lines.append("|---|---|---|")
        for threads, (cpu, wall, _) in sorted(read.items()):
            lines.append(f"| {threads} | {cpu:.1f} | {wall:.1f} |")
        lines.append("")
    # Decode.
    lines.append("**Decode** (4096 x 4096 Gaussian weights, sigma = 0.02; GB/s of BF16 produced per CPU second)")
    lines.append("")
    lines.append("| decoder | target | threads | CPU ms | wall ms | GB/s (CPU) | vs reference | goal |")
    lines.append("|---|---|---|---|---|---|---|---|")
    ref = runs.get(("Decode/reference/4096x4096/threads:1", ""))
    decode_rows = sorted(((name, label) for (name, label) in runs if name.startswith("Decode/")),
                         key=lambda r: (r[0].split("/")[1] != "reference", target_rank(r[1]), r[0]))
    for (name, label) in decode_rows:
        b = runs[(name, label)]
        _, impl, _, threads = name.split("/")
        rate = gbs(4096 * 4096 * 2, b["cpu_time"])
        ratio = ref["cpu_time"] / b["cpu_time"] if ref else float("nan")
        goal = ""
        if impl == "emulation" and label in DECODE_GOAL_GBS:
            want = DECODE_GOAL_GBS[label]
            goal = f"{'met' if rate >= want else 'not met'} (>= {want:g} GB/s)"
        lines.append(f"| {impl} | {label or 'scalar C++'} | {threads.split(':')[1]} | {b['cpu_time']:.1f} | "
                     f"{b['real_time']:.1f} | {rate:.2f} | {ratio:.2f}x | {goal} |")
    # GEMM, one table per target.
    eigen_label = next((label for (name, label) in runs if name.startswith("Gemm/eigen_fp32/")), "")
    for target in targets_of(runs, "Gemm/zipgemm/"):
        lines.append("")
        lines.append(f"**GEMM on {target}** Y = W X, W Gaussian sigma = 0.02 BF16. CPU ms (all threads), "
                     "wall ms in brackets; dense / zip and eigen / zip are CPU-time ratios (> 1: the fused "
                     f"kernel wins); eigen_fp32 is one thread ({eigen_label}), the same row for every target. "
                     "zip GB/s: compressed bytes per CPU second; share: of the read bandwidth at the same "
                     "thread count. Goal: N = 1 at least 1.2x dense and at least Eigen; N = 8, 32 at least dense.")
        lines.append("")
        lines.append("| M x K | N | threads | zipgemm | gemm_dense | eigen_fp32 | dense / zip | eigen / zip | "
                     "zip GB/s | share | goal |")
        lines.append("|---|---|---|---|---|---|---|---|---|---|---|")
        for shape in SHAPES:
            m, k = (int(v) for v in shape.split("x"))
            for n in (1, 8, 32):
                thread_counts = sorted({int(name.rsplit(":", 1)[1]) for (name, label) in runs
                                        if name.startswith(f"Gemm/zipgemm/{shape}/N:{n}/") and label == target})
                for threads in thread_counts:
                    z = runs.get((f"Gemm/zipgemm/{shape}/N:{n}/threads:{threads}", target))
                    d = runs.get((f"Gemm/gemm_dense/{shape}/N:{n}/threads:{threads}", target))
                    e = runs.get((f"Gemm/eigen_fp32/{shape}/N:{n}/threads:1", eigen_label))
                    if not (z and d and e):
                        continue
                    dz, ez = d["cpu_time"] / z["cpu_time"], e["cpu_time"] / z["cpu_time"]
                    payload = z.get("bits_per_weight", 16) * m * k / 8
                    rate = gbs(payload, z["cpu_time"])
                    share = f"{100 * rate / read[threads][0]:.0f} %" if threads in read else "?"
                    if shape == IN_CACHE_SHAPE:  # not a goal row: no memory stream to share
                        share, goal = "(in L2)", ""
                    elif n == 1:
                        misses = [f"dense / zip < {GEMV_SPEEDUP_GOAL}"] if dz < GEMV_SPEEDUP_GOAL else []
                        misses += ["slower than Eigen"] if ez < 1 else []
                    else:
                        misses = ["slower than dense"] if dz < 1 else []
                    if shape != IN_CACHE_SHAPE:
                        goal = "met" if not misses else "not met: " + ", ".join(misses)
                    lines.append(
                        f"| {shape} | {n} | {threads} | {ms(z['cpu_time'])} ({ms(z['real_time'])}) | "
                        f"{ms(d['cpu_time'])} ({ms(d['real_time'])}) | {ms(e['cpu_time'])} ({ms(e['real_time'])}) | "
                        f"{dz:.2f} | {ez:.2f} | {rate:.1f} | {share} | {goal} |")
    validate = {name.split("/")[1]: v for (name, label), v in runs.items() if name.startswith("Validate/")}
    first = (targets_of(runs, "Gemm/zipgemm/") or [""])[0]
    if validate:
        parts = []
        for shape, v in sorted(validate.items()):
            z = runs.get((f"Gemm/zipgemm/{shape}/N:1/threads:1", first))
            share = f" ({100 * v['cpu_time'] / z['cpu_time']:.0f}% of a 1-thread N = 1 zipgemm on {first})" if z else ""
            parts.append(f"{shape}: {v['cpu_time']:.2f} ms{share}")
        lines.append("")
        lines.append("zipserv::validate() alone, run once per weight at load (emu::ValidatedWeights) and not "
                     "included in the zipgemm figures; zipgemm(const CompressedMatrix&) runs it on every "
                     "call: " + "; ".join(parts) + ".")
    bpw = {name.split("/")[2]: v.get("bits_per_weight") for (name, _), v in runs.items() if v.get("bits_per_weight")}
    if bpw:
        lines.append("")
        lines.append("Compressed size: " + ", ".join(
            f"{shape}: {v:.3f} bits per weight ({16 / v:.3f}x smaller than BF16)" for shape, v in sorted(bpw.items()))
            + ".")
    return "\n".join(lines)


def main():
    context, runs, reps = medians(sys.argv[1])
    text = table(context, runs, reps)
    if len(sys.argv) < 3:
        print(text)
        return
    doc = open(sys.argv[2]).read()
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    open(sys.argv[2], "w").write(pattern.sub(lambda _: f"{BEGIN}\n{text}\n{END}", doc))


if __name__ == "__main__":
    main()

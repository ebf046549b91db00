#!/usr/bin/env python3
"""Regenerates the measured block of docs/results/container.md.

usage: tools/zipserv/update_results.py PATH/TO/zipserv [--repeat N]

Runs `zipserv inspect --json` on both bundled fixtures, times `zipserv compress` and
`zipserv decompress` (best of N wall-clock runs, in a scratch directory), checks that the round
trip is byte-identical, and rewrites the text between <!-- results:inspect:begin --> and
<!-- results:inspect:end -->.
"""
import json, os, platform, subprocess, sys, tempfile, time, filecmp

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PAGE = os.path.join(ROOT, "docs", "results", "container.md")
FIXTURES = ["stories260K.safetensors", "use-lite-en.safetensors"]
BEGIN, END = "<!-- results:inspect:begin -->", "<!-- results:inspect:end -->"


def best_wall(cmd, repeat):
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(cmd, check=True)
        best = min(best, time.perf_counter() - t)
    return best


def cpu_model():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        return next(l.split(":", 1)[1].strip() for l in out.splitlines() if l.startswith("Model name"))
    except Exception:
        return platform.processor() or "unknown"


def main():
    zipserv = os.path.abspath(sys.argv[1])
    repeat = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 5
    lines = [f"Machine: {cpu_model()}, {os.cpu_count()} cores (a shared VM: other builds ran at the same time, "
             f"so times are upper bounds). Times are the best of {repeat} wall-clock runs of the command.", ""]
    totals = ["| model | tensors | TCA-TBE weights | coverage | bits/weight | weights ratio | file bytes | compressed file bytes | file ratio | compress | decompress |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    detail = ["| model | tensor | shape | window | coverage | bits/weight | ratio | stored as |",
              "|---|---|---|---|---:|---:|---:|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        for name in FIXTURES:
            src = os.path.join(ROOT, "data", name)
            packed, back = os.path.join(tmp, name + ".zipserv"), os.path.join(tmp, name + ".back")
            j = json.loads(subprocess.run([zipserv, "inspect", "--json", src], check=True, capture_output=True, text=True).stdout)
            tc = best_wall([zipserv, "compress", src, packed, "--force", "--quiet"], repeat)
            td = best_wall([zipserv, "decompress", packed, back, "--force", "--quiet"], repeat)
            if not filecmp.cmp(src, back, shallow=False):
                sys.exit(f"round trip of {name} is not byte-identical")
            t = j["totals"]
            totals.append(f"| {name} | {t['tensors']} | {t['compressed_weights']:,} | {100 * t['coverage']:.2f} % | "
                          f"{t['bits_per_weight']:.3f} | {t['weights_ratio']:.3f} | {t['original_file_bytes']:,} | "
                          f"{t['compressed_file_bytes']:,} | {t['file_ratio']:.3f} | {1000 * tc:.1f} ms | {1000 * td:.1f} ms |")
            # The interesting tensors: best and worst bits/weight among the compressed ones, the
            # largest one, and each distinct reason a 2-D BF16 tensor stays raw.
            mats = [x for x in j["tensors"] if "window" in x]
            comp = [x for x in mats if x["compressed"]]
            picks = [min(comp, key=lambda x: x["bits_per_weight"]), max(comp, key=lambda x: x["bits_per_weight"]),
                     max(comp, key=lambda x: x["weights"])]
            picks += [next(x for x in mats if not x["compressed"])] if any(not x["compressed"] for x in mats) else []
            seen = set()
            for x in picks:
                if x["name"] in seen:
                    continue
                seen.add(x["name"])
                shape = "x".join(str(d) for d in x["shape"])
                stored = "tca-tbe" if x["compressed"] else "raw (" + x.get("note", "") + ")"
                detail.append(f"| {name} | `{x['name']}` | {shape} | {x['window'][0]}..{x['window'][1]} | "
                              f"{100 * x['coverage']:.2f} % | {x['bits_per_weight']:.3f} | {x['ratio']:.3f} | {stored} |")
    block = "\n".join([BEGIN] + lines + totals + ["", "Interesting tensors (best, worst and largest TCA-TBE matrix; a matrix kept raw):", ""]
                      + detail + [END])
    page = open(PAGE).read()
    a, b = page.index(BEGIN), page.index(END) + len(END)
    open(PAGE, "w").write(page[:a] + block + page[b:])
    print(block)


if __name__ == "__main__":
    main()

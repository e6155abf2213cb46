"""Runs baeum's benchmark workloads and PyTorch's side by side and prints the ratios.

    cargo build --release -p bench                 # once; honours CARGO_TARGET_DIR
    python3 bench/compare.py [--quick] [--threads N] [--out FILE] [W0 W1 ... W8 EW | all]

Workload by workload, baeum then PyTorch alternate, each in a fresh process (peak RSS is per
process, and alternating spreads slow drifts of a shared machine over both sides). The ratio
is baeum's throughput over PyTorch's (for µs metrics PyTorch's µs over baeum's), so > 1 means
baeum is faster. `--out` writes every JSON row plus the load average to a file.

Take figures on a quiet machine (load average well under the core count). On a busy one
PyTorch's OpenMP threads spin at every barrier while their partner waits for a core, which
can make it tens of times slower; `OMP_WAIT_POLICY=PASSIVE python3 bench/compare.py ...`
shows how much of a gap is that effect (PyTorch's defaults are what the suite compares).
"""

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT = ["W0", "W1", "W2", "W3", "W4", "W5", "W6", "W7", "W8"]
# Metrics where bigger is better; the others are times.
THROUGHPUT = {"gflops", "gbps", "steps_per_s"}


def bench_binary(explicit):
    if explicit:
        return explicit
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
    return os.path.join(target, "release", "bench")


def run_json(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if p.returncode != 0:
        sys.stderr.write(f"compare: {' '.join(cmd)} failed ({p.returncode}):\n{p.stderr}\n")
        return None
    return [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")]


def key(r):
    # W0 rows pair by n; the gemm crate's row is compared with torch.mm as well.
    return (r["workload"], r.get("n") if r["workload"] == "W0" else r["name"])


def ratio(metric, ours, theirs):
    if ours is None or theirs is None or ours <= 0 or theirs <= 0:
        return None
    return ours / theirs if metric in THROUGHPUT else theirs / ours


def fmt(v, width, digits=2):
    return f"{'-':>{width}}" if v is None else f"{v:>{width}.{digits}f}"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("workloads", nargs="*", default=DEFAULT)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", help="write the rows as JSON to this file")
    p.add_argument("--bench", help="path of the bench binary (default: "
                   "$CARGO_TARGET_DIR or target/, then release/bench)")
    a = p.parse_args()
    chosen = []
    for w in a.workloads:
        chosen += DEFAULT if w.lower() == "all" else [w.upper()]
    exe = bench_binary(a.bench)
    if not os.path.exists(exe):
        raise SystemExit(f"compare: no {exe}; build it with `cargo build --release -p bench` "
                         "(with the same CARGO_TARGET_DIR)")
    flags = ["--json", "--threads", str(a.threads)] + (["--quick"] if a.quick else [])
    load_before = os.getloadavg()
    print(f"load average before: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}"
          f"  (threads {a.threads}{', quick' if a.quick else ''})", flush=True)
    if load_before[0] > 0.75 * (os.cpu_count() or 1):
        print(f"warning: the machine is busy (load {load_before[0]:.1f} on {os.cpu_count()} cores):"
              " these timings are noise, PyTorch's OpenMP threads most of all", flush=True)
    omp = os.environ.get("OMP_WAIT_POLICY")
    if omp:
        print(f"OMP_WAIT_POLICY={omp} (PyTorch's default is to spin)", flush=True)
    raw = {"baeum": [], "torch": []}
    table = []
    failed = False
    header = (f"{'wl':<4} {'case':<34} {'metric':<14} {'baeum':>10} {'PyTorch':>10} {'ratio':>7}"
              f" {'RSS baeum':>9} {'RSS torch':>9}")
    print(header)
    print("-" * len(header), flush=True)
    for w in chosen:
        started = time.time()
        ours = run_json([exe] + flags + [w])
        theirs = run_json([sys.executable, os.path.join(HERE, "torch_ref.py")] + flags + [w])
        if ours is None or theirs is None:
            failed = True
            print(f"{w:<4} failed (see above)", flush=True)
            continue
        raw["baeum"] += ours
        raw["torch"] += theirs
        by_key = {key(r): r for r in theirs}
        for r in ours:
            t = by_key.get(key(r))
            case = r["name"] if r["impl"] == "baeum" else f"{r['name']} [{r['impl']}]"
            theirs_v = t["median"] if t else None
            line = {
                "workload": r["workload"], "case": case, "metric": r["metric"],
                "baeum": r["median"], "torch": theirs_v,
                "ratio": ratio(r["metric"], r["median"], theirs_v),
                "baeum_rss_mib": r.get("peak_rss_mib"),
                "torch_rss_mib": t.get("peak_rss_mib") if t else None,
            }
            table.append(line)
            print(f"{line['workload']:<4} {case:<34} {line['metric']:<14}"
                  f" {fmt(line['baeum'], 10)} {fmt(theirs_v, 10)} {fmt(line['ratio'], 7)}"
                  f" {fmt(line['baeum_rss_mib'], 9, 0)} {fmt(line['torch_rss_mib'], 9, 0)}",
                  flush=True)
        sys.stderr.write(f"compare: {w} took {time.time() - started:.0f} s\n")
    load_after = os.getloadavg()
    print(f"load average after: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}"
          "  (ratio > 1: baeum faster; RSS in MiB, per process)")
    if a.out:
        with open(a.out, "w") as f:
            json.dump({"quick": a.quick, "threads": a.threads, "omp_wait_policy": omp,
                       "load_before": load_before,
                       "load_after": load_after, "rows": table, "raw": raw}, f, indent=1)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

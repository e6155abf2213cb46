"""PyTorch reference for baeum's benchmark workloads (`cargo run --release -p bench`).

    pip install torch numpy      # CPU is enough
    python bench/torch_ref.py [--json] [--threads N] W6

Each workload is defined exactly as in crates/bench/src/main.rs; figures are the median over
repeats after a warm-up, printed as a table or one JSON object per line with the same keys.
"""

import argparse
import json
import resource
import statistics
import time

import torch


def timed(reps, f):
    f()
    out = []
    for _ in range(reps):
        t = time.perf_counter()
        f()
        out.append(time.perf_counter() - t)
    return statistics.median(out)


def w6(quick):
    """Linear regression H = W*x + b, x = y = [1, 2, 3], scalar W and b: forward, MSE,
    backward and an SGD update per step."""
    steps = 2000
    x = torch.tensor([1.0, 2.0, 3.0])
    y = torch.tensor([1.0, 2.0, 3.0])

    def run():
        w = torch.tensor(0.5, requires_grad=True)
        b = torch.tensor(0.1, requires_grad=True)
        opt = torch.optim.SGD([w, b], lr=0.01)
        for _ in range(steps):
            h = w * x + b
            loss = ((h - y) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()

    t = timed(3 if quick else 7, run)
    return [("W6", "tiny graph step", "us_per_step", t / steps * 1e6)]


WORKLOADS = {"W6": w6}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("workloads", nargs="*", default=list(WORKLOADS))
    p.add_argument("--json", action="store_true")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    rows = []
    for w in a.workloads:
        if w.upper() not in WORKLOADS:
            raise SystemExit(f"unknown workload {w} (known: {', '.join(WORKLOADS)})")
        rows += WORKLOADS[w.upper()](a.quick)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for wl, name, metric, median in rows:
        if a.json:
            print(json.dumps({"workload": wl, "name": name, "impl": "torch", "metric": metric,
                              "median": median, "peak_rss_mib": rss}))
        else:
            print(f"{wl:<4} {name:<22} torch   {median:>10.2f} {metric}")


if __name__ == "__main__":
    main()

"""PyTorch reference for baeum's benchmark workloads (`cargo run --release -p bench`).

    pip install torch numpy      # CPU is enough
    python3 bench/torch_ref.py [--json] [--quick] [--threads N] [W0 EW W1 ... W8 | all]

Each workload is defined exactly as in crates/bench/src (lib.rs lists them): float32, random
inputs from a fixed seed (one batch made before timing), 2 threads, a training step =
zero_grad, forward, loss, backward, optimizer step, with PyTorch's default layer
initialisation (torchvision's for the ResNet) and default optimizer implementations. A figure
is the median over repeats of the mean time per call after a warm-up (same plan as
crates/bench/src/timing.rs), printed as a table or one JSON object per line with bench's keys.
"""

import argparse
import json
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 0
# (warm-up calls, repeats, calls per repeat), as timing::Plan::{FULL, QUICK}.
FULL = (10, 5, 100)
QUICK = (2, 3, 10)


def median(v):
    # The upper middle for an even count, as bench's median (repeat counts are odd anyway).
    return sorted(v)[len(v) // 2]


def per_call(plan, f):
    warmup, repeats, steps = plan
    for _ in range(warmup):
        f()
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(steps):
            f()
        out.append((time.perf_counter() - t) / steps)
    return median(out)


def plan(quick):
    return QUICK if quick else FULL


def row(wl, name, metric, value, n=None):
    return {"workload": wl, "name": name, "metric": metric, "median": value, "n": n}


# ---------------------------------------------------------------------------------------------
# W0 and EW: kernels


def w0(quick):
    """f32 square matmul C = A·B (torch.mm, which allocates its output): GFLOP/s."""
    rows = []
    g = torch.Generator().manual_seed(SEED)
    for n in (128, 512, 1024, 2048):
        a = torch.rand(n, n, generator=g) * 2 - 1
        b = torch.rand(n, n, generator=g) * 2 - 1
        flop = 2.0 * n ** 3
        budget, least = (2e8, 3) if quick else (2e9, 5)
        reps = min(max(int(budget / flop), least), 200)  # matmul::reps
        t = per_call((1, reps, 1), lambda: torch.mm(a, b))
        rows.append(row("W0", f"matmul f32 n={n}", "gflops", flop / t / 1e9, n))
    return rows


def ew(quick):
    """16M-element (4M quick) add, mul, exp: GB/s moved."""
    n = 1 << 22 if quick else 1 << 24
    g = torch.Generator().manual_seed(1)
    a = torch.rand(n, generator=g) * 2 - 1
    b = torch.rand(n, generator=g) * 2 - 1
    reps = 5 if quick else 11

    def gb(arrays, f):
        return arrays * n * 4 / per_call((1, reps, 1), f) / 1e9

    return [row("EW", "add", "gbps", gb(3, lambda: a + b), n),
            row("EW", "mul", "gbps", gb(3, lambda: a * b), n),
            row("EW", "exp", "gbps", gb(2, lambda: a.exp()), n)]


# ---------------------------------------------------------------------------------------------
# Models, as crates/bench/src/workloads/{mlp,cnn,rnn}.rs and baeum_vision::models build them


class LeNet5(nn.Module):
    """conv(1→6, k5, pad 2)-relu-pool2-conv(6→16, k5)-relu-pool2-fc120-relu-fc84-relu-fc10."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


class MnistCnn(nn.Module):
    """PyTorch's MNIST example, returning logits (cross-entropy = its log_softmax + nll)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3)
        self.conv2 = nn.Conv2d(32, 64, 3)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.conv2(F.relu(self.conv1(x))))
        x = self.dropout1(F.max_pool2d(x, 2))
        x = self.dropout2(F.relu(self.fc1(torch.flatten(x, 1))))
        return self.fc2(x)


class BasicBlock(nn.Module):
    def __init__(self, c_in, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or c_in != planes:
            self.downsample = nn.Sequential(nn.Conv2d(c_in, planes, 1, stride, bias=False),
                                            nn.BatchNorm2d(planes))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.downsample is None else self.downsample(x)))


class CifarResNet(nn.Module):
    """conv3×3(3→16)-bn-relu, one basic block per stage (16; 32 s2; 64 s2, 1×1 projections),
    global average pool, fc10; convs kaiming_normal(fan_out, relu) as torchvision's."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.layer1 = BasicBlock(16, 16, 1)
        self.layer2 = BasicBlock(16, 32, 2)
        self.layer3 = BasicBlock(32, 64, 2)
        self.fc = nn.Linear(64, 10)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class LstmClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(10000, 128)
        self.lstm = nn.LSTM(128, 128, batch_first=True)
        self.fc = nn.Linear(128, 2)

    def forward(self, x):
        _, (h, _) = self.lstm(self.embedding(x))
        return self.fc(h[-1])


class GruRegressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(5, 64, batch_first=True)
        self.fc = nn.Linear(64, 1)

    def forward(self, x):
        _, h = self.gru(x)
        return self.fc(h[-1])


def train_rows(wl, name, quick, model, opt, loss_fn, x, y):
    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    return [row(wl, name, "steps_per_s", 1.0 / per_call(plan(quick), step))]


def images(n, c, side):
    return torch.rand(n, c, side, side), torch.randint(0, 10, (n,))


def w1(quick):
    torch.manual_seed(SEED)
    m = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                      nn.Linear(128, 10))
    x, y = torch.rand(64, 784), torch.randint(0, 10, (64,))
    return train_rows("W1", "mlp 784-256-128-10 adam b64", quick, m,
                      torch.optim.Adam(m.parameters(), lr=1e-3), nn.CrossEntropyLoss(), x, y)


def w2(quick):
    torch.manual_seed(SEED)
    m = LeNet5()
    x, y = images(64, 1, 28)
    return train_rows("W2", "lenet5 sgd b64", quick, m,
                      torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9),
                      nn.CrossEntropyLoss(), x, y)


def w3(quick):
    torch.manual_seed(SEED)
    m = MnistCnn()
    x, y = images(64, 1, 28)
    return train_rows("W3", "mnist cnn adam b64", quick, m,
                      torch.optim.Adam(m.parameters(), lr=1e-3), nn.CrossEntropyLoss(), x, y)


def w4(quick):
    torch.manual_seed(SEED)
    m = LstmClassifier()
    x, y = torch.randint(0, 10000, (32, 64)), torch.randint(0, 2, (32,))
    return train_rows("W4", "embedding+lstm 64 tokens adam b32", quick, m,
                      torch.optim.Adam(m.parameters(), lr=1e-3), nn.CrossEntropyLoss(), x, y)


def w5(quick):
    torch.manual_seed(SEED)
    m = CifarResNet()
    x, y = images(32, 3, 32)
    return train_rows("W5", "resnet (1 block/stage) sgd b32", quick, m,
                      torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9),
                      nn.CrossEntropyLoss(), x, y)


def w6(quick):
    """Linear regression H = W*x + b, x = y = [1, 2, 3], scalar W and b: zero_grad, forward,
    MSE, backward and SGD's step (lr 0.01); one call = 2000 steps from fresh parameters."""
    steps = 2000
    x = torch.tensor([1.0, 2.0, 3.0])
    y = torch.tensor([1.0, 2.0, 3.0])

    def run():
        w = torch.tensor(0.5, requires_grad=True)
        b = torch.tensor(0.1, requires_grad=True)
        opt = torch.optim.SGD([w, b], lr=0.01)
        for _ in range(steps):
            opt.zero_grad()
            h = w * x + b
            d = h - y
            loss = (d * d).mean()
            loss.backward()
            opt.step()

    t = per_call((1, 3 if quick else 7, 1), run)
    return [row("W6", "tiny graph step", "us_per_step", t / steps * 1e6)]


def w7(quick):
    """W3's model at batch 1, eval mode, no grad: µs per forward."""
    torch.manual_seed(SEED)
    m = MnistCnn()
    m.eval()
    x = torch.rand(1, 1, 28, 28)

    def forward():
        with torch.no_grad():
            m(x)

    return [row("W7", "mnist cnn eval b1", "us_per_forward", per_call(plan(quick), forward) * 1e6)]


def w8(quick):
    torch.manual_seed(SEED)
    m = GruRegressor()
    x, y = torch.randn(32, 28, 5), torch.randn(32, 1)
    return train_rows("W8", "gru 28 steps mse adam b32", quick, m,
                      torch.optim.Adam(m.parameters(), lr=1e-3), nn.MSELoss(), x, y)


WORKLOADS = {"W0": w0, "EW": ew, "W1": w1, "W2": w2, "W3": w3, "W4": w4, "W5": w5, "W6": w6,
             "W7": w7, "W8": w8}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("workloads", nargs="*", default=["W0", "EW"])  # as bench
    p.add_argument("--json", action="store_true")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    chosen = []
    for w in a.workloads:
        chosen += list(WORKLOADS) if w.lower() == "all" else [w.upper()]
    for w in chosen:
        if w not in WORKLOADS:
            raise SystemExit(f"unknown workload {w} (known: {', '.join(WORKLOADS)})")
    rows = [r for w in chosen for r in WORKLOADS[w](a.quick)]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    if not a.json:
        print(f"threads: {a.threads}  torch {torch.__version__}")
    for r in rows:
        if a.json:
            o = {"workload": r["workload"], "name": r["name"], "impl": "torch",
                 "metric": r["metric"], "median": r["median"], "peak_rss_mib": rss,
                 "threads": a.threads, "quick": a.quick}
            if r["n"] is not None:
                o["n"] = r["n"]
            print(json.dumps(o))
        else:
            print(f"{r['workload']:<4} {r['name']:<34} torch   {r['median']:>10.2f} {r['metric']}")
    if not a.json:
        print(f"peak RSS: {rss:.0f} MiB")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Python PyTorch peer of gps's time-to-accuracy benchmark: a gps recipe in plain PyTorch.

--recipe main-job (default): `build/gps train -c configs/fmnist-simclr-weak.yaml data.subset=0
optim.epochs=12 eval.knn_every=2`. GPS-SimCLR on Fashion-MNIST: pixel prior table (k nearest by L2,
self included: row i = {i, NN1..}), positive drawn uniformly from the anchor's row, flip-only views
(torchvision transforms in DataLoader workers), ResNet-18 width 8 small stem, projector
Linear-ReLU-Linear 512-128, NT-Xent T=0.2, online linear probe, SGD momentum 0.9, lr 0.4*batch/256,
1 warm-up epoch then cosine, per step. Every --knn-every epochs a kNN point (k=20, cosine, T=0.07); at
the end the features go to `gps eval`, gps's own linear probe.

--recipe 30min: `build/gps train -c configs/fmnist-30min.yaml eval.knn_every=1`: width 16, strong views
(random resized crop 0.08-1, colour jitter, grayscale, blur, flip), T=0.1, the table on PCA-64 pixels by
cosine keeping mutual neighbours among the 8 nearest, 20 epochs at most, and a 30-minute budget that
sets the schedule's length from the measured speed as optim.budget_minutes does (first after
max(20, min(warm-up, 1 epoch)) steps, then again at every epoch end), with the final evaluation's
estimate reserved; the probe's lr and weight decay are chosen on a validation split.
Any flag given overrides the recipe's value.

DIR holds metrics.jsonl and summary.json in gps's run format (time_curve.h reads it):

  /opt/gps-venv/bin/python bench/tta_peer.py --out runs/tta/peer-gps-simclr-w8 --epochs 12 --budget-min 30
  /opt/gps-venv/bin/python bench/tta_peer.py --recipe 30min --out runs/tta/peer-30min
  /opt/gps-venv/bin/python bench/tta_peer.py --out runs/tta/peer-simclr-w8 --no-gps    # plain SimCLR
  build/bench/time_to_accuracy --out runs/tta gps=runs/tta/gps-simclr-w8-e12 \\
      peer=runs/tta/peer-gps-simclr-w8 --minutes 10,20,30   # --minutes last: it would take the runs
  # quick check: --subset 1000 --test-subset 500 --epochs 1 --threads 1 --workers 0 --out /tmp/peer

--subset/--test-subset draw gps's own stratified subsets (its counter RNG, data.seed 0), so the
feature rows are the ones `gps eval data.subset=N` loads.
"""
import argparse, gzip, json, math, os, subprocess, sys, time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.transforms.v2 as T

from train_loop_torch import MEAN, STD, ResNet18, nt_xent  # the backbone and loss of gps's SimCLR step

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
U64, GOLDEN = 2**64 - 1, 0x9E3779B97F4A7C15
WARMUP_EPOCHS, WARMUP_START_LR, WEIGHT_DECAY, CLASSIFIER_LR, LOG_EVERY = 1, 3e-5, 1e-4, 0.1, 20


def mix64(x):  # gps/core/rng.h: SplitMix64 finaliser
    x = (x + GOLDEN) & U64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & U64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & U64
    return x ^ (x >> 31)


def gps_permutation(N, seed, stream):
    """gps's seeded Fisher-Yates: gps::Rng(seed, stream), a SplitMix64 counter, and Lemire's below(n)."""
    state, perm = mix64(mix64(mix64(mix64(seed) ^ stream))), list(range(N))
    for i in range(N - 1, 0, -1):
        while True:  # below(i + 1): gps draws again while the low word is under 2^64 mod (i + 1)
            state = (state + GOLDEN) & U64
            m = mix64(state) * (i + 1)
            if m & U64 >= 2**64 % (i + 1):
                break
        perm[i], perm[m >> 64] = perm[m >> 64], perm[i]
    return perm


def stratified_subset(labels, n, seed=0):
    """The rows of gps's stratified_subset (src/data/dataset.cpp), ascending."""
    N = len(labels)
    if n <= 0 or n >= N:
        return np.arange(N)
    by_class = {}
    for i in gps_permutation(N, seed, 0x5AB5E7):
        by_class.setdefault(int(labels[i]), []).append(i)
    quota, rem = {}, []
    for c in sorted(by_class):
        exact = n * len(by_class[c]) / N
        quota[c] = max(1, int(exact))
        rem.append((exact - int(exact), c))
    given = sum(quota.values())
    for _, c in sorted(rem, key=lambda r: (-r[0], r[1])):
        if given >= n:
            break
        quota[c], given = quota[c] + 1, given + 1
    return np.sort(np.array([i for c in sorted(by_class) for i in by_class[c][:quota[c]]]))


def read_idx(root, stem):
    path = next((p for p in (f"{root}/{stem}.gz", f"{root}/{stem}") if os.path.exists(p)), None)
    if path is None:
        sys.exit(f"tta_peer: neither {root}/{stem}.gz nor {root}/{stem} found (--root); Fashion-MNIST comes "
                 "with the Debian package dataset-fashion-mnist (scripts/setup.sh installs it)")
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        data = f.read()
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(data[3])]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * data[3]).reshape(dims)


def load_split(root, split, n):
    prefix = "train" if split == "train" else "t10k"
    images, labels = read_idx(root, f"{prefix}-images-idx3-ubyte"), read_idx(root, f"{prefix}-labels-idx1-ubyte")
    keep = stratified_subset(labels, n)
    return torch.from_numpy(images[keep].copy()).unsqueeze(1), torch.from_numpy(labels[keep].astype(np.int64))


def normalise(x):
    return (x.float() / 255 - MEAN) / STD


def pca(x, dim):
    """x projected on its `dim` leading principal axes (covariance eigenvectors in float64, as gps)."""
    xd = x.double()
    centred = xd - xd.mean(0, keepdim=True)
    vecs = torch.linalg.eigh(centred.T @ centred / (len(x) - 1))[1].flip(1)[:, :dim]
    return (centred @ vecs).float()


def pixel_table(images, k, pca_dim=0, metric="l2", mutual=False, chunk=1024):
    """[N, k] rows {i, its k-1 nearest others}, self dropped by index as gps (duplicate images), and
    [N] counts. pca_dim > 0: on the pixels' leading principal components. mutual: j stays in i's row
    only if i is among j's k-1 nearest too; kept candidates first, the row's count says how many."""
    n, x = len(images), normalise(images).flatten(1)
    if pca_dim > 0:
        x = pca(x, pca_dim)
    if metric == "cosine":
        x = F.normalize(x, dim=1)
    sq = (x * x).sum(1)
    others = []
    for s in range(0, n, chunk):
        q = x[s:s + chunk]
        d = sq[s:s + chunk, None] - 2 * q @ x.T + sq[None]  # cosine: 2 - 2 cos on unit rows, same order
        d[torch.arange(len(q)), torch.arange(s, s + len(q))] = float("inf")
        others.append(d.topk(k - 1, 1, largest=False).indices)
    nn_ = torch.cat(others)
    keep = (nn_[nn_] == torch.arange(n)[:, None, None]).any(2) if mutual else torch.ones_like(nn_, dtype=torch.bool)
    order = torch.sort((~keep).int(), dim=1, stable=True).indices  # kept first, in distance order
    table = torch.cat([torch.arange(n)[:, None], nn_.gather(1, order)], 1)
    return table, 1 + keep.sum(1)


def view_transform(aug):
    """One view's pipeline on a [1, H, W] uint8 tensor, as gps's augment.preset (weak | strong)."""
    tail = [T.RandomHorizontalFlip(0.5), T.ToDtype(torch.float32, scale=True), T.Normalize([MEAN], [STD])]
    if aug == "weak":
        return T.Compose(tail)
    return T.Compose([  # gps's strong: RRC 0.08-1, jitter p 0.8 (0.8, 0.8, 0.8, 0.2), gray p 0.2, blur p 0.5
        T.RandomResizedCrop(28, scale=(0.08, 1.0), interpolation=T.InterpolationMode.BICUBIC, antialias=True),
        T.RandomApply([T.ColorJitter(0.8, 0.8, 0.8, 0.2)], p=0.8),
        T.RandomGrayscale(0.2),
        T.RandomApply([T.GaussianBlur(13, sigma=(0.1, 2.0))], p=0.5)] + tail)


class Pairs(torch.utils.data.Dataset):
    """Item i: (view of anchor i, view of a positive drawn uniformly from row i, label of i)."""

    def __init__(self, images, labels, table, counts, aug):
        self.images, self.labels, self.table, self.counts = images, labels, table, counts
        self.tf = view_transform(aug)

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        j = self.table[i, torch.randint(int(self.counts[i]), ()).item()]
        return self.tf(self.images[i]), self.tf(self.images[j]), self.labels[i]


@torch.no_grad()
def features(net, images, batch=512):
    net.eval()
    out = torch.cat([net(normalise(images[s:s + batch])) for s in range(0, len(images), batch)])
    net.train()
    return out


def knn_top1(trx, try_, tex, tey, k=20, t=0.07, classes=10):  # src/eval/knn.cpp, cosine
    trx, tex = F.normalize(trx, dim=1), F.normalize(tex, dim=1)
    preds = []
    for s in range(0, len(tex), 1024):
        sim, idx = (tex[s:s + 1024] @ trx.T).topk(min(k, len(trx)), 1)
        scores = torch.zeros(len(sim), classes).scatter_add_(1, try_[idx], (sim / t).exp())
        preds.append(scores.argmax(1))
    return 100.0 * (torch.cat(preds) == tey).double().mean().item()


def lr_at(step, total, warm, base, start=WARMUP_START_LR, min_lr=0.0):  # src/optim/schedule.cpp
    step = min(max(step, 0), total)
    if step < warm:
        return start + (base - start) * step / warm
    span = total - warm
    return base if span <= 0 else min_lr + 0.5 * (base - min_lr) * (1 + math.cos(math.pi * (step - warm) / span))


def steps_within_budget(budget_s, spent_s, step_s, reserve_s, done, cap):  # src/optim/schedule.cpp
    left = budget_s - spent_s - reserve_s
    if not step_s > 0:
        return cap
    if left <= 0:
        return min(done, cap)
    more = math.floor(left / step_s)
    return cap if more >= cap - done else min(max(done + more, min(done, cap)), cap)


# The recipes: gps configs in peer flags (any flag given on the command line wins).
RECIPES = {
    "main-job": {"config": "configs/fmnist-simclr-weak.yaml"},
    "30min": {"config": "configs/fmnist-30min.yaml", "width": 16, "temperature": 0.1, "aug": "strong",
              "pca_dim": 64, "metric": "cosine", "mutual": True, "k": 8, "epochs": 20, "budget_min": 30.0,
              "knn_every": 1, "linear_select": "val"},
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--recipe", default="main-job", choices=sorted(RECIPES), help="the gps recipe to mirror")
    for flag, default, help_ in [
            ("--root", "/usr/share/datasets/fashion-mnist", "Fashion-MNIST folder (idx files, .gz or not)"),
            ("--subset", 0, "stratified train subset, as gps's data.subset (0 = all 60k)"),
            ("--test-subset", 0, "stratified test subset, as data.test_subset (0 = all 10k)"),
            ("--epochs", 12, "planned epochs (the lr schedule's length)"), ("--width", 8, "ResNet-18 width"),
            ("--batch", 256, "anchors per step (drop_last)"), ("--lr", 0.4, "base lr, times batch/256"),
            ("--temperature", 0.2, "NT-Xent temperature"), ("--k", 4, "candidates per row, the image itself included"),
            ("--pca-dim", 0, "table on this many principal components of the pixels (0 = the pixels)"),
            ("--knn-every", 2, "a kNN curve point every N epochs (0 = none)"),
            ("--budget-min", 0.0, "the whole run within this many minutes of wall clock less the kNN curve's "
             "evaluations, as optim.budget_minutes: --epochs becomes the cap (0 = no budget)"),
            ("--workers", 2, "DataLoader worker processes"),
            ("--threads", len(os.sched_getaffinity(0)), "torch.set_num_threads (default: the cores)"),
            ("--seed", 0, "torch seed; gps eval's train.seed")]:
        ap.add_argument(flag, type=type(default), default=default, help=help_)
    ap.add_argument("--out", required=True, help="run directory (metrics.jsonl, summary.json, features, eval.json)")
    ap.add_argument("--gps", action=argparse.BooleanOptionalAction, default=True, help="--no-gps: positive = anchor")
    ap.add_argument("--gps-binary", default=os.path.join(REPO, "build", "gps"), help="gps, for the linear probe")
    ap.add_argument("--linear-select", default="val", choices=["val", "none"], help="gps's eval.linear_select")
    ap.add_argument("--aug", default="weak", choices=["weak", "strong"], help="views: weak (flip) | strong")
    ap.add_argument("--metric", default="l2", choices=["l2", "cosine"], help="the table's distance")
    ap.add_argument("--mutual", action=argparse.BooleanOptionalAction, default=False,
                    help="keep only mutual neighbours in the table (neighbors.mutual)")
    ap.add_argument("--config", default=None, help="gps config whose eval.* settings the final probe takes")
    ap.set_defaults(**RECIPES[ap.parse_known_args()[0].recipe])
    a = ap.parse_args()
    config = os.path.join(REPO, a.config)
    t_run = time.perf_counter()
    run_s = lambda: time.perf_counter() - t_run  # noqa: E731  the x axis: since start, data and table included
    if not os.access(a.gps_binary, os.X_OK):
        sys.exit(f"tta_peer: {a.gps_binary} not found (build gps first, or pass --gps-binary): the final probe runs it")
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    os.makedirs(a.out, exist_ok=True)
    if os.path.exists(os.path.join(a.out, "summary.json")):  # a finished run's: not this one's until the end
        os.remove(os.path.join(a.out, "summary.json"))
    metrics = open(os.path.join(a.out, "metrics.jsonl"), "w")
    log = lambda rec: (metrics.write(json.dumps(rec) + "\n"), metrics.flush())  # noqa: E731

    xtr, ytr = load_split(a.root, "train", a.subset)
    xte, yte = load_split(a.root, "test", a.test_subset)
    if a.batch > len(xtr):
        sys.exit(f"tta_peer: --batch {a.batch} is larger than the training set ({len(xtr)} images)")
    t0 = time.perf_counter()
    if a.gps:
        table, counts = pixel_table(xtr, a.k, a.pca_dim, a.metric, a.mutual)
    else:
        table, counts = torch.arange(len(xtr))[:, None], torch.ones(len(xtr), dtype=torch.long)
    table_s = time.perf_counter() - t0
    print(f"[peer] {len(xtr)} train / {len(xte)} test images; table {tuple(table.shape)}, "
          f"{counts.double().mean():.2f} candidates a row, in {table_s:.1f}s", flush=True)

    net = ResNet18(1, a.width)
    for m in net.modules():  # gps's init (src/models/resnet.cpp); BN starts at 1/0 as PyTorch's
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
    proj = nn.Sequential(nn.Linear(net.dim, 512), nn.ReLU(), nn.Linear(512, 128))
    clf = nn.Linear(net.dim, 10)  # the online probe (train.online_probe), its own constant lr, no decay
    params = list(net.parameters()) + list(proj.parameters())
    scale = a.batch / 256
    opt = torch.optim.SGD([{"params": [p for p in params if p.dim() >= 2], "weight_decay": WEIGHT_DECAY},
                           {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
                           {"params": clf.parameters(), "lr": CLASSIFIER_LR * scale, "weight_decay": 0.0}],
                          lr=a.lr * scale, momentum=0.9)
    loader = torch.utils.data.DataLoader(Pairs(xtr, ytr, table, counts, a.aug), batch_size=a.batch, shuffle=True,
                                         drop_last=True, num_workers=a.workers, persistent_workers=a.workers > 0,
                                         generator=torch.Generator().manual_seed(a.seed))
    spe = len(loader)
    cap, warm = spe * a.epochs, int(WARMUP_EPOCHS * spe + 0.5)
    total = cap  # --budget-min: set from the measured speed at budget_at, then at every epoch end
    budget_from, budget_at = 2, min(cap, max(20, min(warm, spe)))
    step, knn_s, wait, loss, correct, seen = 0, 0.0, 0.0, float("nan"), 0, 0
    dec_t, dec_step, decisions = 0.0, 0, 0
    budget_now = lambda: run_s() - knn_s  # noqa: E731  the budget's clock: the curve's kNN not counted

    def decide(done):
        nonlocal total, dec_t, dec_step, decisions
        now = budget_now()
        step_s = (now - dec_t) / max(1, done - dec_step)
        reserve = 1.5 * (len(xtr) + len(xte)) * step_s / (6.0 * a.batch)  # the trainer's estimate of the probe
        before, total = total, max(steps_within_budget(60 * a.budget_min, now, step_s, reserve, done, cap), done)
        dec_t, dec_step, decisions = now, done, decisions + 1
        log({"event": "budget", "budget": {"minutes": a.budget_min, "steps": total, "epochs": total / spe,
             "cap_steps": cap, "decided_at_step": done, "decisions": decisions, "spent_seconds": now,
             "step_seconds": step_s, "eval_reserve_seconds": reserve}})
        if decisions == 1 or total != before:
            print(f"[peer] budget {a.budget_min:g} min: {total} steps ({total / spe:.2f} epochs) at {step_s:.3f} "
                  f"s/step; {now / 60:.1f} min spent, {reserve / 60:.1f} min reserved", flush=True)

    t_train = time.perf_counter()  # moved on by each kNN evaluation, as gps's train_seconds
    for epoch in range(a.epochs):
        if step >= total:
            break
        correct = seen = 0
        it = iter(loader)
        for _ in range(spe):
            if step >= total:
                break
            tw = time.perf_counter()
            x1, x2, y = next(it)
            wait += time.perf_counter() - tw
            lr = lr_at(step, total, warm, a.lr * scale)
            opt.param_groups[0]["lr"] = opt.param_groups[1]["lr"] = lr
            f1, f2 = net(x1), net(x2)  # one forward per view: own batch-norm statistics, as gps
            ssl = nt_xent(proj(f1), proj(f2), a.temperature)
            logits = clf(f1.detach())
            probe = F.cross_entropy(logits, y)
            opt.zero_grad()
            (ssl + probe).backward()
            opt.step()
            step += 1
            correct, seen, loss = correct + (logits.argmax(1) == y).sum().item(), seen + len(y), ssl.item()
            if not math.isfinite(loss):
                sys.exit(f"tta_peer: non-finite loss at step {step - 1} (epoch {epoch})")
            if a.budget_min > 0:
                if decisions == 0 and step == budget_from and step < budget_at:
                    dec_t, dec_step = budget_now(), step  # the first decision's timing starts after a settle
                elif (decisions == 0 and step == budget_at) or \
                        (decisions > 0 and step % spe == 0 and step < total and step - dec_step >= 10):
                    decide(step)
            if step % LOG_EVERY == 0 or step == total:
                el = time.perf_counter() - t_train
                log({"step": step, "epoch": epoch, "lr": lr, "loss": loss, "images_per_s": step * a.batch / el,
                     "elapsed_s": el, "data_wait_s": wait, "probe_loss": probe.item(),
                     "probe_acc": 100.0 * correct / seen})
        if a.knn_every > 0 and (epoch + 1) % a.knn_every == 0 and step % spe == 0:
            t0 = time.perf_counter()
            top1 = knn_top1(features(net, xtr), ytr, features(net, xte), yte)
            sec = time.perf_counter() - t0
            knn_s, t_train = knn_s + sec, t_train + sec
            log({"event": "knn", "knn_top1": top1, "knn_k": 20, "knn_metric": "cosine", "seconds": sec,
                 "step": step, "epoch": epoch + 1, "run_seconds": run_s()})
            print(f"[peer] epoch {epoch + 1}: kNN {top1:.2f}% at {(run_s() - knn_s) / 60:.1f} min "
                  f"(loss {loss:.4f}, {step * a.batch / (time.perf_counter() - t_train):.0f} images/s)", flush=True)
    train_s = time.perf_counter() - t_train
    stopped = total < cap
    if stopped:
        print(f"[peer] the budget of {a.budget_min:g} min ended the schedule at step {step} of {cap}", flush=True)

    files = {s: os.path.join(a.out, f"{s}_features.npy") for s in ("train", "test")}
    np.save(files["train"], features(net, xtr).numpy().astype(np.float32))
    np.save(files["test"], features(net, xte).numpy().astype(np.float32))
    eval_json = os.path.join(a.out, "eval.json")
    cmd = [a.gps_binary, "eval", "-c", config, "--embeddings", files["train"], "--test-embeddings", files["test"],
           "-o", eval_json, f"data.root={a.root}", f"data.subset={a.subset}", f"data.test_subset={a.test_subset}",
           "data.seed=0", f"train.seed={a.seed}", f"train.threads={a.threads}", f"eval.linear_select={a.linear_select}"]
    subprocess.run(cmd, check=True)
    with open(eval_json) as f:
        ev = json.load(f)
    summary = {"peer": "python", "method": "simclr", "gps": a.gps, "device": "cpu", "precision": "fp32",
               "channels_last": False, "steps": step, "planned_steps": cap, "interrupted": False,
               "budget_stopped": stopped, "train_seconds": train_s, "images_per_second": step * a.batch / train_s,
               "data_wait_seconds": wait, "prefetch": a.workers, "final_loss": loss,
               "online_probe_top1": 100.0 * correct / max(1, seen),
               "table": {"fingerprint": f"peer:pixels;pca={a.pca_dim};k={a.k};exclude_self=0;metric={a.metric};"
                         f"mutual={int(a.mutual)};exact" if a.gps else "self",
                         "candidates_per_row": counts.double().mean().item(),
                         "seconds": table_s, "reused": False},
               "eval": ev, "args": vars(a), "torch": torch.__version__, "threads": a.threads, "workers": a.workers}
    summary["run_seconds"] = run_s()  # the whole run, the final probe included
    with open(os.path.join(a.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2, sort_keys=True)
    print(f"[peer] linear {ev['linear_top1']:.2f}% kNN {ev['knn_top1']:.2f}% in {summary['run_seconds'] / 60:.1f} min "
          f"({summary['images_per_second']:.0f} images/s) -> {a.out}", flush=True)


if __name__ == "__main__":
    main()

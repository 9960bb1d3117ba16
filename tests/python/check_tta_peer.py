"""Checks that bench/tta_peer.py, the Python peer of the time-to-accuracy benchmark, is the recipe it
claims to be, and that it still runs.

usage: check_tta_peer.py GPS_BINARY WORK_DIR

1. Its neighbour table equals gps's: the table of configs/fmnist-30min.yaml (PCA-64 pixels, cosine,
   mutual among the 8 nearest) on a 2,000-image stratified subset, built by `gps neighbors`, has the
   same candidates in every row but a few (float ties), and the same count per row.
2. Its budget rule is gps's: steps_within_budget gives the reference values of
   tests/optim/test_schedule.cpp (Schedule.StepsWithinBudget).
3. `--recipe 30min` runs end to end on 512 images with a 0.3-minute budget: the budget is decided,
   kNN points carry run_seconds, and gps's probe writes its result into summary.json.
Exits 1 naming the first check that fails.
"""
import glob
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import torch

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "bench"))
import tta_peer  # noqa: E402


def fail(msg):
    print(f"check_tta_peer: {msg}", file=sys.stderr)
    sys.exit(1)


def check_table(gps, work):
    out = os.path.join(work, "gps")
    subprocess.run([gps, "neighbors", "-c", os.path.join(REPO, "configs", "fmnist-30min.yaml"), "data.subset=2000",
                    f"train.out_dir={out}"], check=True, stdout=subprocess.DEVNULL)
    (folder,) = glob.glob(os.path.join(out, "cache", "neighbors-*"))
    ids, counts = np.load(os.path.join(folder, "ids.npy")), np.load(os.path.join(folder, "counts.npy"))
    xtr, _ = tta_peer.load_split("/usr/share/datasets/fashion-mnist", "train", 2000)
    table, peer_counts = tta_peer.pixel_table(xtr, 8, 64, "cosine", True)
    if table.shape[0] != ids.shape[0]:
        fail(f"table rows: peer {table.shape[0]}, gps {ids.shape[0]}")
    same = sum(set(ids[i, :counts[i]].tolist()) == set(table[i, :peer_counts[i]].tolist()) for i in range(len(ids)))
    print(f"check_tta_peer: table rows equal to gps's: {same} of {len(ids)}; candidates a row: "
          f"peer {peer_counts.double().mean():.3f}, gps {counts.mean():.3f}")
    if same < 0.99 * len(ids):
        fail(f"only {same} of {len(ids)} rows of the peer's table equal gps's (expected 99 %)")
    if not (table[:, 0] == torch.arange(len(table))).all():
        fail("the peer's rows must start with the image itself (neighbors.exclude_self=false)")


def check_budget():
    f = tta_peer.steps_within_budget
    cases = [((100, 10, 1.0, 5, 20, 1000), 105), ((100, 10, 2.0, 5, 20, 1000), 62), ((1e9, 10, 1.0, 5, 20, 1000), 1000),
             ((100, 120, 1.0, 5, 20, 1000), 20), ((100, 96, 1.0, 5, 20, 1000), 20),
             ((100, 10, 0.0, 5, 20, 1000), 1000), ((100, 10, 1.0, 5, 1200, 1000), 1000)]
    for args, want in cases:
        if f(*args) != want:
            fail(f"steps_within_budget{args} = {f(*args)}, gps gives {want}")


def check_run(gps, work):
    out = os.path.join(work, "peer")
    subprocess.run([sys.executable, os.path.join(REPO, "bench", "tta_peer.py"), "--recipe", "30min", "--subset", "512",
                    "--test-subset", "256", "--epochs", "12", "--budget-min", "0.3", "--threads", "1", "--workers", "0",
                    "--gps-binary", gps, "--out", out], check=True)
    records = [json.loads(line) for line in open(os.path.join(out, "metrics.jsonl"))]
    budget = [r["budget"] for r in records if r.get("event") == "budget"]
    knn = [r for r in records if r.get("event") == "knn"]
    summary = json.load(open(os.path.join(out, "summary.json")))
    if not budget or budget[0]["decided_at_step"] != 20 or budget[0]["cap_steps"] != 24:
        fail(f"expected the first budget decision at step 20 of a 24-step cap (512 images, batch 256, 12 epochs), "
             f"got {budget}")
    if summary["steps"] != budget[-1]["steps"]:
        fail(f"the run took {summary['steps']} steps, its last budget decision said {budget[-1]['steps']}")
    if not knn or any(not r["run_seconds"] > 0 or not 0 <= r["knn_top1"] <= 100 for r in knn):
        fail(f"expected kNN points with run_seconds and a top-1 in [0, 100], got {knn}")
    ev = summary["eval"]
    if not 0 <= ev["linear_top1"] <= 100 or summary["args"]["linear_select"] != "val" or \
            summary["table"]["candidates_per_row"] <= 1:
        fail(f"summary.json: eval {ev}, args {summary['args']}, table {summary['table']}")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.split("\n\n")[1])
    gps, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)  # a fresh table and run every time
    os.makedirs(work)
    check_budget()
    check_table(gps, work)
    check_run(gps, work)
    print("check_tta_peer: ok")


if __name__ == "__main__":
    main()

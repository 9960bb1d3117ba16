#!/usr/bin/env python3
"""gps_ssl.Augment inside a torch DataLoader vs torchvision transforms with the
same workers, side by side in one run: anchor images/s (each anchor gives two
views) for the same GPS pairs of Fashion-MNIST (10k subset, batch 256).

  PYTHONPATH=build/python /opt/gps-venv/bin/python bench/bench_gps_ssl_loader.py
  ... --presets weak strong --workers 0 2 --batches 30 --json out.json

workers 0: the views are made in the main process; gps_ssl.Augment then uses
torch.get_num_threads() threads, torchvision one. workers W > 0: W DataLoader
worker processes, each one thread (torch sets it), for both.
torchvision pipelines: weak = RandomHorizontalFlip; strong = RandomResizedCrop
(bicubic, 0.08-1) + ColorJitter(0.8, 0.8, 0.8, 0.2) p=0.8 + RandomGrayscale 0.2 +
GaussianBlur(sigma 0.1-2) p=0.5 + flip, on PIL images, then ToTensor +
Normalize (gps's `strong` preset, src/augment/augment.cpp).
"""
import argparse
import json
import os
import platform
import time

import torch
import torchvision.transforms as T
from PIL import Image
from torch.utils.data import DataLoader

import gps_ssl


def torchvision_pipeline(preset, mean, std):
    tail = [T.RandomHorizontalFlip(), T.ToTensor(), T.Normalize(mean, std)]
    if preset == "weak":
        return T.Compose(tail)
    return T.Compose([
        T.RandomResizedCrop(28, scale=(0.08, 1.0), interpolation=T.InterpolationMode.BICUBIC),
        T.RandomApply([T.ColorJitter(0.8, 0.8, 0.8, 0.2)], p=0.8),
        T.RandomGrayscale(0.2),
        T.RandomApply([T.GaussianBlur(13, sigma=(0.1, 2.0))], p=0.5),
    ] + tail)


class TorchvisionViews(torch.utils.data.Dataset):
    def __init__(self, images, tf):
        self.images, self.tf = images.squeeze(1).numpy(), tf

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.tf(Image.fromarray(self.images[i]))


def rate(loader, batches, batch_size):
    it = iter(loader)
    next(it)  # workers started, first batch made
    t0 = time.perf_counter()
    for _ in range(batches):
        next(it)
    return batches * batch_size / (time.perf_counter() - t0)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--presets", nargs="+", default=["weak", "strong"])
    p.add_argument("--workers", nargs="+", type=int, default=[0, 2])
    p.add_argument("--batches", type=int, default=30)
    p.add_argument("--json")
    a = p.parse_args()
    data = gps_ssl.load_dataset("fashion-mnist", subset=10000)
    table = gps_ssl.neighbor_table(gps_ssl.prior_embed(data.images, mean=data.mean, std=data.std), k=4)
    pairs = gps_ssl.PairSampler(table, seed=0, batch_size=256)
    rows = []
    for preset in a.presets:
        for w in a.workers:
            aug = gps_ssl.Augment(preset, seed=0, mean=data.mean, std=data.std)
            ds = gps_ssl.GPSBatches(data.images, pairs, aug)
            order = ds.epoch_sampler(0) * 2
            g = rate(DataLoader(ds, batch_size=None, sampler=order, num_workers=w), a.batches, 256)
            tv = TorchvisionViews(data.images, torchvision_pipeline(preset, data.mean, data.std))
            bs = gps_ssl.PairBatchSampler(pairs)
            loader = DataLoader(gps_ssl.PairDataset(tv), batch_sampler=list(bs) * 2, num_workers=w)
            t = rate(loader, a.batches, 256)
            rows.append({"preset": preset, "workers": w, "gps_ssl": g, "torchvision": t, "ratio": g / t})
            print(f"{preset:7s} workers {w}: gps_ssl {g:8.0f} img/s   torchvision {t:7.0f} img/s   {g / t:5.1f}x",
                  flush=True)
    info = {"cpu": platform.processor() or open("/proc/cpuinfo").read().split("model name")[1].split("\n")[0].strip(": \t"),
            "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(), "torch": torch.__version__, "rows": rows}
    if a.json:
        with open(a.json, "w") as f:
            json.dump(info, f, indent=1)


if __name__ == "__main__":
    main()

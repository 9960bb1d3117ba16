#!/usr/bin/env python3
"""GPS-SimCLR in a plain PyTorch loop, with gps_ssl for the neighbour table,
the positive pairs and the augmentation (and gps's evaluation at the end).

The recipe is read from a gps config (default: the main job,
configs/fmnist-simclr-weak.yaml), so the loop trains what `gps train -c` does:
same data subset, same table, same pairs, same views, same network and
schedule. It differs from the CLI only in the framework code around the step
(torch.optim.SGD, nn.Module, DataLoader) and in its random initialisation.

  # GPS-SimCLR, the main job's recipe (the README's "gps_ssl" section)
  /opt/gps-venv/bin/python examples/python/gps_simclr.py
  # plain SimCLR; or the same loop with torchvision transforms instead of gps_ssl.Augment
  /opt/gps-venv/bin/python examples/python/gps_simclr.py gps=false
  /opt/gps-venv/bin/python examples/python/gps_simclr.py --loader torchvision
Needs gps_ssl importable: `pip install --no-build-isolation .` or PYTHONPATH=build/python.
"""
import argparse
import json
import math
import os
import time

import torch
import torch.nn as nn
from torch.utils.data import DataLoader

import gps_ssl
from gps_ssl.models import ResNet18, projector

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def torchvision_batches(data, pairs, epoch, workers, mean, std):
    """The same pairs, augmented per sample by torchvision in DataLoader workers."""
    import torchvision.transforms.v2 as T
    tf = T.Compose([T.RandomHorizontalFlip(), T.ToDtype(torch.float32, scale=True), T.Normalize(mean, std)])

    class Views(torch.utils.data.Dataset):
        def __len__(self):
            return len(data)

        def __getitem__(self, i):
            return tf(data.images[i])

    bs = gps_ssl.PairBatchSampler(pairs, epoch)
    for x1, x2 in DataLoader(gps_ssl.PairDataset(Views()), batch_sampler=bs, num_workers=workers):
        yield x1, x2


def features(backbone, images, mean, std, batch=512):
    backbone.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(images), batch):
            out.append(backbone(gps_ssl.to_normalized_float(images[i:i + batch], mean, std)))
    backbone.train()
    return torch.cat(out)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("overrides", nargs="*", help="gps config overrides key=value (e.g. gps=false optim.epochs=2)")
    p.add_argument("-c", "--config", default=os.path.join(ROOT, "configs", "fmnist-simclr-weak.yaml"))
    p.add_argument("--loader", choices=["gps", "torchvision"], default="gps", help="who makes the views")
    p.add_argument("--workers", type=int, default=0, help="DataLoader workers (0: views made in this process)")
    p.add_argument("--json", help="write the result here")
    a = p.parse_args()
    cfg = gps_ssl.load_config(a.config, a.overrides)
    o, seed = cfg["optim"], cfg["train"]["seed"]
    torch.manual_seed(seed)
    if cfg["train"]["threads"] > 0:
        torch.set_num_threads(cfg["train"]["threads"])

    data = gps_ssl.load_dataset(split="train", config=cfg)
    test = gps_ssl.load_dataset(split="test", config=cfg)
    t0 = time.time()

    # The positive pairs: GPS neighbours in the prior space, or the image itself.
    if cfg["gps"]:
        emb = gps_ssl.prior_embed(data.images, cfg["prior"]["kind"], mean=data.mean, std=data.std,
                                  pca_dim=cfg["prior"]["pca_dim"])
        n = cfg["neighbors"]
        table = gps_ssl.neighbor_table(emb, k=n["k"], exclude_self=n["exclude_self"], metric=n["metric"])
    else:
        table = gps_ssl.self_table(len(data))
    pairs = gps_ssl.PairSampler(table, seed=seed, batch_size=o["batch_size"])
    augment = gps_ssl.Augment(cfg["augment"]["preset"], seed=seed, mean=data.mean, std=data.std,
                              flip_p=cfg["augment"]["flip_p"], crop_size=cfg["augment"]["crop_size"])

    # The network and its optimiser: SGD with momentum, weight decay on >= 2-D weights only,
    # lr = base x batch / 256, linear warm-up then cosine, stepped every iteration.
    m = cfg["model"]
    backbone = ResNet18(data.images.shape[1], m["width"], m["small_stem"], m["stem_padding"])
    proj = projector(backbone.dim, cfg["method"]["proj_hidden_dim"], cfg["method"]["proj_output_dim"])
    model = nn.Sequential(backbone, proj)
    params = [q for q in model.parameters() if q.requires_grad]
    base_lr = o["lr"] * (o["batch_size"] / 256 if o["scale_lr"] else 1)
    opt = torch.optim.SGD([{"params": [q for q in params if q.dim() >= 2], "weight_decay": o["weight_decay"]},
                           {"params": [q for q in params if q.dim() < 2], "weight_decay": 0.0}],
                          lr=base_lr, momentum=o["momentum"])
    steps_per_epoch, epochs = pairs.batches_per_epoch, o["epochs"]
    total, warmup = steps_per_epoch * epochs, int(steps_per_epoch * o["warmup_epochs"])

    def lr_at(step):
        if step < warmup:
            return o["warmup_start_lr"] + (base_lr - o["warmup_start_lr"]) * step / warmup
        t = (step - warmup) / max(1, total - warmup)
        return o["min_lr"] + 0.5 * (base_lr - o["min_lr"]) * (1 + math.cos(math.pi * t))

    step, epoch_seconds, temperature = 0, [], cfg["method"]["temperature"]
    for epoch in range(epochs):
        te = time.time()
        if a.loader == "gps":
            ds = gps_ssl.GPSBatches(data.images, pairs, augment)
            batches = ((x1, x2) for x1, x2, *_ in DataLoader(ds, batch_size=None, sampler=ds.epoch_sampler(epoch),
                                                           num_workers=a.workers))
        else:
            batches = torchvision_batches(data, pairs, epoch, a.workers, data.mean, data.std)
        for x1, x2 in batches:  # ---- one training step ----
            for g in opt.param_groups:
                g["lr"] = lr_at(step)
            loss = gps_ssl.nt_xent(model(x1), model(x2), temperature)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
        epoch_seconds.append(time.time() - te)
        print(f"epoch {epoch + 1}/{epochs}  loss {loss.item():.4f}  {epoch_seconds[-1]:.1f}s "
              f"({steps_per_epoch * o['batch_size'] / epoch_seconds[-1]:.0f} img/s)", flush=True)
    train_seconds = time.time() - t0

    # gps's evaluation (linear probe + kNN on frozen backbone features), as `gps train` reports it.
    e = cfg["eval"]
    result = gps_ssl.evaluate(features(backbone, data.images, data.mean, data.std), data.labels,
                              features(backbone, test.images, test.mean, test.std), test.labels,
                              data.num_classes, seed=seed, linear_epochs=e["linear_epochs"], knn_k=e["knn_k"],
                              linear_lr=e["linear_lr"], linear_weight_decay=e["linear_weight_decay"])
    out = {"gps": cfg["gps"], "loader": a.loader, "workers": a.workers, "threads": torch.get_num_threads(),
           "linear_top1": result["linear_top1"], "knn_top1": result["knn_top1"], "train_seconds": train_seconds,
           "epoch_seconds": epoch_seconds, "images_per_second": steps_per_epoch * o["batch_size"] * epochs / sum(epoch_seconds)}
    print(json.dumps(out))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()

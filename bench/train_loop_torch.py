#!/usr/bin/env python3
"""Python peer for the end-to-end training benchmarks: the same SimCLR step as
`gps train -c configs/fmnist-simclr-weak.yaml` (ResNet-18 width 8 with the
small stem, projector 64-512-128, NT-Xent T=0.2, SGD momentum, batch 256) on
the same 10k Fashion-MNIST subset, with torchvision transforms in DataLoader
workers. Prints anchor images/s over the timed steps.

  /opt/gps-venv/bin/python bench/train_loop_torch.py --preset strong --steps 30
  # ResNet-18 full width on 32 px CIFAR-shaped data (a CIFAR-10 binary folder), bf16 + channels-last:
  /opt/gps-venv/bin/python bench/train_loop_torch.py --cifar DIR --width 64 --batch 128 \
      --precision bf16 --channels-last
  # on a GPU (bench/gpu_bench.sh): DataLoader workers = cores, pinned memory, cudnn.benchmark
  python bench/train_loop_torch.py --device cuda --cifar DIR --width 64 --batch 512 --proj 2048,256 \
      --precision bf16 --channels-last --workers 16 --json
  # ViT-Tiny, patch 4, on Fashion-MNIST resized to 32 px, AdamW (bench/vit_speed.sh, next to gps's vit_tiny):
  /opt/gps-venv/bin/python bench/train_loop_torch.py --arch vit_tiny --size 32 --optim adamw --preset weak
(runs with the project venv's torch and torchvision: scripts/setup.sh)
"""
import argparse, gzip, json, time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.transforms as T
from PIL import Image

ROOT = "/usr/share/datasets/fashion-mnist"
MEAN, STD = 0.2860, 0.3530


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    rank = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (self.down(x) if self.down is not None else x))


class ResNet18(nn.Module):
    def __init__(self, cin=1, w=8):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, w, 3, 1, 2, bias=False)  # small stem, padding 2 (solo-learn)
        self.bn1 = nn.BatchNorm2d(w)
        chans, layers, c = [w, 2 * w, 4 * w, 8 * w], [], w
        for i, out in enumerate(chans):
            layers += [Block(c, out, 1 if i == 0 else 2), Block(out, out, 1)]
            c = out
        self.layers = nn.Sequential(*layers)
        self.dim = c

    def forward(self, x):
        return F.adaptive_avg_pool2d(self.layers(F.relu(self.bn1(self.conv1(x)))), 1).flatten(1)


class VitBlock(nn.Module):
    """timm's pre-norm block: LayerNorm, fused attention, LayerNorm, GELU MLP (x4)."""

    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.norm1, self.norm2 = nn.LayerNorm(d, eps=1e-6), nn.LayerNorm(d, eps=1e-6)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.fc1, self.fc2 = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(self.norm1(x)).reshape(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        x = x + self.proj(F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, t, d))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class ViTTiny(nn.Module):
    """ViT-Tiny as timm builds it (width 192, 12 blocks, 3 heads, class token, learned position embeddings)."""

    def __init__(self, cin=1, size=32, patch=4, d=192, depth=12, heads=3):
        super().__init__()
        self.patch_embed = nn.Conv2d(cin, d, patch, patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d))
        self.pos_embed = nn.Parameter(torch.randn(1, 1 + (size // patch) ** 2, d) * 0.02)
        self.blocks = nn.Sequential(*[VitBlock(d, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(d, eps=1e-6)
        self.dim = d

    def forward(self, x):
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], 1) + self.pos_embed
        return self.norm(self.blocks(x)[:, 0])


def nt_xent(z1, z2, t):
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    n = z1.shape[0]
    logits = z @ z.t() / t
    logits.fill_diagonal_(float("-inf"))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
    return F.cross_entropy(logits, target)


def transform(preset, size=0):
    mean, std = (MEAN, STD) if isinstance(MEAN, list) else ([MEAN], [STD])
    tail = [T.RandomHorizontalFlip(), T.ToTensor(), T.Normalize(mean, std)]
    if size:  # views resized to `size` px, as gps's augment.crop_size
        tail = [T.Resize(size, interpolation=T.InterpolationMode.BILINEAR)] + tail
    if preset == "none":
        return T.Compose([T.ToTensor(), T.Normalize(mean, std)])
    if preset == "weak":
        return T.Compose(tail)
    return T.Compose([
        T.RandomResizedCrop(32 if isinstance(MEAN, list) else 28, scale=(0.08, 1.0), interpolation=T.InterpolationMode.BICUBIC),
        T.RandomApply([T.ColorJitter(0.8, 0.8, 0.8, 0.2)], p=0.8),
        T.RandomGrayscale(0.2),
        T.RandomApply([T.GaussianBlur(13, sigma=(0.1, 2.0))], p=0.5),
    ] + tail)


def read_cifar(folder):
    """CIFAR-10 binary batches: 1 label byte + 3x32x32 bytes per record; HWC uint8 images."""
    raw = np.concatenate([np.fromfile(f"{folder}/data_batch_{i}.bin", dtype=np.uint8) for i in range(1, 6)])
    return raw.reshape(-1, 3073)[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy()


class Pairs(torch.utils.data.Dataset):
    def __init__(self, images, tf):
        self.images, self.tf = images, tf

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        img = Image.fromarray(self.images[i])
        return self.tf(img), self.tf(img)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="strong", choices=["none", "weak", "strong"])
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--width", type=int, default=8)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--proj", default="512,128", help="projector hidden,output widths")
    ap.add_argument("--cifar", default="", help="a CIFAR-10 binary folder (32 px RGB) instead of Fashion-MNIST")
    ap.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    ap.add_argument("--channels-last", action="store_true")
    ap.add_argument("--device", default="cpu", help="cpu | cuda")
    ap.add_argument("--arch", default="resnet18", choices=["resnet18", "vit_tiny"])
    ap.add_argument("--size", type=int, default=0, help="views resized to this many px (0 = as the data)")
    ap.add_argument("--patch", type=int, default=4, help="vit_tiny: patch size")
    ap.add_argument("--optim", default="sgd", choices=["sgd", "adamw"])
    ap.add_argument("--json", action="store_true", help="print one JSON line (images/s, views/s, data wait, GPU memory)")
    a = ap.parse_args()
    dev = torch.device(a.device)
    cuda = dev.type == "cuda"
    if cuda:
        torch.backends.cudnn.benchmark = True  # what a tuned Python loop does
    torch.manual_seed(0)
    torch.set_num_threads(a.threads)
    if a.cifar:
        images, cin = read_cifar(a.cifar), 3
        global MEAN, STD
        MEAN, STD = [0.4914, 0.4822, 0.4465], [0.2470, 0.2435, 0.2616]
    else:
        images, cin = read_idx(f"{ROOT}/train-images-idx3-ubyte.gz")[:10000], 1
    loader = torch.utils.data.DataLoader(Pairs(images, transform(a.preset, a.size)), batch_size=a.batch, shuffle=True,
                                         drop_last=True, num_workers=a.workers, persistent_workers=a.workers > 0,
                                         pin_memory=cuda, prefetch_factor=4 if a.workers > 0 else None)
    if a.arch == "vit_tiny":
        net = ViTTiny(cin, a.size or images.shape[1], a.patch)
    else:
        net = ResNet18(cin, a.width)
    hidden, out = (int(v) for v in a.proj.split(","))
    proj = nn.Sequential(nn.Linear(net.dim, hidden), nn.ReLU(), nn.Linear(hidden, out))
    fmt = torch.channels_last if a.channels_last else torch.contiguous_format
    net = net.to(dev, memory_format=fmt)
    proj = proj.to(dev)
    params = list(net.parameters()) + list(proj.parameters())
    if a.optim == "adamw":
        opt = torch.optim.AdamW(params, lr=5e-4, weight_decay=0.04)
    else:
        opt = torch.optim.SGD(params, lr=0.4, momentum=0.9, weight_decay=1e-4)
    bf16 = a.precision == "bf16"
    done, t0, waited = 0, None, 0.0
    while done < a.steps + a.warmup:
        it = iter(loader)
        while True:
            t_wait = time.perf_counter()
            try:
                x1, x2 = next(it)  # the loop waits here when the workers are behind
            except StopIteration:
                break
            if done == a.warmup:
                if cuda:
                    torch.cuda.synchronize()
                    torch.cuda.reset_peak_memory_stats()
                t0, waited = time.perf_counter(), 0.0
            elif done > a.warmup:
                waited += time.perf_counter() - t_wait
            x1 = x1.to(dev, non_blocking=True).contiguous(memory_format=fmt)
            x2 = x2.to(dev, non_blocking=True).contiguous(memory_format=fmt)
            with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16):  # the network in bf16, as gps
                z1, z2 = proj(net(x1)), proj(net(x2))
            loss = nt_xent(z1.float(), z2.float(), 0.2)  # the loss in float32, as gps
            opt.zero_grad()
            loss.backward()
            opt.step()
            done += 1
            if done >= a.steps + a.warmup:
                break
    if cuda:
        torch.cuda.synchronize()
    dt = time.perf_counter() - t0
    if a.json:
        rec = {"images_per_s": a.steps * a.batch / dt, "views_per_s": 2 * a.steps * a.batch / dt,
               "data_wait_fraction": waited / dt, "steps": a.steps, "seconds": dt, "workers": a.workers}
        if cuda:
            rec["gpu_peak_allocated_mib"] = torch.cuda.max_memory_allocated() / 2**20
            rec["gpu_peak_reserved_mib"] = torch.cuda.max_memory_reserved() / 2**20
            rec["gpu"] = torch.cuda.get_device_name()
        print(json.dumps(rec))
        return
    print(f"python {a.arch} width={a.width} batch={a.batch} preset={a.preset} {a.precision}"
          f"{' channels-last' if a.channels_last else ''} threads={a.threads} workers={a.workers}: "
          f"{a.steps * a.batch / dt:.1f} images/s")


if __name__ == "__main__":
    main()

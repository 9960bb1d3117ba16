"""Peer of bench_augment.cpp: torchvision's `strong` pipeline on PIL images,
one thread, images/s per core.

    taskset -c 0 /opt/gps-venv/bin/python bench/bench_augment_torchvision.py

Pipeline (solo-learn's symmetric SimCLR-style augmentation, with
torchvision's GaussianBlur): RandomResizedCrop(bicubic, scale 0.08-1),
ColorJitter(0.8, 0.8, 0.8, 0.2) p=0.8, RandomGrayscale 0.2, GaussianBlur
p=0.5 (sigma 0.1-2, kernel 2*ceil(3*sigma_max)+1 = 13, as gps's rule at the
largest sigma), RandomHorizontalFlip, ToTensor, Normalize.
"""
import time

import numpy as np
import torch
from PIL import Image
from torchvision import transforms as T

MEAN, STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)


def pipeline(size):
    return T.Compose([
        T.RandomResizedCrop(size, scale=(0.08, 1.0), interpolation=T.InterpolationMode.BICUBIC),
        T.RandomApply([T.ColorJitter(0.8, 0.8, 0.8, 0.2)], p=0.8),
        T.RandomGrayscale(p=0.2),
        T.RandomApply([T.GaussianBlur(13, sigma=(0.1, 2.0))], p=0.5),
        T.RandomHorizontalFlip(),
        T.ToTensor(),
        T.Normalize(MEAN, STD),
    ])


def measure(size, n_images, min_seconds=3.0):
    rng = np.random.default_rng(0)
    images = [Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)) for _ in range(n_images)]
    aug = pipeline(size)
    for img in images[:8]:  # warm-up
        aug(img)
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < min_seconds:
        for img in images:
            aug(img)
        done += len(images)
    return done / (time.perf_counter() - start)


if __name__ == "__main__":
    torch.set_num_threads(1)
    torch.manual_seed(0)
    for size, n in ((32, 256), (224, 32)):
        print(f"torchvision strong {size}px: {measure(size, n):.0f} images/s (1 thread)")

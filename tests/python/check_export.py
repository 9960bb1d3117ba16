"""Loads a `gps export` folder in Python and checks it reproduces gps's features.

usage: check_export.py EXPORT_DIR IMAGES_IDX_GZ REFERENCE_NPY

Builds torchvision.models.<arch> from backbone.json, loads backbone.npz into
it (torchvision names), loads backbone.pt with torch.jit.load, embeds the
images (uint8 IDX, gray) with the sidecar's normalisation and compares both
with REFERENCE_NPY (the features `gps embed` wrote). Prints the max abs
differences; exits 1 when either exceeds 1e-5.
"""
import gzip
import json
import sys

import numpy as np
import torch
import torchvision


def read_idx_images(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    rank = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def torchvision_backbone(side):
    net = getattr(torchvision.models, side["arch"])()
    if side["small_stem"]:
        p = side["stem_padding"]
        net.conv1 = torch.nn.Conv2d(side["in_channels"], 64, 3, 1, p, bias=False)
        net.maxpool = torch.nn.Identity()
    elif side["in_channels"] != 3:
        net.conv1 = torch.nn.Conv2d(side["in_channels"], 64, 7, 2, 3, bias=False)
    net.fc = torch.nn.Identity()
    return net


def main():
    export_dir, images_path, reference_path = sys.argv[1:4]
    side = json.load(open(f"{export_dir}/backbone.json"))
    arrays = np.load(f"{export_dir}/backbone.npz")
    state = {k: torch.from_numpy(arrays[k]) for k in arrays.files}

    net = torchvision_backbone(side)
    missing, unexpected = net.load_state_dict(state, strict=False)
    assert not missing and not unexpected, (missing, unexpected)
    net.eval()
    scripted = torch.jit.load(f"{export_dir}/backbone.pt")
    scripted.eval()

    x = torch.from_numpy(read_idx_images(images_path).astype(np.float32) / 255.0).unsqueeze(1)
    mean = torch.tensor(side["mean"]).view(1, -1, 1, 1)
    std = torch.tensor(side["std"]).view(1, -1, 1, 1)
    x = (x - mean) / std
    ref = torch.from_numpy(np.load(reference_path))
    with torch.no_grad():
        a = net(x)
        b = scripted(x)
    da = (a - ref).abs().max().item()
    db = (b - ref).abs().max().item()
    print(f"torchvision+npz max|diff| {da:.3g}, torchscript max|diff| {db:.3g} over {tuple(ref.shape)}")
    sys.exit(0 if da <= 1e-5 and db <= 1e-5 else 1)


if __name__ == "__main__":
    main()

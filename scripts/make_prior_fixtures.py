#!/usr/bin/env python3
"""Writes the tiny model priors the C++ tests load (tests/fixtures/priors/).

One small network, saved twice: as ONNX (torch.onnx.export, opset 11, dynamic
batch) and as TorchScript, each with a gps-prior/1 JSON sidecar, plus the
network's output on a fixed input the C++ test rebuilds bit for bit:
    image[n, 0, h, w] = (n * 37 + h * 5 + w * 3) % 256   (uint8, 4 x 1 x 16 x 16)
preprocessed as the sidecar says ((x / 255 - 0.5) / 0.25).

Run with Debian's python3-torch (1.13):  /usr/bin/python3 scripts/make_prior_fixtures.py
"""
import json
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "priors")


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(7)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(),
        torch.nn.Conv2d(4, 8, 3, stride=2, padding=1), torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(8, 6)).eval()
    n, s = 4, 16
    idx_n, idx_h, idx_w = np.meshgrid(np.arange(n), np.arange(s), np.arange(s), indexing="ij")
    images = ((idx_n * 37 + idx_h * 5 + idx_w * 3) % 256).astype(np.uint8)[:, None]
    x = (torch.from_numpy(images.astype(np.float32)) / 255.0 - 0.5) / 0.25
    with torch.no_grad():
        expected = net(x).numpy().astype(np.float32)
    sidecar = {"format": "gps-prior/1", "source": "scripts/make_prior_fixtures.py", "input_size": s,
               "in_channels": 1, "channel_order": "RGB", "mean": [0.5], "std": [0.25], "output_dim": 6}
    onnx_path = os.path.join(OUT, "tiny_prior.onnx")
    torch.onnx.export(net, x, onnx_path, input_names=["images"], output_names=["features"],
                      dynamic_axes={"images": {0: "batch"}, "features": {0: "batch"}}, opset_version=11)
    ts_path = os.path.join(OUT, "tiny_prior.pt")
    torch.jit.trace(net, x).save(ts_path)
    for path in (onnx_path, ts_path):
        with open(path + ".json", "w") as f:
            json.dump(sidecar, f, indent=2)
            f.write("\n")
    np.save(os.path.join(OUT, "tiny_prior_expected.npy"), expected)
    print("wrote", onnx_path, ts_path, "and tiny_prior_expected.npy", expected.shape)


if __name__ == "__main__":
    main()

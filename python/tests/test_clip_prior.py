"""The paper's best prior, CLIP RN50, through scripts/export_prior.py and gps's prior, checked against
open_clip itself: gps's embeddings equal open_clip's encode_image after open_clip's own preprocessing
(Pillow bicubic resize of the shorter side, centre crop, CLIP's mean/std). Random weights: nothing is
downloaded. Also a torchvision resnet50 through its branch of the script."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision
from PIL import Image

import gps_ssl

try:
    import open_clip
except ImportError as e:  # not skipped: the CLIP path is part of the suite
    raise ImportError("open_clip is not in the venv: scripts/setup.sh installs open_clip_torch") from e

EXPORT = Path(__file__).resolve().parents[2] / "scripts" / "export_prior.py"


def smooth_images(n, c, h, w, seed):
    """uint8 [n, c, h, w]: smooth random images with some texture, like photographs at low resolution."""
    g = torch.Generator().manual_seed(seed)
    low = torch.rand(n, c, 5, 7, generator=g)
    x = torch.nn.functional.interpolate(low, size=(h, w), mode="bilinear", align_corners=False)
    x = (x * 0.85 + 0.15 * torch.rand(n, c, h, w, generator=g)) * 255
    return x.round().clamp(0, 255).to(torch.uint8).numpy()


def export(source, out, *extra):
    r = subprocess.run([sys.executable, str(EXPORT), source, "-o", str(out), "--threads", "2", *map(str, extra)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(Path(str(out) + ".json").read_text())


def pil(image):
    """uint8 [C, H, W] -> the PIL image a torchvision dataset hands to its transform."""
    return Image.fromarray(image[0]) if image.shape[0] == 1 else Image.fromarray(image.transpose(1, 2, 0))


@pytest.fixture(scope="module")
def clip_rn50(tmp_path_factory):
    torch.manual_seed(0)
    model, _, preprocess = open_clip.create_model_and_transforms("RN50", pretrained=None)
    model.eval()
    tmp = tmp_path_factory.mktemp("clip")
    torch.save(model.state_dict(), tmp / "rn50-random.pt")
    side = export("open_clip:RN50", tmp / "clip-rn50.pt", "--weights", tmp / "rn50-random.pt")
    return model, preprocess, tmp / "clip-rn50.pt", side


@pytest.mark.parametrize("shape", [(3, 40, 56), (3, 64, 48), (1, 28, 28)], ids=["rgb-wide", "rgb-tall", "gray"])
def test_open_clip_rn50_prior_equals_encode_image(clip_rn50, shape):
    model, preprocess, path, side = clip_rn50
    assert side["resize"] == "pil-bicubic-center-crop" and side["input_size"] == 224
    assert side["mean"] == pytest.approx([0.48145466, 0.4578275, 0.40821073])
    images = smooth_images(4, *shape, seed=sum(shape))
    ours = gps_ssl.prior_embed(images, kind="torchscript", path=str(path))
    with torch.no_grad():
        ref = model.encode_image(torch.stack([preprocess(pil(im)) for im in images]))
    assert ours.shape == ref.shape == (4, 1024)
    diff = (ours - ref).abs().max().item()
    assert diff <= 1e-4, f"max abs diff {diff:.3g} (features up to {ref.abs().max().item():.3g})"


def test_pil_resize_equals_pillow():
    """The resampling under the CLIP path, against Pillow on its own: every byte."""
    images = smooth_images(3, 3, 37, 53, seed=5)
    for (h, w) in [(224, 321), (20, 30), (37, 100), (91, 53), (5, 8)]:
        for name, flt in [("bicubic", Image.BICUBIC), ("bilinear", Image.BILINEAR)]:
            ours = gps_ssl.pil_resize(images, h, w, name)
            ref = np.stack([np.asarray(pil(im).resize((w, h), flt)).transpose(2, 0, 1) for im in images])
            assert np.array_equal(ours.numpy(), ref), f"{name} to {h}x{w}"


def test_torchvision_resnet50_prior_equals_the_model(tmp_path):
    torch.manual_seed(1)
    net = torchvision.models.resnet50()
    torch.save(net.state_dict(), tmp_path / "r50-random.pt")
    side = export("torchvision:resnet50", tmp_path / "r50.pt", "--weights", tmp_path / "r50-random.pt")
    assert side["resize"] == "bilinear" and side["input_size"] == 224
    net.fc = torch.nn.Identity()
    net.eval()
    images = smooth_images(3, 3, 32, 32, seed=9)
    ours = gps_ssl.prior_embed(images, kind="torchscript", path=str(tmp_path / "r50.pt"))
    # The sidecar's preprocessing, written out: bilinear to 224 (half-pixel centres), /255, ImageNet mean/std.
    x = torch.nn.functional.interpolate(torch.from_numpy(images).float(), size=(224, 224), mode="bilinear",
                                        align_corners=False) / 255
    x = (x - torch.tensor(side["mean"]).view(1, 3, 1, 1)) / torch.tensor(side["std"]).view(1, 3, 1, 1)
    with torch.no_grad():
        ref = net(x)
    scale = ref.abs().max().item()
    diff = (ours - ref).abs().max().item()
    assert diff <= 1e-4 * max(1.0, scale), f"max abs diff {diff:.3g} (features up to {scale:.3g})"

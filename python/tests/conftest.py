"""Shared fixtures: small Fashion-MNIST subsets, the gps binary, one tiny `gps train` run."""
import os
import subprocess

import pytest
import torch

import gps_ssl

SOURCE_DIR = os.environ.get("GPS_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
MAIN_CONFIG = os.path.join(SOURCE_DIR, "configs", "fmnist-simclr-weak.yaml")


def gps_bin():
    exe = os.environ.get("GPS_BIN", os.path.join(SOURCE_DIR, "build", "gps"))
    if not os.path.exists(exe):
        pytest.skip(f"the gps binary {exe} is not built")
    return exe


def run_gps(*args, cwd=None):
    r = subprocess.run([gps_bin(), *args], cwd=cwd, capture_output=True, text=True)
    assert r.returncode == 0, f"gps {' '.join(args)} failed:\n{r.stdout}\n{r.stderr}"
    return r


@pytest.fixture(scope="session")
def fmnist512():
    """The 512-image stratified subset that `gps ... data.subset=512` trains on."""
    return gps_ssl.load_dataset("fashion-mnist", "train", config=MAIN_CONFIG, subset=512)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """A finished 1-epoch `gps train` run on 256 images, evaluated on 500 test images."""
    out = tmp_path_factory.mktemp("runs")
    run_gps("train", "-c", MAIN_CONFIG, "data.subset=256", "data.test_subset=500", "optim.batch_size=64",
            "optim.epochs=1", "optim.warmup_epochs=0", "model.width=4", "eval.linear_epochs=2",
            f"train.out_dir={out}", "train.name=tiny")
    runs = [d for d in out.iterdir() if d.is_dir() and (d / "summary.json").exists()]
    assert len(runs) == 1, f"expected one run directory in {out}, got {runs}"
    return runs[0]


@pytest.fixture
def gray_images():
    g = torch.Generator().manual_seed(0)
    return torch.randint(0, 256, (40, 1, 8, 8), dtype=torch.uint8, generator=g)

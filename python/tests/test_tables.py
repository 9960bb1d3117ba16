"""Neighbour tables and priors: reference values, numpy/torch inputs, the CLI's table, errors."""
import json
import math

import numpy as np
import pytest
import torch

import gps_ssl
from conftest import MAIN_CONFIG


def brute_force_rows(emb, k, exclude_self):
    d = torch.cdist(emb.double(), emb.double()).pow(2)
    rows = []
    for i in range(emb.shape[0]):
        others = [j for j in torch.argsort(d[i], stable=True).tolist() if j != i]
        rows.append(others[:k] if exclude_self else [i] + others[: k - 1])
    return rows, d


@pytest.mark.parametrize("exclude_self", [False, True])
def test_table_is_the_exact_knn(exclude_self):
    emb = torch.randn(60, 5, generator=torch.Generator().manual_seed(1))
    t = gps_ssl.neighbor_table(emb, k=4, exclude_self=exclude_self)
    rows, d = brute_force_rows(emb, 4, exclude_self)
    assert t.ids.dtype == torch.int64 and t.dists.dtype == torch.float32 and t.counts.dtype == torch.int64
    assert t.ids.shape == (60, 4) and len(t) == 60 and t.width == 4
    assert t.ids.tolist() == rows
    expect = torch.stack([d[i, rows[i]] for i in range(60)]).float()
    assert torch.allclose(t.dists, expect, rtol=1e-4, atol=1e-4)
    assert t.candidates(3).tolist() == rows[3]


def test_numpy_and_torch_inputs_give_one_table():
    emb = np.random.default_rng(2).standard_normal((50, 3)).astype(np.float32)
    a = gps_ssl.neighbor_table(emb, k=3)
    b = gps_ssl.neighbor_table(torch.from_numpy(emb), k=3)
    assert torch.equal(a.ids, b.ids) and torch.equal(a.dists, b.dists)


def test_the_distance_ball_keeps_only_close_candidates():
    emb = torch.tensor([[0.0], [0.1], [0.2], [5.0], [5.1], [9.0]])
    t = gps_ssl.neighbor_table(emb, k=3, tau=0.05)  # squared distance <= 0.05: within 0.22
    assert t.counts.tolist() == [3, 3, 3, 2, 2, 1]
    assert t.candidates(5).tolist() == [5]


def test_save_load_roundtrip(tmp_path):
    t = gps_ssl.neighbor_table(torch.randn(30, 4), k=5)
    t.save(tmp_path / "t", fingerprint="abc")
    u = gps_ssl.load_table(tmp_path / "t", fingerprint="abc")
    assert torch.equal(t.ids, u.ids) and torch.equal(t.dists, u.dists) and torch.equal(t.counts, u.counts)
    with pytest.raises(FileNotFoundError):
        gps_ssl.load_table(tmp_path / "t", fingerprint="other")
    with pytest.raises(FileNotFoundError):
        gps_ssl.load_table(tmp_path / "missing")


def test_self_table_is_plain_ssl():
    t = gps_ssl.self_table(7)
    assert t.is_self_only() and t.ids.flatten().tolist() == list(range(7))


def test_purity_counts_same_label_candidates():
    t = gps_ssl.NeighborTable(torch.tensor([[0, 1], [1, 0], [2, 0]]))
    assert math.isnan(gps_ssl.self_table(3).purity(torch.tensor([0, 0, 1])))
    assert t.purity(torch.tensor([0, 0, 1])) == pytest.approx(2 / 3)


def test_bad_tables_raise_with_the_cpp_message():
    with pytest.raises(gps_ssl.Error, match="neighbors.k"):
        gps_ssl.neighbor_table(torch.randn(5, 2), k=5, exclude_self=True)
    with pytest.raises(gps_ssl.Error, match="float"):
        gps_ssl.neighbor_table(torch.zeros(5, 2, dtype=torch.int64), k=2)
    with pytest.raises(gps_ssl.Error, match=r"\[N, D\]"):
        gps_ssl.neighbor_table(torch.randn(5), k=2)
    with pytest.raises(TypeError, match="emb"):
        gps_ssl.neighbor_table([[1.0, 2.0]], k=1)
    with pytest.raises(gps_ssl.Error):
        gps_ssl.NeighborTable(torch.tensor([[0, 7]]))  # id 7 of a 1-row table


def test_pixel_prior_is_normalised_pixels(gray_images):
    emb = gps_ssl.prior_embed(gray_images, "pixels", mean=[0.25], std=[0.5])
    expect = ((gray_images.float() / 255 - 0.25) / 0.5).flatten(1)
    assert emb.shape == (40, 64) and emb.dtype == torch.float32
    assert torch.allclose(emb, expect, atol=1e-6)
    gray_np = gray_images.squeeze(1).numpy()  # [N, H, W] numpy is gray
    assert torch.allclose(gps_ssl.prior_embed(gray_np, "pixels", mean=[0.25], std=[0.5]), expect, atol=1e-6)


def test_pca_prior_orders_directions_by_variance(gray_images):
    train, test = gps_ssl.prior_embed(gray_images, "pca", pca_dim=6, test_images=gray_images[:5])
    assert train.shape == (40, 6) and test.shape == (5, 6)
    var = train.var(0)
    assert bool((var[:-1] >= var[1:] - 1e-4).all())
    assert torch.allclose(test, train[:5], atol=1e-4)  # the same images, the PCA fitted once


def test_torchscript_prior_runs_the_model(tmp_path, gray_images):
    torch.manual_seed(0)
    model = torch.jit.script(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 5)))
    path = str(tmp_path / "m.pt")
    model.save(path)
    emb = gps_ssl.prior_embed(gray_images, "torchscript", path=path, sidecar="none", normalize="dataset",
                              mean=[0.5], std=[0.25], cache=False)
    with torch.no_grad():
        expect = model(gps_ssl.to_normalized_float(gray_images, [0.5], [0.25]))
    assert torch.allclose(emb, expect, atol=1e-5)


def test_prior_errors_name_the_key(gray_images, tmp_path):
    with pytest.raises(gps_ssl.Error, match="prior.kind"):
        gps_ssl.prior_embed(gray_images, "nonsense")
    with pytest.raises(gps_ssl.Error, match="uint8"):
        gps_ssl.prior_embed(gray_images.float(), "pixels")
    with pytest.raises(gps_ssl.Error, match="missing.pt"):
        gps_ssl.prior_embed(gray_images, "torchscript", path=str(tmp_path / "missing.pt"))


def test_the_cli_builds_the_same_table(tiny_run):
    summary = json.loads((tiny_run / "summary.json").read_text())
    cli = gps_ssl.load_table(summary["table"]["dir"], summary["table"]["fingerprint"])
    data = gps_ssl.load_dataset("fashion-mnist", config=MAIN_CONFIG, subset=256)
    mine = gps_ssl.neighbor_table(gps_ssl.prior_embed(data.images, "pixels", mean=data.mean, std=data.std), k=4)
    assert torch.equal(cli.ids, mine.ids) and torch.equal(cli.counts, mine.counts)
    assert torch.allclose(cli.dists, mine.dists)

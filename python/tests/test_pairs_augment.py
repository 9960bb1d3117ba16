"""Pairs and views: seeded like the CLI (equal to `gps batch`), torch DataLoader wrappers, errors."""
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

import gps_ssl
from conftest import MAIN_CONFIG, run_gps


@pytest.fixture(scope="module")
def table():
    return gps_ssl.neighbor_table(torch.randn(100, 6, generator=torch.Generator().manual_seed(3)), k=4)


def test_epoch_order_is_a_permutation_and_positives_are_candidates(table):
    s = gps_ssl.PairSampler(table, seed=5, batch_size=16)
    assert len(s) == 100 and s.batches_per_epoch == 6
    order = s.epoch_order(2)
    assert sorted(order.tolist()) == list(range(100))
    a, p, pos = s.pairs(2)
    for anchor, positive in zip(a.tolist(), p.tolist()):
        assert positive in table.candidates(anchor).tolist()
    assert not torch.equal(s.epoch_order(3), order)


def test_pairs_are_a_pure_function_of_seed_epoch_anchor(table):
    s = gps_ssl.PairSampler(table, seed=5, batch_size=16)
    t = gps_ssl.PairSampler(table, seed=5, batch_size=50)
    a, p, pos = s.batch(1, 2)
    assert torch.equal(pos, torch.arange(32, 48))
    assert torch.equal(a, s.epoch_order(1)[32:48])
    assert p.tolist() == [t.positive(1, x) for x in a.tolist()]
    assert torch.equal(t.positives(1, a), p)
    other = gps_ssl.PairSampler(table, seed=6, batch_size=16)
    assert not torch.equal(other.epoch_order(1), s.epoch_order(1))


def test_sampler_errors(table):
    s = gps_ssl.PairSampler(table, seed=0, batch_size=16)
    with pytest.raises(gps_ssl.Error, match="batch 6"):
        s.batch(0, 6)
    with pytest.raises(gps_ssl.Error, match="anchor 100"):
        s.positive(0, 100)
    with pytest.raises(TypeError, match="NeighborTable"):
        gps_ssl.PairSampler(table.ids, seed=0)


def test_views_do_not_depend_on_batching_or_threads(fmnist512):
    aug = gps_ssl.Augment("strong", seed=3, mean=fmnist512.mean, std=fmnist512.std)
    images, keys = fmnist512.images[:64], torch.arange(100, 164)
    whole = aug(images, keys, epoch=2, view=1)
    halves = torch.cat([aug(images[:20], keys[:20], 2, 1), aug(images[20:], keys[20:], 2, 1)])
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        single = aug(images, keys, epoch=2, view=1)
    finally:
        torch.set_num_threads(threads)
    assert whole.dtype == torch.float32 and whole.shape == (64, 1, 28, 28)
    assert torch.equal(whole, halves) and torch.equal(whole, single)
    assert not torch.equal(whole, aug(images, keys, epoch=3, view=1))


def test_pipeline_specs_and_presets():
    mean, std = [0.5], [0.5]
    imgs = torch.randint(0, 256, (8, 1, 28, 28), dtype=torch.uint8)
    crop = gps_ssl.Augment("crop(0.2, 1) flip(0.5)", seed=0, mean=mean, std=std, crop_size=24)
    assert crop(imgs).shape == (8, 1, 24, 24)
    none = gps_ssl.Augment("none", mean=mean, std=std)
    assert torch.allclose(none(imgs), gps_ssl.to_normalized_float(imgs, mean, std))
    with pytest.raises(gps_ssl.Error, match="augment.preset"):
        gps_ssl.Augment("sharpest", mean=mean, std=std)
    with pytest.raises(gps_ssl.Error, match="min_scale"):
        gps_ssl.Augment("crop(2, 1)", mean=mean, std=std)
    with pytest.raises(gps_ssl.Error, match="uint8"):
        none(imgs.float())
    with pytest.raises(gps_ssl.Error, match="keys"):
        none(imgs, torch.arange(3))


def test_pairs_and_views_equal_the_cli(tmp_path, fmnist512):
    out = tmp_path / "batch.npz"
    run_gps("batch", "-c", MAIN_CONFIG, "data.subset=512", "optim.batch_size=64", "augment.preset=weak-rrc",
            "train.seed=7", f"train.out_dir={tmp_path}", "--epoch", "1", "--step", "3", "-o", str(out))
    cli = np.load(out)
    table = gps_ssl.neighbor_table(gps_ssl.prior_embed(fmnist512.images, "pixels", mean=fmnist512.mean,
                                                       std=fmnist512.std), k=4)
    pairs = gps_ssl.PairSampler(table, seed=7, batch_size=64)
    aug = gps_ssl.Augment("weak-rrc", seed=7, mean=fmnist512.mean, std=fmnist512.std)
    a, p, pos = pairs.batch(epoch=1, b=3)
    assert a.tolist() == cli["anchors"].tolist() and p.tolist() == cli["positives"].tolist()
    assert pos.tolist() == cli["positions"].tolist()
    x1 = aug(fmnist512.images[a], pos, epoch=1, view=0)
    x2 = aug(fmnist512.images[p], pos, epoch=1, view=1)
    assert torch.equal(x1, torch.from_numpy(cli["x1"])) and torch.equal(x2, torch.from_numpy(cli["x2"]))
    assert torch.equal(fmnist512.labels[a], torch.from_numpy(cli["labels"]))


def test_gps_batches_in_a_dataloader_with_workers(fmnist512):
    table = gps_ssl.neighbor_table(gps_ssl.prior_embed(fmnist512.images, mean=fmnist512.mean, std=fmnist512.std), k=3)
    pairs = gps_ssl.PairSampler(table, seed=1, batch_size=128)
    aug = gps_ssl.Augment("weak", seed=1, mean=fmnist512.mean, std=fmnist512.std)
    ds = gps_ssl.GPSBatches(fmnist512.images, pairs, aug, fmnist512.labels)
    got = list(DataLoader(ds, batch_size=None, sampler=ds.epoch_sampler(4), num_workers=2))
    assert len(got) == 4
    for b, (x1, x2, a, p, y) in enumerate(got):
        ea, ep, epos = pairs.batch(4, b)
        assert torch.equal(a, ea) and torch.equal(p, ep) and torch.equal(y, fmnist512.labels[ea])
        assert torch.equal(x1, aug(fmnist512.images[ea], epos, 4, 0))
        assert torch.equal(x2, aug(fmnist512.images[ep], epos, 4, 1))


def test_pair_batch_sampler_on_a_map_style_dataset(table):
    base = [(i, i % 3) for i in range(100)]  # any map-style dataset
    pairs = gps_ssl.PairSampler(table, seed=2, batch_size=32)
    bs = gps_ssl.PairBatchSampler(pairs)
    bs.set_epoch(5)
    batches = list(DataLoader(gps_ssl.PairDataset(base), batch_sampler=bs))
    assert len(batches) == 3
    (anchor_ids, _), (positive_ids, _) = batches[1]
    a, p, _ = pairs.batch(5, 1)
    assert torch.equal(anchor_ids, a) and torch.equal(positive_ids, p)

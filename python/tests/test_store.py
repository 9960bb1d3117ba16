"""Image stores from Python: gps_ssl.pack_store / `gps data pack` write them, ImageStore reads
rows (raw exactly, JPEG as OpenCV decodes it), GPSBatches trains from one without loading it."""
import pytest
import torch

import gps_ssl
from conftest import MAIN_CONFIG, run_gps


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    out = tmp_path_factory.mktemp("stores")
    run_gps("data", "pack", "-c", MAIN_CONFIG, "data.subset=512", "data.test_subset=64", "--out", str(out / "raw"),
            "--chunk-rows", "100")
    gps_ssl.pack_store(out / "jpeg" / "train.store", "fashion-mnist", config=MAIN_CONFIG, subset=512,
                       payload="jpeg", chunk_rows=100, quality=90)
    return out


def test_raw_store_rows_equal_the_dataset(stores, fmnist512):
    s = gps_ssl.ImageStore(stores / "raw" / "train.store")
    assert len(s) == 512 and s.shape == (512, 1, 28, 28) and s.payload == "raw" and s.chunk_rows == 100
    assert torch.equal(s.labels, fmnist512.labels)
    assert s.mean == pytest.approx(fmnist512.mean) and s.num_classes == 10
    idx = torch.tensor([511, 3, 3, 200])
    assert torch.equal(s.fetch(idx), fmnist512.images[idx])
    assert torch.equal(s[7], fmnist512.images[7])
    assert torch.equal(s.rows(95, 10), fmnist512.images[95:105])
    # data.name=store loads the same split as gps train does.
    d = gps_ssl.load_dataset("store", "train", root=str(stores / "raw"))
    assert torch.equal(d.images, fmnist512.images) and d.name == fmnist512.name


def test_jpeg_store_is_close_and_decodes_the_same_every_time(stores, fmnist512):
    s = gps_ssl.ImageStore(stores / "jpeg" / "train.store")
    assert s.payload == "jpeg" and repr(s).endswith("jpeg)")
    x = s.fetch(torch.arange(512))
    assert torch.equal(x, s.fetch(torch.arange(512)))
    diff = (x.float() - fmnist512.images.float()).abs()
    assert diff.mean() < 4 and diff.max() <= 255


def test_gps_batches_from_a_store_equal_batches_from_memory(stores, fmnist512):
    s = gps_ssl.ImageStore(stores / "raw" / "train.store")
    table = gps_ssl.neighbor_table(gps_ssl.prior_embed(fmnist512.images, "pixels"), k=4)
    sampler = gps_ssl.PairSampler(table, seed=1, batch_size=64)
    aug = gps_ssl.Augment("weak", mean=fmnist512.mean, std=fmnist512.std, seed=3)
    a = gps_ssl.GPSBatches(fmnist512.images, sampler, aug, fmnist512.labels)
    b = gps_ssl.GPSBatches(s, sampler, aug, s.labels)
    for i in (0, 5):
        for u, v in zip(a[i][:4], b[i][:4]):
            assert torch.equal(u, v)


def test_a_missing_store_and_a_damaged_chunk_are_named(stores, tmp_path):
    with pytest.raises(gps_ssl.Error, match="does not exist"):
        gps_ssl.ImageStore(tmp_path / "none.store")
    data = bytearray((stores / "raw" / "train.store").read_bytes())
    chunk1 = (4096 + 100 * 784 + 4095) // 4096 * 4096  # chunks start on 4096-byte boundaries
    data[chunk1 + 5] ^= 1
    (tmp_path / "bad.store").write_bytes(bytes(data))
    s = gps_ssl.ImageStore(tmp_path / "bad.store")
    s.fetch(torch.tensor([0]))
    with pytest.raises(gps_ssl.Error, match=r"chunk 1 \(bytes \d+\.\.\d+\) fails its CRC-32 check"):
        s.fetch(torch.tensor([150]))

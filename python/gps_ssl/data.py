"""gps's datasets as uint8 tensors: the images `gps train` trains on, subset draws included."""
import os
from dataclasses import dataclass

import torch

from . import _core
from ._util import options


def _data_options(name, config, data_options):
    """The data.* keys as text: a config file's or dict's, then name and keyword options."""
    opts = {}
    if config is not None:
        cfg = config if isinstance(config, dict) else _core.load_config(os.fspath(config), [])
        opts = options(**cfg["data"])
    if name is not None:
        opts["name"] = name
    opts.update(options(**data_options))
    return opts


@dataclass
class ImageData:
    """A split: images uint8 [N, C, H, W] CPU, labels [N] int64 (None when unlabeled),
    per-channel mean/std in [0, 1] units, and each image's row in the full split."""
    name: str
    images: torch.Tensor
    labels: torch.Tensor
    num_classes: int
    mean: list
    std: list
    source_index: torch.Tensor

    def __len__(self):
        return self.images.shape[0]


def load_dataset(name=None, split="train", *, config=None, **data_options):
    """Loads a split as `gps train` does for the same data.* keys.

    name:  fashion-mnist (default) | mnist | cifar10 | cifar100 | medmnist | folder | aircraft | rhid
    split: "train" or "test" (the roles: data.train_split / data.test_split), or a split name
    config: a gps YAML config file, or a dict from gps_ssl.load_config, whose data.* keys are
           used (name and keyword options override them)
    data_options: data.* keys, e.g. root="/usr/share/datasets/fashion-mnist", subset=10000,
           test_subset=0, seed=0 (the subset draw), image_size=64 (image folders)
    Raises gps_ssl.Error naming the missing file or the bad key.
    """
    opts = _data_options(name, config, data_options)
    images, labels, num_classes, mean, std, full_name, source_index = _core.load_dataset(opts, split)
    return ImageData(full_name, images, labels, int(num_classes), list(mean), list(std), source_index)


class ImageStore:
    """An image store written by `gps data pack` (or pack_store): one split on disk,
    read a batch of rows at a time, so data larger than memory can be used from Python.

        store = gps_ssl.ImageStore("stores/fmnist/train.store")
        x = store.fetch(torch.tensor([5, 0, 7]))   # uint8 [3, C, H, W]; JPEG rows decoded
        x = store[5]                                 # uint8 [C, H, W]

    Each chunk's CRC-32 is checked the first time one of its rows is read; a damaged
    chunk raises gps_ssl.Error naming the file, chunk and byte range. Reads release the
    GIL, so DataLoader workers (threads or processes) read in parallel.
    """

    def __init__(self, path):
        self._store = _core.ImageStore(os.fspath(path))
        h = self._store.header
        self.path = self._store.path
        self.name, self.payload = h["name"], h["payload"]
        self.num_classes, self.mean, self.std = int(h["num_classes"]), list(h["mean"]), list(h["std"])
        self.chunk_rows = int(h["chunk_rows"])
        self.labels = self._store.labels  # [N] int64, or None when unlabeled
        self.shape = (len(self._store),) + tuple(self._store.shape)  # (N, C, H, W)

    def __len__(self):
        return self.shape[0]

    def fetch(self, index):
        """Rows `index` (a [B] integer tensor or sequence, any order) as uint8 [B, C, H, W]."""
        return self._store.fetch(torch.as_tensor(index, dtype=torch.int64).reshape(-1))

    def rows(self, start, n):
        """Rows [start, start + n) in storage order (raw: one read per chunk)."""
        return self._store.range(int(start), int(n))

    def __getitem__(self, i):
        return self.fetch([int(i)])[0]

    @property
    def bytes_read(self):
        """Bytes this process has read from the file (rows and chunk checks)."""
        return self._store.bytes_read

    def __repr__(self):
        return f"ImageStore({self.path!r}: {self.shape[0]} images {list(self.shape[1:])}, {self.payload})"


def pack_store(path, name=None, split="train", *, payload="raw", chunk_rows=0, quality=95, shuffle_seed=-1,
               config=None, **data_options):
    """Packs a split of a gps dataset (the data.* keys, as load_dataset takes them) into the
    image store `path` (e.g. "stores/fmnist/train.store"); `gps data pack` does the same from
    the command line. payload: "raw" (uint8 pixels) | "jpeg" (JPEG at `quality`, decoded when
    read); shuffle_seed >= 0 stores the rows in a random order from that seed. A killed pack
    leaves no store and resumes when run again.
    Returns (rows, chunks, bytes, resumed_chunks)."""
    opts = _data_options(name, config, data_options)
    return _core.pack_store(opts, split, os.fspath(path), payload, int(chunk_rows), int(quality), int(shuffle_seed))

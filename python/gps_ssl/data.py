"""gps's datasets as uint8 tensors: the images `gps train` trains on, subset draws included."""
import os
from dataclasses import dataclass

import torch

from . import _core
from ._util import options


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
    opts = {}
    if config is not None:
        cfg = config if isinstance(config, dict) else _core.load_config(os.fspath(config), [])
        opts = options(**cfg["data"])
    if name is not None:
        opts["name"] = name
    opts.update(options(**data_options))
    images, labels, num_classes, mean, std, full_name, source_index = _core.load_dataset(opts, split)
    return ImageData(full_name, images, labels, int(num_classes), list(mean), list(std), source_index)

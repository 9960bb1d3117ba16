"""GPS positive pairs: the seeded pair sampler, and torch.utils.data wrappers."""
from collections import namedtuple

import torch
import torch.utils.data

from . import _core
from .tables import NeighborTable

Pair = namedtuple("Pair", "anchor positive position epoch")
Pair.__doc__ = "One GPS pair: anchor id, positive id, position in the epoch order (the augmentation key), epoch."


class PairSampler:
    """Each epoch visits every anchor once in a seeded order and draws its positive
    uniformly from the anchor's candidates, exactly as `gps train` with train.seed=seed.

    The positive of (seed, epoch, anchor) is a pure function: independent of
    batching, workers and threads. Batches drop the last partial one, as the
    CLI does (batches_per_epoch = N // batch_size).
    """

    def __init__(self, table, seed=0, batch_size=256):
        if not isinstance(table, NeighborTable):
            raise TypeError(f"table: expected a gps_ssl.NeighborTable, got {type(table).__name__}")
        self.table, self.seed, self.batch_size = table, int(seed), int(batch_size)
        self._s = _core.PairSampler(table._t, self.batch_size, self.seed)
        self._order = (None, None)

    def __len__(self):
        return len(self._s)

    @property
    def batches_per_epoch(self):
        return self._s.batches_per_epoch

    def epoch_order(self, epoch):
        """The anchors of `epoch` in visiting order: a permutation of range(N), [N] int64."""
        if self._order[0] != epoch:
            self._order = (epoch, self._s.epoch_order(int(epoch)))
        return self._order[1]

    def positive(self, epoch, anchor):
        return self._s.positive(int(epoch), int(anchor))

    def positives(self, epoch, anchors):
        """Positives of `anchors` ([M] int64) in `epoch`, [M] int64."""
        return self._s.positives(int(epoch), torch.as_tensor(anchors, dtype=torch.int64))

    def batch(self, epoch, b):
        """Step b of `epoch`: (anchors, positives, positions), each [batch_size] int64."""
        return self._s.batch(int(epoch), self.epoch_order(epoch), int(b))

    def pairs(self, epoch):
        """Every pair of `epoch` in order (no batch dropped): (anchors, positives, positions)."""
        order = self.epoch_order(epoch)
        return order, self.positives(epoch, order), torch.arange(len(order), dtype=torch.int64)


class PairBatchSampler(torch.utils.data.Sampler):
    """A batch_sampler for torch DataLoader: each batch a list of Pair(anchor, positive,
    position, epoch), the CLI's steps in order. Call set_epoch(e) before each epoch.

        loader = DataLoader(PairDataset(my_dataset), batch_sampler=PairBatchSampler(pairs))
    """

    def __init__(self, sampler, epoch=0):
        self.sampler, self.epoch = sampler, int(epoch)

    def set_epoch(self, epoch):
        self.epoch = int(epoch)

    def __len__(self):
        return self.sampler.batches_per_epoch

    def __iter__(self):
        e = self.epoch
        for b in range(len(self)):
            a, p, pos = self.sampler.batch(e, b)
            yield [Pair(int(x), int(y), int(z), e) for x, y, z in zip(a.tolist(), p.tolist(), pos.tolist())]


class PairDataset(torch.utils.data.Dataset):
    """Wraps any map-style dataset: item Pair(...) -> (base[anchor], base[positive]),
    so per-sample transforms (torchvision) give the two views."""

    def __init__(self, base):
        self.base = base

    def __len__(self):
        return len(self.base)

    def __getitem__(self, pair):
        return self.base[pair.anchor], self.base[pair.positive]


class GPSBatches(torch.utils.data.Dataset):
    """Whole training batches made the way `gps train` makes them: item b is step b's
    (x1, x2, anchors, positives, labels) with both views from gps's augmentation
    (labels: the anchors' labels, or None). Use with batch_size=None:

        ds = GPSBatches(images, pairs, augment, labels)
        loader = DataLoader(ds, batch_size=None, sampler=ds.epoch_sampler(epoch), num_workers=2)

    epoch_sampler(e) yields (e, b) for every step of epoch e, so persistent
    workers see the right epoch; a plain int index uses set_epoch's epoch.
    """

    def __init__(self, images, sampler, augment, labels=None):
        from ._util import as_images
        from .data import ImageStore
        # An ImageStore is read a batch at a time: nothing is loaded whole.
        self.images = images if isinstance(images, ImageStore) else as_images(images, "images").contiguous()
        self.sampler, self.augment, self.labels, self.epoch = sampler, augment, labels, 0

    def set_epoch(self, epoch):
        self.epoch = int(epoch)

    def __len__(self):
        return self.sampler.batches_per_epoch

    def epoch_sampler(self, epoch):
        return [(int(epoch), b) for b in range(len(self))]

    def __getitem__(self, index):
        epoch, b = index if isinstance(index, tuple) else (self.epoch, index)
        a, p, pos = self.sampler.batch(epoch, b)
        rows = self.images.fetch if hasattr(self.images, "fetch") else lambda i: self.images.index_select(0, i)
        x1 = self.augment(rows(a), pos, epoch, 0)
        x2 = self.augment(rows(p), pos, epoch, 1)
        y = None if self.labels is None else self.labels.index_select(0, a)
        return x1, x2, a, p, y

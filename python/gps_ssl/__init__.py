"""gps_ssl: Guided Positive Sampling inside any PyTorch training loop.

The C++ parts of gps (neighbour tables with candidate rules, the seeded pair
sampler, fast augmentation, the SSL losses, evaluation) on torch tensors.
gps_ssl runs on the same LibTorch as Python's torch (torch 2.11.0): tensors
cross without copies, and the losses are part of autograd graphs.

    import torch, gps_ssl
    data = gps_ssl.load_dataset("fashion-mnist", subset=10000)
    emb = gps_ssl.prior_embed(data.images, "pixels")
    table = gps_ssl.neighbor_table(emb, k=4)
    pairs = gps_ssl.PairSampler(table, seed=0, batch_size=256)
    aug = gps_ssl.Augment("weak", seed=0, mean=data.mean, std=data.std)
    anchors, positives, positions = pairs.batch(epoch=0, b=0)
    x1 = aug(data.images[anchors], positions, epoch=0, view=0)
    x2 = aug(data.images[positives], positions, epoch=0, view=1)
    loss = gps_ssl.nt_xent(model(x1), model(x2), temperature=0.2)

Errors from bad input raise gps_ssl.Error (a ValueError) with gps's message.
"""
import torch  # loads LibTorch before the extension that links it

from . import _core
from ._core import Error
from .augment import Augment, pil_resize, to_normalized_float
from .data import ImageData, ImageStore, load_dataset, pack_store
from .evaluation import evaluate
from .losses import (barlow_twins_loss, byol_loss, dino_loss, mocov3_loss, nnclr_loss, nt_xent, nt_xent_indexed, simsiam_loss,
                     sinkhorn_knopp, swav_loss, vicreg_loss)
from .runs import Run, read_run
from .config import load_config
from .sampling import GPSBatches, Pair, PairBatchSampler, PairDataset, PairSampler
from .tables import NeighborTable, load_table, neighbor_table, prior_embed, self_table

__version__ = _core.__version__

__all__ = [
    "Error", "Augment", "pil_resize", "to_normalized_float", "ImageData", "ImageStore", "load_dataset", "pack_store",
    "evaluate",
    "nt_xent", "nt_xent_indexed", "byol_loss", "nnclr_loss", "barlow_twins_loss", "vicreg_loss", "mocov3_loss",
    "simsiam_loss", "dino_loss", "sinkhorn_knopp", "swav_loss",
    "Run", "read_run", "load_config", "PairSampler", "PairBatchSampler", "PairDataset", "Pair", "GPSBatches",
    "NeighborTable", "neighbor_table", "self_table", "load_table", "prior_embed",
]

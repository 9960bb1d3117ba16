"""gps's evaluation of frozen features: offline linear probe, weighted kNN, Recall@k."""
import json

import torch

from . import _core
from ._util import as_tensor, options


def evaluate(train_x, train_y, test_x, test_y, num_classes=None, seed=0, **eval_options):
    """The numbers `gps train` reports in summary.json "eval", for your features.

    train_x [N, D], test_x [M, D]: float features (torch or numpy); train_y [N], test_y [M]: int labels.
    eval_options: eval.* keys, e.g. linear="sgd-grid" (the paper's probe, the default) or "adam", linear_epochs=30,
                  knn_k=20.
    Returns a dict: linear_top1, knn_top1, recall_at_1, recall_at_5 (in %), linear_per_class, ...
    Deterministic for a seed and a thread count.
    """
    train_y = as_tensor(train_y, "train_y").to(torch.int64)
    test_y = as_tensor(test_y, "test_y").to(torch.int64)
    if num_classes is None:
        num_classes = int(max(train_y.max(), test_y.max())) + 1
    out = _core.evaluate(as_tensor(train_x, "train_x").detach().cpu(), train_y.cpu(),
                         as_tensor(test_x, "test_x").detach().cpu(), test_y.cpu(), int(num_classes),
                         options(**eval_options), int(seed))
    return json.loads(out)

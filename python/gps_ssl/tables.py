"""Neighbour tables (the GPS candidates of every image) and prior embeddings."""
import torch

from . import _core
from ._util import as_images, as_tensor, channel_list, options


class NeighborTable:
    """The candidates of every image: row i holds image i's possible positives.

    ids:    [N, K] int64, first counts[i] entries of row i valid
    dists:  [N, K] float32, squared distance of each candidate in prior space
    counts: [N] int64 in [1, K]
    All on the CPU. Plain SSL is the table whose only candidate is i itself
    (`self_table(n)`).
    """

    def __init__(self, ids, dists=None, counts=None, _table=None):
        if _table is None:
            ids = as_tensor(ids, "ids").to(torch.int64)
            dists = torch.zeros(ids.shape, dtype=torch.float32) if dists is None else as_tensor(dists, "dists")
            counts = torch.full((ids.shape[0],), ids.shape[1], dtype=torch.int64) if counts is None else as_tensor(counts, "counts")
            _table = _core.NeighborTable(ids, dists, counts)
        self._t = _table

    ids = property(lambda self: self._t.ids)
    dists = property(lambda self: self._t.dists)
    counts = property(lambda self: self._t.counts)
    width = property(lambda self: self._t.width)

    def __len__(self):
        return len(self._t)

    def __repr__(self):
        return f"NeighborTable(n={len(self)}, width={self.width}, self_only={self.is_self_only()})"

    def is_self_only(self):
        """True when every row's only candidate is the image itself (plain SSL)."""
        return self._t.is_self_only()

    def candidates(self, i):
        """Image i's candidate ids, [counts[i]] int64."""
        return self.ids[i, : int(self.counts[i])]

    def purity(self, labels):
        """Share of candidates j != i with the anchor's label (labels: [N] int64); NaN for a self-only table."""
        return _core.candidate_label_purity(self._t, as_tensor(labels, "labels").to(torch.int64))

    def save(self, path, fingerprint=""):
        """Writes ids.npy, dists.npy, counts.npy and meta.json into folder `path` (atomically)."""
        _core.save_table(str(path), self._t, fingerprint)


def load_table(path, fingerprint=""):
    """The table saved in folder `path` (by NeighborTable.save or a gps run's cache).

    Raises FileNotFoundError when the folder holds no table with this
    fingerprint, gps_ssl.Error when its files are corrupt.
    """
    t = _core.load_table(str(path), fingerprint)
    if t is None:
        raise FileNotFoundError(f"{path}: no neighbour table with fingerprint {fingerprint!r}")
    return NeighborTable(None, _table=t)


def self_table(n):
    """The plain-SSL table of n images: row i = {i}."""
    return NeighborTable(None, _table=_core.self_table(int(n)))


def neighbor_table(emb, k=4, exclude_self=False, metric="l2", index="auto", tau=-1.0, tau_mode="fixed",
                   tau_std=1.0, tau_window=20, mutual=False, backend="faiss", device="", nlist=0, nprobe=16,
                   seed=0):
    """The GPS table of embeddings `emb` ([N, D] float, torch or numpy), as `gps train` builds it.

    k:            candidates per row (the paper's num_nns_choice)
    exclude_self: False: row i = {i, NN1..NN(k-1)}; True: the k nearest other images
    metric:       "l2" (squared L2) or "cosine" (normalise, then squared L2 = 2 - 2 cos)
    index:        "exact" | "ivf" | "hnsw" | "auto" (exact below 200,000 images)
    tau, tau_mode, tau_std, tau_window: the distance ball (paper eq. 3); tau < 0 = no ball;
                  tau_mode "adaptive" / "adaptive_row" use mean + tau_std * std of the
                  first tau_window distances
    mutual:       keep j in row i only when i is among j's candidates
    backend:      "faiss" (CPU) or "torch" (exact, on `device`, e.g. "cuda")
    Returns a NeighborTable (CPU tensors). The search runs with the GIL released.
    Raises gps_ssl.Error naming the neighbors.* key for k >= N and other bad values.
    """
    rules = _core.CandidateRules()
    rules.k, rules.exclude_self, rules.mutual = int(k), bool(exclude_self), bool(mutual)
    rules.tau, rules.tau_mode, rules.tau_std, rules.tau_window = float(tau), tau_mode, float(tau_std), int(tau_window)
    search = _core.SearchOptions()
    search.metric, search.index, search.backend, search.device = metric, index, backend, device
    search.nlist, search.nprobe, search.seed = int(nlist), int(nprobe), int(seed)
    return NeighborTable(None, _table=_core.build_table(as_tensor(emb, "emb"), rules, search))


def prior_embed(images, kind="pixels", *, test_images=None, mean=None, std=None, cache_dir="", **prior_options):
    """Embeddings of `images` in a prior space g, as `gps train` computes them.

    images:      uint8 [N, C, H, W] (or [N, H, W] gray), torch or numpy, CPU
    kind:        "pixels" | "torchscript" | "onnx" | "npy" | "run" | "autoencoder" | "vae";
                 pca_dim=D adds a PCA fitted on `images` ("pca" = pixels + pca_dim, default 64)
    prior_options: any prior.* key of `gps help-config`, e.g. path="model.pt", input_size=224,
                 device="cuda", epochs=20 (autoencoder), batch_size=256
    mean, std:   per-channel normalisation in [0, 1] units (default: the images' own statistics)
    test_images: embed a second set with the prior fitted on `images`
    Returns [N, D] float32 CPU embeddings, or (train, test) when test_images is given.
    """
    if kind == "pca":
        kind = "pixels"
        prior_options.setdefault("pca_dim", 64)
    opts = options(kind=kind, **prior_options)
    test = None if test_images is None else as_images(test_images, "test_images")
    train_emb, test_emb, _ = _core.prior_embed(as_images(images, "images"), opts, str(cache_dir),
                                               channel_list(mean, "mean"), channel_list(std, "std"), test)
    return train_emb if test is None else (train_emb, test_emb)

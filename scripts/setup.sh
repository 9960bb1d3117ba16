#!/usr/bin/env bash
# Installs every dependency of gps-ssl and builds it in Release. Idempotent;
# run as root on Debian 12.
#   - Debian packages: compiler, CMake, FAISS, OpenCV, yaml-cpp, CLI11,
#     nlohmann-json, libzip, GoogleTest, Google Benchmark, OpenBLAS, the
#     built-in dataset.
#   - LibTorch: the one inside PyPI's torch==2.11.0 (a CUDA 13.0 build that
#     also runs on machines without a GPU), in the project venv
#     ($GPS_VENV, default /opt/gps-venv) with torchvision and numpy. The same
#     venv serves everything Python: export checks, the EfficientNet prior,
#     the benchmark peers.
#   scripts/setup.sh                      install + build the `gps` CLI
#   GPS_TARGETS=all scripts/setup.sh      ... + tests and benchmarks
#   GPS_SKIP_BUILD=1 scripts/setup.sh     install only
#   GPS_PRETRAINED=1 scripts/setup.sh     ... + the EfficientNet-Lite weights
#                                         (scripts/setup_pretrained.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

# Each phase's time, printed as it ends and summed at the end.
SETUP_T0=$SECONDS PHASE_T0=$SECONDS PHASES=""
phase_done() {
  local s=$((SECONDS - PHASE_T0))
  echo "[setup] $1: ${s} s"
  PHASES="$PHASES $1 ${s}s"
  PHASE_T0=$SECONDS
}

TORCH_VERSION=2.11.0
TORCHVISION_VERSION=0.26.0
# gps_ssl (python/): its tests, `pip install .`, and TensorBoard export.
PY_TOOLS=(pytest==9.2.0 scikit-build-core==1.1.2 tensorboard==2.21.0)
# Peers the tests compare gps with (python/tests/test_peer_lightly.py, test_clip_prior.py):
# open_clip (CLIP models, random weights offline) with its dependencies; lightly's losses,
# without its dependencies (its training stack is not needed to import lightly.loss).
PEERS=(open_clip_torch==3.3.0 timm==1.0.31 huggingface_hub==2.4.0 safetensors==0.8.0 ftfy==6.3.1)
PEERS_NO_DEPS=(lightly==1.6.0)
VENV="${GPS_VENV:-/opt/gps-venv}"

PKGS=(
  build-essential cmake ninja-build ccache pkg-config
  python3-venv python3-dev           # the project venv (Debian's python3) and Python.h for gps_ssl
  libgloo-dev                        # Gloo headers for c10d's CPU process group (the torch wheel ships none)
  libfaiss-dev                       # neighbour search
  libopencv-core-dev libopencv-imgproc-dev   # augmentation, plots
  libopencv-imgcodecs-dev libopencv-dnn-dev  # the image-file and ONNX plugins (not libopencv-dev: +230 packages)
  libyaml-cpp-dev libcli11-dev nlohmann-json3-dev zlib1g-dev
  libzip-dev                         # .npz archives (MedMNIST, weight export)
  libgtest-dev libgmock-dev libbenchmark-dev
  libopenblas0-openmp                # fast BLAS for FAISS (reference BLAS is ~10x slower)
  dataset-fashion-mnist              # the built-in dataset
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "[setup] installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

phase_done packages

# Make sure libblas.so.3 resolves to OpenBLAS (OpenMP flavour).
for alt in libblas.so.3-x86_64-linux-gnu liblapack.so.3-x86_64-linux-gnu; do
  target=$(update-alternatives --list "$alt" 2>/dev/null | grep openblas-openmp | head -n1 || true)
  [ -n "$target" ] && update-alternatives --set "$alt" "$target" >/dev/null || true
done

# The project venv with the pinned torch (about 5 GB with its CUDA libraries).
venv_ok() {
  [ -x "$VENV/bin/python" ] && "$VENV/bin/python" - "$TORCH_VERSION" "$TORCHVISION_VERSION" <<'EOF' 2>/dev/null
import sys, torch, torchvision, numpy, pytest, scikit_build_core, tensorboard
ok = torch.__version__.split("+")[0] == sys.argv[1] and torchvision.__version__.split("+")[0] == sys.argv[2]
sys.exit(0 if ok else 1)
EOF
}
if ! venv_ok; then
  echo "[setup] installing torch==$TORCH_VERSION torchvision==$TORCHVISION_VERSION numpy ${PY_TOOLS[*]} into $VENV"
  [ -x "$VENV/bin/python" ] || /usr/bin/python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
    "torch==$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION" numpy "${PY_TOOLS[@]}"
  venv_ok || { echo "[setup] $VENV: torch $TORCH_VERSION is not importable after pip install" >&2; exit 1; }
fi

peers_ok() {
  "$VENV/bin/python" -c 'import lightly.loss, open_clip' 2>/dev/null
}
if ! peers_ok; then
  echo "[setup] installing the peers ${PEERS[*]} ${PEERS_NO_DEPS[*]} into $VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "${PEERS[@]}"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps "${PEERS_NO_DEPS[@]}"
  peers_ok || { echo "[setup] $VENV: lightly.loss or open_clip is not importable after pip install" >&2; exit 1; }
fi

phase_done venv

if [ "${GPS_PRETRAINED:-0}" = "1" ]; then
  GPS_VENV="$VENV" bash scripts/setup_pretrained.sh
fi

if [ "${GPS_SKIP_BUILD:-0}" != "1" ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DGPS_PYTHON="$VENV/bin/python" >/dev/null
  phase_done configure
  cmake --build build -j "$(nproc)" --target "${GPS_TARGETS:-gps}"
  phase_done "build (${GPS_TARGETS:-gps})"
fi
echo "[setup] done in $((SECONDS - SETUP_T0)) s:$PHASES"

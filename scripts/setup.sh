#!/usr/bin/env bash
# Installs every dependency of gps-ssl from Debian packages and builds it in
# Release. Idempotent; run as root on Debian 12.
#   scripts/setup.sh                      install packages + build the `gps` CLI
#   GPS_TARGETS=all scripts/setup.sh      ... + tests and benchmarks
#   GPS_SKIP_BUILD=1 scripts/setup.sh     install packages only
#   GPS_PRETRAINED=1 scripts/setup.sh     ... + the optional pretrained-prior venv
#                                         (scripts/setup_pretrained.sh; needs PyPI)
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(
  build-essential cmake ninja-build ccache pkg-config
  libtorch-dev                       # LibTorch 1.13 (CPU)
  libgloo-dev                        # Gloo headers for c10d's CPU process group (several processes)
  libfaiss-dev                       # neighbour search
  libopencv-dev                      # image I/O, PNG grids
  libyaml-cpp-dev libcli11-dev nlohmann-json3-dev zlib1g-dev
  libzip-dev                         # .npz archives (MedMNIST, weight export)
  libgtest-dev libgmock-dev libbenchmark-dev
  libopenblas0-openmp                # fast BLAS for LibTorch/FAISS (reference BLAS is ~10x slower)
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

# Make sure libblas.so.3 resolves to OpenBLAS (OpenMP flavour).
for alt in libblas.so.3-x86_64-linux-gnu liblapack.so.3-x86_64-linux-gnu; do
  target=$(update-alternatives --list "$alt" 2>/dev/null | grep openblas-openmp | head -n1 || true)
  [ -n "$target" ] && update-alternatives --set "$alt" "$target" >/dev/null || true
done

if [ "${GPS_SKIP_BUILD:-0}" != "1" ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_CXX_COMPILER_LAUNCHER=ccache
  cmake --build build -j "$(nproc)" --target "${GPS_TARGETS:-gps}"
fi

# Optional, never part of the default path: the Python venv that exports the
# EfficientNet-Lite0 ImageNet prior (docs/pretrained-prior.md).
if [ "${GPS_PRETRAINED:-0}" = "1" ]; then
  bash scripts/setup_pretrained.sh
fi

#!/usr/bin/env bash
# Packs what the GPU check needs into gpu-bundle/ (git-ignored), at most
# 64 MiB as it travels: the `gps` binary, the device test binary
# (build/tests/gps_device_tests) and every shared library they load that is
# not LibTorch's (torch/lib, the wheel's nvidia/*/lib: the GPU machine has the
# same torch 2.11.0) nor the kernel's: FAISS, OpenBLAS, OpenCV core/imgproc,
# yaml-cpp, libzip, libpng, libstdc++, and glibc with its loader (used only
# where the machine's glibc is older than this one). The OpenCV plugins
# (image decoding, ONNX: include/gps/io/plugins.h) stay out.
#   bash scripts/gpu_bundle.sh            # build (if needed), pack, verify
#   GPS_BUILD_DIR=build bash scripts/gpu_bundle.sh
# Then, on the GPU machine, from the repo root: bash scripts/gpu_check.sh
# Verify (done here every time): the packed binaries run from the unpacked
# bundle with LD_LIBRARY_PATH = the bundle + torch's folders only, and
# LD_DEBUG shows that nothing else was loaded (glibc aside).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${GPS_BUILD_DIR:-build}"
OUT=gpu-bundle
LIMIT_MIB=64
PY="${GPS_PYTHON:-/opt/gps-venv/bin/python}"

[ -f "$BUILD/build.ninja" ] || { echo "gpu_bundle: no build in $BUILD (run scripts/setup.sh first)" >&2; exit 1; }
cmake --build "$BUILD" --target gps gps_device_tests

SITE=$("$PY" -c "import torch, os; print(os.path.dirname(os.path.dirname(torch.__file__)))")
TORCH_LIBS="$SITE/torch/lib$(for d in "$SITE"/nvidia/*/lib; do printf ':%s' "$d"; done)"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/gps/bin" "$stage/gps/lib" "$stage/gps/glibc"
cp "$BUILD/gps" "$BUILD/tests/gps_device_tests" "$stage/gps/bin/"
strip --strip-unneeded "$stage/gps/bin/"*

# The libraries the binaries load, as the loader resolves them here.
is_glibc() { case "$1" in ld-linux*|libc.so*|libm.so*|libpthread.so*|libdl.so*|librt.so*|libresolv.so*|libutil.so*|libmvec.so*) return 0;; esac; return 1; }
for bin in "$BUILD/gps" "$BUILD/tests/gps_device_tests"; do
  ldd "$bin" | awk '/=>/ {print $3} $1 ~ /^\/.*ld-linux/ {print $1}'
done | sort -u | while read -r lib; do
  [ -n "$lib" ] && [ -f "$lib" ] || continue
  case "$lib" in "$SITE"/*) continue;; esac             # torch's and nvidia's: the GPU machine has them
  name=$(basename "$lib")
  case "$name" in libgomp.so*) continue;; esac           # torch/lib has the one OpenMP runtime
  if is_glibc "$name"; then cp -L "$lib" "$stage/gps/glibc/$name"; else cp -L "$lib" "$stage/gps/lib/$name"; fi
done
strip --strip-unneeded "$stage/gps/lib/"* 2>/dev/null || true

# The newest glibc symbol version anything in the bundle needs.
need=$(for f in "$stage"/gps/bin/* "$stage"/gps/lib/*; do objdump -T "$f" 2>/dev/null; done |
       grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -n1)
{
  echo "gps bundle for scripts/gpu_check.sh"
  "$BUILD/gps" --version | head -n 3
  echo "glibc_needed $need"
  echo "glibc_bundled $(getconf GNU_LIBC_VERSION | awk '{print $2}')"
  (cd "$stage/gps" && find . -type f -printf '%s %p\n' | sort -k2)
} >"$stage/gps/MANIFEST"

rm -rf "$OUT"
mkdir -p "$OUT"
tar -C "$stage" -cf - gps | xz -T0 -9 >"$OUT/gps-bundle.tar.xz"
raw=$(du -sb "$stage/gps" | cut -f1)
packed=$(stat -c %s "$OUT/gps-bundle.tar.xz")
cp "$stage/gps/MANIFEST" "$OUT/MANIFEST"
awk -v p="$packed" -v r="$raw" -v b="$(ls "$stage/gps/bin" | wc -l)" -v l="$(ls "$stage/gps/lib" "$stage/gps/glibc" | grep -c '\.so')" \
    -v f="$OUT/gps-bundle.tar.xz" -v g="$need" 'BEGIN {
  printf "gpu_bundle: %s: %.1f MiB packed (%.1f MiB unpacked: %d binaries, %d libraries; needs glibc %s)\n", f, p / 1048576, r / 1048576, b, l, g }' 
if [ "$packed" -gt $((LIMIT_MIB * 1048576)) ]; then
  echo "gpu_bundle: the bundle is over the ${LIMIT_MIB} MiB a GPU-machine call can carry" >&2
  exit 1
fi

# Verify: unpack elsewhere, run with only the bundle and torch's folders on
# the search path, and list every object the loader mapped.
check=$(mktemp -d)
trap 'rm -rf "$stage" "$check"' EXIT
xz -dc "$OUT/gps-bundle.tar.xz" | tar -C "$check" -xf -
export LD_LIBRARY_PATH="$check/gps/lib:$TORCH_LIBS"
LD_DEBUG=files LD_DEBUG_OUTPUT="$check/ld" "$check/gps/bin/gps" --version >/dev/null
LD_DEBUG=files LD_DEBUG_OUTPUT="$check/ld" "$check/gps/bin/gps_device_tests" \
  --gtest_filter='Devices/OnDevice.TorchSearchOnTheDeviceEqualsFaiss/cpu:Devices/OnDevice.OneRankGroupRunsEveryCollective/cpu' >/dev/null
inits=$(cat "$check"/ld.* | grep -c 'calling init: ' || true)
[ "$inits" -gt 10 ] || { echo "gpu_bundle: LD_DEBUG recorded no loads; cannot verify" >&2; exit 1; }
stray=$(cat "$check"/ld.* | grep -o 'calling init: [^ ]*' | awk '{print $3}' | sort -u |
        grep -v -e "^$check/gps/" -e "^$SITE/" | while read -r p; do is_glibc "$(basename "$p")" || echo "$p"; done || true)
if [ -n "$stray" ]; then
  echo "gpu_bundle: loaded from outside the bundle and torch:" >&2
  echo "$stray" >&2
  exit 1
fi
# The bundled loader and glibc (gpu_check.sh uses them on machines with an older glibc).
"$check/gps/glibc/"ld-linux-x86-64.so.2 --library-path "$check/gps/glibc:$LD_LIBRARY_PATH" "$check/gps/bin/gps" --version >/dev/null
echo "gpu_bundle: verified: gps and gps_device_tests run from the unpacked bundle + torch's folders alone ($inits objects initialised, none from elsewhere), also under the bundled glibc loader"

#!/usr/bin/env bash
# Builds the libFuzzer harnesses in fuzz/ with CMake and clang (ASan + UBSan,
# build-fuzz/) and runs each for GPS_FUZZ_SECONDS (default 600).
# Corpora live in build-fuzz/corpus/<target>; crashes are written to
# build-fuzz/findings/<target>/. Every finding becomes a regression case:
# copy it to tests/fuzz_cases/<target>/, and ctest replays it (Fuzz.<target>,
# the same harness built with the project's compiler).
#
#   bash scripts/fuzz.sh                 # all targets, 10 minutes each
#   GPS_FUZZ_SECONDS=60 bash scripts/fuzz.sh npz config
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v clang++ >/dev/null || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  apt-get install -y --no-install-recommends clang libclang-rt-14-dev
fi

SECONDS_EACH=${GPS_FUZZ_SECONDS:-600}
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(idx npy npz cifar config image_cache pipeline)
OUT=build-fuzz
VENV=${GPS_VENV:-/opt/gps-venv}
[ -x "$VENV/bin/python" ] || { echo "$VENV missing: run bash scripts/setup.sh first (LibTorch comes from its torch)" >&2; exit 1; }

# A clang build of the libraries with coverage instrumentation and ASan +
# UBSan (fuzz/CMakeLists.txt, GPS_FUZZ_ENGINE=libfuzzer): only what the
# harnesses need is built.
SAN="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -g -O1"
cmake -S . -B "$OUT" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang \
  -DCMAKE_CXX_FLAGS="$SAN" -DGPS_FUZZ_ENGINE=libfuzzer -DGPS_BUILD_TESTS=OFF -DGPS_BUILD_BENCH=OFF \
  -DGPS_BUILD_PYTHON=OFF -DGPS_PYTHON="$VENV/bin/python" >/dev/null
cmake --build "$OUT" -j "$(nproc)" --target "${TARGETS[@]/#/fuzz_}"

for t in "${TARGETS[@]}"; do
  bin=$OUT/fuzz/fuzz_$t
  mkdir -p "$OUT/corpus/$t" "$OUT/findings/$t"
  # Seeds: the committed regression cases of this target.
  [ -d "tests/fuzz_cases/$t" ] && cp -n tests/fuzz_cases/$t/* "$OUT/corpus/$t/" 2>/dev/null || true
  echo "[fuzz] $t for ${SECONDS_EACH}s"
  ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 \
    "$bin" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=4096 -max_len=65536 \
    -artifact_prefix="$OUT/findings/$t/" -print_final_stats=1 "$OUT/corpus/$t" 2>&1 | tail -n 12
done

#!/usr/bin/env bash
# Builds the libFuzzer harnesses in fuzz/ with clang (ASan + UBSan) and runs
# each for GPS_FUZZ_SECONDS (default 600) on GPS_FUZZ_JOBS parallel jobs.
# Corpora live in build-fuzz/corpus/<target>; crashes are written to
# build-fuzz/findings/<target>/. Every finding becomes a regression case in
# tests/test_fuzz_cases.cpp.
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
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(idx npy npz cifar config)
OUT=build-fuzz
mkdir -p "$OUT"

TORCH_INC="-isystem /usr/include/torch/csrc/api/include"
FLAGS="-std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Iinclude $TORCH_INC"
# The rest of the library (uninstrumented) fills in what the readers reference.
[ -f build/libgps_core.a ] || { echo "build/libgps_core.a missing: run GPS_TARGETS=all bash scripts/setup.sh first" >&2; exit 1; }
LIBS="build/libgps_core.a -ltorch -ltorch_cpu -lc10 -lz -lzip -lyaml-cpp -lfaiss -lopencv_core -lopencv_imgproc -lopencv_imgcodecs -lgomp -lpthread"
# The sources each harness needs: the reader under test, built instrumented.
declare -A SOURCES=(
  [idx]="src/data/idx.cpp"
  [npy]="src/io/npy.cpp"
  [npz]="src/io/npz.cpp src/io/npy.cpp"
  [cifar]="src/data/cifar.cpp"
  [config]="src/config/config.cpp"
)

for t in "${TARGETS[@]}"; do
  src=${SOURCES[$t]:?unknown fuzz target $t (expected: idx npy npz cifar config)}
  bin=$OUT/fuzz_$t
  if [ ! -x "$bin" ] || [ -n "$(find fuzz/fuzz_$t.cpp fuzz/fuzz_common.h $src include build/libgps_core.a -newer "$bin" -print -quit)" ]; then
    echo "[fuzz] building $bin"
    # shellcheck disable=SC2086
    clang++ $FLAGS -o "$bin" fuzz/fuzz_$t.cpp $src $LIBS
  fi
  mkdir -p "$OUT/corpus/$t" "$OUT/findings/$t"
  # Seeds: the committed regression cases of this target.
  [ -d "tests/fuzz_cases/$t" ] && cp -n tests/fuzz_cases/$t/* "$OUT/corpus/$t/" 2>/dev/null || true
  echo "[fuzz] $t for ${SECONDS_EACH}s"
  ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 \
    "$bin" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=4096 -max_len=65536 \
    -artifact_prefix="$OUT/findings/$t/" -print_final_stats=1 "$OUT/corpus/$t" 2>&1 | tail -n 12
done

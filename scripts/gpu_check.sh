#!/usr/bin/env bash
# The GPU check, run from the repo root on the GPU machine (one H200, Python
# 3.12 with torch 2.11.0+cu130, no -dev libraries, no network) with the
# bundle made here by scripts/gpu_bundle.sh carried along (gpu-bundle/):
#   1. unpacks the bundle and points the loader at it and at that machine's
#      torch (torch/lib, nvidia/*/lib); the bundled glibc loader is used only
#      when the machine's glibc is older than the bundle needs;
#   2. `gps --version`, `gps info` (the card, the driver);
#   3. the device tests (build/tests/gps_device_tests: every test on the CPU
#      and on cuda:0);
#   4. the GPU benchmark (bench/gpu_bench.sh: gps vs the Python loop);
#   5. one table. Exit status 0 only when `gps info` lists a GPU, the tests
#      passed with no CUDA instance (`.../cuda`) skipped, and the benchmark passed.
#      GPS_CHECK_CPU=1 (the scripts' smoke test on a CPU-only machine) waives
#      the first two.
# Budget: at most 8 minutes (tests <= 3, benchmark <= 4, the rest seconds). Results also go to
# $OUT (the device tool's folder that comes back) when it is set.
#   bash scripts/gpu_check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
PY="${GPS_CHECK_PYTHON:-python3}"
OUTDIR="${OUT:-$(mktemp -d)}"
mkdir -p "$OUTDIR"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
say() { echo "[gpu_check $(( $(date +%s) - t0 ))s] $*"; }

[ -f gpu-bundle/gps-bundle.tar.xz ] || { echo "gpu_check: gpu-bundle/gps-bundle.tar.xz is missing (run scripts/gpu_bundle.sh where gps builds, and carry gpu-bundle)" >&2; exit 2; }
if command -v xz >/dev/null; then
  xz -dc gpu-bundle/gps-bundle.tar.xz | tar -C "$work" -xf -
else
  "$PY" -c "import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])" gpu-bundle/gps-bundle.tar.xz "$work"
fi
SITE=$("$PY" -c "import torch, os; print(os.path.dirname(os.path.dirname(torch.__file__)))") ||
  { echo "gpu_check: $PY cannot import torch" >&2; exit 2; }
LIBS="$work/gps/lib:$SITE/torch/lib$(for d in "$SITE"/nvidia/*/lib; do [ -d "$d" ] && printf ':%s' "$d"; done)"
need=$(awk '/^glibc_needed/ {print $2}' "$work/gps/MANIFEST")
have=$(getconf GNU_LIBC_VERSION | awk '{print $2}')
if [ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -n1)" = "$need" ]; then
  # Extended, not replaced: the driver's libcuda may be found only through it.
  RUN="env LD_LIBRARY_PATH=$LIBS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  say "glibc $have (bundle needs $need): the machine's loader"
else
  RUN="$work/gps/glibc/ld-linux-x86-64.so.2 --library-path $work/gps/glibc:$LIBS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  say "glibc $have is older than the $need the bundle needs: the bundled loader"
fi
GPS="$RUN $work/gps/bin/gps"
$GPS --version || { echo "gpu_check: the bundled gps does not start" >&2; exit 1; }
$GPS info | tee "$OUTDIR/gps_info.txt"
gpus=$(grep -cE '^GPU [0-9]+' "$OUTDIR/gps_info.txt" || true)
[ "$gpus" -gt 0 ] || say "gps info lists no GPU: the check fails (driver, LD_LIBRARY_PATH or CUDA_VISIBLE_DEVICES?)"

say "device tests"
timeout 180 $RUN "$work/gps/bin/gps_device_tests" --gtest_output="json:$OUTDIR/device_tests.json" \
  >"$OUTDIR/device_tests.log" 2>&1
tests_rc=$?
grep -E '^\[ *(OK|FAILED|SKIPPED) *\]|Failure|error' "$OUTDIR/device_tests.log" | tail -n 60
[ $tests_rc -eq 124 ] && say "device tests: timed out after 180 s"

say "benchmark"
GPS_BIN="$GPS" GPS_PYTHON="$PY" GPS_BENCH_OUT="$OUTDIR" timeout 240 bash bench/gpu_bench.sh >"$OUTDIR/gpu_bench.log" 2>&1
bench_rc=$?
[ $bench_rc -eq 124 ] && say "benchmark: timed out after 240 s"

echo
echo "== gpu_check summary ($(( $(date +%s) - t0 )) s) =="
grep -E '^(CPU|GPU|CUDA)' "$OUTDIR/gps_info.txt" 2>/dev/null
# Exit 3 when a CUDA instance was skipped: with a GPU listed, that is a
# test that never ran where it matters, not a pass.
"$PY" - "$OUTDIR/device_tests.json" <<'PY'
import json, sys
try:
    r = json.load(open(sys.argv[1]))
except Exception as e:
    print(f"device tests: no report ({e})"); sys.exit(0)
passed = failed = skipped = cuda_skipped = 0
for suite in r["testsuites"]:
    for t in suite["testsuite"]:
        name = suite["name"] + "." + t["name"]
        if t.get("result") == "SKIPPED" or t.get("status") == "NOTRUN":
            skipped += 1
            if name.endswith("/cuda"): cuda_skipped += 1; print("  SKIPPED on the GPU:", name)
        elif "failures" in t: failed += 1; print("  FAILED", name)
        else: passed += 1
print(f"device tests: {passed} passed, {failed} failed, {skipped} skipped ({cuda_skipped} of them CUDA instances)")
sys.exit(3 if cuda_skipped else 0)
PY
cuda_skips_rc=$?
if [ -f "$OUTDIR/gpu_bench.md" ]; then
  cat "$OUTDIR/gpu_bench.md"
else  # cut short: the rows that were written, then the log's end
  [ -f "$OUTDIR/results.jsonl" ] && cat "$OUTDIR/results.jsonl"
  tail -n 30 "$OUTDIR/gpu_bench.log"
fi
ok=1
# GPS_CHECK_CPU=1: the smoke test of these scripts on a machine without a GPU.
if [ "${GPS_CHECK_CPU:-0}" = 1 ]; then
  echo "gpu_check: GPS_CHECK_CPU=1: a smoke test of the scripts, not a GPU check"
  cuda_skips_rc=0
else
  [ "$gpus" -gt 0 ] || { ok=0; echo "gpu_check: FAIL: gps info lists no GPU"; }
fi
[ $tests_rc -eq 0 ] || { ok=0; echo "gpu_check: FAIL: device tests (exit $tests_rc)"; }
[ $cuda_skips_rc -eq 0 ] || { ok=0; echo "gpu_check: FAIL: CUDA instances of the device tests were skipped"; }
[ $bench_rc -eq 0 ] || { ok=0; echo "gpu_check: FAIL: benchmark (exit $bench_rc)"; }
[ $ok -eq 1 ]

#!/usr/bin/env bash
# Sets up (packages + full build) and runs the test suite. README command 2; CI runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
GPS_TARGETS=all bash scripts/setup.sh
ctest --test-dir build --output-on-failure -j "$(nproc)" --timeout 600

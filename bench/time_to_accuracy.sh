#!/usr/bin/env bash
# Time to accuracy: run one recipe on the full Fashion-MNIST (60k train, 10k
# test) with a kNN point every epoch, then draw the curves of every run in
# the folder on one figure with the table of top-1 by 10 / 20 / 30 minutes
# (build/bench/time_to_accuracy; the minutes leave out the curve's own kNN
# evaluations, see include/gps/experiment/time_curve.h).
#
#   bash bench/time_to_accuracy.sh OUT NAME CONFIG [key=value ...]
#   bash bench/time_to_accuracy.sh runs/tta gps-w8 configs/fmnist-simclr-weak.yaml optim.epochs=40
#   bash bench/time_to_accuracy.sh runs/tta plain-w8 configs/fmnist-simclr-weak.yaml gps=false optim.epochs=40
#
# GPS_TTA_BUDGET_MIN (default 30): the budget the run is checked against; a
# run that ends later is still drawn, and the table says when it ended.
# A finished OUT/NAME is not run again (delete it to rerun).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 3 ] || { sed -n 2,15p "$0"; exit 2; }
out=$1 name=$2 cfg=$3
shift 3
budget=${GPS_TTA_BUDGET_MIN:-30}
build/gps info | sed -n '/^CPU/p; /^cores/p; /^LibTorch/p'
if [ ! -f "$out/$name/summary.json" ]; then
  start=$(date +%s)
  build/gps train -c "$cfg" data.subset=0 eval.knn_every=1 train.out_dir="$out" train.name="$name" "$@"
  echo "[tta] $name: $(( $(date +%s) - start )) s of wall clock (budget ${budget} min)"
fi
runs=()
for d in "$out"/*/; do
  [ -f "$d/summary.json" ] && runs+=("$(basename "$d")=${d%/}")
done
build/bench/time_to_accuracy --out "$out" --minutes "$(( budget / 3 )),$(( 2 * budget / 3 )),$budget" \
  --title "Fashion-MNIST 60k, $(nproc) cores: test top-1 against minutes" "${runs[@]}"

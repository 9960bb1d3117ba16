#!/usr/bin/env bash
# Training throughput of every method, side by side in one run on this
# machine: each method's fmnist-<method>-weak.yaml (the main job's data,
# model and batch), plain and GPS, for 2 epochs of 2,560 images (20 steps),
# no evaluation; images/s from each run's summary.json (the loop only).
# DINO and SwAV also with multi-crop (configs/fmnist-{dino,swav}-multicrop.yaml: 2 + 4 views).
#   bash bench/methods_speed.sh            (after scripts/setup.sh)
set -uo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
PY="${GPS_PYTHON:-python3}"
build/gps info | sed -n '/^CPU/p;/^threads/p'
ips() { "$PY" -c "import json,sys; print(round(json.load(open(sys.argv[1]))['images_per_second'],1))" "$1/summary.json" 2>/dev/null || echo failed; }
common="data.subset=2560 optim.epochs=2 optim.warmup_epochs=0 eval.enabled=false train.online_probe=true train.progress=false train.out_dir=$out"
printf "| %-22s | %12s | %12s |\n" "method" "plain img/s" "GPS img/s"
printf "|%s|%s|%s|\n" "------------------------" "-------------:" "-------------:"
row() {  # label, config, overrides...
  local label=$1 cfg=$2; shift 2
  build/gps train -c "$cfg" $common gps=false train.name="$label-plain" "$@" >"$out/$label-plain.log" 2>&1
  build/gps train -c "$cfg" $common gps=true train.name="$label-gps" "$@" >"$out/$label-gps.log" 2>&1
  printf "| %-22s | %12s | %12s |\n" "$label" "$(ips "$out/$label-plain")" "$(ips "$out/$label-gps")"
}
for m in simclr byol nnclr barlow_twins vicreg mocov3 simsiam dino swav; do
  row "$m" "configs/fmnist-$m-weak.yaml"
done
row "dino multi-crop 2+4" configs/fmnist-dino-multicrop.yaml
row "swav multi-crop 2+4" configs/fmnist-swav-multicrop.yaml

#!/usr/bin/env bash
# End-to-end training throughput, measured side by side in one run on this
# machine: gps (C++) with augment presets none / strong, with and without
# prefetch, GPS vs plain, and the Python peer (the project venv's torch and
# torchvision, DataLoader workers) on the same model, batch and cores.
#   bash bench/e2e_train.sh            (after scripts/setup.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
cfg="-c configs/fmnist-simclr-weak.yaml optim.epochs=2 optim.warmup_epochs=0 eval.enabled=false train.progress=false train.out_dir=$out"
PY="${GPS_PYTHON:-/opt/gps-venv/bin/python}"
build/gps info | sed -n '/^CPU/p'
ips() { "$PY" -c "import json,sys; print(round(json.load(open(sys.argv[1]))['images_per_second'],1))" "$1/summary.json"; }
run() {  # name, overrides...
  local name=$1; shift
  build/gps train $cfg train.name=$name "$@" >/dev/null 2>&1
  printf "%-34s %8s images/s\n" "gps $name" "$(ips $out/$name)"
}
run plain-none          gps=false augment.preset=none
run plain-strong        gps=false augment.preset=strong
run plain-strong-prefetch gps=false augment.preset=strong train.prefetch=true
run gps-strong          gps=true  augment.preset=strong
run plain-weak          gps=false augment.preset=weak
run gps-weak            gps=true  augment.preset=weak
if "$PY" -c "import torchvision" 2>/dev/null; then
  "$PY" bench/train_loop_torch.py --preset strong --steps 39
  "$PY" bench/train_loop_torch.py --preset none --steps 39
else
  echo "python peer skipped: $PY has no torchvision (run scripts/setup.sh)"
fi
rm -rf "$out"

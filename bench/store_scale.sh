#!/usr/bin/env bash
# Image stores at scale (docs/data-stores.md): a synthetic store larger than
# this machine's memory, trained on with bounded memory; loader throughput of
# the random and quasi-random orders side by side; the prior embedding and the
# neighbour table of 1M images; training from memory against a raw and a JPEG
# store of the same images. Needs about 32 GB free under DIR.
#   bash bench/store_scale.sh [DIR] [N]      (after scripts/setup.sh and a build
#                                             with -DGPS_BUILD_BENCH=ON)
# DIR defaults to runs/bench-store, N (images, 64 x 64 RGB) to 2500000: 30.7 GB.
# STEPS="2 6" runs only those steps (the speed ratios; run them on an idle machine).
set -euo pipefail
steps=" ${STEPS:-1 2 3 4 5 6} "
want() { [[ "$steps" == *" $1 "* ]]; }
cd "$(dirname "$0")/.."
dir=${1:-runs/bench-store}
n=${2:-2500000}
PY="${GPS_PYTHON:-/opt/gps-venv/bin/python}"
B=build/bench/bench_store
build/gps info | sed -n '/^CPU/p'
free -g | sed -n 2p | awk '{print "memory: " $2 " GiB"}'
peak() { grep "Maximum resident" "$1" | awk '{printf "%.0f MiB", $6 / 1024}'; }
mkdir -p "$dir"

if want 1; then
echo "== 1. a synthetic store of $n images, 3 x 64 x 64, written without holding it"
[ -f "$dir/big/train.store" ] || $B make out="$dir/big" n="$n" size=64 channels=3 classes=100
ls -l "$dir/big/train.store" | awk '{printf "store: %.1f GB\n", $5 / 1e9}'

fi
if want 2; then
echo "== 2. loader throughput by order (cold page cache for the file)"
$B read store="$dir/big/train.store" seconds=30 batch=256 window=8

fi
if want 3; then
echo "== 3. gps train on it: GPS table from a 16-d prior, auto index, 3 minutes of training"
$B prior out="$dir/big" n="$n" dim=16
/usr/bin/time -v build/gps train data.name=store data.root="$dir/big" prior.kind=npy prior.path="$dir/big/prior.npy" \
  neighbors.index=auto eval.enabled=false train.online_probe=false optim.budget_minutes=3 optim.epochs=1 optim.warmup_epochs=0 \
  optim.batch_size=256 model.width=8 train.out_dir="$dir/runs" train.name=big train.progress=false \
  > "$dir/train.log" 2> "$dir/train.time" || { tail -20 "$dir/train.time"; exit 1; }
grep -E "neighbour (table|search)|images read" "$dir/train.time" | sed 's/^/  /'
"$PY" -c "import json,sys; s=json.load(open(sys.argv[1])); print('  %d steps, %.0f images/s' % (s['steps'], s['images_per_second']))" "$dir/runs/big/summary.json"
echo "  peak RSS $(peak "$dir/train.time")"

fi
if want 4; then
echo "== 4. the prior embedding of 1M images streamed from the store (TorchScript CNN, random weights)"
"$PY" - "$dir/cnn.pt" <<'PYEOF'
import sys, torch
net = torch.nn.Sequential(torch.nn.Conv2d(3, 16, 4, 4), torch.nn.ReLU(), torch.nn.Conv2d(16, 32, 4, 4), torch.nn.ReLU(),
                          torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(32, 64))
torch.jit.script(net.eval()).save(sys.argv[1])
PYEOF
/usr/bin/time -v build/gps embed data.name=store data.root="$dir/big" data.subset=1000000 prior.kind=torchscript \
  prior.path="$dir/cnn.pt" prior.sidecar=none prior.batch_size=1024 -o "$dir/emb1m.npy" > "$dir/embed.log" 2> "$dir/embed.time"
sed 's/^/  /' "$dir/embed.log"; echo "  peak RSS $(peak "$dir/embed.time")"

fi
if want 5; then
echo "== 5. the neighbour table of 1M embeddings (128-d clustered, bench_table_scale; index auto: IVF, recall checked)"
build/bench/bench_table_scale n=1000000 d=128 neighbors.index=auto | sed 's/^/  /'
fi
if want 6; then
echo "== 6. memory vs raw store vs JPEG store, Fashion-MNIST (fits): loader, then gps train"
$B memory dir="$dir/fmnist" seconds=10 batch=256
cfg="-c configs/fmnist-simclr-weak.yaml data.subset=10000 optim.epochs=1 optim.warmup_epochs=0 eval.enabled=false train.progress=false train.out_dir=$dir/runs"
build/gps data pack $cfg --out "$dir/fmnist-sub/raw" --splits train > /dev/null 2>&1
build/gps data pack $cfg --out "$dir/fmnist-sub/jpeg" --splits train --payload jpeg > /dev/null 2>&1
for kind in memory raw jpeg; do
  extra=""; [ $kind != memory ] && extra="data.name=store data.root=$dir/fmnist-sub/$kind"
  build/gps train $cfg $extra train.name=fm-$kind > /dev/null 2>&1
  "$PY" -c "import json,sys; s=json.load(open(sys.argv[1])); print('  gps train from %-7s %6.0f images/s' % (sys.argv[2], s['images_per_second']))" "$dir/runs/fm-$kind/summary.json" $kind
done

fi

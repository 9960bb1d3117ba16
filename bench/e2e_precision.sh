#!/usr/bin/env bash
# Precision and memory format, end to end, side by side in one run on this
# machine: `gps train` images/s in fp32, bf16 and bf16 + channels-last, next
# to the Python peer (bench/train_loop_torch.py, the project venv's torch,
# torchvision DataLoader workers) with the same model, batch, settings and
# cores. Two workloads:
#   width 8:  the main job (configs/fmnist-simclr-weak.yaml: ResNet-18 width 8,
#             Fashion-MNIST 10k, 28 px, batch 256, flip-only views)
#   width 64: ResNet-18 full width, small stem, 32 px RGB, batch 128, on
#             CIFAR-shaped random data written here (flip-only views)
#   bash bench/e2e_precision.sh          (after scripts/setup.sh; ~15 min on 2 cores)
#   GPS_BENCH_SKIP_PEER=1 bash bench/e2e_precision.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${GPS_PYTHON:-/opt/gps-venv/bin/python}"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

build/gps info | sed -n '/^LibTorch/p; /^CPU/p; /^cores/p; /^GPU/p'

ips() { "$PY" -c "import json,sys; print(round(json.load(open(sys.argv[1]))['images_per_second'],1))" "$1/summary.json"; }
run() {  # label, run name, overrides...
  local label=$1 name=$2; shift 2
  build/gps train "$@" eval.enabled=false train.progress=false train.out_dir="$out" train.name="$name" >/dev/null 2>&1
  printf "%-44s %8s images/s\n" "$label" "$(ips "$out/$name")"
}
peer() {  # label, args...
  local label=$1; shift
  if [ "${GPS_BENCH_SKIP_PEER:-0}" = "1" ]; then return; fi
  printf "%-44s %8s images/s\n" "$label" "$("$PY" bench/train_loop_torch.py --preset weak "$@" | sed 's/.*: //; s/ images.s//')"
}

echo "== width 8 (main job), batch 256, 28 px, 78 steps =="
w8="-c configs/fmnist-simclr-weak.yaml gps=false optim.epochs=2 optim.warmup_epochs=0 train.online_probe=false"
for p in fp32 bf16 bf16-cl; do
  case $p in fp32) o="train.precision=fp32";; bf16) o="train.precision=bf16";; bf16-cl) o="train.precision=bf16 train.channels_last=true";; esac
  run "gps width 8 $p" "w8-$p" $w8 $o
done
peer "python width 8 fp32" --steps 39
peer "python width 8 bf16" --steps 39 --precision bf16
peer "python width 8 bf16 channels-last" --steps 39 --precision bf16 --channels-last

echo "== width 64, batch 128, 32 px RGB, 20 steps =="
"$PY" - "$out/cifar" <<'PY'
import os, sys, numpy as np
d = sys.argv[1]; os.makedirs(d)
rng = np.random.default_rng(0)
for name, n in [(f"data_batch_{i}", 512) for i in range(1, 6)] + [("test_batch", 128)]:
    rec = np.empty((n, 3073), np.uint8)
    rec[:, 0] = rng.integers(0, 10, n)
    rec[:, 1:] = rng.integers(0, 256, (n, 3072))
    rec.tofile(f"{d}/{name}.bin")
PY
w64="-c configs/fmnist-simclr-weak.yaml data.name=cifar10 data.root=$out/cifar data.subset=2560 gps=false
     model.width=64 optim.batch_size=128 optim.epochs=1 optim.warmup_epochs=0 method.proj_hidden_dim=2048
     method.proj_output_dim=256 train.online_probe=false"
for p in fp32 bf16 bf16-cl; do
  case $p in fp32) o="train.precision=fp32";; bf16) o="train.precision=bf16";; bf16-cl) o="train.precision=bf16 train.channels_last=true";; esac
  run "gps width 64 $p" "w64-$p" $w64 $o
done
pw64="--cifar $out/cifar --width 64 --batch 128 --proj 2048,256 --steps 12 --warmup 2"
peer "python width 64 fp32" $pw64
peer "python width 64 bf16" $pw64 --precision bf16
peer "python width 64 bf16 channels-last" $pw64 --precision bf16 --channels-last

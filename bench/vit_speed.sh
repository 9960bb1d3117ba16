#!/usr/bin/env bash
# ViT-Tiny (patch 4, 32 px views) training throughput, gps next to the same
# network, loss and optimiser in plain PyTorch (bench/train_loop_torch.py
# --arch vit_tiny, the venv's torch), side by side in one run: SimCLR,
# projector 192-512-128, NT-Xent T = 0.2, AdamW (lr 5e-4, wd 0.04), flip-only
# views of Fashion-MNIST resized to 32 px, batch 64, fp32, 2 threads.
# gps: images/s of the loop from summary.json (12 steps, all counted);
# PyTorch: images/s over 10 steps after 2 warm-up steps, DataLoader with 2 workers.
#   bash bench/vit_speed.sh            (after scripts/setup.sh)
set -uo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
PY="${GPS_PYTHON:-/opt/gps-venv/bin/python}"
build/gps info | sed -n '/^CPU/p;/^threads/p'
vit="model.arch=vit_tiny model.patch_size=4 model.image_size=32 augment.crop_size=32 augment.preset=weak"
opt="optim.name=adamw optim.lr=5e-4 optim.scale_lr=false optim.weight_decay=0.04 optim.warmup_epochs=0"
run="data.subset=768 optim.batch_size=64 optim.epochs=1 eval.enabled=false train.online_probe=false train.threads=2"
build/gps train -c configs/fmnist-simclr-weak.yaml $vit $opt $run gps=false train.progress=false \
  train.out_dir="$out" train.name=vit >"$out/gps.log" 2>&1 || { cat "$out/gps.log"; exit 1; }
gps_ips=$("$PY" -c "import json,sys; print(round(json.load(open(sys.argv[1]))['images_per_second'],1))" "$out/vit/summary.json")
peer=$("$PY" bench/train_loop_torch.py --arch vit_tiny --size 32 --patch 4 --optim adamw --preset weak \
  --batch 64 --steps 10 --warmup 2 --threads 2 --workers 2 | sed 's/.*: //; s/ images.s//')
printf "| %-34s | %10s |\n" "ViT-Tiny/4, 32 px, SimCLR, batch 64" "images/s"
printf "|%s|%s|\n" "------------------------------------" "-----------:"
printf "| %-34s | %10s |\n" "gps (model.arch=vit_tiny)" "$gps_ips"
printf "| %-34s | %10s |\n" "PyTorch (train_loop_torch.py)" "$peer"

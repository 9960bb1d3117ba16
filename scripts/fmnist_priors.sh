#!/usr/bin/env bash
# The paper's Table 1 (left) on Fashion-MNIST: one prior report per prior g
# and GPS-SimCLR (flip-only augmentation, the main job's size) trained with
# each. Writes docs/priors/<prior>/ (report.md, report.json, neighbours.png)
# and runs/fmnist-priors/ (results.md, ...). Run from the repository root
# after `bash scripts/setup.sh`; about 40 minutes on 2 cores.
# An EfficientNet-Lite0 row is added when priors/effnet-lite0-112.pt exists
# (see docs/pretrained-prior.md).
set -euo pipefail
GPS=${GPS:-build/gps}
EXTRA=${EXTRA:-}   # overrides added to every command, e.g. EXTRA=train.threads=1
CFG=configs/fmnist-simclr-weak.yaml
OUT=${OUT:-docs/priors}

# The bootstrap prior: plain SimCLR with strong augmentation, same budget.
$GPS train -c $CFG gps=false augment.preset=strong train.name=fmnist-bootstrap-strong $EXTRA --resume auto

# The reports keep their cache (trained autoencoder / VAE, neighbour tables)
# where the experiment's cells look for it, so each model is trained once.
report() {  # report <name> <overrides...>
  local name=$1; shift
  $GPS prior-report -c $CFG "$@" train.out_dir=runs/fmnist-priors/cells $EXTRA -o "$OUT/$name"
}
report pixels prior.kind=pixels
report pixels-pca32 prior.kind=pixels prior.pca_dim=32
report autoencoder prior.kind=autoencoder prior.latent_dim=64 prior.epochs=20
report vae prior.kind=vae prior.latent_dim=64 prior.epochs=20
report bootstrap prior.kind=run prior.path=runs/fmnist-bootstrap-strong
if [ -f priors/effnet-lite0-112.pt ]; then
  report effnet-lite0 prior.kind=torchscript prior.path=priors/effnet-lite0-112.pt
fi

$GPS experiment -c configs/fmnist-priors.yaml $EXTRA

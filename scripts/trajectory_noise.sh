#!/usr/bin/env bash
# How far 2 ranks drift from 1 process with the doubled batch, in float32 and
# float64, on this CPU's own kernels and under AVX2 kernels (oneDNN and ATen
# capped with ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2, as on a CPU
# without AVX-512): the largest relative difference over every logged metric
# of 8 steps (the quantity the DistributedTraining tests bound; docs/tests.md).
#   bash scripts/trajectory_noise.sh            # after scripts/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
G=build/gps
PY="${GPS_VENV:-/opt/gps-venv}/bin/python"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
common="-c configs/fmnist-simclr-weak.yaml data.subset=64 data.test_subset=64 optim.epochs=2 optim.batch_size=16 optim.lr=0.01 optim.warmup_epochs=0 eval.enabled=false neighbors.k=3 train.progress=false train.log_every=1 train.out_dir=$OUT method.proj_hidden_dim=32 method.proj_output_dim=16 method.pred_hidden_dim=32"
run() { # tag precision method width cl envs...
  local tag=$1 prec=$2 m=$3 w=$4 cl=$5; shift 5
  rm -rf $OUT/$tag-1 $OUT/$tag-2
  env "$@" $G train $common method.name=$m model.width=$w train.channels_last=$cl train.precision=$prec optim.name=lars train.name=$tag-1 >/dev/null 2>&1
  env "$@" $G launch --nproc 2 -- train $common method.name=$m model.width=$w train.channels_last=$cl train.precision=$prec optim.name=lars train.name=$tag-2 >/dev/null 2>&1
  "$PY" - $OUT/$tag-1 $OUT/$tag-2 $tag <<'PY'
import json, sys
def recs(d):
    out = {}
    for l in open(d + "/metrics.jsonl"):
        j = json.loads(l)
        if "loss" in j: out[j["step"]] = j
    return out
a, b = recs(sys.argv[1]), recs(sys.argv[2])
worst = 0.0; at = None
for s, ra in a.items():
    for k, v in ra.items():
        if k in ("images_per_s", "elapsed_s", "data_wait_s") or not isinstance(v, (int, float)) or isinstance(v, bool): continue
        r = abs(b[s][k] - v) / max(1.0, abs(v))
        if r > worst: worst, at = r, (s, k)
print(f"{sys.argv[3]:34s} steps {len(a)}  max rel diff {worst:.2e} at {at}")
PY
}
for m in mocov3 simclr; do
  for prec in fp32 fp64; do
    run $m-$prec-native $prec $m 2 false X=1
    run $m-$prec-avx2 $prec $m 2 false ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2
  done
done
for prec in fp32 fp64; do
  run simclr-cl8-$prec-avx2 $prec simclr 8 true ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2
done

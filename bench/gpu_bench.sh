#!/usr/bin/env bash
# GPU benchmark (issue "GPUs"): SimCLR and GPS-SimCLR, ResNet-18 full width
# (small stem), 32 px, bf16 + channels-last, batch 512, strong augmentation,
# on synthetic CIFAR-shaped data written here (50,000 train images), against
# the same model and step in Python (bench/train_loop_torch.py: torchvision
# transforms in a DataLoader with one worker per core, pinned memory,
# cudnn.benchmark) on the same card, side by side in one run.
# Reports images/s and views/s over the steady steps (after the first
# `warm` steps), the share of that time the loop waited for data, and peak GPU
# memory (LibTorch's / PyTorch's caching allocator, reserved bytes).
#   bash bench/gpu_bench.sh                  # after scripts/setup.sh, on a machine with a GPU
#   GPS_BIN="..." GPS_PYTHON=python3 bash bench/gpu_bench.sh   # what scripts/gpu_check.sh runs
#   GPS_BENCH_EPOCHS=2 GPS_BENCH_SKIP_PEER=1 ...
#   a smoke run on the CPU: GPS_BENCH_DEVICE=cpu GPS_BENCH_IMAGES=2560 GPS_BENCH_WIDTH=8 GPS_BENCH_BATCH=128 \
#     GPS_BENCH_WARM=4 bash bench/gpu_bench.sh
# Writes the table to stdout and to GPS_BENCH_OUT (default runs/gpu-bench):
# gpu_bench.md/json, results.jsonl (a row as each run ends, kept when the
# script is cut short) and each run's log. A Python without torchvision,
# numpy or PIL skips the peer with a note; gps's rows are printed anyway.
# No `set -e`: one failed run must not cost the rows of the others. Every
# row (and every failure) is appended to results.jsonl in the output folder,
# which outlives the scratch folder's trap; the table is printed at the end
# whatever happened, and the exit status is 1 when any gps run failed.
set -uo pipefail
cd "$(dirname "$0")/.."
PY="${GPS_PYTHON:-/opt/gps-venv/bin/python}"
read -r -a GPS <<<"${GPS_BIN:-build/gps}"
EPOCHS="${GPS_BENCH_EPOCHS:-2}"
WARM="${GPS_BENCH_WARM:-40}"   # steps left out of the rate (cuDNN autotuning, allocator growth)
DEVICE="${GPS_BENCH_DEVICE:-cuda}"
IMAGES="${GPS_BENCH_IMAGES:-50000}"
WIDTH="${GPS_BENCH_WIDTH:-64}"
BATCH="${GPS_BENCH_BATCH:-512}"
OUTDIR="${GPS_BENCH_OUT:-runs/gpu-bench}"
mkdir -p "$OUTDIR"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
results="$OUTDIR/results.jsonl"
: >"$results"
any_failed=0
note() {  # a row that says why a run gave no number
  "$PY" -c 'import json, sys; print(json.dumps({"run": sys.argv[1], "note": sys.argv[2]}))' "$1" "$2" >>"$results"
}

# Synthetic CIFAR-10 binary batches, with the standard library only (the GPU
# machine's Python need not have numpy): label byte, then 3072 pixel bytes.
"$PY" - "$work/cifar" "$IMAGES" <<'PY' || { echo "gpu_bench: cannot write the synthetic data" >&2; exit 1; }
import os, random, sys
d, total = sys.argv[1], int(sys.argv[2]); os.makedirs(d)
rng = random.Random(0)
for name, n in [(f"data_batch_{i}", total // 5) for i in range(1, 6)] + [("test_batch", 1000)]:
    rec = bytearray(rng.randbytes(n * 3073))
    rec[0::3073] = bytes(b % 10 for b in rec[0::3073])
    with open(f"{d}/{name}.bin", "wb") as f:
        f.write(rec)
PY

common="-c configs/fmnist-simclr-weak.yaml data.name=cifar10 data.root=$work/cifar data.subset=0 data.test_subset=0
        model.width=$WIDTH optim.batch_size=$BATCH optim.epochs=$EPOCHS optim.warmup_epochs=0 method.proj_hidden_dim=2048
        method.proj_output_dim=256 augment.preset=strong train.precision=bf16 train.channels_last=true
        train.device=$DEVICE train.online_probe=false eval.enabled=false train.progress=false train.log_every=10
        train.checkpoint_every_epochs=0 neighbors.backend=torch train.out_dir=$work/runs"

# The steady rate of a gps run, from its metrics.jsonl and summary.json.
gps_row() {  # label, run dir
  "$PY" - "$1" "$2" "$WARM" "$BATCH" >>"$results" <<'PY'
import json, sys
label, run, warm, cfg_batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
recs = [json.loads(l) for l in open(f"{run}/metrics.jsonl") if '"images_per_s"' in l]
s = json.load(open(f"{run}/summary.json"))
a = next(r for r in recs if r["step"] >= warm); b = recs[-1]
dt = b["elapsed_s"] - a["elapsed_s"]
ips = (b["step"] - a["step"]) * cfg_batch / dt
print(json.dumps({"run": label, "images_per_s": ips, "views_per_s": 2 * ips,
                  "data_wait_fraction": (b["data_wait_s"] - a["data_wait_s"]) / dt,
                  "gpu_peak_reserved_mib": s.get("gpu_memory_mib", {}).get("peak_reserved", 0),
                  "gpu_peak_allocated_mib": s.get("gpu_memory_mib", {}).get("peak_allocated", 0),
                  "steps_timed": b["step"] - a["step"], "loader_threads": s.get("prefetch", 0)}))
PY
}
run_gps() {  # label, name, overrides...
  local label=$1 name=$2; shift 2
  failed=1
  if ! "${GPS[@]}" train $common train.name="$name" "$@" >"$OUTDIR/$name.log" 2>&1; then
    tail -n 20 "$OUTDIR/$name.log" >&2
    local why
    why=$(grep -m1 -E 'error|Error|what\(\)' "$OUTDIR/$name.log" || grep -v '^[[:space:]]*$' "$OUTDIR/$name.log" | head -n1)
    note "$label" "failed: $(echo "$why" | cut -c1-200) (log: $OUTDIR/$name.log)"
  elif ! gps_row "$label" "$work/runs/$name" 2>"$work/row.err"; then
    note "$label" "trained, but no steady rate: $(tail -n1 "$work/row.err" | cut -c1-200) (fewer logged steps than GPS_BENCH_WARM + 2?)"
  else
    failed=0
  fi
}

run_gps "gps SimCLR" simclr gps=false; any_failed=$((any_failed | failed))
run_gps "gps GPS-SimCLR (pixel prior, k=4)" gps-simclr gps=true; any_failed=$((any_failed | failed))
run_gps "gps SimCLR, train.deterministic=true" simclr-det gps=false train.deterministic=true; any_failed=$((any_failed | failed))
peer="python torch + torchvision DataLoader"
if [ "${GPS_BENCH_SKIP_PEER:-0}" = "1" ]; then
  note "$peer" "skipped: GPS_BENCH_SKIP_PEER=1"
elif ! missing=$("$PY" -c '
import importlib.util as u
print(" ".join(m for m in ("torch", "torchvision", "numpy", "PIL") if u.find_spec(m) is None))') || [ -n "$missing" ]; then
  note "$peer" "skipped: $PY lacks ${missing:-a working importlib} (bench/train_loop_torch.py needs torch, torchvision, numpy, PIL)"
else
  steps=$((EPOCHS * (IMAGES / BATCH) - WARM))
  if "$PY" bench/train_loop_torch.py --device "$DEVICE" --cifar "$work/cifar" --width "$WIDTH" --batch "$BATCH" \
       --proj 2048,256 --precision bf16 --channels-last --preset strong --workers "$(nproc)" --threads "$(nproc)" \
       --steps "$steps" --warmup "$WARM" --json >"$work/peer.json" 2>"$OUTDIR/peer.log"; then
    "$PY" -c "
import json, sys; r = json.loads(open(sys.argv[1]).read()); r['run'] = '$peer (%d workers)' % r['workers']
print(json.dumps(r))" "$work/peer.json" >>"$results" || note "$peer" "no result (see $OUTDIR/peer.log)"
  else
    note "$peer" "failed: $(tail -n1 "$OUTDIR/peer.log" | cut -c1-200)"
  fi
fi

"$PY" - "$results" "$OUTDIR" "$(nproc)" "$WIDTH" "$BATCH" "$DEVICE" <<'PY'
import json, os, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
try:
    import torch; where = torch.cuda.get_device_name() if sys.argv[6] != "cpu" else "CPU only"
except Exception:
    where = "?"
lines = [f"Device: {where}; {sys.argv[3]} CPU cores; ResNet-18 width {sys.argv[4]}, 32 px, batch {sys.argv[5]}, "
         "bf16 + channels-last, strong augmentation",
         "", "| run | images/s | views/s | waiting for data | GPU memory (peak reserved) |", "|---|---:|---:|---:|---:|"]
for r in rows:
    if "note" in r:
        lines.append(f"| {r['run']} | - | - | - | {r['note']} |"); continue
    lines.append(f"| {r['run']} | {r['images_per_s']:,.0f} | {r['views_per_s']:,.0f} | {100 * r['data_wait_fraction']:.1f} % "
                 f"| {r.get('gpu_peak_reserved_mib', 0):,.0f} MiB |")
py = [r for r in rows if r["run"].startswith("python") and "note" not in r]
if py:
    lines.append("")
    for r in rows:
        if not r["run"].startswith("python") and "note" not in r:
            lines.append(f"- {r['run']}: {r['images_per_s'] / py[0]['images_per_s']:.2f}x the Python loop")
text = "\n".join(lines)
print(text)
if sys.argv[2]:
    os.makedirs(sys.argv[2], exist_ok=True)
    open(os.path.join(sys.argv[2], "gpu_bench.md"), "w").write(text + "\n")
    json.dump(rows, open(os.path.join(sys.argv[2], "gpu_bench.json"), "w"), indent=1)
PY
exit $any_failed

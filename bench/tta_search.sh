#!/usr/bin/env bash
# The time-to-accuracy search: one run per line of a variants file (NAME then
# key=value overrides), each on CONFIG at the search size (data.subset, 10k by
# default), the linear probe's lr / weight decay chosen on a validation split
# of train (eval.linear_select=val). The table OUT/search.md lists every run,
# best validation top-1 first: the search chooses on that column; the test
# column is reported, never used to choose.
#
#   bash bench/tta_search.sh OUT CONFIG VARIANTS [key=value ...]
#   bash bench/tta_search.sh runs/tta-search configs/fmnist-simclr-weak.yaml bench/tta_search.txt
#
# A finished OUT/NAME is not run again (delete it to rerun); extra overrides
# apply to every line (before the line's own).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 3 ] || { sed -n 2,14p "$0"; exit 2; }
out=$1 cfg=$2 variants=$3
shift 3
mkdir -p "$out"
build/gps info | sed -n '/^CPU/p; /^cores/p; /^LibTorch/p'
while read -r name overrides; do
  case "$name" in ''|'#'*) continue ;; esac
  if [ ! -f "$out/$name/summary.json" ]; then
    echo "[search] $name: $overrides"
    # shellcheck disable=SC2086  # the overrides are words on purpose
    build/gps train -c "$cfg" eval.linear_select=val train.out_dir="$out" train.name="$name" \
      "$@" $overrides > "$out/$name.log" 2>&1 || { echo "[search] $name failed: $out/$name.log"; tail -3 "$out/$name.log"; }
  fi
done < "$variants"
python3 - "$out" "$variants" <<'EOF'
import json, os, sys
out, variants = sys.argv[1], sys.argv[2]
rows = []
for line in open(variants):
    parts = line.split(None, 1)
    if not parts or parts[0].startswith("#"):
        continue
    name, over = parts[0], (parts[1].strip() if len(parts) > 1 else "")
    path = os.path.join(out, name, "summary.json")
    if not os.path.exists(path):
        continue
    s = json.load(open(path))
    e = s["eval"]
    rows.append((e["linear_val_top1"], name, over, e["linear_top1"], e["knn_top1"],
                 s["run_seconds"] / 60, s["images_per_second"]))
rows.sort(key=lambda r: -r[0])
with open(os.path.join(out, "search.md"), "w") as f:
    f.write("| run | overrides | val linear (chooses) | test linear | test kNN | minutes | images/s |\n")
    f.write("|---|---|---:|---:|---:|---:|---:|\n")
    for v, name, over, lin, knn, mins, ips in rows:
        f.write(f"| {name} | `{over}` | {v:.2f} | {lin:.2f} | {knn:.2f} | {mins:.1f} | {ips:.0f} |\n")
print(open(os.path.join(out, "search.md")).read())
EOF

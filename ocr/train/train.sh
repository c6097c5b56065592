#!/usr/bin/env bash
# Rebuilds ocr/models/lpr-chars.clf, the per-character classifier, from
# ../shared/training (real plate crops and real glyph pages; never from
# ../shared/datasets, which is for measuring) and prints the training report:
# held-out error per glyph and per plate, then the benchmark table.
#
# usage: ocr/train/train.sh [OUT_MODEL]   (default: ocr/models/lpr-chars.clf)
# env:   LPR_TRAINING (default ../shared/training/openalpr-train),
#        BUILD (default build-train), EPOCHS (default 8), SEED (default 1)
# Takes about 6 minutes on 2 cores (export ~40 s, training ~4 min, report ~1 min).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
out=${1:-$top/ocr/models/lpr-chars.clf}
train=${LPR_TRAINING:-$top/../shared/training/openalpr-train}
build=${BUILD:-$top/build-train}
py=/usr/bin/python3 # Debian's, with python3-numpy and python3-pil
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if ! "$py" -c 'import numpy, PIL' 2>/dev/null; then
  echo "train.sh: needs python3-numpy and python3-pil (apt-get install python3-numpy python3-pil)" >&2
  exit 1
fi
[ -d "$train/plates/us" ] || { echo "train.sh: $train: no training data" >&2; exit 1; }

start=$(date +%s)
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" --target export_glyphs lpr bench_ocr >/dev/null

# 1. glyph features, cut by the reader's own localiser and segmenter:
#    sources 0 us crops, 1 br crops, 2.. glyph pages (one per country)
pages=()
src=2
for tif in "$train"/glyphs/lines/*.tif; do
  pages+=(--page "$tif" "$src" 4)
  src=$((src + 1))
done
"$build/ocr/train/export_glyphs" "$work/glyphs.bin" \
  --crops "$train/plates/us" 0 --crops "$train/plates/br" 1 "${pages[@]}"

# 2. the classifier; plates and page boxes hashing to 0 mod 10 are held out
"$py" ocr/train/train_classifier.py "$out" "$work/glyphs.bin" \
  --epochs "${EPOCHS:-8}" --seed "${SEED:-1}" --crop-weight 1.5

# 3. report: held-out plates read whole, then the benchmark (measurement only)
"$py" ocr/train/eval_crops.py "$build/firmware/lpr" "$train" --char-model "$out"
if [ -d "${LPR_DATASETS:-$top/../shared/datasets}/openalpr-endtoend" ]; then
  if [ "$out" = "$top/ocr/models/lpr-chars.clf" ]; then
    scripts/bench-ocr "$build"
  else
    echo "train.sh: benchmark uses the shipped model; install $out there to measure it"
  fi
fi
echo "train.sh: done in $(( $(date +%s) - start )) s"

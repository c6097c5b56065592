#!/usr/bin/env bash
# Rebuilds ocr/models/lpr-chars.clf, the per-character classifier, from
# ../shared/training (real plate crops and real glyph pages; never from
# ../shared/datasets, which is for measuring) and prints the training report:
# held-out error per glyph and per plate, then the benchmark table.
#
# usage: ocr/train/train.sh [OUT_MODEL]   (default: ocr/models/lpr-chars.clf)
# env:   LPR_TRAINING (default ../shared/training/openalpr-train),
#        BUILD (default build-train), EPOCHS (default 8), RENDERS (default 3000),
#        SEED (renders, default 7), BENCH=0 (skip the benchmark:
#        train-networks.sh runs it once at its end)
# needs: python3-numpy python3-pil and the fonts render_plates.py lists
#        (fonts-dejavu-extra fonts-liberation fonts-roboto fonts-noto-core
#        fonts-bebas-neue fonts-freefont-ttf)
# Takes about 10 minutes on 2 cores (renders ~30 s, export ~2 min, training
# ~5 min, report ~1 min).
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

# 1. rendered plates in Debian's condensed fonts (plate-like lettering the
#    real crops have too little of), then glyph features of everything, cut
#    by the reader's own localiser and segmenter: sources 0 us crops, 1 br
#    crops, 2-8 glyph pages (one per country), 9 renders
"$py" ocr/train/render_plates.py "$work/renders" "${RENDERS:-3000}" --seed "${SEED:-7}"
pages=()
src=2
for tif in "$train"/glyphs/lines/*.tif; do
  pages+=(--page "$tif" "$src" 4)
  src=$((src + 1))
done
"$build/ocr/train/export_glyphs" "$work/glyphs.bin" \
  --crops "$train/plates/us" 0 --crops "$train/plates/br" 1 "${pages[@]}" \
  --crops "$work/renders" 9

# 2. the classifier; plates and page boxes hashing to 0 mod 10 are held out
"$py" ocr/train/train_classifier.py "$out" "$work/glyphs.bin" \
  --epochs "${EPOCHS:-8}" --seed 1 --crop-weight 1.5 --synth-weight 0.3

# 3. report: held-out plates read whole, then the benchmark (measurement only)
"$py" ocr/train/eval_crops.py "$build/tool/lpr" "$train" --char-model "$out"
if [ "${BENCH:-1}" != 0 ] && [ -d "${LPR_DATASETS:-$top/../shared/datasets}/openalpr-endtoend" ]; then
  if [ "$out" = "$top/ocr/models/lpr-chars.clf" ]; then
    scripts/bench-ocr "$build"
  else
    echo "train.sh: benchmark uses the shipped model; install $out there to measure it"
  fi
fi
echo "train.sh: done in $(( $(date +%s) - start )) s"

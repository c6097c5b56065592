#!/usr/bin/env bash
# Rebuilds every shipped model from ../shared/training and the project's
# renders (never from ../shared/datasets, which is for measuring), each
# with its held-out report, then prints the benchmark:
#   0. the per-character classifier of the second opinion,
#      ocr/models/lpr-chars.clf (ocr/train/train.sh);
#   1. the plate verifier, ocr/models/lpr-verify.nn (test vectors
#      tests/golden/verify-vectors.bin);
#   2. the whole-plate reader, ocr/models/lpr-read.nn (test vectors
#      tests/golden/read-vectors.bin); with PSEUDO, also the European
#      crops that have no text, labelled by pseudo_labels.py;
#   3. fold readers (scratch, not shipped): the reader again, each time
#      without a third of the real training plates, so the calibration can
#      be fitted on reads of real plates by a reader that never saw them
#      (cross-fitting; FOLDS=0 skips them and fits as before);
#   4. the confidence model, ocr/models/lpr-confidence.nn: the text model
#      (train_text.py; test vectors tests/golden/text-vectors.tsv) and the
#      calibration, which depends on the verifier and the reader.
#
# usage: ocr/train/train-networks.sh
# env:   LPR_TRAINING (default ../shared/training), BUILD (default build-train),
#        SKIP_CHARS=1, SKIP_VERIFIER=1, SKIP_READER=1 (keep the committed one),
#        FOLDS (default 3), FOLD_EPOCHS (default 30),
#        PSEUDO=ocr/train/eu-pseudo.tsv (default none: the shipped reader
#        was trained without it; see ocr/models/README.md)
# needs: python3-torch python3-numpy python3-pil, the fonts
#        render_plates.py lists (see ocr/train/train.sh) and the word lists
#        train_text.py reads (wamerican wspanish wbrazilian wngerman wfrench
#        witalian)
# Prints when each step starts. Measured on 2 cores on 2026-12-07 (FOLD_EPOCHS
# 10; ocr/models/README.md): classifier 198 s, verifier 1472 s, reader
# 2279 s, fold readers 325-363 s each (about three times that at the default
# 30 epochs), calibration 569 s, benchmark 15 s: 93 minutes in all, over the
# 60 the project aims for. Every step is seeded; whether a rebuild gives the
# shipped files is recorded in ocr/models/README.md.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
train=${LPR_TRAINING:-$top/../shared/training}
build=${BUILD:-$top/build-train}
py=/usr/bin/python3 # Debian's, with python3-torch
if ! "$py" -c 'import torch, numpy, PIL' 2>/dev/null; then
  echo "train-networks.sh: needs python3-torch python3-numpy python3-pil" >&2
  exit 1
fi
[ -d "$train/negatives" ] || { echo "train-networks.sh: $train: no training data" >&2; exit 1; }
work=$(mktemp -d /var/tmp/lpr-train.XXXXXX)
trap 'rm -rf "$work"' EXIT
start=$(date +%s)
pseudo_opts=()
pseudo=${PSEUDO:-}
[ -n "$pseudo" ] && pseudo_opts=(--pseudo "$pseudo")
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" --target proposals read_features render_training lpr bench_ocr >/dev/null
step() { echo "train-networks.sh: $1 at $(( $(date +%s) - start )) s"; }
if [ "${SKIP_CHARS:-0}" != 1 ]; then
  step "classifier"
  LPR_TRAINING=$train/openalpr-train BUILD=$build BENCH=0 ocr/train/train.sh
fi
if [ "${SKIP_VERIFIER:-0}" != 1 ]; then
  step "verifier"
  "$py" ocr/train/train_verifier.py "$build/ocr/train/proposals" ocr/models/lpr-verify.nn \
    tests/golden/verify-vectors.bin --training "$train" --work "$work/verify" \
    --render-tool "$build/tests/render_training"
fi
if [ "${SKIP_READER:-0}" != 1 ]; then
  step "reader"
  "$py" ocr/train/train_reader.py "$build/ocr/train/proposals" ocr/models/lpr-read.nn \
    tests/golden/read-vectors.bin --training "$train" --work "$work/read" \
    --render-tool "$build/tests/render_training" "${pseudo_opts[@]}"
fi
folds=${FOLDS:-3}
fold_opts=()
for ((k = 0; k < folds; k++)); do
  step "fold reader $k"
  reuse=()
  [ -f "$work/read/entries.json" ] && reuse=(--reuse) # the reader's images and crops
  "$py" ocr/train/train_reader.py "$build/ocr/train/proposals" "$work/read-fold$k.nn" \
    "$work/read-fold$k.vec" --training "$train" --work "$work/read" \
    --render-tool "$build/tests/render_training" --folds "$folds" --fold "$k" \
    --epochs "${FOLD_EPOCHS:-30}" "${pseudo_opts[@]}" "${reuse[@]}"
  fold_opts=(--folds "$folds" --fold-readers "$work/read-fold%d.nn")
done
step "calibration"
"$py" ocr/train/train_confidence.py "$build/ocr/train/read_features" \
  "$build/tests/render_training" ocr/models/lpr-confidence.nn --training "$train" \
  --work "$work/confidence" --text-vectors tests/golden/text-vectors.tsv "${fold_opts[@]}"
if [ -d "${LPR_DATASETS:-$top/../shared/datasets}/openalpr-endtoend" ]; then
  step "benchmark"
  scripts/bench-ocr "$build"
fi
echo "train-networks.sh: done in $(( $(date +%s) - start )) s"

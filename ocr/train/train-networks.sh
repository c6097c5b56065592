#!/usr/bin/env bash
# Rebuilds the reader's networks from ../shared/training and the project's
# renders (never from ../shared/datasets, which is for measuring), each
# with its held-out report, then prints the benchmark:
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
#        SKIP_VERIFIER=1, SKIP_READER=1 (keep the committed one),
#        FOLDS (default 3), FOLD_EPOCHS (default 30),
#        PSEUDO=ocr/train/eu-pseudo.tsv (default none: the shipped reader
#        was trained without it; see ocr/models/README.md)
# needs: python3-torch python3-numpy python3-pil, the fonts
#        render_plates.py lists (see ocr/train/train.sh) and the word lists
#        train_text.py reads (wamerican wspanish wbrazilian wngerman wfrench
#        witalian)
# Takes about 80 minutes on 2 cores (verifier ~11, reader ~20, three fold
# readers ~13 each, calibration ~7); every step is seeded (the verifier and calibration were rebuilt byte
# for byte on 2026-12-01; the reader's rebuild is recorded in
# ocr/models/README.md).
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
if [ "${SKIP_VERIFIER:-0}" != 1 ]; then
  "$py" ocr/train/train_verifier.py "$build/ocr/train/proposals" ocr/models/lpr-verify.nn \
    tests/golden/verify-vectors.bin --training "$train" --work "$work/verify" \
    --render-tool "$build/tests/render_training"
fi
if [ "${SKIP_READER:-0}" != 1 ]; then
  "$py" ocr/train/train_reader.py "$build/ocr/train/proposals" ocr/models/lpr-read.nn \
    tests/golden/read-vectors.bin --training "$train" --work "$work/read" \
    --render-tool "$build/tests/render_training" "${pseudo_opts[@]}"
fi
folds=${FOLDS:-3}
fold_opts=()
for ((k = 0; k < folds; k++)); do
  reuse=()
  [ -f "$work/read/entries.json" ] && reuse=(--reuse) # the reader's images and crops
  "$py" ocr/train/train_reader.py "$build/ocr/train/proposals" "$work/read-fold$k.nn" \
    "$work/read-fold$k.vec" --training "$train" --work "$work/read" \
    --render-tool "$build/tests/render_training" --folds "$folds" --fold "$k" \
    --epochs "${FOLD_EPOCHS:-30}" "${pseudo_opts[@]}" "${reuse[@]}"
  fold_opts=(--folds "$folds" --fold-readers "$work/read-fold%d.nn")
done
"$py" ocr/train/train_confidence.py "$build/ocr/train/read_features" \
  "$build/tests/render_training" ocr/models/lpr-confidence.nn --training "$train" \
  --work "$work/confidence" --text-vectors tests/golden/text-vectors.tsv "${fold_opts[@]}"
if [ -d "${LPR_DATASETS:-$top/../shared/datasets}/openalpr-endtoend" ]; then
  scripts/bench-ocr "$build"
fi
echo "train-networks.sh: done in $(( $(date +%s) - start )) s"

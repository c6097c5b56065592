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
#        FOLDS (default 3), FOLD_EPOCHS (default 10),
#        PSEUDO=ocr/train/eu-pseudo.tsv (default none: the shipped reader
#        was trained without it; see ocr/models/README.md)
# needs: python3-torch python3-numpy python3-pil, the fonts
#        render_plates.py lists (see ocr/train/train.sh) and the word lists
#        train_text.py reads (wamerican wspanish wbrazilian wngerman wfrench
#        witalian)
# Prints when each step starts. Measured on 2 cores on 2026-12-07
# (ocr/models/README.md): 3 321 s (55 minutes): the reader's images and
# proposals 245 s on both cores, then two lanes of one core each (A: reader
# 1 979 s, fold reader 2; B: classifier 184 s, verifier 1 248 s, fold
# readers 0 and 1, ~540 s each), calibration 505 s, benchmark 20 s. Every
# step is seeded, and the lanes' trainings run on one thread each: the
# shipped files are this script's output.
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
# The trainings are independent until the calibration, which reads with
# all of them. Two run at once, one core each (measured on these 2 cores,
# two trainings of one thread each get through about 1.35 times as many
# batches as one of two threads): lane A the reader and the last fold
# reader, lane B the rest. Each training is seeded and
# single-threaded, so the order the lanes finish in changes nothing.
one=(env LPR_TRAIN_THREADS=1 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1)
folds=${FOLDS:-3}
reader_common=("$build/ocr/train/proposals" --training "$train" --work "$work/read"
  --render-tool "$build/tests/render_training" "${pseudo_opts[@]}")
fold_reader() { # K: the reader without the real plates of fold K
  step "fold reader $1"
  "${one[@]}" "$py" ocr/train/train_reader.py "${reader_common[0]}" "$work/read-fold$1.nn" \
    "$work/read-fold$1.vec" "${reader_common[@]:1}" --folds "$folds" --fold "$1" \
    --epochs "${FOLD_EPOCHS:-10}" --reuse
}
if [ "${SKIP_READER:-0}" != 1 ] || [ "$folds" -gt 0 ]; then
  step "reader's images and proposals (both cores)"
  "$py" ocr/train/train_reader.py "${reader_common[0]}" /dev/null /dev/null \
    "${reader_common[@]:1}" --prepare
fi
lane_a() {
  if [ "${SKIP_READER:-0}" != 1 ]; then
    step "reader"
    "${one[@]}" "$py" ocr/train/train_reader.py "${reader_common[0]}" ocr/models/lpr-read.nn \
      tests/golden/read-vectors.bin "${reader_common[@]:1}" --reuse
  fi
  if [ "$folds" -gt 0 ]; then fold_reader $((folds - 1)); fi
}
lane_a >"$work/lane-a.log" 2>&1 &
lane_a_pid=$!
echo "train-networks.sh: lane A (reader, fold reader $((folds - 1))) logs to the end of this report"
if [ "${SKIP_CHARS:-0}" != 1 ]; then
  step "classifier"
  LPR_TRAINING=$train/openalpr-train BUILD=$build BENCH=0 "${one[@]}" ocr/train/train.sh
fi
if [ "${SKIP_VERIFIER:-0}" != 1 ]; then
  step "verifier"
  "${one[@]}" "$py" ocr/train/train_verifier.py "$build/ocr/train/proposals" \
    ocr/models/lpr-verify.nn tests/golden/verify-vectors.bin --training "$train" \
    --work "$work/verify" --render-tool "$build/tests/render_training"
fi
for ((k = 0; k < folds - 1; k++)); do fold_reader "$k"; done
lane_a_rc=0
wait "$lane_a_pid" || lane_a_rc=$?
echo "train-networks.sh: lane A:"
cat "$work/lane-a.log"
[ "$lane_a_rc" = 0 ] || { echo "train-networks.sh: lane A failed ($lane_a_rc)" >&2; exit 1; }
fold_opts=()
[ "$folds" -gt 0 ] && fold_opts=(--folds "$folds" --fold-readers "$work/read-fold%d.nn")
step "calibration"
"$py" ocr/train/train_confidence.py "$build/ocr/train/read_features" \
  "$build/tests/render_training" ocr/models/lpr-confidence.nn --training "$train" \
  --work "$work/confidence" --text-vectors tests/golden/text-vectors.tsv "${fold_opts[@]}"
if [ -d "${LPR_DATASETS:-$top/../shared/datasets}/openalpr-endtoend" ]; then
  step "benchmark"
  scripts/bench-ocr "$build"
fi
echo "train-networks.sh: done in $(( $(date +%s) - start )) s"

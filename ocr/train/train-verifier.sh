#!/usr/bin/env bash
# Rebuilds the plate verifier (ocr/models/lpr-verify.nn, with the test
# vectors tests/golden/verify-vectors.bin) and then the confidence
# calibration (ocr/models/lpr-confidence.nn, which depends on the verifier)
# from ../shared/training and the project's renders (never from
# ../shared/datasets, which is for measuring), and prints both held-out
# reports, then the benchmark.
#
# usage: ocr/train/train-verifier.sh
# env:   LPR_TRAINING (default ../shared/training), BUILD (default build-train),
#        EPOCHS (default 10), SKIP_VERIFIER=1 (calibration only)
# needs: python3-torch python3-numpy python3-pil and the fonts
#        render_plates.py lists (see ocr/train/train.sh)
# Takes about 12 minutes on 2 cores (verifier ~8, calibration ~4); both
# models are rebuilt byte for byte (seeded; checked 2026-12-01).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
train=${LPR_TRAINING:-$top/../shared/training}
build=${BUILD:-$top/build-train}
py=/usr/bin/python3 # Debian's, with python3-torch
if ! "$py" -c 'import torch, numpy, PIL' 2>/dev/null; then
  echo "train-verifier.sh: needs python3-torch python3-numpy python3-pil" >&2
  exit 1
fi
[ -d "$train/negatives" ] || { echo "train-verifier.sh: $train: no training data" >&2; exit 1; }
work=$(mktemp -d /var/tmp/lpr-train.XXXXXX)
trap 'rm -rf "$work"' EXIT
start=$(date +%s)
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" --target proposals read_features render_training lpr bench_ocr >/dev/null
if [ "${SKIP_VERIFIER:-0}" != 1 ]; then
  "$py" ocr/train/train_verifier.py "$build/ocr/train/proposals" ocr/models/lpr-verify.nn \
    tests/golden/verify-vectors.bin --training "$train" --work "$work/verify" \
    --render-tool "$build/tests/render_training" --epochs "${EPOCHS:-10}"
fi
"$py" ocr/train/train_confidence.py "$build/ocr/train/read_features" \
  "$build/tests/render_training" ocr/models/lpr-confidence.nn --training "$train" \
  --work "$work/confidence"
if [ -d "${LPR_DATASETS:-$top/../shared/datasets}/openalpr-endtoend" ]; then
  scripts/bench-ocr "$build"
fi
echo "train-verifier.sh: done in $(( $(date +%s) - start )) s"

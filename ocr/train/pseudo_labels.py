#!/usr/bin/python3
"""Pseudo-labels for the real European plate crops that have no text
(../shared/training/openalpr-train/plates/eu-unlabelled), so the
whole-plate reader can learn from them (train_reader.py --pseudo).

Each crop is read whole and clean by the shipped reader (`lpr read
--region eu`, the calibrated confidence), padded with its own border
colour so the localiser sees a plate in a frame rather than a crop's edge.
A crop gets a label only when the reader is sure of it (confidence >= 90
by default: ~96% exact on held-out real plates read small in scenes,
ocr/models/README.md; a clean crop reads better) and the plate read is the crop's own
(its box covers at least half of the crop's width). The reader then
trains on the same plates placed small, tilted, blurred and JPEG-
compressed in street scenes: it learns to read degraded what it reads
clean (self-training, "noisy student"); a label it got wrong stays a
wrong label, which the reader's noisy-label step drops like a mislabelled
real crop.

Nothing from ../shared/datasets is read. The output is committed
(ocr/train/eu-pseudo.tsv) with the reader it was made with, so training
does not depend on which reader is installed.

usage: pseudo_labels.py LPR OUT.tsv [--training DIR] [--min-confidence C]
  LPR   the lpr tool of a release build (build-rel/tool/lpr)
writes FILE <TAB> TEXT <TAB> CONFIDENCE, one line per labelled crop.
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile

from PIL import Image, ImageOps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("lpr")
    ap.add_argument("out")
    ap.add_argument("--training", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                         "..", "..", "..", "shared", "training"))
    ap.add_argument("--min-confidence", type=float, default=90.0)
    a = ap.parse_args()
    src = os.path.join(a.training, "openalpr-train", "plates", "eu-unlabelled")
    names = sorted(n for n in os.listdir(src) if n.lower().endswith(".jpg"))
    if not names:
        sys.exit("pseudo_labels: %s: no crops" % src)
    with tempfile.TemporaryDirectory() as tmp:
        sizes = {}
        for n in names:
            with Image.open(os.path.join(src, n)) as im:
                g = im.convert("L")
            w, h = g.size
            # the border's own median grey, so the pad adds no edge
            edge = sorted(list(g.crop((0, 0, w, 1)).getdata()) + list(g.crop((0, h - 1, w, h)).getdata()))
            px, py = max(8, w // 3), max(8, h)
            ImageOps.expand(g, (px, py, px, py), fill=edge[len(edge) // 2]).save(
                os.path.join(tmp, n[:-4] + ".png"))
            sizes[n[:-4] + ".png"] = (n, px, py, w, h)
        out = subprocess.run([a.lpr, "read", "--json", "--region", "eu", "--min-confidence",
                              str(a.min_confidence), tmp], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
        if out.returncode not in (0, 1) or not out.stdout:
            sys.exit("pseudo_labels: %s read failed (exit %d)" % (a.lpr, out.returncode))
        rows = []
        for line in out.stdout.splitlines():
            d = json.loads(line)
            name, px, py, w, h = sizes[os.path.basename(d["file"])]
            for p in d["plates"]:
                x, y, bw, bh = p["box"]
                # the crop's own plate: inside the crop, at least half its width
                if bw >= w / 2 and x >= px - w // 10 and x + bw <= px + w + w // 10:
                    rows.append((name, p["text"], p["confidence"]))
                    break
    with open(a.out, "w") as f:
        for r in rows:
            f.write("%s\t%s\t%.1f\n" % r)
    model = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models", "lpr-read.nn")
    md5 = hashlib.md5(open(model, "rb").read()).hexdigest() if os.path.exists(model) else "?"
    print("pseudo_labels: %d of %d crops labelled at confidence >= %g (reader md5 %s)" %
          (len(rows), len(names), a.min_confidence, md5))


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Trains the confidence calibration (ocr/models/lpr-confidence.nn): the
probability that a candidate text is exactly the plate, from the features
of ocr/confidence.h.

Data, all from ../shared/training (never ../shared/datasets): labelled
real plate crops (plates/us, plates/br) and plates in Debian's fonts placed
in plate-free scenes, scenes of the project's renderer, and the plate-free
scenes themselves (every plate read there is wrong), as train_verifier.py
makes them (other seeds). The whole reader (ocr/train/read_features, with
the shipped verifier, no calibration) reads them; each of the first three
candidates of every plate is an example, right when it is the text of the
plate placed at that box.

The model is logistic (one dense layer, LPRNN01): monotone in each feature,
and its output a probability. Held out as in train_verifier.py.

usage: train_confidence.py READ_FEATURES_TOOL RENDER_TOOL OUT_MODEL
       [--training DIR] [--work DIR] [--seed N]
"""
import argparse
import os
import random
import struct
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_verifier as tv  # noqa: E402

NF = 6  # confidence.h LPR_CONF_FEATS


def fit_logistic(X, y, l2=1e-3, iters=50):
    """Newton's method (IRLS) with a small ridge; deterministic."""
    Xb = np.hstack([X, np.ones((len(X), 1))])
    w = np.zeros(Xb.shape[1])
    for _ in range(iters):
        z = Xb @ w
        p = 1 / (1 + np.exp(-z))
        g = Xb.T @ (p - y) + l2 * np.r_[w[:-1], 0]
        Hm = (Xb * (p * (1 - p))[:, None]).T @ Xb + l2 * np.diag(np.r_[np.ones(NF), 0])
        step = np.linalg.solve(Hm, g)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[:-1], w[-1]


def report(name, p, y, top):
    print("  %s: %d first candidates, %d right" % (name, top.sum(), y[top].sum()))
    for c in (0.9, 0.7, 0.5):
        k = top & (p >= c)
        print("    conf >= %.0f: %d plates, %.1f%% right" % (100 * c, k.sum(), 100 * y[k].mean() if k.any() else 0))
    # expected calibration error over ten bins
    bins = np.minimum((p[top] * 10).astype(int), 9)
    ece = sum(abs(p[top][bins == b].mean() - y[top][bins == b].mean()) * (bins == b).sum()
              for b in range(10) if (bins == b).any()) / max(top.sum(), 1)
    print("    calibration error (ECE, 10 bins): %.3f" % ece)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tool")
    ap.add_argument("render_tool")
    ap.add_argument("out_model")
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--training", default=os.path.join(here, "../../../shared/training"))
    ap.add_argument("--work", default=None)
    ap.add_argument("--seed", type=int, default=23)
    ap.add_argument("--font-renders", type=int, default=800)
    ap.add_argument("--renders", type=int, default=800)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    work = a.work or os.path.join("/tmp", "lpr-conf-%d" % os.getpid())
    os.makedirs(work, exist_ok=True)
    t0 = time.time()
    entries = tv.make_composites(a.training, work, rng, a.font_renders, kinds=("us", "br", "font"))
    entries += tv.renders(a.render_tool, work, a.renders, a.seed)
    lines = []
    for p, boxes, _, _, texts in entries:
        lines.append(p + ("\t" + ";".join("%d,%d,%d,%d:%s" % (b + (t,)) for b, t in zip(boxes, texts))
                          if boxes else "") + "\n")
    half = (len(lines) + 1) // 2
    procs = []
    for i in range(2):
        part = os.path.join(work, "list%d.txt" % i)
        with open(part, "w") as f:
            f.writelines(lines[i * half:(i + 1) * half])
        procs.append(subprocess.Popen([a.tool, part, os.path.join(work, "feat%d.tsv" % i), "auto"],
                                      stderr=subprocess.DEVNULL))
    for p in procs:
        if p.wait() != 0:
            sys.exit("train_confidence: read_features failed")
    rows = []
    for i in range(2):
        for l in open(os.path.join(work, "feat%d.tsv" % i)):
            v = l.split("\t")
            rows.append((int(v[0]) + i * half, int(v[1]), [float(x) for x in v[2:2 + NF]], int(v[2 + NF])))
    idx = np.array([r[0] for r in rows])
    rank = np.array([r[1] for r in rows])
    X = np.array([r[2] for r in rows])
    y = np.array([r[3] for r in rows], dtype=float)
    held = np.array([entries[i][2] for i in idx])
    print("train_confidence: %d images read, %d candidates (%d right) in %.0f s" %
          (len(entries), len(y), int(y.sum()), time.time() - t0), flush=True)
    w, b = fit_logistic(X[~held], y[~held])
    print("train_confidence: weights %s bias %.3f" % (" ".join("%.3f" % v for v in w), b))
    p = 1 / (1 + np.exp(-(X @ w + b)))
    raw = X[:, 0]
    print("held-out report (plates and scenes never fitted on), the first candidate of each plate:")
    report("calibrated", p[held], y[held], rank[held] == 0)
    report("reader's own score / 100, before", raw[held], y[held], rank[held] == 0)
    with open(a.out_model, "wb") as f:
        f.write(b"LPRNN01\n")
        f.write(struct.pack("<4I", NF, 1, 1, 1))
        f.write(struct.pack("<3I", 2, 1, 0))
        f.write(np.asarray(w, dtype="<f4").tobytes())
        f.write(struct.pack("<f", b))
    print("train_confidence: wrote %s in %.0f s" % (a.out_model, time.time() - t0))


if __name__ == "__main__":
    main()

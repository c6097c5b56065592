#!/usr/bin/python3
"""Trains the confidence calibration (ocr/models/lpr-confidence.nn): the
probability that a candidate text is exactly the plate, from the features
of ocr/confidence.h.

Data, all from ../shared/training (never ../shared/datasets): labelled
real plate crops (plates/us, plates/br) and plates in Debian's fonts placed
in plate-free scenes, scenes of the project's renderer, and the plate-free
scenes themselves (every plate read there is wrong), as train_verifier.py
makes them (other seeds). The whole reader (ocr/train/read_features, with
the shipped verifier, no calibration) reads them as a camera configured for
a region would: us and br plates under their region's formats, renders
under auto, the plate-free scenes under each of us, eu and br. Each of the
first three
candidates of every plate is an example, right when it is the text of the
plate placed at that box. Every image is read twice: with the second
opinion (feature 11 = 1) and with the whole-plate reader alone (feature 11
= 0, features 9 and 10 = 0), so the one model also gives the reader's read
alone its probability, by which ocr.c decides whether the second opinion
is worth reading the line (SECOND_OPINION_GATE; reported below).

The model is a small perceptron (13 -> 16 ReLU -> 1, a logistic output,
LPRNN01) fitted by cross-entropy, so its output is a probability. Feature
12 is the text model's logit (train_text.py, trained here first, seeded):
whether the text looks like a plate's series or spells a word. The
confidence model file holds the two networks, the calibration then the
text model (confidence.h).

The whole-plate reader was trained on the real plates not held out
(train_reader.py), so it reads those better than any plate a camera will
see: fitted on them, the calibration would learn that confidence. So the
real plates it is fitted on are half of the ones held out from the reader
and verifier (text hash 10 mod 20); the other half (0 mod 20), with the
held-out renders and scene groups, makes the report. Renders are made
anew here (other seeds than the reader's), so they are unseen either way.

usage: train_confidence.py READ_FEATURES_TOOL RENDER_TOOL OUT_MODEL
       [--training DIR] [--work DIR] [--seed N] [--text-vectors FILE]
"""
import argparse
import os
import struct
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_text  # noqa: E402
import train_verifier as tv  # noqa: E402

NF = 13  # confidence.h LPR_CONF_FEATS
GATE = 0.10  # ocr.c SECOND_OPINION_GATE / 100
HIDDEN = 16


def fit_mlp(X, y, seed):
    """Full-batch Adam on cross-entropy; deterministic for a seed."""
    import torch
    torch.manual_seed(seed)
    torch.set_num_threads(2)
    m = torch.nn.Sequential(torch.nn.Linear(NF, HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN, 1))
    opt = torch.optim.Adam(m.parameters(), lr=1e-2, weight_decay=1e-4)
    xt, yt = torch.from_numpy(X.astype(np.float32)), torch.from_numpy(y.astype(np.float32))
    lossf = torch.nn.BCEWithLogitsLoss()
    for _ in range(1500):
        opt.zero_grad()
        loss = lossf(m(xt).squeeze(1), yt)
        loss.backward()
        opt.step()
    return m


def fit_bagged(X, y, groups, seed, members):
    """'members' perceptrons, each fitted on a bootstrap draw of the images
    (a plate's candidates stay together), joined into one network of the
    same shape: the mean of their logits is one hidden layer of
    members x HIDDEN units and an output layer of the members' output
    weights / members. A fit on some 1 600 real candidates moves with
    every draw; the mean of several moves far less."""
    import torch
    if members == 1:
        return fit_mlp(X, y, seed)
    rs = np.random.RandomState(seed)
    ug = np.unique(groups)
    fits = []
    for i in range(members):
        pick = rs.choice(ug, len(ug), replace=True)
        count = np.bincount(np.searchsorted(ug, pick), minlength=len(ug))
        rep = count[np.searchsorted(ug, groups)]
        sel = np.repeat(np.arange(len(y)), rep)
        fits.append(fit_mlp(X[sel], y[sel], seed + i))
    m = torch.nn.Sequential(torch.nn.Linear(NF, HIDDEN * members), torch.nn.ReLU(),
                            torch.nn.Linear(HIDDEN * members, 1))
    with torch.no_grad():
        m[0].weight.copy_(torch.cat([f[0].weight for f in fits], 0))
        m[0].bias.copy_(torch.cat([f[0].bias for f in fits], 0))
        m[2].weight.copy_(torch.cat([f[2].weight for f in fits], 1) / members)
        m[2].bias.copy_(sum(f[2].bias for f in fits) / members)
    return m


def report(name, p, y, top, scene, n_scenes):
    print("  %s: %d first candidates, %d right; %d plate-free scenes" %
          (name, top.sum(), y[top].sum(), n_scenes))
    for c in (0.9, 0.7, 0.5, 0.3, 0.2, 0.1):
        k = top & (p >= c)
        print("    conf >= %.0f: %d plates, %.1f%% right; %.1f%% of the right ones kept; "
              "%.3f false reads per plate-free scene" %
              (100 * c, k.sum(), 100 * y[k].mean() if k.any() else 0,
               100 * y[k].sum() / max(y[top].sum(), 1), (k & scene).sum() / max(n_scenes, 1)))
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
    tv.training_args(ap, 23)
    ap.add_argument("--font-renders", type=int, default=800)
    ap.add_argument("--renders", type=int, default=800)
    ap.add_argument("--signs", type=int, default=0,
                    help="scenes with signs drawn in (render_signs.py; tried at 600: not shipped, see ocr/models/README.md)")
    ap.add_argument("--reuse", action="store_true", help="features already read into --work")
    ap.add_argument("--text-vectors", help="write texts and the text model's logits (test_reader)")
    ap.add_argument("--members", type=int, default=1, help="perceptrons bagged into the model")
    ap.add_argument("--no-text", action="store_true", help="feature 12 at 0 (to compare)")
    ap.add_argument("--folds", type=int, default=0,
                    help="cross-fitting: the real training plates read by --fold-readers")
    ap.add_argument("--fold-readers", default=None,
                    help="a path with %%d: the reader trained without fold %%d (train_reader.py --fold)")
    a = ap.parse_args()
    if (a.folds > 0) != bool(a.fold_readers):
        sys.exit("train_confidence: --folds and --fold-readers go together")
    for k in range(a.folds):
        if not os.path.exists(a.fold_readers % k):
            sys.exit("train_confidence: %s: no fold reader" % (a.fold_readers % k))
    rng, work = tv.training_setup(a, "conf")
    t0 = time.time()
    import torch
    cached = os.path.join(work, "text-model.pt")
    if a.reuse and os.path.exists(cached):  # trained by an earlier run, same seed
        text_model = train_text.build()
        text_model.load_state_dict(torch.load(cached))
        text_model.eval()
    else:
        text_model = train_text.train(a.training, train_text.SEED)
        torch.save(text_model.state_dict(), cached)
    print("train_confidence: text model ready in %.0f s" % (time.time() - t0), flush=True)
    entries = tv.make_composites(a.training, work, rng, a.font_renders, kinds=("us", "br", "font"),
                                 per={"us": 6, "br": 3, "font": 1}, signs=a.signs)
    entries += tv.renders(a.render_tool, work, a.renders, a.seed)
    # read as a camera of that region would: us and br plates under their
    # region's formats, renders under auto, and the plate-free scenes under
    # each region (a camera of any region sees them)
    # (region, fold reader or None for the shipped one) -> images
    jobs = {(r, None): [] for r in ("us", "br", "eu", "auto")}
    for i, e in enumerate(entries):
        if e[3] == "scene":
            for r in ("us", "eu", "br"):
                jobs[(r, None)].append(i)
        elif e[3] == "sign":  # each under one region, in turn
            jobs[(("us", "eu", "br")[i % 3], None)].append(i)
        elif e[3] in ("us", "br") and not e[2]:
            # a real plate the shipped reader trained on: only a fold
            # reader that did not may read it for the calibration
            if a.folds:
                jobs.setdefault((e[3], a.fold_readers % tv.fold_of(e[4][0], a.folds)), []).append(i)
        else:
            jobs[(e[3] if e[3] in ("us", "br") else "auto", None)].append(i)
    rows = []
    for (region, reader), idxs in jobs.items():  # the shipped reader's first, as before
        tag = region + ("-f%d" % sorted({r for _, r in jobs if r}).index(reader) if reader else "")
        lines = []
        for i in idxs:
            p, boxes, _, _, texts = entries[i]
            lines.append(p + ("\t" + ";".join("%d,%d,%d,%d:%s" % (b + (t,)) for b, t in zip(boxes, texts))
                              if boxes else "") + "\n")
        half = (len(lines) + 1) // 2
        procs = []
        for mode in ("full", "alone"):
            for k in range(0 if a.reuse else 2):
                part = os.path.join(work, "list-%s%d.txt" % (tag, k))
                with open(part, "w") as f:
                    f.writelines(lines[k * half:(k + 1) * half])
                procs.append(subprocess.Popen([a.tool] + (["--no-second-opinion"] if mode == "alone" else []) +
                                              (["--reader", reader] if reader else []) +
                                              [part, os.path.join(work, "feat-%s%s%d.tsv" % (mode, tag, k)),
                                               region], stderr=subprocess.DEVNULL))
            for p in procs:  # two at a time: the two cores
                if p.wait() != 0:
                    sys.exit("train_confidence: read_features failed")
            procs = []
            for k in range(2):
                for l in open(os.path.join(work, "feat-%s%s%d.tsv" % (mode, tag, k))):
                    v = l.split("\t")
                    # features 0-11 as read_features wrote them; 12 from the text
                    rows.append((idxs[int(v[0]) + k * half], int(v[1]),
                                 [float(x) for x in v[2:2 + 12]], int(v[-2]), v[-1].strip()))
    idx = np.array([r[0] for r in rows])
    rank = np.array([r[1] for r in rows])
    y = np.array([r[3] for r in rows], dtype=float)
    text = [r[4] for r in rows]
    tz = np.clip(train_text.logits(text_model, text), -8, 8) / 8 if not a.no_text else np.zeros(len(rows))
    X = np.array([r[2] + [float(z)] for r, z in zip(rows, tz)])
    # fitted: what the reader never trained on; reported: what neither saw
    real = np.array([entries[i][3] in ("us", "br") for i in idx])
    fold = np.array([entries[i][2] and entries[i][3] in ("us", "br") and
                     tv.crc(entries[i][4][0]) % 20 == 10 for i in idx])
    held = np.array([entries[i][2] for i in idx]) & ~fold
    # with fold readers, every real plate not held out was read by a reader
    # that never saw it (cross-fitting); without, those were not read
    fit = ~held
    scene = np.array([entries[i][3] == "scene" for i in idx])
    sign = np.array([entries[i][3] == "sign" for i in idx])
    n_scenes = 3 * sum(1 for e in entries if e[3] == "scene" and e[2])  # read under 3 regions
    print("train_confidence: %d images read, %d candidates (%d right) in %.0f s" %
          (len(entries), len(y), int(y.sum()), time.time() - t0), flush=True)
    import torch
    print("train_confidence: fitted on %d candidates (%d of real plates), reported on %d" %
          (fit.sum(), (fit & real).sum(), held.sum()), flush=True)
    m = fit_bagged(X[fit], y[fit], idx[fit], a.seed, a.members)
    with torch.no_grad():
        p = torch.sigmoid(m(torch.from_numpy(X.astype(np.float32))).squeeze(1)).numpy()
    raw = X[:, 0]
    full, alone = X[:, 11] > 0.5, X[:, 11] < 0.5
    n_signs = sum(1 for e in entries if e[3] == "sign" and e[2])
    for c in (0.9, 0.5, 0.2) if n_signs else ():
        k = held & full & (rank == 0) & sign & (p >= c)
        print("  held-out sign scenes: %d reads at conf >= %.0f in %d scenes" % (k.sum(), 100 * c, n_signs))
    print("held-out report (plates and scenes never fitted on), the first candidate of each plate:")
    report("calibrated, with the second opinion", p[held & full], y[held & full],
           rank[held & full] == 0, scene[held & full], n_scenes)
    report("calibrated, the whole-plate reader alone", p[held & alone], y[held & alone],
           rank[held & alone] == 0, scene[held & alone], n_scenes)
    report("reader's own score / 100, before", raw[held & alone], y[held & alone],
           rank[held & alone] == 0, scene[held & alone], n_scenes)
    # the gate: a plate whose read alone is below GATE is not read again.
    # Per candidate gate: the first reads that skip the second opinion, and
    # the right first reads (returned at the default floor, 20, with it)
    # that the gate loses
    top = held & alone & (rank == 0)
    # the same line in both readings: its image and the reader's first text
    # (the second opinion only adds candidates after the reader's)
    key = {(idx[k], text[k]): k for k in range(len(idx)) if full[k] and rank[k] == 0}
    after = np.array([p[key[(idx[k], text[k])]] if (idx[k], text[k]) in key else 0.0
                      for k in np.nonzero(top)[0]])
    right = y[top] > 0.5
    print("  second opinion gate: first reads of the reader alone below it skip the second opinion")
    for g in (0.05, 0.10, 0.15, 0.20, 0.30):
        skip = p[top] < g
        print("    %s%3.0f%%: %.1f%% of first reads skip it (%.1f%% in plate-free scenes); "
              "%d of %d right reads returned at 20 are lost" %
              ("*" if g == GATE else " ", 100 * g, 100 * skip.mean(),
               100 * skip[scene[top]].mean() if scene[top].any() else 0,
               int((skip & right & (after >= 0.2)).sum()), int((right & (after >= 0.2)).sum())))
    l1, l2 = m[0], m[2]
    with open(a.out_model, "wb") as f:
        f.write(b"LPRNN01\n")
        f.write(struct.pack("<4I", NF, 1, 1, 2))
        f.write(struct.pack("<3I", 2, HIDDEN * a.members, 1))
        f.write(struct.pack("<3I", 2, 1, 0))
        for lin in (l1, l2):
            f.write(lin.weight.detach().numpy().astype("<f4").tobytes())
            f.write(lin.bias.detach().numpy().astype("<f4").tobytes())
        train_text.write(text_model, f)
    if a.text_vectors:
        train_text.write_vectors(text_model, a.text_vectors)
    print("train_confidence: wrote %s in %.0f s" % (a.out_model, time.time() - t0))


if __name__ == "__main__":
    main()

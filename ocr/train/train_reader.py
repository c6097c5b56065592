#!/usr/bin/python3
"""Trains the whole-plate reader (ocr/models/lpr-read.nn): the text of a
line the localiser proposes and the verifier keeps, read in one network
pass: convolutions, then per output column a probability for each plate
character and CTC's blank, trained with CTC (ocr/reader.h).

Data, all from ../shared/training (never ../shared/datasets):
  real plate crops with labels (plates/us, plates/br; the br labels are
  noisy, see below) and plates rendered in Debian's fonts
  (render_plates.py), each placed several times in plate-free scenes at
  the sizes plates have in street photos, tilted, blurred and JPEG-
  compressed (train_verifier.py's composites); and scenes of the project's
  own renderer (tests/tools/render_training). The localiser runs on each
  composite, and every line it proposes on the placed plate's characters
  is a training crop, cut by the reader's own code (ocr/train/proposals.c
  links reader.c), labelled with the plate's text: the network learns to
  read plates as the localiser frames them, a character lost at an end
  included.

With --pseudo FILE, the real European crops that have no text
(plates/eu-unlabelled) join them, labelled by the shipped reader where it
read the clean crop with confidence >= 90 (pseudo_labels.py; the file is
committed): the reader learns to read them small and degraded. Tried, not
shipped: no held-out gain (ocr/models/README.md).

Noisy labels: after two thirds of the epochs, real training crops whose reading
differs from their label by more than two characters are dropped (the
source file names of the br crops are wrong now and then; a pseudo-label
can be wrong too).

Held out, never trained on: plates whose text (us, br) or file name
(fonts) hashes to 0 mod 10 and every tenth render, placed on scenes of
groups never trained on.

usage: train_reader.py PROPOSALS_TOOL OUT_MODEL OUT_VECTORS [--training DIR]
       [--work DIR] [--epochs N] [--seed N] [--render-tool PATH]
       [--renders N] [--font-renders N] [--widths C1,C2,C3,C4,COL]
       [--pseudo FILE] [--folds N --fold K] [--prepare | --reuse]
Prints the held-out report and writes the model and test vectors.
"""
import argparse
import json
import os
import struct
import sys
import time

import numpy as np

import train_verifier as tv
from reader_shape import ALPHABET, BLANK, CLASSES, MAX_TEXT, RH, RW, STEPS

PER = {"us": 8, "br": 2, "font": 1}  # composites made of each crop
PER_PSEUDO = 3  # composites of each pseudo-labelled European crop
REAL = ("us", "br", "eu")  # kinds of real crops (labels may be wrong)


def decode(logits):
    """Greedy CTC over logits[class][step] (as reader.c decodes)."""
    out, prev = [], BLANK
    for c in logits.argmax(0):
        if c != prev and c != BLANK:
            out.append(ALPHABET[c])
        prev = c
    return "".join(out)


def edit_distance(a, b):
    d = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, d[0] = d[0], i
        for j, cb in enumerate(b, 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (ca != cb))
    return d[len(b)]


WIDTHS = (16, 32, 64, 48, 128)  # the four convolutions' channels, the column layer's


def build(torch, widths=WIDTHS):
    nn = torch.nn
    c1, c2, c3, c4, col = widths

    def block(i, o, pool=True):
        return [nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU()] + \
            ([nn.MaxPool2d(2)] if pool else [])

    # 32 x 128 -> 16 x 64 -> 8 x 32 columns; a column layer (kernel 8 x 1)
    # reads each column's features, a 1 x 1 one gives its classes
    return nn.Sequential(*block(1, c1), *block(c1, c2), *block(c2, c3, pool=False),
                         *block(c3, c4, pool=False),
                         nn.Conv2d(c4, col, (RH // 4, 1)), nn.BatchNorm2d(col), nn.ReLU(),
                         nn.Dropout(0.2), nn.Conv2d(col, CLASSES, 1))


def export(torch, model, path):
    """LPRNN01 (ocr/nn.h): 3 x 3 convolutions, then column layers; batch
    normalisation folded into the layer before it."""
    mods = [m for m in model if not isinstance(m, torch.nn.Dropout)]
    layers = []
    i = 0
    while i < len(mods):
        m = mods[i]
        assert isinstance(m, torch.nn.Conv2d), m
        w, b = m.weight.detach(), m.bias.detach()
        i += 1
        if i < len(mods) and isinstance(mods[i], torch.nn.BatchNorm2d):
            bn = mods[i]
            sc = (bn.weight / torch.sqrt(bn.running_var + bn.eps)).detach()
            w = w * sc[:, None, None, None]
            b = (b - bn.running_mean) * sc + bn.bias.detach()
            i += 1
        flags = 0
        if i < len(mods) and isinstance(mods[i], torch.nn.ReLU):
            flags |= 1
            i += 1
        if i < len(mods) and isinstance(mods[i], torch.nn.MaxPool2d):
            flags |= 2
            i += 1
        if m.kernel_size == (3, 3):
            layers.append((1, w.shape[0], flags, w.numpy(), b.numpy()))
        else:
            assert m.kernel_size[1] == 1 and not flags & 2, m
            layers.append((3, w.shape[0], flags, w[:, :, :, 0].numpy(), b.numpy()))
    tv.write_nn(path, (RH, RW), layers)


def load(tool, entries, work, reuse=False):
    """The reader's crops of every plate line, with text, held flag, kind."""
    _, rows, R = tv.run_proposals(tool, entries, work, read=True, reuse=reuse)
    texts, held, kind, keep, raw = [], [], [], [], []
    j = 0
    for r in rows:
        if int(r[8]) != 1:
            continue
        e = entries[int(r[0])]
        which = int(r[9])
        t = "".join(c for c in e[4][which].upper() if c in ALPHABET) if 0 <= which < len(e[4]) else ""
        ok = 1 <= len(t) <= MAX_TEXT and abs(int(r[6]) - len(t)) <= 2
        keep.append(ok)
        texts.append(t)
        held.append(e[2])
        kind.append(e[3])
        raw.append(e[4][which] if 0 <= which < len(e[4]) else "")
        j += 1
    keep = np.array(keep)
    if j != len(R):
        sys.exit("train_reader: %d plate rows but %d reader crops" % (j, len(R)))
    return (R[keep], [t for t, k in zip(texts, keep) if k], np.array(held)[keep],
            np.array(kind)[keep], [t for t, k in zip(raw, keep) if k])


def report(torch, model, X, texts, kind, label):
    model.eval()
    preds = []
    with torch.no_grad():
        for s in range(0, len(X), 256):
            out = model(torch.from_numpy(X[s:s + 256])).reshape(-1, CLASSES, STEPS).numpy()
            preds += [decode(o) for o in out]
    print("%s (plate lines read exactly / within one character):" % label)
    for k in ("us", "br", "eu", "font", "render"):
        m = [i for i in range(len(texts)) if kind[i] == k]
        if not m:
            continue
        ex = sum(preds[i] == texts[i] for i in m)
        one = sum(edit_distance(preds[i], texts[i]) <= 1 for i in m)
        print("  %-6s %5d lines: %5.1f%% / %5.1f%%" % (k, len(m), 100.0 * ex / len(m), 100.0 * one / len(m)))
    return preds


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tool")
    ap.add_argument("out_model")
    ap.add_argument("out_vectors")
    tv.training_args(ap, 31)
    ap.add_argument("--epochs", type=int, default=32)
    ap.add_argument("--render-tool", default=None)
    ap.add_argument("--widths", default=",".join(map(str, WIDTHS)),
                    help="channels of the four convolutions and the column layer")
    ap.add_argument("--renders", type=int, default=1500)
    ap.add_argument("--font-renders", type=int, default=3000)
    ap.add_argument("--prepare", action="store_true",
                    help="make the images and proposals in --work and stop (for --reuse)")
    ap.add_argument("--reuse", action="store_true",
                    help="the images and proposals of an earlier run with the same --work")
    ap.add_argument("--pseudo", default=None,
                    help="pseudo-labels of plates/eu-unlabelled (pseudo_labels.py's FILE TAB TEXT)")
    ap.add_argument("--folds", type=int, default=0,
                    help="with --fold: cross-fitting folds of the real training plates")
    ap.add_argument("--fold", type=int, default=-1,
                    help="train without the real plates of this fold (a fold reader: "
                         "train_confidence.py reads those plates with it)")
    a = ap.parse_args()
    if (a.folds > 0) != (a.fold >= 0) or a.fold >= max(a.folds, 1):
        sys.exit("train_reader: --folds N and --fold K (0 <= K < N) go together")
    import torch
    rng, work = tv.training_setup(a, "read")
    t0 = time.time()
    cache = os.path.join(work, "entries.json")
    if a.reuse and os.path.exists(cache):
        entries = [(p, [tuple(b) for b in bx], h, k, t) for p, bx, h, k, t in json.load(open(cache))]
    else:
        per, eu_labels = dict(PER), None
        if a.pseudo:
            eu_labels = dict(l.rstrip("\n").split("\t")[:2] for l in open(a.pseudo) if "\t" in l)
            per["eu"] = PER_PSEUDO
            print("train_reader: %d pseudo-labelled European crops (%s)" % (len(eu_labels), a.pseudo))
        entries = [e for e in tv.make_composites(a.training, work, rng, a.font_renders,
                                                  kinds=tuple(per), per=per, font_seed=a.seed,
                                                  eu_labels=eu_labels)
                   if e[1]]
        if a.render_tool and a.renders:
            entries += tv.renders(a.render_tool, work, a.renders, a.seed)
    print("train_reader: %d images in %.0f s" % (len(entries), time.time() - t0), flush=True)
    reuse = a.reuse and os.path.exists(cache)
    X, texts, held, kind, raw = load(a.tool, entries, work, reuse)
    if not reuse:  # readers run at once with --reuse share the folder and only read it
        with open(cache + ".part", "w") as f:
            json.dump(entries, f)
        os.replace(cache + ".part", cache)
    if a.prepare:
        print("train_reader: %d plate lines prepared in %s (%.0f s)" % (len(texts), work, time.time() - t0))
        return
    targets = [[ALPHABET.index(c) for c in t] for t in texts]
    tr, te = np.where(~held)[0], np.where(held)[0]
    if a.folds:
        out = np.array([kind[i] in ("us", "br") and tv.fold_of(raw[i], a.folds) == a.fold for i in tr])
        print("train_reader: fold %d of %d: %d real training lines left out" % (a.fold, a.folds, out.sum()))
        tr = tr[~out]
    print("train_reader: plate lines: train %d, held out %d (%.0f s)" %
          (len(tr), len(te), time.time() - t0), flush=True)

    widths = tuple(int(v) for v in a.widths.split(","))
    if len(widths) != 5:
        sys.exit("train_reader: --widths takes five numbers, not %r" % a.widths)
    model = build(torch, widths)
    xt = torch.from_numpy(X)
    lossf = torch.nn.CTCLoss(blank=BLANK, zero_infinity=True)
    F = torch.nn.functional
    opt = torch.optim.Adam(model.parameters(), lr=2e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 3e-3, epochs=a.epochs,
                                                steps_per_epoch=(len(tr) + 127) // 128)
    g = torch.Generator().manual_seed(a.seed)
    active = torch.from_numpy(tr)
    for ep in range(a.epochs):
        if ep == 2 * a.epochs // 3:
            # drop real training crops that disagree with their label by
            # more than two characters (noisy labels)
            real = np.array([kind[i] in REAL for i in tr])
            preds = report(torch, model, X[tr], [texts[i] for i in tr], kind[tr], "training lines")
            bad = np.array([real[j] and edit_distance(preds[j], texts[tr[j]]) > 2 for j in range(len(tr))])
            print("train_reader: dropped %d of %d real training lines as mislabelled" %
                  (bad.sum(), real.sum()), flush=True)
            active = torch.from_numpy(tr[~bad])
        model.train()
        perm = active[torch.randperm(len(active), generator=g)]
        tot = 0.0
        for s in range(0, len(perm), 128):
            b = perm[s:s + 128]
            xb = xt[b]
            # the localiser's box is not pixel-exact: shifts, and contrast
            # the localiser's box is not pixel-exact: scale and shift each
            # crop a little; contrast and noise vary
            nb = len(b)
            theta = torch.zeros(nb, 2, 3)
            sx = 1 + 0.08 * (2 * torch.rand(nb, generator=g) - 1)
            theta[:, 0, 0] = sx
            theta[:, 1, 1] = sx * (1 + 0.08 * (2 * torch.rand(nb, generator=g) - 1))
            theta[:, 0, 1] = 0.04 * (2 * torch.rand(nb, generator=g) - 1)  # shear
            theta[:, 0, 2] = 0.06 * (2 * torch.rand(nb, generator=g) - 1)
            theta[:, 1, 2] = 0.10 * (2 * torch.rand(nb, generator=g) - 1)
            grid = F.affine_grid(theta, xb.shape, align_corners=False)
            xb = F.grid_sample(xb, grid, padding_mode="border", align_corners=False)
            xb = xb * (0.7 + 0.6 * torch.rand(nb, 1, 1, 1, generator=g)) + \
                0.15 * torch.randn(xb.shape, generator=g)
            opt.zero_grad()
            out = model(xb).reshape(nb, CLASSES, STEPS).permute(2, 0, 1).log_softmax(2)
            tg = [targets[int(k)] for k in b]
            loss = lossf(out, torch.tensor([c for t in tg for c in t]),
                         torch.full((nb,), STEPS, dtype=torch.long),
                         torch.tensor([len(t) for t in tg]))
            loss.backward()
            opt.step()
            sched.step()
            tot += float(loss) * len(b)
        print("train_reader: epoch %d loss %.4f (%.0f s)" % (ep + 1, tot / len(perm), time.time() - t0),
              flush=True)
        if ep % 4 == 3 or ep == a.epochs - 1:
            report(torch, model, X[te], [texts[i] for i in te], kind[te], "held-out lines")

    export(torch, model.eval(), a.out_model)
    pick = list(te[:4])
    xs = X[pick]
    with torch.no_grad():
        logits = model(torch.from_numpy(xs)).numpy()
    with open(a.out_vectors, "wb") as f:
        f.write(b"LPRVEC1\n")
        f.write(struct.pack("<3I", len(pick), RH * RW, CLASSES * STEPS))
        for x, y in zip(xs, logits):
            f.write(np.ascontiguousarray(x.reshape(-1), dtype="<f4").tobytes())
            f.write(np.ascontiguousarray(y.reshape(-1), dtype="<f4").tobytes())
    print("train_reader: wrote %s (%d bytes) and %s in %.0f s" %
          (a.out_model, os.path.getsize(a.out_model), a.out_vectors, time.time() - t0))


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Trains the text model of the confidence (the second network in
ocr/models/lpr-confidence.nn): does a text read off a line look like a
licence plate or like a word?

Most false reads in city scenes are lettering: shop signs, banners, ties
on a rack (SAVAGES, C0RBATAS, NECKT1ES). The verifier judges the image,
the reader the glyphs; neither knows that plates are strings of a few
letters and digits drawn at random inside a series, while signs spell
words. A small convolutional network over the characters learns that from
data, for every language's lettering at once, where a list of words or a
threshold would fit the signs it was written for:

- plate-like (1): the labelled real plates of ../shared/training
  (plates/us, plates/br), random strings in 40 series formats of the
  Americas and Europe, random strings of letters and digits, and random
  letters alone (vanity plates, which spell no word of a dictionary);
- word-like (0): words of Debian's word lists (English, Spanish,
  Brazilian Portuguese, German, French, Italian), whole and cut to a
  fragment as the localiser cuts a sign's line, with look-alike
  characters swapped in as the reader reads them (O -> 0, I -> 1, ...)
  and now and then one character misread, lost or doubled (DERVISH read
  DEQVSH); and the other lettering a camera sees that is no plate:
  dates (a month's name in those languages beside a day or a year, NOV25;
  a timestamp's eight digits, 20140512) and ten-digit phone numbers.
  Dates of six digits or fewer are left out: those are plate series too.

Held out, never trained on: real plates and words whose text hashes to 0
mod 10 (crc32, as the other training scripts), and random strings of
another seed. The report gives, per group, the share called plate-like
(logit > 0) and the mean logit.

Input: the text one-hot, TEXT_C (0-9, A-Z, none) x 1 x TEXT_W, left
aligned (confidence.c lpr_text_encode is the same). Network (LPRNN01):
three 3 x 3 convolutions (64 channels, ReLU; with one row only the middle
row of each kernel meets a character, so a unit sees 7 characters) and
two dense layers (640 -> 64 -> 1). Output: a logit, > 0 plate-like.
(Two convolutions of 32 channels, 6 epochs, took 5.2% of held-out words
with the reader's look-alikes for plates and 15.0% of words with two
misreads; this one 2.9% and 11.2%, at 82.7% of random letter strings
called plate-like against 87.9%.)

usage: train_text.py OUT_NN [--vectors FILE] [--training DIR] [--seed N]
(to look at the model alone: train_confidence.py trains it, seed 41, and
appends it to the calibration it fits; the two make the confidence model)
"""
import argparse
import os
import random
import struct
import sys
import zlib

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import render_signs  # noqa: E402

CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
TEXT_C = len(CHARS) + 1  # confidence.h LPR_TEXT_C: the last channel marks "no character"
TEXT_W = 10              # confidence.h LPR_TEXT_W
HIDDEN = 64
SEED = 41  # the shipped text model's (train_confidence.py trains it with it)
# the characters the reader takes a letter for: digits of the same shape,
# and letters that differ by a stroke at 12-16 px (E and B, U and V, N and M)
LOOKALIKE = {"O": "0DQ", "I": "1LT", "S": "58", "B": "8E", "Z": "2", "G": "6C", "D": "0O",
             "A": "4", "T": "1I", "E": "6BF", "Q": "0O", "U": "V0", "V": "UY", "N": "MH",
             "M": "NH", "H": "NM", "R": "BP", "P": "RF", "C": "G", "K": "X", "X": "K",
             "Y": "V", "F": "EP", "L": "1I", "W": "VN", "J": "1"}
# series formats (L letter, N digit, A either): the Americas and Europe,
# with and without their separators read away
FORMATS = [
    "LLLNNNN", "LLLNLNN", "NLLLNNN", "LLLNNN", "NNNLLL", "LLNNNN", "NLLNNN", "LNNLLL",
    "NLLNNNN", "LLLLNNN", "NNNNLL", "LLNNNNN", "NNNLLNN", "LNNNNNN", "NNNNNNN",
    "LLNNNLL", "LLNNLLL", "NNNNLLL", "LNNNNLL", "LLLNNNL", "LLLNNLL", "NNLLLN",
    "NNLLNN", "LLNNLL", "NLLLNN", "NNNLLLN", "LLNLLNN", "LLLNNNNN", "LLNNNNNL",
    "LNLLNNN", "LLLLNNNN", "LLNNNNLL", "LNNNLLL", "NLLNNNNN", "LLNNNN", "LLLNN",
    "NNLNNNN", "LLNNNNN", "NNNNNN", "LNNNNN",
]


def crc(s):
    return zlib.crc32(s.encode()) & 0xFFFFFFFF


def encode(text):
    """TEXT_C x TEXT_W one-hot, left aligned; confidence.c does the same."""
    x = np.zeros((TEXT_C, TEXT_W), np.float32)
    for i in range(TEXT_W):
        c = text[i] if i < len(text) else None
        x[CHARS.index(c) if c is not None and c in CHARS else TEXT_C - 1, i] = 1.0
    return x


def words():
    """The word lists' words of 3-16 letters, upper case, sorted (the
    word-like side; render_signs.py reads the same lists for its signs)."""
    return sorted({w.upper() for w in render_signs.words(longest=16, who="train_text")})


def as_read(rng, w, errors=None):
    """A word as the reader returns it off a sign: maybe a fragment (the
    line cut by a pole or the frame), look-alikes swapped in, and up to two
    characters misread, lost or doubled (a sign's lettering is no plate
    font: the reader gets several of its characters wrong). errors: that
    many misreads exactly (the report's group), else drawn."""
    if len(w) > TEXT_W or rng.random() < 0.3:
        n = rng.randint(4, min(len(w), TEXT_W)) if len(w) >= 4 else len(w)
        s = rng.randint(0, len(w) - n)
        w = w[s:s + n]
    if rng.random() < 0.5:
        w = "".join(rng.choice(LOOKALIKE[c]) if c in LOOKALIKE and rng.random() < 0.15 else c
                    for c in w)
    if errors is None:
        r = rng.random()
        errors = 0 if len(w) < 5 or r < 0.65 else 1 if r < 0.87 else 2
    for _ in range(errors):
        w = misread(rng, w)[:TEXT_W]
    return w


MONTHS = sorted(set(
    "JAN FEB MAR APR MAY JUN JUL AUG SEP SEPT OCT NOV DEC "  # English
    "ENE ABR AGO DIC "                                        # Spanish
    "FEV MAI SET OUT DEZ "                                    # Portuguese
    "MRZ OKT "                                                # German
    "JANV FEVR AVR JUIN JUIL AOUT "                           # French
    "GEN MAG GIU LUG OTT".split()))                           # Italian


def misread(rng, w):
    """One character of a read word misread (half the time as a look-alike),
    lost or doubled."""
    i = rng.randrange(len(w))
    r = rng.random()
    if r < 0.25 and w[i] in LOOKALIKE:
        return w[:i] + rng.choice(LOOKALIKE[w[i]]) + w[i + 1:]
    if r < 0.5:
        return w[:i] + rng.choice(CHARS) + w[i + 1:]
    if r < 0.8 and len(w) > 4:
        return w[:i] + w[i + 1:]
    return w[:i] + w[i] + w[i:]


def lettering(rng):
    """Text on a sign, a van or a burnt-in timestamp that is no word and no
    plate: dates and phone numbers."""
    r = rng.random()
    day, year = rng.randint(1, 31), rng.randint(1990, 2035)
    if r < 0.5:
        m = rng.choice(MONTHS)
        parts = [m, "%d" % day] if rng.random() < 0.5 else ["%02d" % day, m]
        if rng.random() < 0.3:
            parts.append("%d" % year if rng.random() < 0.5 else "%02d" % (year % 100))
        return "".join(parts)[:TEXT_W]
    if r < 0.8:
        mon = rng.randint(1, 12)
        return rng.choice(("%04d%02d%02d" % (year, mon, day), "%02d%02d%04d" % (day, mon, year),
                           "%02d%02d%04d" % (mon, day, year)))
    return "%d%09d" % (rng.randint(2, 9), rng.randrange(10 ** 9))


def series(rng):
    fmt = rng.choice(FORMATS)
    return "".join(rng.choice(CHARS[10:]) if c == "L" else rng.choice(CHARS[:10]) if c == "N"
                   else rng.choice(CHARS) for c in fmt)


def random_text(rng, letters_only):
    n = rng.randint(4, 8)
    pool = CHARS[10:] if letters_only else CHARS
    return "".join(rng.choice(pool) for _ in range(n))


def labels(training, kind):
    out = set()
    p = os.path.join(training, "openalpr-train", "plates", kind, "labels.tsv")
    with open(p) as f:
        for l in f:
            v = l.rstrip("\n").split("\t")
            if len(v) >= 2:
                t = "".join(c for c in v[1].upper() if c in CHARS)
                if 4 <= len(t) <= TEXT_W:
                    out.add(t)
    return sorted(out)


def dataset(rng, training, held, n):
    """(texts, y, group) of about n examples, half plate-like."""
    ws = [w for w in words() if (crc(w) % 10 == 0) == held]
    real = {k: [t for t in labels(training, k) if (crc(t) % 10 == 0) == held] for k in ("us", "br")}
    out = []
    for _ in range(n // 2):
        if rng.random() < 0.1:
            t = lettering(rng)
            if (crc(t) % 10 == 0) == held:
                out.append((t, 0, "dates, phones"))
                continue
        if held and rng.random() < 0.3:
            out.append((as_read(rng, rng.choice(ws), errors=2), 0, "words, 2 misreads"))
            continue
        out.append((as_read(rng, rng.choice(ws)), 0, "words"))
    for i in range(n // 2):
        r = rng.random()
        if r < 0.25:
            k = "us" if rng.random() < 0.5 else "br"
            out.append((rng.choice(real[k]), 1, "plates " + k))
        elif r < 0.75:
            out.append((series(rng), 1, "series"))
        elif r < 0.9:
            out.append((random_text(rng, False), 1, "random"))
        else:
            out.append((random_text(rng, True), 1, "random letters"))
    return out


def build():
    import torch
    return torch.nn.Sequential(
        torch.nn.Conv2d(TEXT_C, HIDDEN, 3, padding=1), torch.nn.ReLU(),
        torch.nn.Conv2d(HIDDEN, HIDDEN, 3, padding=1), torch.nn.ReLU(),
        torch.nn.Conv2d(HIDDEN, HIDDEN, 3, padding=1), torch.nn.ReLU(),
        torch.nn.Flatten(), torch.nn.Linear(HIDDEN * TEXT_W, HIDDEN), torch.nn.ReLU(),
        torch.nn.Linear(HIDDEN, 1))


def logits(m, texts):
    import torch
    with torch.no_grad():
        x = torch.from_numpy(np.stack([encode(t) for t in texts])[:, :, None, :])
        return m(x).squeeze(1).numpy()


def write(m, f):
    """One LPRNN01 block (ocr/nn.h): the convolutions (3 x 3, ReLU), then
    the dense layers, the last without ReLU."""
    layers = [k for k, mod in enumerate(m) if hasattr(mod, "weight")]
    f.write(b"LPRNN01\n")
    f.write(struct.pack("<4I", TEXT_C, 1, TEXT_W, len(layers)))
    for n, k in enumerate(layers):
        conv = isinstance(m[k], type(m[0]))
        out = m[k].weight.shape[0]
        f.write(struct.pack("<3I", 1 if conv else 2, out, 0 if n == len(layers) - 1 else 1))
    for k in layers:
        f.write(m[k].weight.detach().numpy().astype("<f4").tobytes())
        f.write(m[k].bias.detach().numpy().astype("<f4").tobytes())


def write_vectors(m, path):
    """Texts and their logits, for test_reader (C against PyTorch)."""
    texts = ["SAVAGES", "C0RBATAS", "7ABC123", "RK099AN", "AB", "ABCDEFGHIJKLMN", "NEILDMND"]
    with open(path, "w") as f:
        for t, z in zip(texts, logits(m, texts)):
            f.write("%s\t%.6f\n" % (t, z))


def train(training, seed, epochs=8, n=200000, log=print):
    import torch
    torch.manual_seed(seed)
    torch.set_num_threads(2)
    rng = random.Random(seed)
    tr = dataset(rng, training, False, n)
    X = torch.from_numpy(np.stack([encode(t) for t, _, _ in tr])[:, :, None, :])
    y = torch.tensor([float(v) for _, v, _ in tr])
    m = build()
    opt = torch.optim.Adam(m.parameters(), lr=2e-3)
    lossf = torch.nn.BCEWithLogitsLoss()
    g = torch.Generator().manual_seed(seed)
    for ep in range(epochs):
        perm = torch.randperm(len(y), generator=g)
        tot = 0.0
        for b in range(0, len(y), 256):
            i = perm[b:b + 256]
            opt.zero_grad()
            loss = lossf(m(X[i]).squeeze(1), y[i])
            loss.backward()
            opt.step()
            tot += float(loss) * len(i)
        log("train_text: epoch %d loss %.4f" % (ep + 1, tot / len(y)))
    m.eval()
    held = dataset(random.Random(seed + 1), training, True, 20000)
    z = logits(m, [t for t, _, _ in held])
    log("train_text: held-out report (texts never trained on), share called plate-like (logit > 0):")
    for grp in ("plates us", "plates br", "series", "random", "random letters", "words",
                "words, 2 misreads", "dates, phones"):
        k = np.array([g_ == grp for _, _, g_ in held])
        log("  %-17s %5d texts  %5.1f%% plate-like  mean logit %+.2f" %
            (grp, k.sum(), 100 * (z[k] > 0).mean(), z[k].mean()))
    for t in ("SAVAGES", "C0RBATAS", "NECKT1ES", "FZRULZ", "NEILDMND", "RK099AN", "7ABC123",
              "DEQVSH", "NOV25", "20140512", "EUS664", "5DJ0529"):
        log("  e.g. %-9s %+.2f" % (t, logits(m, [t])[0]))
    return m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out_nn")
    ap.add_argument("--vectors", help="write test vectors (texts and logits) for test_confidence")
    ap.add_argument("--training", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                       "..", "..", "..", "shared", "training"))
    ap.add_argument("--seed", type=int, default=SEED)
    a = ap.parse_args()
    m = train(a.training, a.seed)
    with open(a.out_nn, "wb") as f:
        write(m, f)
    if a.vectors:
        write_vectors(m, a.vectors)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Train lpr-edge's per-character classifier from export_glyphs records.

Input: the records export_glyphs writes (u8 label, u8 source, u16 copy,
u32 group, f32 features[F]).  Output: an LPRCLF1 model (see ocr/classify.h)
read by lpr_charclf_load().

A small multi-layer perceptron (ReLU hidden layers, softmax output) trained
with Adam on standardised features.  Samples whose group hash is 0 mod 10
are held out: for plate crops the group is the plate text, so every glyph of
a held-out plate is held out, at every scale.  The held-out per-glyph error
is printed per source.  Deterministic: fixed seed, fixed order.

Uses only numpy (Debian python3-numpy); run with /usr/bin/python3.
"""
import argparse
import struct
import sys
import time

import numpy as np

FEATS = 20 * 28 + 2
CLASSES = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
REC = np.dtype([("label", "u1"), ("source", "u1"), ("copy", "<u2"),
                ("group", "<u4"), ("feat", "<f4", (FEATS,))])


def load(paths):
    parts = [np.fromfile(p, dtype=REC) for p in paths]
    recs = np.concatenate(parts)
    labels = np.array([chr(c).upper() for c in recs["label"]])
    keep = np.isin(labels, list(CLASSES))
    recs, labels = recs[keep], labels[keep]
    y = np.searchsorted(np.array(list(CLASSES)), labels)
    return recs, y


def init(dims, rng):
    layers = []
    for i in range(len(dims) - 1):
        w = rng.standard_normal((dims[i + 1], dims[i])).astype(np.float32)
        w *= np.sqrt(2.0 / dims[i])
        layers.append([w, np.zeros(dims[i + 1], np.float32)])
    return layers


def forward(layers, x):
    acts = [x]
    for i, (w, b) in enumerate(layers):
        z = acts[-1] @ w.T + b
        if i < len(layers) - 1:
            z = np.maximum(z, 0)
        acts.append(z)
    z = acts[-1] - acts[-1].max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    return acts, p


def train(x, y, wts, dims, epochs, rng, epoch_size, lr=1e-3, batch=256, l2=1e-4):
    layers = init(dims, rng)
    m = [[np.zeros_like(a) for a in l] for l in layers]
    v = [[np.zeros_like(a) for a in l] for l in layers]
    t = 0
    n = len(x)
    prob = wts / wts.sum()
    for ep in range(epochs):
        # sample with replacement by weight: real crops count more than pages
        order = rng.choice(n, size=epoch_size, replace=True, p=prob)
        rate = lr * (0.5 ** (ep // max(1, epochs // 3)))
        loss_sum = 0.0
        for s in range(0, n, batch):
            idx = order[s:s + batch]
            xb = x[idx]
            # feature noise: a little robustness to binarisation jitter
            xb = xb + rng.standard_normal(xb.shape).astype(np.float32) * 0.1
            t += 1
            acts, p = forward(layers, xb)
            yb = y[idx]
            loss_sum += -np.log(p[np.arange(len(idx)), yb] + 1e-9).sum()
            g = p
            g[np.arange(len(idx)), yb] -= 1
            g /= len(idx)
            for i in range(len(layers) - 1, -1, -1):
                w, b = layers[i]
                gw = g.T @ acts[i] + l2 * w
                gb = g.sum(axis=0)
                if i > 0:
                    g = (g @ w) * (acts[i] > 0)
                for j, gr in enumerate((gw, gb)):
                    m[i][j] = 0.9 * m[i][j] + 0.1 * gr
                    v[i][j] = 0.999 * v[i][j] + 0.001 * gr * gr
                    mh = m[i][j] / (1 - 0.9 ** t)
                    vh = v[i][j] / (1 - 0.999 ** t)
                    layers[i][j] -= (rate * mh / (np.sqrt(vh) + 1e-8)).astype(np.float32)
        print(f"  epoch {ep + 1}/{epochs}: loss {loss_sum / epoch_size:.4f}", flush=True)
    return layers


def predict(layers, x):
    out = []
    for s in range(0, len(x), 4096):
        out.append(forward(layers, x[s:s + 4096])[1].argmax(axis=1))
    return np.concatenate(out) if out else np.zeros(0, int)


def write_model(path, layers, mean, scale):
    dims = [layers[0][0].shape[1]] + [w.shape[0] for w, _ in layers]
    with open(path, "wb") as f:
        f.write(b"LPRCLF1\n")
        f.write(struct.pack("<I", len(layers)))
        f.write(struct.pack(f"<{len(dims)}I", *dims))
        f.write(CLASSES.encode())
        f.write(mean.astype("<f4").tobytes())
        f.write(scale.astype("<f4").tobytes())
        for w, b in layers:
            f.write(w.astype("<f4").tobytes())
            f.write(b.astype("<f4").tobytes())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", help="model file to write (LPRCLF1)")
    ap.add_argument("records", nargs="+", help="export_glyphs output files")
    ap.add_argument("--hidden", default="256,128")
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--crop-weight", type=float, default=4.0,
                    help="sampling weight of real plate-crop glyphs (sources 0-1) "
                         "relative to glyph-page samples")
    ap.add_argument("--synth-weight", type=float, default=0.3,
                    help="sampling weight of rendered plates (sources 9+)")
    ap.add_argument("--epoch-size", type=int, default=120000,
                    help="samples drawn per epoch (by weight, with replacement)")
    ap.add_argument("--all", action="store_true",
                    help="train on held-out groups too (final model)")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()

    t0 = time.time()
    recs, y = load(a.records)
    x = recs["feat"].astype(np.float32)
    if not np.isfinite(x).all():
        sys.exit("train_classifier: non-finite features in input")
    held = (recs["group"] % 10) == 0
    src = recs["source"]
    print(f"train_classifier: {len(x)} glyphs, {held.sum()} held out "
          f"({len(np.unique(recs['group'][held]))} groups)")
    fit = np.ones(len(x), bool) if a.all else ~held
    mean = x[fit].mean(axis=0)
    scale = 1.0 / (x[fit].std(axis=0) + 1e-3)
    xs = ((x - mean) * scale).astype(np.float32)
    wts = np.where(src <= 1, a.crop_weight,
                   np.where(src >= 9, a.synth_weight, 1.0)).astype(np.float64)
    rng = np.random.default_rng(a.seed)
    dims = [FEATS] + [int(h) for h in a.hidden.split(",") if h] + [len(CLASSES)]
    layers = train(xs[fit], y[fit], wts[fit], dims, a.epochs, rng, a.epoch_size)

    pred = predict(layers, xs[held])
    yh, sh = y[held], src[held]
    print("held-out per-glyph error by source (0 us crops, 1 br crops, 2-8 glyph pages, 9 renders):")
    for s in np.unique(sh):
        sel = sh == s
        err = (pred[sel] != yh[sel]).mean() * 100
        print(f"  source {s}: {sel.sum():6d} glyphs, error {err:5.1f}%")
    if len(yh):
        print(f"  all      : {len(yh):6d} glyphs, error {(pred != yh).mean() * 100:5.1f}%")
        wrong = pred != yh
        pairs = {}
        for t, p in zip(yh[wrong], pred[wrong]):
            k = CLASSES[t] + ">" + CLASSES[p]
            pairs[k] = pairs.get(k, 0) + 1
        top = sorted(pairs.items(), key=lambda kv: -kv[1])[:12]
        print("  most confused (truth>read):", " ".join(f"{k}:{v}" for k, v in top))
    write_model(a.out, layers, mean, scale)
    print(f"train_classifier: wrote {a.out} in {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()

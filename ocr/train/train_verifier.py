#!/usr/bin/python3
"""Trains the plate verifier (ocr/models/lpr-verify.nn): is a line the
localiser proposes a licence plate's characters or not?

Data, all from ../shared/training (never ../shared/datasets):
  positives  real plate crops (plates/us, plates/br, plates/eu-unlabelled)
             placed in plate-free scenes at the sizes plates have in street
             photos (60-320 px wide in a 1280 px frame), tilted, blurred and
             JPEG-compressed; the localiser runs on the composite and the
             lines it proposes inside the placed plate are positives;
             plates in Debian's fonts (render_plates.py, as the classifier's
             renders) placed the same way; and scenes of the project's own
             renderer (tests/tools/render_training: the renders the tests,
             golden files and demo read);
  negatives  every line the localiser proposes on the plate-free scenes
             (negatives/), and those away from the placed plate.
The crops are cut by the reader's own code (ocr/train/proposals.c links
verify.c), so the network sees at training what it sees when reading.

Held out, never trained on: plates whose text (us, br) or file (eu) hashes
to 0 mod 10, and whole groups of plate-free scenes (frames of one video;
the independent neg-* crops by file), with their composites.

usage: train_verifier.py PROPOSALS_TOOL OUT_MODEL OUT_VECTORS [--training DIR]
       [--work DIR] [--epochs N] [--seed N] [--render-tool PATH] [--renders N]
       [--font-renders N]
Prints the held-out report; writes the model and a few test vectors (crop,
expected output) the C test compares against.
"""
import argparse
import math
import multiprocessing
import os
import random
import re
import struct
import subprocess
import sys
import time
import zlib

import numpy as np
from PIL import Image, ImageFilter

H, W = 32, 128  # verify.h LPR_VERIFY_H_PX, LPR_VERIFY_W_PX


def crc(s):
    return zlib.crc32(s.encode()) & 0xFFFFFFFF


def fold_of(text, folds):
    """The cross-fitting fold of a real training plate (one the reader is
    not held out from: crc % 10 != 0), by its text so a plate's every
    placement falls in one fold; independent of the held-out split."""
    return (crc(text) // 10) % folds


def scene_group(name):
    g = re.match(r"[A-Za-z_]+", name)
    return g.group(0).rstrip("_") if g else name


def scene_held(name):
    g = scene_group(name)
    if g == "neg":  # independent crops, not frames of a video
        return crc(name) % 10 == 0
    return crc(g) % 4 == 0


def plate_crops(root):
    """(path, held_out) for every real plate crop."""
    out = []
    for sub in ("us", "br"):
        with open(os.path.join(root, "plates", sub, "labels.tsv")) as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) >= 2:
                    out.append((os.path.join(root, "plates", sub, parts[0]),
                                crc(parts[1]) % 10 == 0, sub, parts[1]))
    eu = os.path.join(root, "plates", "eu-unlabelled")
    for name in sorted(os.listdir(eu)):
        if name.lower().endswith(".jpg"):
            out.append((os.path.join(eu, name), crc(name) % 10 == 0, "eu", "?"))
    return out


def place(bg, crop, rng):
    """Pastes a plate crop into a scene; returns the composite and the box."""
    bw, bh = bg.size
    pw = int(bw * math.exp(rng.uniform(math.log(0.05), math.log(0.25))))
    ph = max(8, int(pw * crop.size[1] / crop.size[0] * rng.uniform(0.85, 1.15)))
    pl = crop.resize((pw, ph), Image.BILINEAR)
    # contrast and brightness as light and exposure vary
    a = np.asarray(pl, dtype=np.float32)
    a = (a - a.mean()) * rng.uniform(0.6, 1.2) + a.mean() + rng.uniform(-40, 30)
    pl = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    angle = rng.uniform(-5, 5)
    if abs(angle) > 0.5:
        mask = Image.new("L", pl.size, 255).rotate(angle, expand=True, resample=Image.BILINEAR)
        pl = pl.rotate(angle, expand=True, resample=Image.BILINEAR)
    else:
        mask = None
    x = rng.randint(0, max(0, bw - pl.size[0]))
    y = rng.randint(int(bh * 0.2), max(int(bh * 0.2), bh - pl.size[1]))
    out = bg.copy()
    out.paste(pl, (x, y), mask)
    r = rng.uniform(0, 1.3)
    if r > 0.3:
        out = out.filter(ImageFilter.GaussianBlur(r * pw / 300.0 + 0.2))
    # box of the unrotated plate around the pasted centre
    cx, cy = x + pl.size[0] / 2, y + pl.size[1] / 2
    box = (int(cx - pw / 2), int(cy - ph / 2), pw, ph)
    return out, box


def composite(task):
    """One composite (make_composites' worker): the crop placed in the scene
    with the task's own seed, saved; returns the plate's box."""
    path, bgp, seed, out = task
    r = random.Random(seed)
    with Image.open(path) as im:
        crop = im.convert("L")
    with Image.open(bgp) as im:
        bg = im.convert("L")
    comp, box = place(bg, crop, r)
    comp.save(out, quality=r.randint(40, 90))
    return box


def make_composites(training, work, rng, font_renders, kinds=("us", "br", "eu", "font"),
                    per=None, font_seed=5, signs=0, eu_labels=None):
    """Plate-free scenes and composites: (path, boxes, held, kind, texts).
    per: composites made of each crop, by kind; signs: scenes with signs
    drawn in (render_signs.py, kind "sign", no plate); eu_labels: file name
    -> text for the unlabelled European crops (pseudo_labels.py): given,
    only the crops it names are placed, with that text."""
    negdir = os.path.join(training, "negatives")
    scenes = sorted(n for n in os.listdir(negdir) if n.lower().endswith(".jpg"))
    bgs = {False: [], True: []}
    entries = []  # (path, boxes, held)
    for n in scenes:
        p = os.path.join(negdir, n)
        held = scene_held(n)
        entries.append((p, [], held, "scene", []))
        with Image.open(p) as im:
            if im.size[0] >= 640:
                bgs[held].append(p)
    crops = plate_crops(os.path.join(training, "openalpr-train"))
    if font_renders:
        d = os.path.join(os.path.dirname(os.path.abspath(__file__)), "render_plates.py")
        out = os.path.join(work, "fonts")
        subprocess.run([sys.executable, d, out, str(font_renders), "--seed", str(font_seed)], check=True,
                       stdout=subprocess.DEVNULL)
        labels = dict(l.rstrip("\n").split("\t")[:2] for l in open(os.path.join(out, "labels.tsv")))
        for name in sorted(os.listdir(out)):
            if name.endswith(".jpg"):
                crops.append((os.path.join(out, name), crc(name) % 10 == 0, "font",
                              labels.get(name, "?")))
    os.makedirs(os.path.join(work, "comp"), exist_ok=True)
    per = per or {"us": 3, "br": 1, "eu": 1, "font": 1}
    # drawn in order from rng (the scene and a seed for each composite),
    # then made one process per core: the same files whatever the order
    # the processes finish in
    tasks, meta = [], []
    for path, held, kind, text in crops:
        if kind not in kinds:
            continue
        if kind == "eu" and eu_labels is not None:
            text = eu_labels.get(os.path.basename(path))
            if text is None:
                continue
        for _ in range(per[kind]):
            out = os.path.join(work, "comp", "c%05d.jpg" % len(tasks))
            tasks.append((path, rng.choice(bgs[held]), rng.getrandbits(32), out))
            meta.append((out, held, kind, text))
    with multiprocessing.Pool(2) as pool:
        boxes = pool.map(composite, tasks, chunksize=32)
    for (out, held, kind, text), box in zip(meta, boxes):
        entries.append((out, [box], held, kind, [text]))
    if signs:
        import render_signs
        fl, wl = render_signs.fonts(), render_signs.words()
        os.makedirs(os.path.join(work, "signs"), exist_ok=True)
        for i in range(signs):
            name = "s%05d.jpg" % i
            held = crc(name) % 10 == 0
            with Image.open(rng.choice(bgs[held])) as im:
                comp = im.convert("L")
            for _ in range(rng.randint(1, 3)):
                comp = render_signs.sign(rng, comp, fl, wl)
            out = os.path.join(work, "signs", name)
            comp.save(out, quality=rng.randint(40, 90))
            entries.append((out, [], held, "sign", []))
    return entries


def renders(tool, work, count, seed):
    """Scenes of the project's renderer: (path, boxes, held, "render", texts)."""
    rdir = os.path.join(work, "renders")
    os.makedirs(rdir, exist_ok=True)
    out = subprocess.run([tool, rdir, str(count), str(seed)], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    entries = []
    for i, line in enumerate(out.splitlines()):
        path, boxes, texts = line.split("\t")
        entries.append((path, [tuple(int(v) for v in b.split(",")) for b in boxes.split(";")],
                        i % 10 == 0, "render", texts.split(";")))
    return entries


def run_proposals(tool, entries, work, read=False, reuse=False):
    """Runs the proposals tool over the entries, one process per core over
    halves of the list. Returns the verifier crops, the tsv rows (first
    field: the entry's index) and, with read, the reader crops of the
    label-1 rows (None otherwise). reuse: read what an earlier run wrote."""
    from reader_shape import RH, RW
    f32, tsv, rd = (os.path.join(work, n) for n in ("crops.f32", "crops.tsv", "read.f32"))
    half = (len(entries) + 1) // 2
    lines = [p + ("\t" + ";".join("%d,%d,%d,%d" % b for b in boxes) if boxes else "") + "\n"
             for p, boxes, _, _, _ in entries]
    procs = []
    for i in range(0 if reuse else 2):  # reuse writes nothing: fold readers share the folder
        part = os.path.join(work, "list%d.txt" % i)
        with open(part, "w") as f:
            f.writelines(lines[i * half:(i + 1) * half])
        args = [tool, part, f32 + str(i), tsv + str(i), "16"] + ([rd + str(i)] if read else [])
        procs.append(subprocess.Popen(args, stderr=subprocess.DEVNULL))
    for p in procs:
        if p.wait() != 0:
            sys.exit("%s: proposals failed" % os.path.basename(sys.argv[0]))
    X, R, rows = [], [], []
    for i in range(2):
        X.append(np.fromfile(f32 + str(i), dtype=np.float32).reshape(-1, 1, H, W))
        if read:
            R.append(np.fromfile(rd + str(i), dtype=np.float32).reshape(-1, 1, RH, RW))
        r = [l.split("\t") for l in open(tsv + str(i)).read().splitlines()]
        for row in r:
            row[0] = str(int(row[0]) + i * half)
        rows += r
    return np.concatenate(X), rows, (np.concatenate(R) if read else None)


def load_proposals(tool, entries, work):
    X, rows, _ = run_proposals(tool, entries, work)
    idx = np.array([int(r[0]) for r in rows])
    label = np.array([int(r[8]) for r in rows])
    held = np.array([entries[i][2] for i in idx])
    synth = np.array([bool(entries[i][1]) for i in idx])
    kind = np.array([entries[i][3] for i in idx])
    return X, label, held, synth, kind


def build(torch):
    nn = torch.nn

    def block(i, o):
        return [nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU(), nn.MaxPool2d(2)]

    return nn.Sequential(*block(1, 8), *block(8, 16), *block(16, 32), *block(32, 32),
                         nn.Flatten(), nn.Linear(32 * 2 * 8, 32), nn.ReLU(), nn.Linear(32, 1))


def export(torch, model, path, shape=None):
    """LPRNN01 (ocr/nn.h), batch normalisation folded into the convolutions;
    shape: the input (h, w), the verifier's by default. Each convolution is
    Conv2d, BatchNorm2d, ReLU and an optional MaxPool2d."""
    ih, iw = shape or (H, W)
    mods = list(model)
    layers = []
    i = 0
    while i < len(mods):
        m = mods[i]
        if isinstance(m, torch.nn.Conv2d):
            bn = mods[i + 1]
            s = (bn.weight / torch.sqrt(bn.running_var + bn.eps)).detach()
            w = m.weight.detach() * s[:, None, None, None]
            b = (m.bias.detach() - bn.running_mean) * s + bn.bias.detach()
            pool = i + 3 < len(mods) and isinstance(mods[i + 3], torch.nn.MaxPool2d)
            layers.append((1, w.shape[0], 1 | (2 if pool else 0), w.numpy(), b.numpy()))
            i += 4 if pool else 3
        elif isinstance(m, torch.nn.Linear):
            relu = i + 1 < len(mods) and isinstance(mods[i + 1], torch.nn.ReLU)
            layers.append((2, m.out_features, 1 if relu else 0,
                           m.weight.detach().numpy(), m.bias.detach().numpy()))
            i += 2 if relu else 1
        else:
            i += 1
    write_nn(path, (ih, iw), layers)


def write_nn(path, shape, layers):
    """Writes an LPRNN01 file of one grey input channel of shape (h, w);
    layers: (kind, out, flags, weights, biases), kinds and flags of nn.h."""
    with open(path, "wb") as f:
        f.write(b"LPRNN01\n")
        f.write(struct.pack("<4I", 1, shape[0], shape[1], len(layers)))
        for kind, out, flags, _, _ in layers:
            f.write(struct.pack("<3I", kind, out, flags))
        for _, _, _, w, b in layers:
            f.write(np.ascontiguousarray(w, dtype="<f4").tobytes())
            f.write(np.ascontiguousarray(b, dtype="<f4").tobytes())


def training_args(ap, seed):
    """The options every training script takes: data, scratch folder, seed."""
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--training", default=os.path.join(here, "../../../shared/training"))
    ap.add_argument("--work", default=None)
    ap.add_argument("--seed", type=int, default=seed)


def threads():
    """PyTorch threads for one training: LPR_TRAIN_THREADS, default 2."""
    return max(1, int(os.environ.get("LPR_TRAIN_THREADS", "2")))


def training_setup(a, name):
    """What every training script does first, from its parsed options:
    seeds PyTorch, runs it on the machine's two cores (LPR_TRAIN_THREADS:
    fewer, when train-networks.sh runs two trainings at once), and returns
    the seeded random source and the scratch folder (made if missing)."""
    import torch
    torch.manual_seed(a.seed)
    torch.set_num_threads(threads())
    work = a.work or os.path.join("/tmp", "lpr-%s-%d" % (name, os.getpid()))
    os.makedirs(work, exist_ok=True)
    return random.Random(a.seed), work


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tool")
    ap.add_argument("out_model")
    ap.add_argument("out_vectors")
    training_args(ap, 11)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--render-tool", default=None)
    ap.add_argument("--renders", type=int, default=1500)
    ap.add_argument("--font-renders", type=int, default=1500)
    ap.add_argument("--signs", type=int, default=0,
                    help="scenes with signs drawn in (render_signs.py; tried at 1500: not shipped, see ocr/models/README.md)")
    a = ap.parse_args()
    import torch
    rng, work = training_setup(a, "verify")
    t0 = time.time()
    entries = make_composites(a.training, work, rng, a.font_renders, signs=a.signs)
    if a.render_tool and a.renders:
        entries += renders(a.render_tool, work, a.renders, a.seed)
    print("train_verifier: %d images (%d composites) in %.0f s" %
          (len(entries), sum(1 for e in entries if e[1]), time.time() - t0), flush=True)
    X, label, held, synth, kind = load_proposals(a.tool, entries, work)
    keep = label >= 0
    X, label, held, synth, kind = X[keep], label[keep], held[keep], synth[keep], kind[keep]
    tr, te = ~held, held
    print("train_verifier: proposals: train %d (%d plates), held out %d (%d plates), %.0f s" %
          (tr.sum(), label[tr].sum(), te.sum(), label[te].sum(), time.time() - t0), flush=True)

    model = build(torch)
    xt = torch.from_numpy(X[tr])
    yt = torch.from_numpy(label[tr].astype(np.float32))
    pos = float(yt.sum())
    lossf = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor((len(yt) - pos) / max(pos, 1.0)))
    opt = torch.optim.Adam(model.parameters(), lr=2e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, a.epochs)
    g = torch.Generator().manual_seed(a.seed)
    for ep in range(a.epochs):
        model.train()
        perm = torch.randperm(len(yt), generator=g)
        tot = 0.0
        for s in range(0, len(perm), 128):
            b = perm[s:s + 128]
            xb = xt[b]
            # small shifts: the localiser's line box is not pixel-exact
            dx, dy = int(torch.randint(-3, 4, (1,), generator=g)), int(torch.randint(-2, 3, (1,), generator=g))
            xb = torch.roll(xb, shifts=(dy, dx), dims=(2, 3))
            opt.zero_grad()
            loss = lossf(model(xb).squeeze(1), yt[b])
            loss.backward()
            opt.step()
            tot += float(loss) * len(b)
        sched.step()
        print("train_verifier: epoch %d loss %.4f (%.0f s)" % (ep + 1, tot / len(yt), time.time() - t0),
              flush=True)

    model.eval()
    with torch.no_grad():
        p = torch.sigmoid(model(torch.from_numpy(X[te])).squeeze(1)).numpy()
    yh = label[te]
    sy = synth[te]
    print("held-out report (plates never trained on, scenes of groups never trained on):")
    print("  %d plate lines, %d non-plate lines (%d of them from plate-free scenes alone)" %
          ((yh == 1).sum(), (yh == 0).sum(), ((yh == 0) & ~sy).sum()))
    kh = kind[te]
    for thr in (0.3, 0.5, 0.7, 0.9):
        rec = (p[yh == 1] >= thr).mean()
        fpr = (p[yh == 0] >= thr).mean()
        per = ", ".join("%s %.1f%%" % (k, 100 * (p[(yh == 1) & (kh == k)] >= thr).mean())
                        for k in ("us", "br", "eu", "font", "render") if ((yh == 1) & (kh == k)).any())
        print("  p >= %.1f: plates kept %.1f%% (%s); non-plates kept %.2f%%, on plate-free scenes %.2f%%" %
              (thr, 100 * rec, per, 100 * fpr, 100 * (p[(yh == 0) & ~sy] >= thr).mean()))
        if (kh == "sign").any():
            print("            lines on signs kept %.2f%%" % (100 * (p[kh == "sign"] >= thr).mean()))
    export(torch, model, a.out_model)
    # test vectors: a few held-out crops and the network's raw output (logit)
    pick = list(np.where(yh == 1)[0][:3]) + list(np.where(yh == 0)[0][:3])
    xs = X[te][pick]
    with torch.no_grad():
        logit = model(torch.from_numpy(xs)).squeeze(1).numpy()
    with open(a.out_vectors, "wb") as f:
        f.write(b"LPRVEC1\n")
        f.write(struct.pack("<3I", len(pick), H * W, 1))
        for x, y in zip(xs, logit):
            f.write(np.ascontiguousarray(x.reshape(-1), dtype="<f4").tobytes())
            f.write(struct.pack("<f", float(y)))
    print("train_verifier: wrote %s (%d bytes) and %s in %.0f s" %
          (a.out_model, os.path.getsize(a.out_model), a.out_vectors, time.time() - t0))


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Plate-level error on the held-out training crops.

The plates whose text hashes to 0 mod 10 (FNV-1a, as export_glyphs groups
them) are never trained on.  Each held-out crop is read by `lpr read` at full
size, and scaled to 60 and 32 px high (the benchmark's plates are 25-35 px
high) and pasted into a 640x400 scene; a crop counts as read when some
plate's first candidate is its label.  Prints one line per set and scale.

usage: eval_crops.py LPR TRAINING_DIR [--char-model FILE|none] [--model NAME]
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile

from PIL import Image, ImageFilter


def fnv1a(s):
    h = 2166136261
    for c in s.encode():
        h = ((h ^ c) * 16777619) & 0xFFFFFFFF
    return h


def held_out(plates_dir):
    out = []
    with open(os.path.join(plates_dir, "labels.tsv")) as f:
        for line in f:
            cols = line.rstrip("\r\n").split("\t")
            if len(cols) < 2:
                continue
            plate = "".join(c for c in cols[1].upper() if c.isalnum())
            if plate and fnv1a(plate) % 10 == 0:
                out.append((cols[0], plate))
    return out


def run(lpr, files, region, extra):
    res = subprocess.run([lpr, "read", "--json", "--region", region] + extra + files,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    reads = {}
    for line in res.stdout.splitlines():
        j = json.loads(line)
        reads[os.path.basename(j["file"])] = [p["text"] for p in j.get("plates", [])]
    return reads


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("lpr")
    ap.add_argument("training")
    ap.add_argument("--char-model")
    ap.add_argument("--model")
    a = ap.parse_args()
    extra = []
    if a.char_model:
        extra += ["--char-model", a.char_model]
    if a.model:
        extra += ["--model", a.model]
    total_ok = total = 0
    for region in ("us", "br"):
        d = os.path.join(a.training, "plates", region)
        items = held_out(d)
        for height in (0, 60, 32):
            with tempfile.TemporaryDirectory() as tmp:
                files = []
                for name, _ in items:
                    src = os.path.join(d, name)
                    if height == 0:
                        files.append(src)
                        continue
                    im = Image.open(src).convert("L")
                    w = max(8, round(im.width * height / im.height))
                    # a car-park scene around the plate, as in a photo
                    scene = Image.effect_noise((640, 400), 40).filter(
                        ImageFilter.GaussianBlur(3))
                    rng = random.Random(name)
                    scene.paste(im.resize((w, height), Image.BILINEAR),
                                (rng.randint(40, 640 - w - 40), rng.randint(60, 300)))
                    dst = os.path.join(tmp, os.path.splitext(name)[0] + ".jpg")
                    scene.save(dst, quality=85)
                    files.append(dst)
                reads = run(a.lpr, files, region, extra)
                ok = 0
                for (name, plate), path in zip(items, files):
                    ok += plate in reads.get(os.path.basename(path), [])
                label = "full size" if height == 0 else f"{height} px high"
                print(f"held-out {region} crops, {label:10s}: {ok:4d}/{len(items)} "
                      f"read exactly ({100.0 * ok / max(1, len(items)):.1f}%)")
                total_ok += ok
                total += len(items)
    print(f"held-out crops, all: {100.0 * total_ok / max(1, total):.1f}% read exactly")
    return 0


if __name__ == "__main__":
    sys.exit(main())

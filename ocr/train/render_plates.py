#!/usr/bin/python3
"""Renders synthetic plate crops for training, in the layout of plates/us.

Each image is a plate in a condensed sans font Debian ships, with a line of
small text above and below (state names, slogans: the reader must learn to
skip them), an optional frame, either polarity, slight rotation and shear,
uneven light, blur, noise and JPEG compression.  Writes DIR/NNNNN.jpg and
DIR/labels.tsv (FILE<TAB>TEXT) so export_glyphs reads it like real crops.
Deterministic for a given seed and font set.

usage: render_plates.py DIR COUNT [--seed N] [--fonts F1.ttf,F2.ttf,...]
"""
import argparse
import glob
import io
import os
import random
import sys

from PIL import Image, ImageDraw, ImageFilter, ImageFont

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DIGITS = "0123456789"
FORMATS = ["LLLNNNN", "NLLLNNN", "LLLNNN", "NNNLLL", "LLNNNN", "NLLNNN",
           "LNNLLL", "LLNNNLL", "LLLNLNN", "NNNNNN", "AAAAAAA", "AAAAAA", "AAAAA"]
WORDS = ["CALIFORNIA", "TEXAS", "FLORIDA", "NEW YORK", "OHIO", "ILLINOIS",
         "GEORGIA", "VIRGINIA", "ARIZONA", "NEVADA", "OREGON", "MONTANA",
         "Sunshine State", "Live Free or Die", "dmv.ca.gov", "Land of Lincoln",
         "The Lone Star State", "Empire State", "Great Lakes", "2014"]
FONT_GLOBS = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation*/LiberationSansNarrow-Bold.ttf",
    "/usr/share/fonts/truetype/liberation*/LiberationSansNarrow-Regular.ttf",
    "/usr/share/fonts/truetype/roboto/*/RobotoCondensed-Bold.ttf",
    "/usr/share/fonts/truetype/roboto/*/RobotoCondensed-Regular.ttf",
    "/usr/share/fonts/opentype/bebas-neue/BebasNeue-Bold.otf",
    "/usr/share/fonts/opentype/bebas-neue/BebasNeue-Regular.otf",
    "/usr/share/fonts/truetype/roboto/*/RobotoCondensed-Medium.ttf",
    "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf",
    "/usr/share/fonts/truetype/freefont/FreeSansBold.ttf",
]


def plate_text(rng):
    fmt = rng.choice(FORMATS)
    return "".join(rng.choice(LETTERS) if c == "L" else rng.choice(DIGITS) if c == "N"
                   else rng.choice(LETTERS + DIGITS) for c in fmt)


def render(rng, font_path, text):
    w, h = 320, 160
    light = rng.randint(170, 250)
    ink = rng.randint(0, 90)
    img = Image.new("L", (w, h), light)
    d = ImageDraw.Draw(img)
    if rng.random() < 0.6:  # frame
        m = rng.randint(2, 8)
        d.rectangle([m, m, w - m, h - m], outline=ink, width=rng.randint(2, 5))
    small = ImageFont.truetype(font_path, rng.randint(16, 26))
    for y in (rng.randint(8, 18), rng.randint(125, 138)):
        if rng.random() < 0.8:
            word = rng.choice(WORDS)
            tw = d.textlength(word, font=small)
            d.text(((w - tw) / 2 + rng.randint(-20, 20), y), word, fill=ink, font=small)
    size = rng.randint(72, 92)
    font = ImageFont.truetype(font_path, size)
    gap = rng.randint(-2, 8)
    widths = [d.textlength(c, font=font) for c in text]
    total = sum(widths) + gap * (len(text) - 1)
    while total > w - 30 and size > 40:
        size -= 4
        font = ImageFont.truetype(font_path, size)
        widths = [d.textlength(c, font=font) for c in text]
        total = sum(widths) + gap * (len(text) - 1)
    x = (w - total) / 2
    top = (h - size) / 2 - size * 0.12 + rng.randint(-4, 4)
    for c, cw in zip(text, widths):
        d.text((x, top), c, fill=ink, font=font)
        x += cw + gap
    # uneven light, rotation, shear
    grad = Image.linear_gradient("L").rotate(rng.choice([0, 90, 180, 270])).resize((w, h))
    img = Image.blend(img, grad, rng.uniform(0.0, 0.35))
    img = img.rotate(rng.uniform(-4, 4), resample=Image.BILINEAR, fillcolor=light)
    sh = rng.uniform(-0.15, 0.15)
    img = img.transform((w, h), Image.AFFINE, (1, sh, -sh * h / 2, 0, 1, 0),
                        resample=Image.BILINEAR, fillcolor=light)
    if rng.random() < 0.2:
        img = Image.eval(img, lambda v: 255 - v)  # night plate: light on dark
    img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.8)))
    noise = Image.effect_noise((w, h), rng.uniform(4, 20))
    img = Image.blend(img, noise, rng.uniform(0.0, 0.15))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=rng.randint(30, 90))
    return buf.getvalue()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("count", type=int)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--fonts")
    a = ap.parse_args()
    fonts = a.fonts.split(",") if a.fonts else sorted(
        {p for g in FONT_GLOBS for p in glob.glob(g)})
    if not fonts:
        sys.exit("render_plates: no fonts found (apt-get install fonts-dejavu-extra "
                 "fonts-liberation fonts-roboto fonts-noto-core)")
    os.makedirs(a.dir, exist_ok=True)
    rng = random.Random(a.seed)
    with open(os.path.join(a.dir, "labels.tsv"), "w") as lab:
        for i in range(a.count):
            text = plate_text(rng)
            name = f"{i:05d}.jpg"
            with open(os.path.join(a.dir, name), "wb") as f:
                f.write(render(rng, fonts[i % len(fonts)], text))
            lab.write(f"{name}\t{text}\n")
    print(f"render_plates: {a.count} plates in {len(fonts)} fonts -> {a.dir}")


if __name__ == "__main__":
    main()

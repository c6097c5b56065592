#!/usr/bin/python3
"""Renders shop signs, billboards and painted lettering into plate-free
scenes: the text a street camera sees that is not a plate.

The plate-free scenes of ../shared/training hold few signs near the camera,
so the verifier and the calibration learned little about them, and words
on signs (SAVAGES on a billboard, CORBATAS on a shop front) came out as
plates. Here words from Debian's word lists (wamerican, wspanish,
wbrazilian, wngerman, wfrench, witalian) are drawn as signs are made, not as
plates are: several lines of large lettering on one panel, a single line on
a panel much wider or much flatter than a plate, words in mixed case or
serif type, or lettering painted straight onto a wall, at character
heights from a plate's (12 px) to a billboard's (70 px) in a 1280 px frame.
A sign never has a plate's shape (one line of 4-8 characters centred on a
panel about twice as wide as it is tall), so a network that rejects these
still accepts vanity plates, whose words sit on a plate.

Used by train_verifier.py and train_confidence.py with --signs N (every
line read on a sign is a wrong read); off by default: the models trained
with it lost right reads of real plates (ocr/models/README.md).
Deterministic for a seed.

usage: render_signs.py OUT_DIR COUNT BACKGROUND.jpg...   (a look at a few)
"""
import glob
import os
import random
import sys
import unicodedata

from PIL import Image, ImageDraw, ImageFilter, ImageFont

DICTS = ["american-english", "spanish", "brazilian", "ngerman", "french", "italian"]
FONT_GLOBS = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans*.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif*.ttf",
    "/usr/share/fonts/truetype/liberation*/Liberation*.ttf",
    "/usr/share/fonts/truetype/freefont/Free*.ttf",
    "/usr/share/fonts/truetype/roboto/*/Roboto*.ttf",
    "/usr/share/fonts/opentype/bebas-neue/BebasNeue-*.otf",
    "/usr/share/fonts/truetype/noto/NotoSans-*.ttf",
    "/usr/share/fonts/truetype/noto/NotoSerif-*.ttf",
]


def words(dict_dir="/usr/share/dict", longest=12, who="render_signs"):
    """Words of 3 to 'longest' letters from the word lists, accents
    dropped, sorted (so the draw is the same on every machine with the
    same lists); 'who' names the script in the error line."""
    out = set()
    for name in DICTS:
        p = os.path.join(dict_dir, name)
        if not os.path.exists(p):
            continue
        with open(p, encoding="utf-8", errors="ignore") as f:
            for w in f:
                w = unicodedata.normalize("NFKD", w.strip())
                w = "".join(c for c in w if c.isascii() and c.isalpha())
                if 3 <= len(w) <= longest:
                    out.add(w)
    if not out:
        sys.exit("%s: no word lists in %s (apt-get install wamerican wspanish "
                 "wbrazilian wngerman wfrench witalian)" % (who, dict_dir))
    return sorted(out)


def fonts():
    out = sorted({p for g in FONT_GLOBS for p in glob.glob(g)
                  if "Mono" not in p and "Math" not in p})
    if not out:
        sys.exit("render_signs: no fonts found (see ocr/train/train.sh)")
    return out


def _case(rng, w):
    r = rng.random()
    return w.upper() if r < 0.6 else w.capitalize() if r < 0.85 else w.lower()


def sign(rng, bg, font_list, word_list):
    """Draws one sign into a copy of bg (grey); returns the composite."""
    bw, bh = bg.size
    out = bg.copy()
    d = ImageDraw.Draw(out)
    scale = bw / 1280.0
    ch = int(scale * 12 * (70 / 12) ** rng.random())  # character height, px
    font = ImageFont.truetype(rng.choice(font_list), max(8, int(ch * 1.35)))
    mode = rng.random()
    if mode < 0.45:  # several lines of large lettering on one panel
        lines = [" ".join(_case(rng, rng.choice(word_list)) for _ in range(rng.randint(1, 2)))
                 for _ in range(rng.randint(2, 3))]
    else:
        n = rng.randint(1, 3) if mode < 0.8 else 1
        lines = [" ".join(_case(rng, rng.choice(word_list)) for _ in range(n))]
    sizes = [d.textbbox((0, 0), l, font=font) for l in lines]
    tw = max(b[2] - b[0] for b in sizes)
    lh = max(b[3] - b[1] for b in sizes)
    gap = int(lh * rng.uniform(0.2, 0.7))
    th = len(lines) * lh + (len(lines) - 1) * gap
    if mode >= 0.45 and mode < 0.8 and len(lines) == 1:
        # one line: a panel far wider or far flatter than a plate
        if rng.random() < 0.5:
            mx, my = int(lh * rng.uniform(1.5, 4)), int(lh * rng.uniform(0.2, 1.0))
        else:
            mx, my = int(lh * rng.uniform(0.2, 0.8)), int(lh * rng.uniform(0.1, 0.3))
    else:
        mx, my = int(lh * rng.uniform(0.3, 2.5)), int(lh * rng.uniform(0.3, 1.2))
    pw, ph = tw + 2 * mx, th + 2 * my
    if pw >= bw - 4 or ph >= bh - 4:
        return out
    x = rng.randint(0, bw - pw)
    y = rng.randint(0, bh - ph)
    light, dark = rng.randint(150, 250), rng.randint(0, 90)
    paper, ink = (light, dark) if rng.random() < 0.55 else (dark, light)
    painted = mode >= 0.8 and rng.random() < 0.6  # lettering straight on the wall
    if not painted:
        d.rectangle([x, y, x + pw, y + ph], fill=paper)
        if rng.random() < 0.4:
            d.rectangle([x, y, x + pw, y + ph], outline=ink, width=max(1, lh // 10))
    else:
        # ink that stands out from the wall behind it
        sub = out.crop((x, y, x + pw, y + ph)).resize((1, 1)).getpixel((0, 0))
        ink = 20 if sub > 128 else 235
    cy = y + my
    for l, b in zip(lines, sizes):
        lw = b[2] - b[0]
        lx = x + mx + (tw - lw) * rng.choice([0, 0.5, 0.5, 1])
        d.text((lx - b[0], cy - b[1]), l, fill=ink, font=font)
        cy += lh + gap
    if rng.random() < 0.5:  # a sign seen a little from the side
        box = (x, y, x + pw, y + ph)
        part = out.crop(box)
        sh = rng.uniform(-0.25, 0.25)
        part = part.transform(part.size, Image.AFFINE, (1, 0, 0, sh, 1, -sh * pw / 2),
                              resample=Image.BILINEAR, fillcolor=None)
        mask = Image.new("L", part.size, 255).transform(part.size, Image.AFFINE,
                                                         (1, 0, 0, sh, 1, -sh * pw / 2))
        out.paste(part, box[:2], mask)
    r = rng.uniform(0, 1.3)
    if r > 0.3:
        out = out.filter(ImageFilter.GaussianBlur(r * scale + 0.2))
    return out


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__.strip().splitlines()[-1])
    out_dir, count, bgs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    os.makedirs(out_dir, exist_ok=True)
    rng = random.Random(3)
    fl, wl = fonts(), words()
    for i in range(count):
        with Image.open(bgs[i % len(bgs)]) as im:
            bg = im.convert("L")
        for _ in range(rng.randint(1, 3)):
            bg = sign(rng, bg, fl, wl)
        bg.save(os.path.join(out_dir, "s%05d.jpg" % i), quality=rng.randint(40, 90))


if __name__ == "__main__":
    main()

/*
 * export_glyphs.c - training samples for the character classifier.
 *
 * Two inputs, both from ../shared/training (never the benchmark photos):
 *   --crops DIR   real plate crops with DIR/labels.tsv (FILE TAB PLATE ...):
 *                 each crop (and down-scaled copies of it, to the character
 *                 heights of plates seen from afar) goes through the reader's
 *                 own localiser and segmenter; where a line splits into as
 *                 many cells as the label has characters, each cell is a
 *                 sample labelled in order. Others are skipped (counted).
 *   --page TIF    a Tesseract box page of real glyphs (TIF + same-name .box):
 *                 each glyph is degraded like a far plate (down-scaled,
 *                 rotated, blurred, re-binarised at varied thresholds) and
 *                 then reduced to features exactly as the reader does.
 * Output (appended to OUT): records of
 *   u8 label, u8 source, u16 copy, u32 group, f32 features[LPR_GLYPH_FEATS]
 * where group is a hash of the plate text (crops) or of the page and box
 * index (pages) so that the trainer can hold whole plates out.
 *
 * usage: export_glyphs OUT (--crops DIR SOURCE | --page TIF SOURCE [COPIES])...
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recognize.h"

#define TARGET_H 36

static uint32_t rng_state = 12345u;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static float frand(float lo, float hi)
{
    return lo + (hi - lo) * (float)(rnd() % 100000u) / 100000.0f;
}

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static int write_rec(FILE *out, char label, int source, int copy, uint32_t group, const float *feat)
{
    uint8_t hdr[8] = {(uint8_t)label,
                      (uint8_t)source,
                      (uint8_t)(copy & 0xff),
                      (uint8_t)(copy >> 8),
                      (uint8_t)(group & 0xff),
                      (uint8_t)((group >> 8) & 0xff),
                      (uint8_t)((group >> 16) & 0xff),
                      (uint8_t)(group >> 24)};
    if (fwrite(hdr, 1, sizeof hdr, out) != sizeof hdr ||
        fwrite(feat, sizeof(float), LPR_GLYPH_FEATS, out) != LPR_GLYPH_FEATS)
        return -1;
    return 0;
}

#define MIN_CHAR_FRAC 0.3f /* plate characters are at least this much of a crop's height */

/* One crop at one scale: samples if its plate line segments into len cells. */
static int crop_samples(PIX *grey, const char *plate, int source, int copy, FILE *out)
{
    lpr_textline lines[8];
    float feat[LPR_LINE_MAX_CHARS][LPR_GLYPH_FEATS];
    int len = (int)strlen(plate);
    int nl = lpr_locate(grey, lines, 8);

    /* the plate's characters are the tallest line of a tight crop; a state
     * name or slogan of the same length must not lend them its glyphs */
    int best = -1;
    for (int i = 0; i < nl; i++)
        if (lines[i].char_h >= MIN_CHAR_FRAC * (float)pixGetHeight(grey) &&
            (best < 0 || lines[i].char_h > lines[best].char_h))
            best = i;
    if (best < 0 || lpr_segment_line(grey, &lines[best], feat, LPR_LINE_MAX_CHARS) != len)
        return 0;
    for (int k = 0; k < len; k++)
        if (write_rec(out, plate[k], source, copy, hash_str(plate), feat[k]))
            return -1;
    return 1;
}

static int do_crops(const char *dir, int source, FILE *out)
{
    /* the benchmark's plates are 25-35 px high, crops 64-160: scale down
     * through that range, each scale sharp and slightly blurred */
    static const float scales[] = {1.0f, 0.75f, 0.6f, 0.5f, 0.4f, 0.33f, 0.28f, 0.22f};
    enum { NSCALES = sizeof scales / sizeof scales[0] };
    char path[4096], line[1024];
    int tried = 0, used[NSCALES] = {0};

    snprintf(path, sizeof path, "%s/labels.tsv", dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        char *file = strtok(line, "\t\r\n"), *label = strtok(NULL, "\t\r\n");
        char plate[32];
        int n = 0;
        if (!file || !label)
            continue;
        for (; *label && n < 31; label++)
            if (isalnum((unsigned char)*label))
                plate[n++] = (char)toupper((unsigned char)*label);
        plate[n] = '\0';
        if (n < 4 || n > LPR_LINE_MAX_CHARS)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, file);
        PIX *pix = pixRead(path);
        PIX *grey = pix ? pixConvertTo8(pix, 0) : NULL;
        pixDestroy(&pix);
        if (!grey) {
            fprintf(stderr, "export_glyphs: %s: unreadable, skipped\n", path);
            continue;
        }
        tried++;
        for (int v = 0; v < 2 * NSCALES; v++) {
            int s = v / 2;
            PIX *sc =
                scales[s] == 1.0f ? pixClone(grey) : pixScaleAreaMap(grey, scales[s], scales[s]);
            if (sc && (v & 1)) {
                PIX *bl = pixBlockconv(sc, 1, 1);
                pixDestroy(&sc);
                sc = bl;
            }
            if (!sc)
                continue;
            int r = crop_samples(sc, plate, source, v, out);
            pixDestroy(&sc);
            if (r < 0) {
                pixDestroy(&grey);
                fclose(f);
                return -1;
            }
            used[s] += r;
        }
        pixDestroy(&grey);
    }
    fclose(f);
    fprintf(stderr,
            "export_glyphs: %s: %d crops; segmented as labelled (sharp + blurred) "
            "at scale",
            dir, tried);
    for (int s = 0; s < NSCALES; s++)
        fprintf(stderr, " %.2f: %d", (double)scales[s], used[s]);
    fputc('\n', stderr);
    return 0;
}

/* A page glyph (1 bpp, tight) degraded like a far, blurred plate and
 * re-binarised: returns the 1 bpp result, tight to its ink. */
static PIX *degrade(PIX *g1)
{
    PIX *g8 = pixConvert1To8(NULL, g1, 255, 0);
    PIX *b = g8 ? pixAddBorder(g8, 6, 255) : NULL;
    PIX *r = NULL, *lo = NULL, *bl = NULL, *up = NULL, *bin = NULL, *tight = NULL;
    pixDestroy(&g8);
    if (!b)
        return NULL;
    float ang = frand(-3.0f, 3.0f) * 3.14159f / 180.0f;
    r = pixRotate(b, ang, L_ROTATE_AREA_MAP, L_BRING_IN_WHITE, 0, 0);
    pixDestroy(&b);
    if (!r)
        return NULL;
    float h = (float)pixGetHeight(g1);
    float low = frand(13.0f, 42.0f);
    float f = low / h;
    lo = f < 1.0f ? pixScaleAreaMap(r, f * frand(0.85f, 1.15f), f) : pixClone(r);
    pixDestroy(&r);
    if (!lo)
        return NULL;
    bl = (rnd() % 3 == 0) ? pixBlockconv(lo, 1, 1) : pixClone(lo);
    pixDestroy(&lo);
    if (!bl)
        return NULL;
    float g = (float)TARGET_H / low;
    up = pixScale(bl, g, g);
    pixDestroy(&bl);
    if (!up)
        return NULL;
    bin = pixThresholdToBinary(up, (int)frand(95.0f, 170.0f));
    pixDestroy(&up);
    if (!bin)
        return NULL;
    pixClipToForeground(bin, &tight, NULL);
    pixDestroy(&bin);
    return tight;
}

static int do_page(const char *tif, int source, int copies, FILE *out)
{
    char boxpath[4096], line[256];
    size_t n = strlen(tif);
    int count = 0;

    if (n < 5 || n > sizeof boxpath - 1)
        return -1;
    memcpy(boxpath, tif, n - 4);
    strcpy(boxpath + n - 4, ".box");
    PIX *pix = pixRead(tif);
    PIX *g8 = pix ? pixConvertTo8(pix, 0) : NULL;
    PIX *bin = g8 ? pixThresholdToBinary(g8, 128) : NULL;
    pixDestroy(&pix);
    pixDestroy(&g8);
    FILE *f = fopen(boxpath, "r");
    if (!bin || !f) {
        fprintf(stderr, "export_glyphs: %s / %s: unreadable\n", tif, boxpath);
        pixDestroy(&bin);
        if (f)
            fclose(f);
        return -1;
    }
    int ph = pixGetHeight(bin), idx = 0;
    while (fgets(line, sizeof line, f)) {
        char ch;
        int l, bt, r, t, page;
        if (sscanf(line, "%c %d %d %d %d %d", &ch, &l, &bt, &r, &t, &page) != 6)
            continue;
        idx++;
        ch = (char)toupper((unsigned char)ch);
        if (!isalnum((unsigned char)ch) || r <= l || t <= bt)
            continue;
        BOX *box = boxCreate(l, ph - t, r - l, t - bt);
        PIX *g = box ? pixClipRectangle(bin, box, NULL) : NULL;
        PIX *tight = NULL;
        boxDestroy(&box);
        if (g)
            pixClipToForeground(g, &tight, NULL);
        pixDestroy(&g);
        if (!tight)
            continue;
        /* held-out groups by page name and run of 8 boxes: the same split
         * wherever the training data lives */
        char gid[300];
        const char *base = strrchr(tif, '/');
        snprintf(gid, sizeof gid, "%s#%d", base ? base + 1 : tif, idx / 8);
        for (int c = 0; c < copies; c++) {
            PIX *d = c == 0 ? pixClone(tight) : degrade(tight);
            float feat[LPR_GLYPH_FEATS];
            if (d && lpr_glyph_features(d, 0, 0, pixGetWidth(d), pixGetHeight(d),
                                        (float)pixGetHeight(d) * frand(0.93f, 1.05f), feat) == 0) {
                if (write_rec(out, ch, source, c, hash_str(gid), feat)) {
                    pixDestroy(&d);
                    pixDestroy(&tight);
                    pixDestroy(&bin);
                    fclose(f);
                    return -1;
                }
                count++;
            }
            pixDestroy(&d);
        }
        pixDestroy(&tight);
    }
    fclose(f);
    pixDestroy(&bin);
    fprintf(stderr, "export_glyphs: %s: %d samples\n", tif, count);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: export_glyphs OUT (--crops DIR SOURCE | --page TIF SOURCE "
                        "[COPIES])...\n");
        return 2;
    }
    setMsgSeverity(L_SEVERITY_NONE);
    FILE *out = fopen(argv[1], "ab");
    if (!out) {
        perror(argv[1]);
        return 1;
    }
    int rc = 0;
    for (int i = 2; i < argc && rc == 0; i++) {
        if (!strcmp(argv[i], "--crops") && i + 2 < argc) {
            rc = do_crops(argv[i + 1], atoi(argv[i + 2]), out);
            i += 2;
        } else if (!strcmp(argv[i], "--page") && i + 2 < argc) {
            int has_copies = i + 3 < argc && isdigit((unsigned char)argv[i + 3][0]);
            int copies = has_copies ? atoi(argv[i + 3]) : 4;
            rc = do_page(argv[i + 1], atoi(argv[i + 2]), copies, out);
            i += 2 + has_copies;
        } else {
            fprintf(stderr, "export_glyphs: unexpected argument %s\n", argv[i]);
            rc = 2;
        }
    }
    if (fclose(out) != 0 && rc == 0) {
        perror(argv[1]);
        rc = 1;
    }
    return rc ? 1 : 0;
}

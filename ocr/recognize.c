/*
 * recognize.c - reads one located text line with Tesseract.
 *
 * The line is cut from the full-resolution grey image with a margin, turned
 * dark-on-light, deskewed from the fitted baseline, scaled to a character
 * height the LSTM reads well, and presented in two forms: a binarised image
 * cleaned to the character band (frames, banners and bolts removed) and the
 * contrast-normalised grey band. Each form is read in single-line mode with a
 * plate whitelist; per-character confidences and the LSTM's alternatives are
 * collected, and the forms are voted per position.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <tesseract/capi.h>

#include "recognize.h"

#define TARGET_CHAR_H 36
#define BORDER 12
#define CONFIDENT 80.0f

static void clip_box(lpr_box *b, int w, int h)
{
    if (b->x < 0) { b->w += b->x; b->x = 0; }
    if (b->y < 0) { b->h += b->y; b->y = 0; }
    if (b->x + b->w > w) b->w = w - b->x;
    if (b->y + b->h > h) b->h = h - b->y;
}

/* Crop, polarity, deskew and scale: grey line with chars TARGET_CHAR_H tall. */
static PIX *line_grey(PIX *grey, const lpr_textline *line)
{
    float ch = line->char_h > 1 ? line->char_h : 1;
    lpr_box b = {line->box.x - (int)(0.6f * ch), line->box.y - (int)(0.45f * ch),
                 line->box.w + (int)(1.2f * ch), line->box.h + (int)(0.9f * ch)};
    PIX *crop = NULL, *pol = NULL, *rot = NULL, *scaled = NULL;
    BOX *box = NULL;

    clip_box(&b, pixGetWidth(grey), pixGetHeight(grey));
    if (b.w < 4 || b.h < 4)
        return NULL;
    box = boxCreate(b.x, b.y, b.w, b.h);
    if (!box)
        return NULL;
    crop = pixClipRectangle(grey, box, NULL);
    boxDestroy(&box);
    if (!crop)
        return NULL;
    pol = line->inverted ? pixInvert(NULL, crop) : pixClone(crop);
    pixDestroy(&crop);
    if (!pol)
        return NULL;
    float f = (float)TARGET_CHAR_H / ch;
    if (f > 6.0f)
        f = 6.0f;
    scaled = pixScale(pol, f, f);
    pixDestroy(&pol);
    if (!scaled)
        return NULL;
    if (fabsf(line->angle_deg) > 0.7f) {
        float rad = -line->angle_deg * (float)M_PI / 180.0f;
        rot = pixRotate(scaled, rad, L_ROTATE_AREA_MAP, L_BRING_IN_WHITE, 0, 0);
        pixDestroy(&scaled);
        return rot;
    }
    return scaled;
}

/* Binarised line keeping only components inside the character band. */
static PIX *line_clean_binary(PIX *lg)
{
    PIX *bin = NULL, *out = NULL, *bordered = NULL;
    BOXA *boxa = NULL;
    PIXA *pixa = NULL;
    int w = pixGetWidth(lg), h = pixGetHeight(lg);
    float cys[256];
    int nh = 0, tall_x0 = 1 << 30, tall_x1 = -1;

    if (pixOtsuAdaptiveThreshold(lg, w, h, 0, 0, 0.1f, NULL, &bin) || !bin)
        return NULL;
    boxa = pixConnComp(bin, &pixa, 8);
    if (!boxa)
        goto out;
    int n = boxaGetCount(boxa);
    for (int i = 0; i < n && nh < 256; i++) {
        l_int32 x, y, bw, bh;
        boxaGetBoxGeometry(boxa, i, &x, &y, &bw, &bh);
        if (bh >= 0.7f * TARGET_CHAR_H && bh <= 1.5f * TARGET_CHAR_H &&
            bw <= 1.3f * bh) {
            cys[nh] = (float)y + (float)bh / 2.0f;
            nh++;
            if (x < tall_x0)
                tall_x0 = x;
            if (x + bw > tall_x1)
                tall_x1 = x + bw;
        }
    }
    if (nh == 0)
        goto out;
    /* median centre of character-sized components = band centre */
    for (int i = 1; i < nh; i++)
        for (int j = i; j > 0 && cys[j - 1] > cys[j]; j--) {
            float t = cys[j]; cys[j] = cys[j - 1]; cys[j - 1] = t;
        }
    float cy = cys[nh / 2];
    float top = cy - 0.75f * TARGET_CHAR_H, bot = cy + 0.75f * TARGET_CHAR_H;
    out = pixCreate(w, h, 1);
    if (!out)
        goto out;
    for (int i = 0; i < n; i++) {
        l_int32 x, y, bw, bh;
        boxaGetBoxGeometry(boxa, i, &x, &y, &bw, &bh);
        if ((float)y < top || (float)(y + bh) > bot)
            continue;
        if (bh < 0.3f * TARGET_CHAR_H && bw < 0.3f * TARGET_CHAR_H)
            continue; /* specks */
        if (bw > 2.5f * TARGET_CHAR_H)
            continue; /* frame edges, underlines */
        if (bh < 0.6f * TARGET_CHAR_H && (x + bw <= tall_x0 || x >= tall_x1))
            continue; /* small marks beyond the characters: emblems, the
                         country letters of the EU band, screws */
        PIX *c = pixaGetPix(pixa, i, L_CLONE);
        l_int32 on = 0;
        if (c && pixCountPixels(c, &on, NULL) == 0 && bw > 0.4f * (float)bh &&
            (float)on > 0.82f * (float)bw * (float)bh) {
            /* a solid block of character height (the EU country band, a
             * sticker, a bolt head): no character is that full */
            pixDestroy(&c);
            continue;
        }
        if (c) {
            pixRasterop(out, x, y, bw, bh, PIX_PAINT, c, 0, 0);
            pixDestroy(&c);
        }
    }
    /* crop to the band so the line height is the character height */
    int y0 = (int)top > 0 ? (int)top : 0;
    int y1 = (int)bot < h ? (int)bot : h;
    BOX *band = boxCreate(0, y0, w, y1 - y0);
    PIX *cropped = band ? pixClipRectangle(out, band, NULL) : NULL;
    boxDestroy(&band);
    if (cropped) {
        bordered = pixAddBorder(cropped, BORDER, 0);
        pixDestroy(&cropped);
    }
out:
    pixDestroy(&out);
    boxaDestroy(&boxa);
    pixaDestroy(&pixa);
    pixDestroy(&bin);
    return bordered;
}

/* Grey line with normalised contrast and a white margin. */
static PIX *line_norm_grey(PIX *lg)
{
    PIX *norm = pixContrastNorm(NULL, lg, 32, 32, 40, 1, 1);
    if (!norm)
        return NULL;
    PIX *b = pixAddBorder(norm, BORDER, 255);
    pixDestroy(&norm);
    return b;
}

static int read_pix(TessBaseAPI *api, PIX *pix, lpr_charpos *pos, int max,
                    float *mean_conf)
{
    int n = 0;
    float sum = 0;

    TessBaseAPISetImage2(api, pix);
    TessBaseAPISetSourceResolution(api, 300);
    if (TessBaseAPIRecognize(api, NULL) != 0)
        return -1;
    TessResultIterator *it = TessBaseAPIGetIterator(api);
    if (!it)
        return 0;
    do {
        char *sym = TessResultIteratorGetUTF8Text(it, RIL_SYMBOL);
        if (!sym)
            continue;
        char c = sym[0];
        TessDeleteText(sym);
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            continue;
        if (n >= max)
            break;
        lpr_charpos *p = &pos[n];
        memset(p, 0, sizeof *p);
        p->ch[0] = c;
        p->conf[0] = TessResultIteratorConfidence(it, RIL_SYMBOL);
        if (p->conf[0] < 0)
            p->conf[0] = 0;
        p->n = 1;
        TessChoiceIterator *ci = TessResultIteratorGetChoiceIterator(it);
        if (ci) {
            do {
                const char *alt = TessChoiceIteratorGetUTF8Text(ci);
                if (!alt || !alt[0] || p->n >= LPR_MAX_ALTS)
                    continue;
                char a = alt[0];
                if (a >= 'a' && a <= 'z')
                    a = (char)(a - 'a' + 'A');
                if (!((a >= 'A' && a <= 'Z') || (a >= '0' && a <= '9')))
                    continue;
                int dup = 0;
                for (int k = 0; k < p->n; k++)
                    dup |= p->ch[k] == a;
                if (dup)
                    continue;
                float cf = TessChoiceIteratorConfidence(ci);
                p->ch[p->n] = a;
                p->conf[p->n] = cf < p->conf[0] ? cf : p->conf[0] * 0.9f;
                if (p->conf[p->n] < 0)
                    p->conf[p->n] = 0;
                p->n++;
            } while (TessChoiceIteratorNext(ci));
            TessChoiceIteratorDelete(ci);
        }
        sum += p->conf[0];
        n++;
    } while (TessResultIteratorNext(it, RIL_SYMBOL));
    TessResultIteratorDelete(it);
    *mean_conf = n > 0 ? sum / (float)n : 0;
    return n;
}

int lpr_recognize_line(TessBaseAPI *api, PIX *grey, const lpr_textline *line,
                       lpr_charpos *pos, int max)
{
    lpr_charpos reads[2][LPR_LINE_MAX_CHARS];
    int counts[2] = {0, 0};
    float means[2] = {0, 0};
    PIX *lg = line_grey(grey, line);
    if (!lg)
        return 0;
    PIX *forms[2] = {line_clean_binary(lg), NULL};
    for (int f = 0; f < 2; f++) {
        if (f == 1) {
            /* the grey form is read only when the clean one is doubtful:
             * it costs a second LSTM pass */
            if (counts[0] >= 4 && means[0] >= CONFIDENT)
                break;
            forms[1] = line_norm_grey(lg);
        }
        if (!forms[f])
            continue;
        counts[f] = read_pix(api, forms[f], reads[f], LPR_LINE_MAX_CHARS, &means[f]);
        if (counts[f] < 0)
            counts[f] = 0;
        pixDestroy(&forms[f]);
    }
    pixDestroy(&lg);
    /* vote: same length -> merge per position; otherwise the more confident */
    int best = means[0] * (float)(counts[0] >= 4) >= means[1] * (float)(counts[1] >= 4) ? 0 : 1;
    int n = counts[best] < max ? counts[best] : max;
    int other = 1 - best;
    for (int i = 0; i < n; i++) {
        pos[i] = reads[best][i];
        if (counts[other] == counts[best]) {
            const lpr_charpos *o = &reads[other][i];
            for (int a = 0; a < o->n; a++) {
                int k;
                for (k = 0; k < pos[i].n && pos[i].ch[k] != o->ch[a]; k++)
                    ;
                if (k < pos[i].n)
                    pos[i].conf[k] = (pos[i].conf[k] + o->conf[a]) / 2.0f + 5.0f;
                else if (pos[i].n < LPR_MAX_ALTS) {
                    pos[i].ch[pos[i].n] = o->ch[a];
                    pos[i].conf[pos[i].n] = o->conf[a] * 0.8f;
                    pos[i].n++;
                }
            }
            /* re-sort alternatives by confidence */
            for (int a = 1; a < pos[i].n; a++)
                for (int b = a; b > 0 && pos[i].conf[b - 1] < pos[i].conf[b]; b--) {
                    float tc = pos[i].conf[b]; pos[i].conf[b] = pos[i].conf[b - 1]; pos[i].conf[b - 1] = tc;
                    char t = pos[i].ch[b]; pos[i].ch[b] = pos[i].ch[b - 1]; pos[i].ch[b - 1] = t;
                }
            for (int a = 0; a < pos[i].n; a++)
                if (pos[i].conf[a] > 100)
                    pos[i].conf[a] = 100;
        }
    }
    return n;
}


/*
 * recognize.c - the second opinion on one located text line: the
 * per-character classifier over the line's cells, and Tesseract's LSTM
 * where the classifier is unsure (the only file that calls Tesseract).
 *
 * The line is cut from the full-resolution grey image with a margin, turned
 * dark-on-light, deskewed from the fitted baseline, scaled to a character
 * height the LSTM reads well, and presented in two forms: a binarised image
 * cleaned to the character band (frames, banners and bolts removed) and the
 * contrast-normalised grey band. The clean form is cut into character cells
 * for the classifier (lpr_charclf); when its binarisations agree and it is
 * sure, that is the read. Otherwise (or with no classifier) the forms are
 * read by the LSTM in single-line mode with a plate whitelist, the grey form
 * only when the clean one is doubtful; per-character confidences and
 * alternatives are voted per position with the classifier's cells.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <tesseract/capi.h>

#include "recognize.h"
#include "tuning.h"

/* Stretches the grey levels of a line crop in place so its darkest few
 * percent go black and its lightest few white: a dim or hazy plate then
 * binarises like a crisp one, and the white the deskew brings in at the
 * corners no longer outweighs the plate in a global threshold. */
static void stretch(PIX *pix)
{
    NUMA *hist = pixGetGrayHistogram(pix, 1);
    if (!hist)
        return;
    l_float32 total = 0, acc = 0;
    numaGetSum(hist, &total);
    int lo = -1, hi = 255;
    for (int v = 0; v < 256; v++) {
        l_float32 c = 0;
        numaGetFValue(hist, v, &c);
        acc += c;
        if (lo < 0 && acc >= 0.03f * total)
            lo = v;
        if (acc >= 0.97f * total) {
            hi = v;
            break;
        }
    }
    numaDestroy(&hist);
    if (lo >= 0 && hi - lo >= 8 && (lo > 0 || hi < 255))
        pixGammaTRC(pix, pix, 1.0f, lo, hi);
}

/* Crop, polarity, deskew and scale: grey line with chars TARGET_CHAR_H tall. */
static PIX *line_grey(PIX *grey, const lpr_textline *line, float side)
{
    float ch = line->char_h > 1 ? line->char_h : 1;
    lpr_box b = {line->box.x - (int)(side * ch), line->box.y - (int)(0.45f * ch),
                 line->box.w + (int)(2.0f * side * ch), line->box.h + (int)(0.9f * ch)};
    PIX *crop = NULL, *pol = NULL, *rot = NULL, *scaled = NULL;
    BOX *box = NULL;

    b = lpr_box_clip(b, pixGetWidth(grey), pixGetHeight(grey));
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
    stretch(pol);
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

/* Sorts component boxes by x, merges those sharing most of their columns
 * (pieces of one character), clips them to the rows [ca, cb) within the band
 * [y0, y1) (a bolt or a mark touching a character stays out of its cell) and
 * moves them into the bordered image's coordinates. Returns the new count. */
static int merge_cells(lpr_box *b, int n, int y0, int y1, int ca, int cb)
{
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && b[j - 1].x > b[j].x; j--) {
            lpr_box t = b[j];
            b[j] = b[j - 1];
            b[j - 1] = t;
        }
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (m > 0) {
            lpr_box *p = &b[m - 1];
            int ov = (p->x + p->w < b[i].x + b[i].w ? p->x + p->w : b[i].x + b[i].w) - b[i].x;
            int narrow = p->w < b[i].w ? p->w : b[i].w;
            if (ov > 0 && (float)ov >= 0.5f * (float)narrow) {
                int x0 = p->x < b[i].x ? p->x : b[i].x;
                int ya = p->y < b[i].y ? p->y : b[i].y;
                int x1 = p->x + p->w > b[i].x + b[i].w ? p->x + p->w : b[i].x + b[i].w;
                int yb = p->y + p->h > b[i].y + b[i].h ? p->y + p->h : b[i].y + b[i].h;
                *p = (lpr_box){x0, ya, x1 - x0, yb - ya};
                continue;
            }
        }
        b[m++] = b[i];
    }
    int lo = ca > y0 ? ca : y0, hi = cb < y1 ? cb : y1;
    for (int i = 0; i < m; i++) {
        int ya = b[i].y < lo ? lo : b[i].y;
        int yb = b[i].y + b[i].h > hi ? hi : b[i].y + b[i].h;
        b[i] =
            (lpr_box){b[i].x + LINE_BORDER, ya - y0 + LINE_BORDER, b[i].w, yb > ya ? yb - ya : 0};
    }
    return m;
}

/* Otsu's threshold for a grey line, computed once per line. Taken over the
 * whole crop, unless that leaves the middle, where the localiser found the
 * characters, nearly without ink: a dark holder or bumper in the margins
 * pulled it below a pale plate's lettering, and the middle's own threshold
 * is used. */
static int otsu_threshold(PIX *lg)
{
    int w = pixGetWidth(lg), h = pixGetHeight(lg), t = 128;
    PIX *th = NULL;
    l_uint32 v = 128;
    if (pixOtsuAdaptiveThreshold(lg, w, h, 0, 0, 0.1f, &th, NULL) == 0 && th &&
        pixGetPixel(th, 0, 0, &v) == 0)
        t = (int)v;
    pixDestroy(&th);
    int mx = w > 2 * TARGET_CHAR_H ? TARGET_CHAR_H / 2 : 0;
    int my = h > TARGET_CHAR_H * 3 / 2 ? (h - TARGET_CHAR_H) / 2 : 0;
    BOX *mid = boxCreate(mx, my, w - 2 * mx, h - 2 * my);
    PIX *inner = mid ? pixClipRectangle(lg, mid, NULL) : NULL;
    PIX *ink = inner ? pixThresholdToBinary(inner, t) : NULL;
    l_int32 on = 0;
    if (ink && pixCountPixels(ink, &on, NULL) == 0 &&
        (float)on < MIN_INK * (float)pixGetWidth(ink) * (float)pixGetHeight(ink) &&
        pixOtsuAdaptiveThreshold(inner, pixGetWidth(inner), pixGetHeight(inner), 0, 0, 0.1f, &th,
                                 NULL) == 0 &&
        th && pixGetPixel(th, 0, 0, &v) == 0)
        t = (int)v;
    pixDestroy(&th);
    pixDestroy(&ink);
    pixDestroy(&inner);
    boxDestroy(&mid);
    return t;
}

/* A copy of the binary b without its foreground runs at least hlen long
 * horizontally (none if hlen is 0) or vlen long vertically: a frame's edges,
 * longer than any stroke. NULL on failure. */
static PIX *without_long_runs(PIX *b, int hlen, int vlen)
{
    PIX *hline = hlen > 0 ? pixOpenBrick(NULL, b, hlen, 1) : NULL;
    PIX *vline = pixOpenBrick(NULL, b, 1, vlen);
    PIX *rest = vline && (hline || hlen == 0) ? pixCopy(NULL, b) : NULL;
    if (rest && hline)
        pixSubtract(rest, rest, hline);
    if (rest)
        pixSubtract(rest, rest, vline);
    pixDestroy(&hline);
    pixDestroy(&vline);
    return rest;
}

/* The median of v[0..n-1] (n > 0), sorting v in place. */
static float median(float *v, int n)
{
    lpr_sort_floats(v, (size_t)n);
    return v[n / 2];
}

/* A component too big for a character (the plate's frame, a holder edge)
 * may have a character fused to it at a corner. Cut to the rows the
 * characters fill [ctop, cbot) less a strip at the top, at the bottom or
 * both, it falls apart into the character and pieces of the frame; each
 * piece spanning the cut with a character's width is taken whole over the
 * character rows, painted into 'out' and added to segs. (x, y) is c's place
 * in 'out'. Returns the new cell count. */
static int peel_frame(PIX *c, int x, int y, int ctop, int cbot, PIX *out, lpr_box *segs, int ns,
                      int maxseg)
{
    float ch = (float)(cbot - ctop);
    int strip = (int)(0.15f * ch), first = ns;
    if (ch < 0.7f * TARGET_CHAR_H || ctop < y || cbot > y + pixGetHeight(c))
        return ns;
    /* the frame's sides: runs taller than any character */
    PIX *rest = without_long_runs(c, 0, (int)(PEEL_VLINE * TARGET_CHAR_H));
    if (!rest)
        return ns;
    static const int cuts[3][2] = {{1, 0}, {0, 1}, {1, 1}};
    for (int k = 0; k < 3; k++) {
        int m0 = ctop + cuts[k][0] * strip, m1 = cbot - cuts[k][1] * strip;
        BOX *rows = boxCreate(0, m0 - y, pixGetWidth(c), m1 - m0);
        PIX *mid = rows ? pixClipRectangle(rest, rows, NULL) : NULL;
        boxDestroy(&rows);
        BOXA *ba = mid ? pixConnComp(mid, NULL, 8) : NULL;
        for (int i = 0; ba && i < boxaGetCount(ba); i++) {
            l_int32 sx, sy, sw, sh;
            boxaGetBoxGeometry(ba, i, &sx, &sy, &sw, &sh);
            /* all of the cut's rows, a character's width: frame sides are
             * thinner than any character but a 1 (a 1 fused to a frame
             * stays lost) */
            if (sh < m1 - m0 || sw > 0.9f * ch || sw < 0.3f * ch)
                continue;
            int taken = 0;
            for (int j = first; j < ns && !taken; j++)
                taken = x + sx < segs[j].x + segs[j].w && x + sx + sw > segs[j].x;
            BOX *cell = boxCreate(sx, ctop - y, sw, cbot - ctop);
            PIX *p = cell && !taken ? pixClipRectangle(rest, cell, NULL) : NULL;
            boxDestroy(&cell);
            l_int32 on = 0;
            /* no character is a solid block (a bolt head, the EU band) */
            if (p && pixCountPixels(p, &on, NULL) == 0 && (float)on < 0.75f * (float)sw * ch) {
                pixRasterop(out, x + sx, ctop, sw, cbot - ctop, PIX_PAINT, p, 0, 0);
                if (segs && ns < maxseg)
                    segs[ns++] = (lpr_box){x + sx, ctop, sw, cbot - ctop};
            }
            pixDestroy(&p);
        }
        boxaDestroy(&ba);
        pixDestroy(&mid);
    }
    pixDestroy(&rest);
    return ns;
}

/* Binarised line (grey levels below 'thresh' are ink; LOCAL_THRESHOLD: each
 * pixel's neighbourhood decides) keeping only components inside the
 * character band, with a white border. If segs is given, the character cells (components merged
 * where they share columns: a broken stroke) are written there, left to right,
 * in the returned image's coordinates, and their count to *nseg. */
static PIX *line_clean_binary(PIX *lg, int thresh, lpr_box *segs, int maxseg, int *nseg)
{
    PIX *bin = NULL, *out = NULL, *bordered = NULL;
    BOXA *boxa = NULL;
    PIXA *pixa = NULL;
    int w = pixGetWidth(lg), h = pixGetHeight(lg);
    float cys[256], tops[256], bots[256];
    int nh = 0, tall_x0 = 1 << 30, tall_x1 = -1, ns = 0;

    if (thresh == LOCAL_THRESHOLD) {
        /* the fallback: a threshold from each pixel's neighbourhood, for a
         * plate whose dark surround outweighs it in a global one; then the
         * frame's edges go, so characters touching the frame come apart
         * from it */
        PIX *local = NULL;
        if (pixSauvolaBinarize(lg, TARGET_CHAR_H / 2, 0.3f, 1, NULL, NULL, NULL, &local) || !local)
            return NULL;
        bin = without_long_runs(local, (int)(1.6f * TARGET_CHAR_H), (int)(1.3f * TARGET_CHAR_H));
        pixDestroy(&local);
    } else {
        bin = pixThresholdToBinary(lg, thresh < 1 ? 1 : thresh > 255 ? 255 : thresh);
    }
    if (!bin)
        return NULL;
    boxa = pixConnComp(bin, &pixa, 8);
    if (!boxa)
        goto out;
    int n = boxaGetCount(boxa);
    for (int i = 0; i < n && nh < 256; i++) {
        l_int32 x, y, bw, bh;
        boxaGetBoxGeometry(boxa, i, &x, &y, &bw, &bh);
        if (bh >= 0.7f * TARGET_CHAR_H && bh <= 1.5f * TARGET_CHAR_H && bw <= 1.3f * bh) {
            cys[nh] = (float)y + (float)bh / 2.0f;
            tops[nh] = (float)y;
            bots[nh] = (float)(y + bh);
            nh++;
            if (x < tall_x0)
                tall_x0 = x;
            if (x + bw > tall_x1)
                tall_x1 = x + bw;
        }
    }
    if (nh == 0)
        goto out;
    /* median centre of character-sized components = band centre; their
     * median top and bottom = the rows the characters fill */
    float cy = median(cys, nh);
    float top = cy - 0.75f * TARGET_CHAR_H, bot = cy + 0.75f * TARGET_CHAR_H;
    int ctop = (int)median(tops, nh), cbot = (int)median(bots, nh);
    out = pixCreate(w, h, 1);
    if (!out)
        goto out;
    for (int i = 0; i < n; i++) {
        l_int32 x, y, bw, bh;
        boxaGetBoxGeometry(boxa, i, &x, &y, &bw, &bh);
        if (((float)y < top || (float)(y + bh) > bot || bw > 2.5f * TARGET_CHAR_H) &&
            (float)y < bot && (float)(y + bh) > top) {
            /* too big for a character but crossing the band: a frame or a
             * holder edge, perhaps with a character fused to it */
            PIX *c = pixaGetPix(pixa, i, L_CLONE);
            if (c)
                ns = peel_frame(c, x, y, ctop, cbot, out, segs, ns, maxseg);
            pixDestroy(&c);
            continue;
        }
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
        if (segs && ns < maxseg)
            segs[ns++] = (lpr_box){x, y, bw, bh};
    }
    /* crop to the band so the line height is the character height */
    int y0 = (int)top > 0 ? (int)top : 0;
    int y1 = (int)bot < h ? (int)bot : h;
    BOX *band = boxCreate(0, y0, w, y1 - y0);
    PIX *cropped = band ? pixClipRectangle(out, band, NULL) : NULL;
    boxDestroy(&band);
    if (cropped) {
        bordered = pixAddBorder(cropped, LINE_BORDER, 0);
        pixDestroy(&cropped);
    }
    if (segs && nseg && bordered)
        *nseg = merge_cells(segs, ns, y0, y1, ctop - (int)(CELL_SLACK * (float)(cbot - ctop)),
                            cbot + (int)(CELL_SLACK * (float)(cbot - ctop)));
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
    PIX *b = pixAddBorder(norm, LINE_BORDER, 255);
    pixDestroy(&norm);
    return b;
}

static int read_pix(TessBaseAPI *api, PIX *pix, lpr_charpos *pos, int max, float *mean_conf)
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

/* Merges reading 'o' into 'p' position by position (same length): shared
 * characters add their weighted confidences, others join as alternatives. */
static void merge_reads(lpr_charpos *p, const lpr_charpos *o, int n, float wp, float wo)
{
    for (int i = 0; i < n; i++) {
        lpr_charpos m = {0};
        for (int a = 0; a < p[i].n; a++) {
            m.ch[m.n] = p[i].ch[a];
            m.conf[m.n++] = wp * p[i].conf[a];
        }
        for (int a = 0; a < o[i].n; a++) {
            int k;
            for (k = 0; k < m.n && m.ch[k] != o[i].ch[a]; k++)
                ;
            if (k < m.n)
                m.conf[k] += wo * o[i].conf[a];
            else if (m.n < LPR_MAX_ALTS) {
                m.ch[m.n] = o[i].ch[a];
                m.conf[m.n++] = wo * o[i].conf[a];
            } else if (wo * o[i].conf[a] > m.conf[m.n - 1]) {
                m.ch[m.n - 1] = o[i].ch[a];
                m.conf[m.n - 1] = wo * o[i].conf[a];
            }
            /* keep sorted so the weakest is last */
            for (int b = m.n - 1; b > 0 && m.conf[b - 1] < m.conf[b]; b--) {
                float tc = m.conf[b];
                m.conf[b] = m.conf[b - 1];
                m.conf[b - 1] = tc;
                char t = m.ch[b];
                m.ch[b] = m.ch[b - 1];
                m.ch[b - 1] = t;
            }
        }
        for (int a = 1; a < m.n; a++)
            for (int b = a; b > 0 && m.conf[b - 1] < m.conf[b]; b--) {
                float tc = m.conf[b];
                m.conf[b] = m.conf[b - 1];
                m.conf[b - 1] = tc;
                char t = m.ch[b];
                m.ch[b] = m.ch[b - 1];
                m.ch[b - 1] = t;
            }
        for (int a = 0; a < m.n; a++)
            if (m.conf[a] > 100)
                m.conf[a] = 100;
        p[i] = m;
    }
}

/* Cells of full character height; shorter ones are dashes, dots, emblem
 * fragments. */
static int char_cells(lpr_box *segs, int n)
{
    int m = 0;
    for (int i = 0; i < n; i++)
        if ((float)segs[i].h >= MIN_CELL_H * TARGET_CHAR_H)
            segs[m++] = segs[i];
    return m;
}

int lpr_segment_line(PIX *grey, const lpr_textline *line, float (*feat)[LPR_GLYPH_FEATS], int max)
{
    lpr_box segs[LPR_LINE_MAX_CHARS * 2];
    int ns = 0, n = 0;
    PIX *lg = line_grey(grey, line, SIDE_MARGIN);
    if (!lg)
        return 0;
    PIX *bin = line_clean_binary(lg, otsu_threshold(lg), segs, LPR_LINE_MAX_CHARS * 2, &ns);
    pixDestroy(&lg);
    if (!bin)
        return 0;
    ns = char_cells(segs, ns);
    for (int i = 0; i < ns && n < max; i++)
        if (lpr_glyph_features(bin, segs[i].x, segs[i].y, segs[i].w, segs[i].h, TARGET_CHAR_H,
                               feat[n]) == 0)
            n++;
    pixDestroy(&bin);
    return n;
}

/* The classifier's reading of the cells of 'bin'. */
static int classify_cells(const lpr_charclf *clf, PIX *bin, lpr_box *segs, int ns, lpr_charpos *pos,
                          int max, float *mean_conf)
{
    float feat[LPR_GLYPH_FEATS], sum = 0;
    int n = 0;
    ns = char_cells(segs, ns);
    for (int i = 0; i < ns && n < max; i++) {
        if (lpr_glyph_features(bin, segs[i].x, segs[i].y, segs[i].w, segs[i].h, TARGET_CHAR_H,
                               feat) != 0)
            continue;
        float pr[LPR_MAX_ALTS];
        lpr_charpos *p = &pos[n];
        memset(p, 0, sizeof *p);
        p->n = lpr_charclf_classify(clf, feat, p->ch, pr, LPR_MAX_ALTS);
        for (int a = 0; a < p->n; a++)
            p->conf[a] = 100.0f * pr[a];
        sum += p->conf[0];
        n++;
    }
    *mean_conf = n > 0 ? sum / (float)n : 0;
    return n;
}

/* The classifier's vote over several binarisations of the grey line 'lg':
 * the one at its threshold 't0' already cut into 'bin0' / 'segs0' and the
 * line thresholded darker and lighter (thin strokes survive one, touching
 * characters part in the other). Readings that found the same number of characters
 * vote per position; the count backed by the most confidence wins. Returns
 * the count, its mean confidence in *mean_conf and how many binarisations
 * agreed on it in *agree. */
static int classify_line(const lpr_charclf *clf, PIX *lg, int t0, PIX *bin0, lpr_box *segs0,
                         int nseg0, lpr_charpos *pos, int max, float *mean_conf, int *agree)
{
    static const int offsets[] = {0, -THRESH_STEP, THRESH_STEP};
    enum { NB = sizeof offsets / sizeof offsets[0] };
    lpr_charpos reads[NB][LPR_LINE_MAX_CHARS];
    int counts[NB] = {0};
    float means[NB] = {0};

    for (int k = 0; k < NB; k++) {
        if (k == 0) {
            if (bin0)
                counts[0] = classify_cells(clf, bin0, segs0, nseg0, reads[0], LPR_LINE_MAX_CHARS,
                                           &means[0]);
            continue;
        }
        lpr_box segs[LPR_LINE_MAX_CHARS * 2];
        int nseg = 0;
        PIX *bin = line_clean_binary(lg, t0 + offsets[k], segs, LPR_LINE_MAX_CHARS * 2, &nseg);
        if (bin)
            counts[k] =
                classify_cells(clf, bin, segs, nseg, reads[k], LPR_LINE_MAX_CHARS, &means[k]);
        pixDestroy(&bin);
    }
    if (counts[0] < 4 && counts[1] < 4 && counts[2] < 4) {
        /* no global threshold found the characters: one local one */
        lpr_box segs[LPR_LINE_MAX_CHARS * 2];
        int nseg = 0;
        PIX *bin = line_clean_binary(lg, LOCAL_THRESHOLD, segs, LPR_LINE_MAX_CHARS * 2, &nseg);
        if (bin)
            counts[0] =
                classify_cells(clf, bin, segs, nseg, reads[0], LPR_LINE_MAX_CHARS, &means[0]);
        pixDestroy(&bin);
    }
    int best = -1;
    float best_score = 0;
    for (int k = 0; k < NB; k++) {
        if (counts[k] < 4)
            continue;
        float score = 0;
        for (int j = 0; j < NB; j++)
            if (counts[j] == counts[k])
                score += means[j];
        if (score > best_score) {
            best_score = score;
            best = k;
        }
    }
    *mean_conf = 0;
    *agree = 0;
    if (best < 0)
        return 0;
    int n = counts[best] < max ? counts[best] : max, m = 0;
    for (int k = 0; k < NB; k++)
        m += counts[k] == counts[best];
    memcpy(pos, reads[best], (size_t)n * sizeof *pos);
    for (int i = 0; i < n; i++)
        for (int a = 0; a < pos[i].n; a++)
            pos[i].conf[a] /= (float)m;
    for (int k = 0; k < NB; k++)
        if (k != best && counts[k] == counts[best])
            merge_reads(pos, reads[k], n, 1.0f, 1.0f / (float)m);
    float sum = 0;
    for (int i = 0; i < n; i++)
        sum += pos[i].conf[0];
    *mean_conf = n > 0 ? sum / (float)n : 0;
    *agree = m;
    return n;
}

/* The localiser's line can stop short of a character at the plate's edge
 * (one merged with the frame or an emblem at its scale). The classifier
 * reads a crop wider by EDGE_MARGIN character heights; if that reading is
 * this one with up to two characters more at its ends, each confidently
 * read, it replaces this one. Returns 1 if it did. */
static int wider_read(const lpr_charclf *clf, PIX *grey, const lpr_textline *line,
                      lpr_charpos *reads, int *count, float *mean)
{
    lpr_charpos wide[LPR_LINE_MAX_CHARS];
    lpr_box segs[LPR_LINE_MAX_CHARS * 2];
    int nseg = 0, agree = 0, n = *count;
    float wmean = 0;
    PIX *lg = line_grey(grey, line, EDGE_MARGIN);
    if (!lg)
        return 0;
    int t = otsu_threshold(lg);
    PIX *bin = line_clean_binary(lg, t, segs, LPR_LINE_MAX_CHARS * 2, &nseg);
    int wn = classify_line(clf, lg, t, bin, segs, nseg, wide, LPR_LINE_MAX_CHARS, &wmean, &agree);
    pixDestroy(&bin);
    pixDestroy(&lg);
    if (wn <= n || wn > n + 2 || agree < 2)
        return 0;
    for (int off = 0; off <= wn - n; off++) {
        int same = 1;
        for (int i = 0; i < n && same; i++)
            same = wide[off + i].ch[0] == reads[i].ch[0];
        if (!same)
            continue;
        for (int i = 0; i < wn; i++)
            if ((i < off || i >= off + n) && wide[i].conf[0] < EDGE_CONF)
                return 0;
        memcpy(reads, wide, (size_t)wn * sizeof *reads);
        *count = wn;
        *mean = wmean;
        return 1;
    }
    return 0;
}

int lpr_recognize_line(TessBaseAPI *api, const lpr_charclf *clf, PIX *grey,
                       const lpr_textline *line, lpr_charpos *pos, int max)
{
    lpr_charpos reads[3][LPR_LINE_MAX_CHARS];
    int counts[3] = {0, 0, 0};
    float means[3] = {0, 0, 0};
    lpr_box segs[LPR_LINE_MAX_CHARS * 2];
    int nseg = 0;
    PIX *lg = line_grey(grey, line, SIDE_MARGIN);
    if (!lg)
        return 0;
    int t = otsu_threshold(lg);
    PIX *forms[2] = {line_clean_binary(lg, t, segs, LPR_LINE_MAX_CHARS * 2, &nseg), NULL};
    int agree = 0;
    if (clf) {
        counts[2] = classify_line(clf, lg, t, forms[0], segs, nseg, reads[2], LPR_LINE_MAX_CHARS,
                                  &means[2], &agree);
        if (counts[2] >= 3 && wider_read(clf, grey, line, reads[2], &counts[2], &means[2]))
            agree = 3; /* the line's own cells plus its lost edge: taken as read */
    }
    if (counts[2] >= 4 && agree >= 2 && means[2] >= CLF_TRUSTED) {
        /* binarisations agree and the classifier is sure: the LSTM, three
         * quarters of the reading time, would only confirm it */
        pixDestroy(&forms[0]);
        pixDestroy(&lg);
        int n = counts[2] < max ? counts[2] : max;
        memcpy(pos, reads[2], (size_t)n * sizeof *pos);
        return n;
    }
    if (clf && counts[2] < LSTM_MIN_CELLS) {
        /* no threshold cut this line into characters: most such lines are
         * no plate (grilles, stickers, text), and the LSTM's reading of
         * them is noise that costs a pass */
        pixDestroy(&forms[0]);
        pixDestroy(&lg);
        return 0;
    }
    for (int f = 0; f < 2; f++) {
        if (f == 1) {
            /* the grey form is read only when the clean one is doubtful:
             * it costs a second LSTM pass */
            if (counts[0] >= 4 && means[0] >= SEG_CONFIDENT)
                break;
            if (counts[2] >= 4 && counts[2] == counts[0] && means[2] >= CLF_CONFIDENT)
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
    /* LSTM forms: same length -> merge per position; otherwise the more
     * confident one */
    int best = means[0] * (float)(counts[0] >= 4) >= means[1] * (float)(counts[1] >= 4) ? 0 : 1;
    int other = 1 - best;
    if (counts[other] == counts[best] && counts[best] > 0) {
        merge_reads(reads[best], reads[other], counts[best], 1.0f, 1.0f);
        for (int i = 0; i < counts[best]; i++)
            for (int a = 0; a < reads[best][i].n; a++)
                reads[best][i].conf[a] = reads[best][i].conf[a] / 2.0f + 5.0f;
    }
    /* the classifier: merged where it found as many characters as the LSTM;
     * otherwise it replaces a less confident LSTM reading */
    if (counts[2] >= 4) {
        if (counts[2] == counts[best]) {
            merge_reads(reads[best], reads[2], counts[best], LSTM_WEIGHT, 1.0f - LSTM_WEIGHT);
        } else if (means[2] * CLF_ALONE > means[best] * (float)(counts[best] >= 4)) {
            best = 2;
        }
    }
    int n = counts[best] < max ? counts[best] : max;
    memcpy(pos, reads[best], (size_t)n * sizeof *pos);
    return n;
}

/*
 * locate.c - finds plate text lines with Leptonica, character first.
 *
 * The grey image is scaled to about DETECT_MAX_DIM (small photos enlarged
 * up to 2x) and, when that is 700 px or more, halved once more. Each level
 * is binarised against its local mean (lpr_binarize_local, pixels.c) for
 * both polarities, the first level once more at a soft threshold for faint
 * dark characters; connected components of character size and shape are
 * kept and chained into lines when neighbours share height, baseline and
 * spacing. Lines of 3..12 characters are scored (count
 * near a plate's, height consistency, straight baseline), overlapping lines
 * are suppressed, and the best are returned in full-image coordinates.
 * Work per image is bounded: a fixed number of binarisations and a capped
 * component count.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ocr_internal.h"
#include "tuning.h"

typedef struct comp {
    int x, y, w, h;
} comp;

static void uf_union(int *parent, int a, int b)
{
    a = lpr_uf_find(parent, a);
    b = lpr_uf_find(parent, b);
    if (a != b)
        parent[b] = a;
}

static int cmp_comp_x(const void *a, const void *b)
{
    const comp *ca = a, *cb = b;
    return (ca->x > cb->x) - (ca->x < cb->x);
}

static int char_like(int w, int h)
{
    if (h < MIN_CHAR_H || h > MAX_CHAR_H)
        return 0;
    if (w < 2 || (float)w > 2.5f * (float)h || (float)w < 0.08f * (float)h)
        return 0;
    return 1;
}

static int compatible(const comp *a, const comp *b)
{
    float ha = (float)a->h, hb = (float)b->h;
    float hmax = ha > hb ? ha : hb, hmin = ha < hb ? ha : hb;
    if (hmax > 1.35f * hmin)
        return 0;
    float gap = (float)(b->x - (a->x + a->w));
    if (gap < -0.25f * hmax || gap > 1.1f * hmax)
        return 0;
    float cya = (float)a->y + ha / 2, cyb = (float)b->y + hb / 2;
    if (fabsf(cya - cyb) > 0.3f * hmax)
        return 0;
    return 1;
}

/* Least-squares slope of the char bottoms, in degrees. */
static float baseline_angle(const lpr_box *c, int n)
{
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (int i = 0; i < n; i++) {
        double x = c[i].x + c[i].w / 2.0, y = c[i].y + c[i].h;
        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;
    }
    double den = n * sxx - sx * sx;
    if (n < 2 || fabs(den) < 1e-9)
        return 0.0f;
    double slope = (n * sxy - sx * sy) / den;
    return (float)(atan(slope) * 180.0 / M_PI);
}

static void line_from_group(const comp *cs, const int *idx, int n, float scale, int inverted,
                            lpr_textline *line)
{
    float hs[LPR_LINE_MAX_CHARS];
    lpr_box chars[LPR_LINE_MAX_CHARS]; /* left to right: the baseline's points */
    int x0 = 1 << 30, y0 = 1 << 30, x1 = -1, y1 = -1;

    memset(line, 0, sizeof *line);
    line->n_chars = n;
    line->inverted = inverted;
    for (int i = 0; i < n; i++) {
        const comp *c = &cs[idx[i]];
        lpr_box b = {(int)lroundf((float)c->x / scale), (int)lroundf((float)c->y / scale),
                     (int)lroundf((float)c->w / scale), (int)lroundf((float)c->h / scale)};
        if (b.w < 1)
            b.w = 1;
        if (b.h < 1)
            b.h = 1;
        chars[i] = b;
        hs[i] = (float)b.h;
        if (b.x < x0)
            x0 = b.x;
        if (b.y < y0)
            y0 = b.y;
        if (b.x + b.w > x1)
            x1 = b.x + b.w;
        if (b.y + b.h > y1)
            y1 = b.y + b.h;
    }
    line->box = (lpr_box){x0, y0, x1 - x0, y1 - y0};
    lpr_sort_floats(hs, (size_t)n);
    line->char_h = hs[n / 2];
    line->angle_deg = baseline_angle(chars, n);

    /* score: plates have 5..8 characters of one height on a straight line */
    float mean = 0, var = 0;
    for (int i = 0; i < n; i++)
        mean += hs[i];
    mean /= (float)n;
    for (int i = 0; i < n; i++)
        var += (hs[i] - mean) * (hs[i] - mean);
    float cv = sqrtf(var / (float)n) / mean;
    float count_term = n >= 5 && n <= 8 ? 3.0f : (n == 4 || n == 9 ? 2.0f : 1.0f);
    float width_ratio = (float)line->box.w / line->char_h;
    float shape = width_ratio > 2.0f && width_ratio < 12.0f ? 1.0f : 0.0f;
    line->score = count_term + shape - 4.0f * cv - fabsf(line->angle_deg) / 15.0f;
}

/* Finds lines among the components of one binary image (foreground = the
 * characters' polarity) of a level scaled by 'scale' from the original.
 * Appends to out; returns lines appended or -1 on failure. */
static int locate_pass(PIX *bin, float scale, int inverted, lpr_textline *out, int max)
{
    BOXA *boxa = NULL;
    comp *cs = NULL;
    int *members = NULL, *parent = NULL;
    int found = -1, ncomp = 0;
    int w = pixGetWidth(bin), h = pixGetHeight(bin);

    boxa = lpr_components_bb(bin);
    if (!boxa)
        goto out;
    int nbox = boxaGetCount(boxa);
    cs = malloc(sizeof *cs * (size_t)(nbox > 0 ? nbox : 1));
    members = malloc(sizeof *members * (size_t)(nbox > 0 ? nbox : 1));
    parent = malloc(sizeof *parent * (size_t)(nbox > 0 ? nbox : 1));
    if (!cs || !members || !parent)
        goto out;
    for (int i = 0; i < nbox && ncomp < MAX_COMPONENTS; i++) {
        l_int32 bx, by, bw, bh;
        if (boxaGetBoxGeometry(boxa, i, &bx, &by, &bw, &bh))
            continue;
        if (!char_like(bw, bh))
            continue;
        /* skip components touching the image border */
        if (bx == 0 || by == 0 || bx + bw >= w || by + bh >= h)
            continue;
        cs[ncomp] = (comp){bx, by, bw, bh};
        ncomp++;
    }
    qsort(cs, (size_t)ncomp, sizeof *cs, cmp_comp_x);
    for (int i = 0; i < ncomp; i++)
        parent[i] = i;
    for (int i = 0; i < ncomp; i++) {
        float reach = (float)(cs[i].x + cs[i].w) + 1.1f * (float)MAX_CHAR_H * 1.35f;
        for (int j = i + 1; j < ncomp && (float)cs[j].x <= reach; j++) {
            if (compatible(&cs[i], &cs[j]))
                uf_union(parent, i, j);
        }
    }
    /* collect groups: count members per root, then gather plausible ones */
    for (int i = 0; i < ncomp; i++)
        members[i] = 0;
    for (int i = 0; i < ncomp; i++)
        members[lpr_uf_find(parent, i)]++;
    found = 0;
    for (int r = 0; r < ncomp && found < max; r++) {
        if (members[r] < 3 || members[r] > 12)
            continue;
        int idx[LPR_LINE_MAX_CHARS], n = 0;
        for (int i = 0; i < ncomp && n < LPR_LINE_MAX_CHARS; i++)
            if (lpr_uf_find(parent, i) == r)
                idx[n++] = i;
        line_from_group(cs, idx, n, scale, inverted, &out[found]);
        found++;
    }
out:
    free(cs);
    free(members);
    free(parent);
    boxaDestroy(&boxa);
    return found;
}

static int cmp_line_score(const void *a, const void *b)
{
    const lpr_textline *la = a, *lb = b;
    return (la->score < lb->score) - (la->score > lb->score);
}

int lpr_locate(PIX *grey, lpr_textline *lines, int max)
{
    lpr_textline *all = NULL;
    PIX *levels[2] = {NULL, NULL};
    float scales[2] = {1.0f, 0.5f};
    int nall = 0, result = -1;
    int w = pixGetWidth(grey), h = pixGetHeight(grey);
    int maxdim = w > h ? w : h;

    if (pixGetDepth(grey) != 8 || max <= 0)
        return -1;
    /* detect at about DETECT_MAX_DIM: small photos are enlarged (up to 2x)
     * so their small plates have characters tall enough to binarise */
    scales[0] = (float)DETECT_MAX_DIM / (float)maxdim;
    if (scales[0] > 2.0f)
        scales[0] = 2.0f;
    if (scales[0] > 0.8f && scales[0] < 1.25f)
        scales[0] = 1.0f;
    if (scales[0] < 1.0f)
        levels[0] = pixScaleAreaMap(grey, scales[0], scales[0]);
    else if (scales[0] > 1.0f)
        levels[0] = pixScaleGrayLI(grey, scales[0], scales[0]);
    else
        levels[0] = pixClone(grey);
    if (!levels[0])
        goto out;
    int nlevels = 1;
    if (pixGetWidth(levels[0]) >= 700 || pixGetHeight(levels[0]) >= 700) {
        levels[1] = pixScaleAreaMap2(levels[0]);
        if (!levels[1])
            goto out;
        scales[1] = scales[0] * 0.5f;
        nlevels = 2;
    }
    all = malloc(sizeof *all * 8 * MAX_LINES_PER_PASS);
    if (!all)
        goto out;
    /* passes: every level at the normal contrast threshold, both
     * polarities; the full-resolution level once more at a soft threshold
     * for dark characters only (faint, blurred small plates) */
    for (int l = 0; l < nlevels; l++) {
        PIX *bins[3] = {NULL, NULL, NULL};
        if (pixGetWidth(levels[l]) < 32 || pixGetHeight(levels[l]) < 32)
            continue;
        if (lpr_binarize_local(levels[l], LOCATE_MEAN_HALF, &bins[0], &bins[1],
                               l == 0 ? &bins[2] : NULL) != 0)
            goto out;
        for (int b = 0; b < 3 && bins[b]; b++) {
            int n = locate_pass(bins[b], scales[l], b == 1, all + nall, MAX_LINES_PER_PASS);
            if (n < 0) {
                for (int k = 0; k < 3; k++)
                    pixDestroy(&bins[k]);
                goto out;
            }
            nall += n;
        }
        for (int k = 0; k < 3; k++)
            pixDestroy(&bins[k]);
    }
    qsort(all, (size_t)nall, sizeof *all, cmp_line_score);
    result = 0;
    for (int i = 0; i < nall && result < max; i++) {
        int dup = 0;
        for (int k = 0; k < result && !dup; k++)
            dup = lpr_box_iou(all[i].box, lines[k].box) > 0.4f;
        if (!dup)
            lines[result++] = all[i];
    }
out:
    free(all);
    pixDestroy(&levels[0]);
    pixDestroy(&levels[1]);
    return result;
}

lpr_box lpr_plate_box_from_line(const lpr_textline *line, lpr_region region, int img_w, int img_h)
{
    /* Plate geometry from the standards: us 12"x6" with 2.75" characters,
     * eu 520x110 mm with 75 mm characters, br 400x130 mm with 63 mm
     * characters under a city banner. */
    float ch = line->char_h > 0 ? line->char_h : (float)line->box.h;
    float hfac, wfac, up;
    switch (region) {
    case LPR_REGION_EU:
        hfac = 1.5f;
        wfac = 1.15f;
        up = 0.5f;
        break;
    case LPR_REGION_BR:
        hfac = 2.0f;
        wfac = 1.12f;
        up = 0.65f;
        break;
    default:
        hfac = 2.1f;
        wfac = 1.25f;
        up = 0.5f;
        break;
    }
    float cx = (float)line->box.x + (float)line->box.w / 2.0f;
    float cy = (float)line->box.y + (float)line->box.h / 2.0f;
    float pw = (float)line->box.w * wfac, ph = ch * hfac;
    float x0 = cx - pw / 2.0f, y0 = cy - ph * up;
    float x1 = x0 + pw, y1 = y0 + ph;
    if (x0 < 0)
        x0 = 0;
    if (y0 < 0)
        y0 = 0;
    if (x1 > (float)img_w)
        x1 = (float)img_w;
    if (y1 > (float)img_h)
        y1 = (float)img_h;
    return (lpr_box){(int)x0, (int)y0, (int)(x1 - x0), (int)(y1 - y0)};
}

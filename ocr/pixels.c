/*
 * pixels.c - the locator's whole-image operations, done with less work
 * than Leptonica's general ones: the local mean of a grey image, the
 * local-mean binarisation over it, and the bounding boxes of a binary
 * image's 8-connected components.
 *
 * The local mean (lpr_box_mean) is a running sum: one column sum per x
 * updated by a row entering and a row leaving the window, then a running
 * sum along the row, about a third of pixBlockconv's instructions. Its
 * window is clipped to the image (the mean of the pixels that are there).
 * lpr_binarize_local thresholds each row against its means as they are
 * made, eight pixels at a time, without a mean image.
 *
 * The locator needs only each component's box, but Leptonica's
 * pixConnCompBB fills every component pixel by pixel (a seed fill per
 * component), which was half the locator's cost on a busy city frame.
 * Here each row's runs of foreground are read a 32-bit word at a time,
 * runs that touch (overlap or meet at a corner) a run of the row above are
 * joined in a union-find, and each set keeps its box: the work follows the
 * runs, not the pixels. The boxes come out in pixConnCompBB's order (by
 * each component's first pixel in raster order), so the locator's results
 * are exactly those it had. tests/unit/test_pixels.c checks all three
 * against brute force or Leptonica on random and real images.
 *
 * Also the copies between grey buffers and PIX of lpr_pix.h, with the same
 * word-at-a-time row moves.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lpr_pix.h"
#include "ocr_internal.h"

#define MAX_HALF 64 /* the widest window the mean takes: 129 x 129 */

/* Leptonica keeps an 8 bpp row in 32-bit words, the first pixel in the
 * word's top byte (on a little-endian machine, each word's bytes reversed):
 * these move a row to and from plain bytes. */
static void unpack_row(const l_uint32 *line, int w, uint8_t *row)
{
    for (int i = 0; i < (w + 3) / 4; i++) {
        l_uint32 v = line[i];
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        v = __builtin_bswap32(v);
#endif
        memcpy(row + 4 * i, &v, 4);
    }
}

static void pack_row(const uint8_t *row, int w, l_uint32 *line)
{
    for (int i = 0; i < (w + 3) / 4; i++) {
        l_uint32 v;
        memcpy(&v, row + 4 * i, 4);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        v = __builtin_bswap32(v);
#endif
        line[i] = v;
    }
}

PIX *lpr_pix_from_grey(const uint8_t *pixels, int stride, lpr_box region)
{
    if (!pixels || region.w <= 0 || region.h <= 0)
        return NULL;
    PIX *p = pixCreate(region.w, region.h, 8);
    if (!p)
        return NULL;
    int full = region.w / 4 * 4, wpl = pixGetWpl(p);
    for (int y = 0; y < region.h; y++) {
        const uint8_t *row = pixels + (size_t)(region.y + y) * (size_t)stride + (size_t)region.x;
        l_uint32 *line = pixGetData(p) + (size_t)y * (size_t)wpl;
        pack_row(row, full, line); /* whole words: reads no byte past the row */
        for (int x = full; x < region.w; x++)
            SET_DATA_BYTE(line, x, row[x]);
    }
    return p;
}

uint8_t *lpr_grey_from_pix(PIX *grey)
{
    if (!grey || pixGetDepth(grey) != 8)
        return NULL;
    int w = pixGetWidth(grey), h = pixGetHeight(grey), wpl = pixGetWpl(grey);
    uint8_t *out = malloc((size_t)w * (size_t)h);
    if (!out)
        return NULL;
    int full = w / 4 * 4;
    for (int y = 0; y < h; y++) {
        const l_uint32 *line = pixGetData(grey) + (size_t)y * (size_t)wpl;
        uint8_t *row = out + (size_t)y * (size_t)w;
        unpack_row(line, full, row); /* whole words: writes no byte past the row */
        for (int x = full; x < w; x++)
            row[x] = (uint8_t)GET_DATA_BYTE(line, x);
    }
    return out;
}

/* The running window sums of lpr_box_mean, one row at a time. Each grey
 * row is unpacked once into a ring of 2 half + 2 rows: it enters the
 * column sums when it is half rows below the row being made, and leaves
 * them when it is half + 1 rows above it. */
typedef struct mean_rows {
    const l_uint32 *data;
    int w, h, wpl, half, ring_n;
    uint32_t *col;
    uint8_t *ring; /* ring_n rows of w + 4 bytes */
} mean_rows;

static uint8_t *ring_row(mean_rows *m, int y)
{
    return m->ring + (size_t)(y % m->ring_n) * (size_t)(m->w + 4);
}

static int mean_begin(mean_rows *m, PIX *grey, int half)
{
    memset(m, 0, sizeof *m);
    if (!grey || pixGetDepth(grey) != 8 || half < 1 || half > MAX_HALF)
        return -1;
    m->data = pixGetData(grey);
    m->w = pixGetWidth(grey);
    m->h = pixGetHeight(grey);
    m->wpl = pixGetWpl(grey);
    m->half = half;
    m->ring_n = 2 * half + 2;
    m->col = calloc((size_t)m->w, sizeof *m->col);
    m->ring = calloc((size_t)m->ring_n, (size_t)m->w + 4);
    if (!m->col || !m->ring)
        return -1;
    /* column sums over rows 0 .. half - 1; each step adds row y + half */
    for (int y = 0; y < half && y < m->h; y++) {
        uint8_t *r = ring_row(m, y);
        unpack_row(m->data + (size_t)y * (size_t)m->wpl, m->w, r);
        for (int x = 0; x < m->w; x++)
            m->col[x] += r[x];
    }
    return 0;
}

static void mean_end(mean_rows *m)
{
    free(m->col);
    free(m->ring);
}

/* Row y (called for y = 0, 1, ... in turn): its means into out (w bytes);
 * returns row y of the image, unpacked. */
static const uint8_t *mean_next(mean_rows *m, int y, uint8_t *out)
{
    int w = m->w, h = m->h, half = m->half;
    uint32_t *col = m->col;
    int enter = y + half < h, leave = y - half - 1 >= 0;
    uint8_t *in = ring_row(m, y + half), *gone = ring_row(m, y - half - 1 + m->ring_n);
    if (enter)
        unpack_row(m->data + (size_t)(y + half) * (size_t)m->wpl, w, in);
    if (enter && leave)
        for (int x = 0; x < w; x++)
            col[x] += (uint32_t)in[x] - (uint32_t)gone[x];
    else if (enter)
        for (int x = 0; x < w; x++)
            col[x] += in[x];
    else if (leave)
        for (int x = 0; x < w; x++)
            col[x] -= gone[x];
    uint32_t rows =
        (uint32_t)((y + half < h ? y + half : h - 1) - (y - half > 0 ? y - half : 0) + 1);
    /* 1 / area as a 32-bit fixed-point multiplier, rounded up: exact for
     * every sum a window of 8-bit pixels can have (n < 2^32 / area) */
    uint64_t recip[2 * MAX_HALF + 2];
    for (int c = 1; c <= 2 * half + 1; c++)
        recip[c] = ((1ull << 32) + rows * (uint32_t)c - 1) / (rows * (uint32_t)c);
    /* the window's sum along the row, columns x - half .. x + half: the
     * edges (a clipped window) apart from the run between */
    uint32_t sum = 0;
    for (int x = 0; x < half && x < w; x++)
        sum += col[x];
    int lo = half + 1 < w ? half + 1 : w, hi = w - half > lo ? w - half : lo;
    for (int x = 0; x < lo; x++) {
        if (x + half < w)
            sum += col[x + half];
        uint32_t cols = (uint32_t)((x + half < w ? x + half : w - 1) + 1);
        out[x] = (uint8_t)(((uint64_t)(sum + rows * cols / 2) * recip[cols]) >> 32);
    }
    uint32_t bias = rows * (uint32_t)(2 * half + 1) / 2;
    uint64_t r = recip[2 * half + 1];
    for (int x = lo; x < hi; x++) {
        sum += col[x + half] - col[x - half - 1];
        out[x] = (uint8_t)(((uint64_t)(sum + bias) * r) >> 32);
    }
    for (int x = hi; x < w; x++) {
        if (x + half < w)
            sum += col[x + half];
        sum -= col[x - half - 1];
        uint32_t cols = (uint32_t)(w - 1 - (x - half) + 1);
        out[x] = (uint8_t)(((uint64_t)(sum + rows * cols / 2) * recip[cols]) >> 32);
    }
    return ring_row(m, y);
}

PIX *lpr_box_mean(PIX *grey, int half)
{
    mean_rows m;
    PIX *mean = NULL;
    uint8_t *row = NULL;
    if (mean_begin(&m, grey, half) != 0)
        goto out;
    mean = pixCreate(m.w, m.h, 8);
    row = calloc((size_t)m.w + 4, 1);
    if (!mean || !row) {
        pixDestroy(&mean);
        goto out;
    }
    for (int y = 0; y < m.h; y++) {
        mean_next(&m, y, row);
        pack_row(row, m.w, pixGetData(mean) + (size_t)y * (size_t)pixGetWpl(mean));
    }
out:
    free(row);
    mean_end(&m);
    return mean;
}

/* 32 bytes of 0/1, first pixel first, as one word of a 1 bpp row (first
 * pixel in the top bit): eight at a time, by a multiply that gathers each
 * byte's low bit into the top byte. */
static l_uint32 pack_bits(const uint8_t *b)
{
    l_uint32 word = 0;
    for (int k = 0; k < 4; k++) {
        uint64_t v;
        memcpy(&v, b + 8 * k, 8);
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
        v = __builtin_bswap64(v);
#endif
        word = word << 8 | (l_uint32)((v * 0x8040201008040201ull) >> 56);
    }
    return word;
}

int lpr_binarize_local(PIX *grey, int half, PIX **dark, PIX **light, PIX **soft)
{
    mean_rows m;
    int rc = -1;
    uint8_t *mean = NULL, *bits = NULL;
    *dark = *light = NULL;
    if (soft)
        *soft = NULL;
    if (mean_begin(&m, grey, half) != 0)
        goto out;
    int w = m.w, h = m.h, words = (w + 31) / 32;
    *dark = pixCreate(w, h, 1);
    *light = pixCreate(w, h, 1);
    if (soft)
        *soft = pixCreate(w, h, 1);
    mean = calloc((size_t)words * 32, 1);
    bits = calloc((size_t)words * 32, 3);
    if (!*dark || !*light || (soft && !*soft) || !mean || !bits)
        goto out;
    uint8_t *bd = bits, *bl = bits + words * 32, *bs = bits + 2 * words * 32;
    int bwpl = pixGetWpl(*dark);
    for (int y = 0; y < h; y++) {
        const uint8_t *g = mean_next(&m, y, mean);
        /* the contrast a pixel needs grows with its window's mean */
        for (int x = 0; x < w; x++) {
            /* in 16 bits, so the compiler runs eight pixels at once;
             * (m * 205) >> 11 is m / 10 for every m below 1029 */
            int16_t gm = g[x], mm = mean[x], tenth = (int16_t)((uint16_t)(mm * 205) >> 11);
            bd[x] = gm < (int16_t)(mm - 10 - tenth);
            bl[x] = gm > (int16_t)(mm + 10 + tenth);
            bs[x] = gm < (int16_t)(mm - 6 - (mm >> 4));
        }
        l_uint32 *dl = pixGetData(*dark) + (size_t)y * (size_t)bwpl;
        l_uint32 *ll = pixGetData(*light) + (size_t)y * (size_t)bwpl;
        l_uint32 *sl = soft ? pixGetData(*soft) + (size_t)y * (size_t)bwpl : NULL;
        for (int i = 0; i < words; i++) {
            dl[i] = pack_bits(bd + 32 * i);
            ll[i] = pack_bits(bl + 32 * i);
            if (sl)
                sl[i] = pack_bits(bs + 32 * i);
        }
    }
    if (soft && !pixCloseBrick(*soft, *soft, 1, 3))
        goto out;
    rc = 0;
out:
    if (rc != 0) {
        pixDestroy(dark);
        pixDestroy(light);
        if (soft)
            pixDestroy(soft);
    }
    free(mean);
    free(bits);
    mean_end(&m);
    return rc;
}

typedef struct run {
    int x0, x1; /* first and last pixel, inclusive */
} run;

typedef struct set {
    int x0, y0, x1, y1; /* box, inclusive */
} set;

static void join(int *parent, set *s, int a, int b)
{
    a = lpr_uf_find(parent, a);
    b = lpr_uf_find(parent, b);
    if (a == b)
        return;
    if (b < a) { /* the root is the earlier run: the set's first in raster order */
        int t = a;
        a = b;
        b = t;
    }
    parent[b] = a;
    set *sa = &s[a], *sb = &s[b];
    if (sb->x0 < sa->x0)
        sa->x0 = sb->x0;
    if (sb->x1 > sa->x1)
        sa->x1 = sb->x1;
    if (sb->y1 > sa->y1)
        sa->y1 = sb->y1;
}

/* The first pixel at or after x whose bit is 'on' (1) or off (0), or
 * wpl * 32: a word at a time (bits run from the word's top, leftmost). */
static int next_bit(const l_uint32 *line, int wpl, int x, int on)
{
    int i = x >> 5;
    if (i >= wpl)
        return wpl * 32;
    l_uint32 word = (on ? line[i] : ~line[i]) & (0xffffffffu >> (x & 31));
    while (!word) {
        if (++i >= wpl)
            return wpl * 32;
        word = on ? line[i] : ~line[i];
    }
    return i * 32 + __builtin_clz(word);
}

/* Appends row y's runs to r and their one-run sets to s (growing both):
 * returns the new count, or -1 out of memory. */
static int row_runs(const l_uint32 *line, int wpl, int w, int y, run **r, set **s, int **parent,
                    int n, int *cap)
{
    for (int x = next_bit(line, wpl, 0, 1); x < w; x = next_bit(line, wpl, x, 1)) {
        int end = next_bit(line, wpl, x, 0);
        if (end > w)
            end = w; /* the bits past the row's end are padding */
        if (n == *cap) {
            int nc = *cap ? *cap * 2 : 4096;
            run *nr = realloc(*r, sizeof **r * (size_t)nc);
            if (!nr)
                return -1;
            *r = nr;
            set *ns = realloc(*s, sizeof **s * (size_t)nc);
            if (!ns)
                return -1;
            *s = ns;
            int *np = realloc(*parent, sizeof **parent * (size_t)nc);
            if (!np)
                return -1;
            *parent = np;
            *cap = nc;
        }
        (*r)[n] = (run){x, end - 1};
        (*parent)[n] = n;
        (*s)[n] = (set){x, y, end - 1, y};
        n++;
        x = end;
    }
    return n;
}

BOXA *lpr_components_bb(PIX *bin)
{
    if (!bin || pixGetDepth(bin) != 1)
        return NULL;
    int w = pixGetWidth(bin), h = pixGetHeight(bin), wpl = pixGetWpl(bin);
    const l_uint32 *data = pixGetData(bin);
    run *r = NULL;
    int *parent = NULL;
    set *s = NULL;
    BOXA *out = NULL;
    int n = 0, cap = 0, prev0 = 0, prev1 = 0; /* runs of the row above: [prev0, prev1) */
    for (int y = 0; y < h; y++) {
        int cur0 = n;
        n = row_runs(data + (size_t)y * (size_t)wpl, wpl, w, y, &r, &s, &parent, n, &cap);
        if (n < 0)
            goto out;
        /* 8-connected: runs touch when they overlap or meet at a corner */
        int p = prev0;
        for (int c = cur0; c < n; c++) {
            while (p < prev1 && r[p].x1 < r[c].x0 - 1)
                p++;
            for (int q = p; q < prev1 && r[q].x0 <= r[c].x1 + 1; q++)
                join(parent, s, q, c);
        }
        prev0 = cur0;
        prev1 = n;
    }
    /* a set's root is its earliest run (join keeps the smaller index) and
     * runs were made in raster order: the roots in index order are the
     * components in the order of their first pixels, as Leptonica gives them */
    int nsets = 0;
    for (int i = 0; i < n; i++)
        if (parent[i] == i)
            s[nsets++] = s[i]; /* i >= nsets: a root's set is read before it is overwritten */
    out = boxaCreate(nsets > 0 ? nsets : 1);
    for (int i = 0; out && i < nsets; i++) {
        BOX *b = boxCreate(s[i].x0, s[i].y0, s[i].x1 - s[i].x0 + 1, s[i].y1 - s[i].y0 + 1);
        if (!b || boxaAddBox(out, b, L_INSERT) != 0) {
            boxDestroy(&b);
            boxaDestroy(&out);
        }
    }
out:
    free(r);
    free(s);
    free(parent);
    return out;
}

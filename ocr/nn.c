/*
 * nn.c - the small convolutional network of nn.h: loading and running.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "nn.h"

#define MAGIC "LPRNN01\n"
#define MAX_LAYERS 12
#define MAX_CHANNELS 256
#define MAX_SIDE 512
#define MAX_DENSE 65536

enum { KIND_CONV = 1, KIND_DENSE = 2, KIND_COLUMNS = 3 };
enum { FLAG_RELU = 1, FLAG_POOL = 2 };

typedef struct layer {
    int kind, flags;
    int in_c, in_h, in_w; /* dense: in_c = inputs, in_h = in_w = 1 */
    int out_c, out_h, out_w;
    float *w, *b;
} layer;

struct lpr_nn {
    int in_c, in_h, in_w, n_layers;
    layer l[MAX_LAYERS];
    float *blob;
    float *buf[2]; /* ping-pong activations */
    float *cols;   /* a convolution's input unrolled: (C*9) x (H*W), for sgemm */
};

static int read_u32(FILE *f, uint32_t *v)
{
    return fread(v, sizeof *v, 1, f) == 1 ? 0 : -1;
}

/* Reads one network from f (the file 'path'), which holds it from its
 * current position; logs one line on a problem. 'index' and 'count': which
 * network of the file's this is, for that line. */
static lpr_err load_one(FILE *f, const char *path, const char *what, int index, int count,
                        lpr_nn **out)
{
    char magic[8];
    uint32_t hdr[4];
    char ends[96];
    const char *why = "truncated file";
    lpr_err rc = LPR_EFORMAT;
    lpr_nn *nn = NULL;

    *out = NULL;
    size_t got = fread(magic, 1, sizeof magic, f);
    if (got == 0 && index > 0) {
        snprintf(ends, sizeof ends,
                 "truncated file (it ends after network %d of the %d it should hold)", index,
                 count);
        why = ends;
        goto bad;
    }
    if (got != sizeof magic)
        goto bad;
    if (memcmp(magic, "LPRNN", 5) != 0) {
        why = "not an lpr network file (bad magic)";
        goto bad;
    }
    if (memcmp(magic, MAGIC, sizeof magic) != 0) {
        why = "unsupported network file version (this program reads LPRNN01)";
        goto bad;
    }
    for (int i = 0; i < 4; i++)
        if (read_u32(f, &hdr[i]))
            goto bad;
    if (hdr[0] < 1 || hdr[0] > MAX_CHANNELS || hdr[1] < 1 || hdr[1] > MAX_SIDE || hdr[2] < 1 ||
        hdr[2] > MAX_SIDE || hdr[3] < 1 || hdr[3] > MAX_LAYERS) {
        why = "bad input shape or layer count";
        goto bad;
    }
    nn = calloc(1, sizeof *nn);
    if (!nn) {
        rc = LPR_ENOMEM;
        goto fail;
    }
    nn->in_c = (int)hdr[0];
    nn->in_h = (int)hdr[1];
    nn->in_w = (int)hdr[2];
    nn->n_layers = (int)hdr[3];
    int c = nn->in_c, h = nn->in_h, w = nn->in_w;
    size_t total = 0, max_act = (size_t)c * (size_t)h * (size_t)w, max_cols = 0;
    for (int i = 0; i < nn->n_layers; i++) {
        uint32_t d[3];
        for (int k = 0; k < 3; k++)
            if (read_u32(f, &d[k]))
                goto bad;
        layer *L = &nn->l[i];
        L->kind = (int)d[0];
        L->flags = (int)d[2];
        L->out_c = (int)d[1];
        L->in_c = c;
        L->in_h = h;
        L->in_w = w;
        if (d[1] < 1 || d[1] > MAX_DENSE || (d[2] & ~3u)) {
            why = "bad layer size or flags";
            goto bad;
        }
        if (L->kind == KIND_CONV) {
            if (h == 1 && w == 1 && i > 0 && nn->l[i - 1].kind == KIND_DENSE) {
                why = "a convolution cannot follow a dense layer";
                goto bad;
            }
            if (d[1] > MAX_CHANNELS || ((d[2] & FLAG_POOL) && (h < 2 || w < 2))) {
                why = "bad convolution shape";
                goto bad;
            }
            L->out_h = (d[2] & FLAG_POOL) ? h / 2 : h;
            L->out_w = (d[2] & FLAG_POOL) ? w / 2 : w;
            total += (size_t)L->out_c * (size_t)c * 9 + (size_t)L->out_c;
            size_t cols = (size_t)c * 9 * (size_t)h * (size_t)w;
            if (cols > max_cols)
                max_cols = cols;
            size_t full = (size_t)L->out_c * (size_t)h * (size_t)w;
            if (full > max_act)
                max_act = full;
        } else if (L->kind == KIND_COLUMNS) {
            if ((d[2] & FLAG_POOL) || (i > 0 && nn->l[i - 1].kind == KIND_DENSE) ||
                (size_t)c * (size_t)h > MAX_DENSE) {
                why = "bad column layer shape";
                goto bad;
            }
            L->out_h = 1;
            L->out_w = w;
            total += (size_t)L->out_c * (size_t)c * (size_t)h + (size_t)L->out_c;
        } else if (L->kind == KIND_DENSE) {
            if (d[2] & FLAG_POOL) {
                why = "a dense layer cannot pool";
                goto bad;
            }
            L->in_c = c * h * w;
            L->in_h = L->in_w = 1;
            L->out_h = L->out_w = 1;
            if (L->in_c > MAX_DENSE) {
                why = "dense layer too wide";
                goto bad;
            }
            total += (size_t)L->out_c * (size_t)L->in_c + (size_t)L->out_c;
        } else {
            why = "unknown layer kind";
            goto bad;
        }
        c = L->out_c;
        h = L->out_h;
        w = L->out_w;
        size_t act = (size_t)c * (size_t)h * (size_t)w;
        if (act > max_act)
            max_act = act;
    }
    /* the products here are small (at most 64 x 4096 x 576): one thread
     * does each at full speed, where OpenBLAS's pool would spin against the
     * pipeline's own threads */
    openblas_set_num_threads(1);
    nn->blob = malloc(total * sizeof(float));
    nn->buf[0] = malloc(max_act * sizeof(float));
    nn->buf[1] = malloc(max_act * sizeof(float));
    nn->cols = malloc((max_cols ? max_cols : 1) * sizeof(float));
    if (!nn->blob || !nn->buf[0] || !nn->buf[1] || !nn->cols) {
        rc = LPR_ENOMEM;
        goto fail;
    }
    if (fread(nn->blob, sizeof(float), total, f) != total)
        goto bad;
    for (size_t i = 0; i < total; i++)
        if (!isfinite(nn->blob[i])) {
            why = "non-finite weight";
            goto bad;
        }
    float *p = nn->blob;
    for (int i = 0; i < nn->n_layers; i++) {
        layer *L = &nn->l[i];
        size_t nw = (size_t)L->out_c * (size_t)L->in_c *
                    (L->kind == KIND_CONV      ? 9u
                     : L->kind == KIND_COLUMNS ? (size_t)L->in_h
                                               : 1u);
        L->w = p;
        p += nw;
        L->b = p;
        p += L->out_c;
    }
    *out = nn;
    return LPR_OK;
bad:
    LPR_ERROR("ocr", "%s %s: %s", what, path, why);
fail:
    lpr_nn_free(nn);
    return rc;
}

static FILE *open_model(const char *path, const char *what, lpr_err *rc)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        LPR_ERROR("ocr", "%s %s: %s", what, path, strerror(errno));
        *rc = errno == ENOENT ? LPR_ENOENT : LPR_EIO;
    }
    return f;
}

static int at_end(FILE *f, const char *path, const char *what)
{
    if (fgetc(f) == EOF)
        return 1;
    LPR_ERROR("ocr", "%s %s: trailing bytes after the weights (shapes do not match the file)", what,
              path);
    return 0;
}

lpr_err lpr_nn_load(const char *path, const char *what, lpr_nn **out)
{
    lpr_err rc = LPR_OK;
    FILE *f = open_model(path, what, &rc);
    *out = NULL;
    if (!f)
        return rc;
    rc = load_one(f, path, what, 0, 1, out);
    if (rc == LPR_OK && !at_end(f, path, what)) {
        lpr_nn_free(*out);
        *out = NULL;
        rc = LPR_EFORMAT;
    }
    fclose(f);
    return rc;
}

static int shape_ok(const lpr_nn *nn, const char *path, const lpr_nn_shape *s)
{
    int in_ok = nn->in_c == s->c && nn->in_h == s->h && nn->in_w == s->w;
    int out_ok = lpr_nn_outputs(nn) == s->outputs;
    if (!in_ok || !out_ok)
        LPR_ERROR("ocr",
                  "%s %s: takes %dx%dx%d with %d outputs, this program gives %dx%dx%d "
                  "and reads %d (the %s differ)",
                  s->what, path, nn->in_c, nn->in_h, nn->in_w, lpr_nn_outputs(nn), s->c, s->h, s->w,
                  s->outputs,
                  in_ok    ? "outputs"
                  : out_ok ? "inputs"
                           : "inputs and outputs");
    return in_ok && out_ok;
}

lpr_err lpr_nn_load_all(const char *path, const char *what, int n, const lpr_nn_shape *shapes,
                        lpr_nn **out)
{
    lpr_err rc = LPR_OK;
    for (int i = 0; i < n; i++)
        out[i] = NULL;
    FILE *f = open_model(path, what, &rc);
    if (!f)
        return rc;
    for (int i = 0; i < n && rc == LPR_OK; i++) {
        rc = load_one(f, path, what, i, n, &out[i]);
        if (rc == LPR_OK && !shape_ok(out[i], path, &shapes[i]))
            rc = LPR_EFORMAT;
    }
    if (rc == LPR_OK && !at_end(f, path, what))
        rc = LPR_EFORMAT;
    fclose(f);
    if (rc != LPR_OK)
        for (int i = 0; i < n; i++) {
            lpr_nn_free(out[i]);
            out[i] = NULL;
        }
    return rc;
}

lpr_err lpr_nn_load_shaped(const char *path, const char *what, int c, int h, int w, int outputs,
                           lpr_nn **out)
{
    const lpr_nn_shape s = {what, c, h, w, outputs};
    return lpr_nn_load_all(path, what, 1, &s, out);
}

void lpr_nn_free(lpr_nn *nn)
{
    if (!nn)
        return;
    free(nn->blob);
    free(nn->buf[0]);
    free(nn->buf[1]);
    free(nn->cols);
    free(nn);
}

void lpr_nn_input(const lpr_nn *nn, int *c, int *h, int *w)
{
    *c = nn->in_c;
    *h = nn->in_h;
    *w = nn->in_w;
}

int lpr_nn_outputs(const lpr_nn *nn)
{
    const layer *L = &nn->l[nn->n_layers - 1];
    return L->out_c * L->out_h * L->out_w;
}

/* Each of the rows of n values starts as its bias: the products below add
 * to it (beta = 1). */
static void fill_bias(float *out, const float *bias, int rows, int n)
{
    for (int r = 0; r < rows; r++)
        for (int i = 0; i < n; i++)
            out[(size_t)r * (size_t)n + (size_t)i] = bias[r];
}

static void relu(float *x, size_t n)
{
    for (size_t k = 0; k < n; k++)
        x[k] = x[k] > 0.0f ? x[k] : 0.0f;
}

/* 3x3 convolution, same padding, as one matrix product: the input is
 * unrolled into cols[(c*9 + ky*3 + kx)][y*W + x] = in[c][y+ky-1][x+kx-1]
 * (zero outside), then out (O x HW) = weights (O x C*9) * cols (C*9 x HW)
 * by OpenBLAS's sgemm, which picks the machine's vector kernels (AVX2/FMA,
 * NEON) at run time: a third of the instructions of the plain loops. */
static void conv3x3(const layer *L, float *cols, const float *in, float *out)
{
    int C = L->in_c, H = L->in_h, W = L->in_w, HW = H * W;
    for (int c = 0; c < C; c++) {
        const float *ip = in + (size_t)c * (size_t)HW;
        for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 3; kx++) {
                float *row = cols + ((size_t)c * 9 + (size_t)(ky * 3 + kx)) * (size_t)HW;
                int dx = kx - 1, x0 = dx < 0 ? 1 : 0, x1 = dx > 0 ? W - 1 : W;
                for (int y = 0; y < H; y++) {
                    float *r = row + (size_t)y * (size_t)W;
                    int sy = y + ky - 1;
                    if (sy < 0 || sy >= H) {
                        memset(r, 0, sizeof(float) * (size_t)W);
                        continue;
                    }
                    const float *s = ip + (size_t)sy * (size_t)W + dx;
                    if (x0 > 0)
                        r[0] = 0.0f;
                    memcpy(r + x0, s + x0, sizeof(float) * (size_t)(x1 - x0));
                    if (x1 < W)
                        r[W - 1] = 0.0f;
                }
            }
    }
    fill_bias(out, L->b, L->out_c, HW);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, L->out_c, HW, C * 9, 1.0f, L->w, C * 9,
                cols, HW, 1.0f, out, HW);
}

void lpr_nn_run(lpr_nn *nn, const float *in, float *out)
{
    const float *cur = in;
    int which = 0;
    for (int i = 0; i < nn->n_layers; i++) {
        const layer *L = &nn->l[i];
        float *dst = nn->buf[which];
        if (L->kind == KIND_CONV) {
            conv3x3(L, nn->cols, cur, dst);
            if (L->flags & FLAG_RELU)
                relu(dst, (size_t)L->out_c * (size_t)L->in_h * (size_t)L->in_w);
            if (L->flags & FLAG_POOL) {
                /* in place: each pooled cell is written after its inputs
                 * (earlier or equal index) were read */
                int H = L->in_h, W = L->in_w, OH = L->out_h, OW = L->out_w;
                for (int c = 0; c < L->out_c; c++) {
                    const float *s = dst + (size_t)c * (size_t)H * (size_t)W;
                    float *d = dst + (size_t)c * (size_t)OH * (size_t)OW;
                    for (int y = 0; y < OH; y++)
                        for (int x = 0; x < OW; x++) {
                            const float *a = s + (size_t)(2 * y) * (size_t)W + 2 * x;
                            float m = a[0];
                            m = a[1] > m ? a[1] : m;
                            m = a[W] > m ? a[W] : m;
                            m = a[W + 1] > m ? a[W + 1] : m;
                            d[(size_t)y * (size_t)OW + (size_t)x] = m;
                        }
                }
            }
        } else if (L->kind == KIND_COLUMNS) {
            /* out (O x W) = weights (O x C*H) * in (C*H x W) + b */
            int CH = L->in_c * L->in_h, W = L->in_w;
            fill_bias(dst, L->b, L->out_c, W);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, L->out_c, W, CH, 1.0f, L->w, CH,
                        cur, W, 1.0f, dst, W);
            if (L->flags & FLAG_RELU)
                relu(dst, (size_t)L->out_c * (size_t)W);
        } else {
            /* out = weights (O x I) * in + b */
            fill_bias(dst, L->b, L->out_c, 1);
            cblas_sgemv(CblasRowMajor, CblasNoTrans, L->out_c, L->in_c, 1.0f, L->w, L->in_c, cur, 1,
                        1.0f, dst, 1);
            if (L->flags & FLAG_RELU)
                relu(dst, (size_t)L->out_c);
        }
        cur = dst;
        which ^= 1;
    }
    memcpy(out, cur, sizeof(float) * (size_t)lpr_nn_outputs(nn));
}

/*
 * classify.c - glyph features and the per-character perceptron.
 *
 * Model file (little-endian), written by ocr/train/train_classifier.py:
 *   "LPRCLF1\n"
 *   u32 n_layers, u32 dims[n_layers + 1]      dims[0] = LPR_GLYPH_FEATS
 *   u8  classes[dims[n_layers]]               the character of each output
 *   f32 mean[dims[0]], f32 scale[dims[0]]     input standardisation
 *   per layer l: f32 W[dims[l+1]][dims[l]], f32 b[dims[l+1]]
 * Hidden layers use ReLU, the last one softmax.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"

#define MAGIC "LPRCLF1\n"
#define MAX_LAYERS 4
#define MAX_DIM 1024
#define SUB 3 /* sub-samples per grid cell and axis */

struct lpr_charclf {
    int n_layers;
    int dims[MAX_LAYERS + 1];
    char classes[MAX_DIM];
    float *mean, *scale;
    float *w[MAX_LAYERS], *b[MAX_LAYERS];
    float *blob;
};

int lpr_glyph_features(PIX *bin, int x, int y, int w, int h, float char_h, float *feat)
{
    if (!bin || pixGetDepth(bin) != 1 || w <= 0 || h <= 0 || char_h <= 0)
        return -1;
    int pw = pixGetWidth(bin), ph = pixGetHeight(bin);
    if (x < 0 || y < 0 || x + w > pw || y + h > ph)
        return -1;
    l_uint32 *data = pixGetData(bin);
    int wpl = pixGetWpl(bin);
    float sx = (float)LPR_GLYPH_W / (float)w, sy = (float)LPR_GLYPH_H / (float)h;
    float s = sx < sy ? sx : sy;
    float ox = ((float)LPR_GLYPH_W - (float)w * s) / 2.0f;
    float oy = ((float)LPR_GLYPH_H - (float)h * s) / 2.0f;

    for (int gy = 0; gy < LPR_GLYPH_H; gy++) {
        for (int gx = 0; gx < LPR_GLYPH_W; gx++) {
            int on = 0;
            for (int j = 0; j < SUB; j++) {
                float fy = ((float)gy + ((float)j + 0.5f) / SUB - oy) / s;
                int py = (int)floorf(fy);
                if (py < 0 || py >= h)
                    continue;
                l_uint32 *line = data + (size_t)(y + py) * (size_t)wpl;
                for (int i = 0; i < SUB; i++) {
                    float fx = ((float)gx + ((float)i + 0.5f) / SUB - ox) / s;
                    int px = (int)floorf(fx);
                    if (px >= 0 && px < w)
                        on += GET_DATA_BIT(line, x + px) ? 1 : 0;
                }
            }
            feat[gy * LPR_GLYPH_W + gx] = (float)on / (SUB * SUB);
        }
    }
    feat[LPR_GLYPH_W * LPR_GLYPH_H] = (float)w / (float)h;
    feat[LPR_GLYPH_W * LPR_GLYPH_H + 1] = (float)h / char_h;
    return 0;
}

static int read_all(FILE *f, void *buf, size_t n)
{
    return fread(buf, 1, n, f) == n ? 0 : -1;
}

lpr_err lpr_charclf_load(const char *path, lpr_charclf **out)
{
    char magic[8];
    uint32_t nl, dims[MAX_LAYERS + 1];
    lpr_charclf *clf = NULL;
    const char *why = "truncated file";
    FILE *f = fopen(path, "rb");

    *out = NULL;
    if (!f) {
        LPR_ERROR("ocr", "character model %s: %s", path, strerror(errno));
        return errno == ENOENT ? LPR_ENOENT : LPR_EIO;
    }
    if (read_all(f, magic, sizeof magic) || memcmp(magic, MAGIC, sizeof magic)) {
        why = "not an lpr character model (bad magic)";
        goto bad;
    }
    if (read_all(f, &nl, sizeof nl))
        goto bad;
    if (nl < 1 || nl > MAX_LAYERS) {
        why = "bad layer count";
        goto bad;
    }
    if (read_all(f, dims, sizeof dims[0] * (nl + 1)))
        goto bad;
    for (uint32_t l = 0; l <= nl; l++)
        if (dims[l] < 1 || dims[l] > MAX_DIM) {
            why = "bad layer size";
            goto bad;
        }
    if (dims[0] != LPR_GLYPH_FEATS) {
        why = "input size differs from this program's glyph features";
        goto bad;
    }
    clf = calloc(1, sizeof *clf);
    if (!clf) {
        fclose(f);
        return LPR_ENOMEM;
    }
    clf->n_layers = (int)nl;
    size_t total = 2u * dims[0];
    for (uint32_t l = 0; l <= nl; l++)
        clf->dims[l] = (int)dims[l];
    for (uint32_t l = 0; l < nl; l++)
        total += (size_t)dims[l + 1] * dims[l] + dims[l + 1];
    if (read_all(f, clf->classes, dims[nl]))
        goto bad;
    for (uint32_t c = 0; c < dims[nl]; c++)
        if (!isalnum((unsigned char)clf->classes[c])) {
            why = "class labels must be letters or digits";
            goto bad;
        }
    clf->blob = malloc(total * sizeof(float));
    if (!clf->blob) {
        free(clf);
        fclose(f);
        return LPR_ENOMEM;
    }
    if (read_all(f, clf->blob, total * sizeof(float)))
        goto bad;
    if (fgetc(f) != EOF) {
        why = "trailing bytes after the weights";
        goto bad;
    }
    fclose(f);
    float *p = clf->blob;
    clf->mean = p;
    p += dims[0];
    clf->scale = p;
    p += dims[0];
    for (uint32_t l = 0; l < nl; l++) {
        clf->w[l] = p;
        p += (size_t)dims[l + 1] * dims[l];
        clf->b[l] = p;
        p += dims[l + 1];
    }
    for (size_t i = 0; i < total; i++)
        if (!isfinite(clf->blob[i])) {
            LPR_ERROR("ocr", "character model %s: non-finite weight", path);
            lpr_charclf_free(clf);
            return LPR_EFORMAT;
        }
    *out = clf;
    return LPR_OK;
bad:
    LPR_ERROR("ocr", "character model %s: %s", path, why);
    if (clf) {
        free(clf->blob);
        free(clf);
    }
    fclose(f);
    return LPR_EFORMAT;
}

void lpr_charclf_free(lpr_charclf *clf)
{
    if (!clf)
        return;
    free(clf->blob);
    free(clf);
}

/* Dot product in eight running sums: the compiler turns them into vector
 * lanes (SSE, NEON), which one running sum's strict float order forbids.
 * The classifier's time per glyph drops about fourfold. */
static float dot(const float *x, const float *y, int n)
{
    float acc[8] = {0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++)
            acc[j] += x[i + j] * y[i + j];
    float s = 0;
    for (; i < n; i++)
        s += x[i] * y[i];
    for (int j = 0; j < 8; j++)
        s += acc[j];
    return s;
}

int lpr_charclf_classify(const lpr_charclf *clf, const float *feat, char *chars, float *probs,
                         int k)
{
    float a[MAX_DIM], b[MAX_DIM];
    int n0 = clf->dims[0];

    for (int i = 0; i < n0; i++)
        a[i] = (feat[i] - clf->mean[i]) * clf->scale[i];
    for (int l = 0; l < clf->n_layers; l++) {
        int nin = clf->dims[l], nout = clf->dims[l + 1];
        const float *w = clf->w[l];
        for (int o = 0; o < nout; o++) {
            const float *row = w + (size_t)o * (size_t)nin;
            float s = clf->b[l][o] + dot(row, a, nin);
            b[o] = (l + 1 < clf->n_layers && s < 0) ? 0 : s;
        }
        memcpy(a, b, (size_t)nout * sizeof a[0]);
    }
    int nout = clf->dims[clf->n_layers];
    float mx = a[0], sum = 0;
    for (int o = 1; o < nout; o++)
        if (a[o] > mx)
            mx = a[o];
    for (int o = 0; o < nout; o++) {
        a[o] = expf(a[o] - mx);
        sum += a[o];
    }
    int n = 0;
    for (; n < k && n < nout; n++) {
        int best = -1;
        for (int o = 0; o < nout; o++)
            if (a[o] >= 0 && (best < 0 || a[o] > a[best]))
                best = o;
        chars[n] = clf->classes[best];
        probs[n] = a[best] / sum;
        a[best] = -1;
    }
    return n;
}

/*
 * verify.c - the plate verifier of verify.h: the crop and the network.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"
#include "verify.h"

#define SIDE_PAD 0.8f  /* character heights left and right of the line */
#define HALF_H 1.3f    /* character heights above and below the line's middle */
#define MIN_SPREAD 4.0f /* grey levels: a flatter crop is left unscaled */

/* Where output sample i of a line of n spans [p0, p0 + n * step) falls in
 * an image side of 'size' pixels: the two pixels around it (clamped to the
 * image) and the second one's weight. */
typedef struct tap {
    int a, b;
    float wb;
} tap;

static tap tap_at(float p0, float step, int i, int size)
{
    float f = p0 + ((float)i + 0.5f) * step - 0.5f;
    if (f < 0) f = 0;
    if (f > (float)(size - 1)) f = (float)(size - 1);
    tap t = {(int)f, 0, 0};
    t.b = t.a + 1 < size ? t.a + 1 : t.a;
    t.wb = f - (float)t.a;
    return t;
}

int lpr_plate_verify_crop(PIX *grey, const lpr_textline *line, float *out)
{
    int iw = pixGetWidth(grey), ih = pixGetHeight(grey);
    float ch = line->char_h > 0 ? line->char_h : (float)line->box.h;
    if (line->box.w <= 0 || ch <= 0 || iw <= 0 || ih <= 0)
        return -1;
    float cy = (float)line->box.y + (float)line->box.h / 2.0f;
    float x0 = (float)line->box.x - SIDE_PAD * ch;
    float sx = ((float)line->box.w + 2.0f * SIDE_PAD * ch) / LPR_VERIFY_W_PX;
    float y0 = cy - HALF_H * ch, sy = 2.0f * HALF_H * ch / LPR_VERIFY_H_PX;
    const l_uint32 *data = pixGetData(grey);
    int wpl = pixGetWpl(grey);
    tap cols[LPR_VERIFY_W_PX]; /* the same for every row */
    for (int x = 0; x < LPR_VERIFY_W_PX; x++)
        cols[x] = tap_at(x0, sx, x, iw);
    double sum = 0, sum2 = 0;
    for (int y = 0; y < LPR_VERIFY_H_PX; y++) {
        tap row = tap_at(y0, sy, y, ih);
        float ay = row.wb;
        const l_uint32 *r1 = data + (size_t)row.a * (size_t)wpl, *r2 = data + (size_t)row.b * (size_t)wpl;
        for (int x = 0; x < LPR_VERIFY_W_PX; x++) {
            int x1 = cols[x].a, x2 = cols[x].b;
            float ax = cols[x].wb;
            float top = (float)GET_DATA_BYTE(r1, x1) * (1 - ax) + (float)GET_DATA_BYTE(r1, x2) * ax;
            float bot = (float)GET_DATA_BYTE(r2, x1) * (1 - ax) + (float)GET_DATA_BYTE(r2, x2) * ax;
            float v = top * (1 - ay) + bot * ay;
            if (line->inverted)
                v = 255.0f - v;
            out[y * LPR_VERIFY_W_PX + x] = v;
            sum += v;
            sum2 += (double)v * v;
        }
    }
    double n = LPR_VERIFY_H_PX * LPR_VERIFY_W_PX, mean = sum / n;
    double var = sum2 / n - mean * mean;
    float sd = var > 0 ? (float)sqrt(var) : 0.0f;
    if (sd < MIN_SPREAD)
        sd = MIN_SPREAD;
    for (int i = 0; i < LPR_VERIFY_H_PX * LPR_VERIFY_W_PX; i++)
        out[i] = (out[i] - (float)mean) / sd;
    return 0;
}

lpr_err lpr_plate_verifier_load(const char *path, lpr_plate_verifier **out)
{
    return lpr_nn_load_shaped(path, "plate verifier", 1, LPR_VERIFY_H_PX, LPR_VERIFY_W_PX, 1, out);
}

void lpr_plate_verifier_free(lpr_plate_verifier *v)
{
    lpr_nn_free(v);
}

float lpr_plate_verify_line(lpr_plate_verifier *v, PIX *grey, const lpr_textline *line)
{
    float crop[LPR_VERIFY_H_PX * LPR_VERIFY_W_PX], logit;
    if (lpr_plate_verify_crop(grey, line, crop) != 0)
        return 0.0f;
    lpr_nn_run(v, crop, &logit);
    return 1.0f / (1.0f + expf(-logit));
}

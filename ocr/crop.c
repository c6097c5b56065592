/*
 * crop.c - the view of a located line that the learned models see (the
 * verifier's and the reader's crops differ only in their margins and size).
 */
#include <math.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#include "ocr_internal.h"
#include "tuning.h"

#define MAX_CROP_W 512 /* columns a crop may have (column taps on the stack) */

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
    if (f < 0)
        f = 0;
    if (f > (float)(size - 1))
        f = (float)(size - 1);
    tap t = {(int)f, 0, 0};
    t.b = t.a + 1 < size ? t.a + 1 : t.a;
    t.wb = f - (float)t.a;
    return t;
}

int lpr_line_crop(PIX *grey, const lpr_textline *line, float side_pad, float half_h, int deskew,
                  int out_h, int out_w, float *out)
{
    int iw = pixGetWidth(grey), ih = pixGetHeight(grey);
    float ch = line->char_h > 0 ? line->char_h : (float)line->box.h;
    if (line->box.w <= 0 || ch <= 0 || iw <= 0 || ih <= 0 || out_h <= 0 || out_w <= 0 ||
        out_w > MAX_CROP_W)
        return -1;
    float cy = (float)line->box.y + (float)line->box.h / 2.0f;
    float x0 = (float)line->box.x - side_pad * ch;
    float sx = ((float)line->box.w + 2.0f * side_pad * ch) / (float)out_w;
    float y0 = cy - half_h * ch, sy = 2.0f * half_h * ch / (float)out_h;
    const l_uint32 *data = pixGetData(grey);
    int wpl = pixGetWpl(grey);
    tap cols[MAX_CROP_W];    /* the same for every row */
    float shift[MAX_CROP_W]; /* rows each column's samples move down */
    float slope = deskew ? tanf(line->angle_deg * (float)M_PI / 180.0f) : 0.0f;
    float cx = (float)line->box.x + (float)line->box.w / 2.0f;
    for (int x = 0; x < out_w; x++) {
        cols[x] = tap_at(x0, sx, x, iw);
        shift[x] = (x0 + ((float)x + 0.5f) * sx - cx) * slope;
    }
    double sum = 0, sum2 = 0;
    for (int y = 0; y < out_h; y++) {
        tap row = tap_at(y0, sy, y, ih);
        for (int x = 0; x < out_w; x++) {
            if (slope != 0.0f)
                row = tap_at(y0 + shift[x], sy, y, ih);
            float ay = row.wb;
            const l_uint32 *r1 = data + (size_t)row.a * (size_t)wpl;
            const l_uint32 *r2 = data + (size_t)row.b * (size_t)wpl;
            int x1 = cols[x].a, x2 = cols[x].b;
            float ax = cols[x].wb;
            float top = (float)GET_DATA_BYTE(r1, x1) * (1 - ax) + (float)GET_DATA_BYTE(r1, x2) * ax;
            float bot = (float)GET_DATA_BYTE(r2, x1) * (1 - ax) + (float)GET_DATA_BYTE(r2, x2) * ax;
            float v = top * (1 - ay) + bot * ay;
            if (line->inverted)
                v = 255.0f - v;
            out[y * out_w + x] = v;
            sum += v;
            sum2 += (double)v * v;
        }
    }
    double n = (double)out_h * out_w, mean = sum / n;
    double var = sum2 / n - mean * mean;
    float sd = var > 0 ? (float)sqrt(var) : 0.0f;
    if (sd < MIN_SPREAD)
        sd = MIN_SPREAD;
    for (int i = 0; i < out_h * out_w; i++)
        out[i] = (out[i] - (float)mean) / sd;
    return 0;
}

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
    double sum = 0, sum2 = 0;
    for (int y = 0; y < LPR_VERIFY_H_PX; y++) {
        float fy = y0 + ((float)y + 0.5f) * sy - 0.5f;
        if (fy < 0) fy = 0;
        if (fy > (float)(ih - 1)) fy = (float)(ih - 1);
        int y1 = (int)fy, y2 = y1 + 1 < ih ? y1 + 1 : y1;
        float ay = fy - (float)y1;
        const l_uint32 *r1 = data + (size_t)y1 * (size_t)wpl, *r2 = data + (size_t)y2 * (size_t)wpl;
        for (int x = 0; x < LPR_VERIFY_W_PX; x++) {
            float fx = x0 + ((float)x + 0.5f) * sx - 0.5f;
            if (fx < 0) fx = 0;
            if (fx > (float)(iw - 1)) fx = (float)(iw - 1);
            int x1 = (int)fx, x2 = x1 + 1 < iw ? x1 + 1 : x1;
            float ax = fx - (float)x1;
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

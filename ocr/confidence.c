/*
 * confidence.c - the calibrated confidence of confidence.h.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "confidence.h"
#include "nn.h"

struct lpr_confidence {
    lpr_nn *calibration, *text;
};

lpr_err lpr_confidence_load(const char *path, lpr_confidence **out)
{
    const lpr_nn_shape shapes[2] = {
        {"confidence model", LPR_CONF_FEATS, 1, 1, 1},
        {"confidence model's text model", LPR_TEXT_C, 1, LPR_TEXT_W, 1}};
    lpr_nn *nn[2];
    *out = NULL;
    lpr_err rc = lpr_nn_load_all(path, "confidence model", 2, shapes, nn);
    if (rc != LPR_OK)
        return rc;
    lpr_confidence *c = malloc(sizeof *c);
    if (!c) {
        lpr_nn_free(nn[0]);
        lpr_nn_free(nn[1]);
        return LPR_ENOMEM;
    }
    c->calibration = nn[0];
    c->text = nn[1];
    *out = c;
    return LPR_OK;
}

void lpr_confidence_free(lpr_confidence *c)
{
    if (!c)
        return;
    lpr_nn_free(c->calibration);
    lpr_nn_free(c->text);
    free(c);
}

void lpr_text_encode(const char *text, float *x)
{
    memset(x, 0, sizeof(float) * LPR_TEXT_C * LPR_TEXT_W);
    size_t n = strlen(text);
    for (int i = 0; i < LPR_TEXT_W; i++) {
        int ch = LPR_TEXT_C - 1;
        if ((size_t)i < n) {
            char t = text[i];
            if (t >= '0' && t <= '9')
                ch = t - '0';
            else if (t >= 'A' && t <= 'Z')
                ch = 10 + (t - 'A');
        }
        x[ch * LPR_TEXT_W + i] = 1.0f;
    }
}

float lpr_confidence_text_logit(lpr_confidence *c, const char *text)
{
    float x[LPR_TEXT_C * LPR_TEXT_W], z;
    lpr_text_encode(text, x);
    lpr_nn_run(c->text, x, &z);
    return z;
}

static float clip8(float v)
{
    return v < -8.0f ? -8.0f : v > 8.0f ? 8.0f : v;
}

void lpr_confidence_features(lpr_confidence *c, const lpr_plate *p, int k, float *f)
{
    float pp = p->plate_p < 1e-4f ? 1e-4f : p->plate_p > 1.0f - 1e-4f ? 1.0f - 1e-4f : p->plate_p;
    float logit = clip8(logf(pp / (1.0f - pp)));
    float best = p->candidates[0].confidence;
    float second = p->n_candidates > 1 ? p->candidates[1].confidence : 0.0f;
    f[0] = p->candidates[k].confidence / 100.0f;
    f[1] = logit / 8.0f;
    f[2] = (float)lpr_region_format_match(p->region, p->candidates[k].text);
    f[3] = (float)strlen(p->candidates[k].text) / 8.0f;
    f[4] = (best - second) / 100.0f;
    f[5] = k == 0 ? 1.0f : 0.0f;
    f[6] = p->char_min / 100.0f;
    f[7] = p->char_margin / 100.0f;
    f[8] = (float)(p->text_box.h < 80 ? p->text_box.h : 80) / 40.0f;
    f[9] = p->candidates[k].second / 100.0f;
    f[10] = p->second_text[0] && !strcmp(p->candidates[k].text, p->second_text) ? 1.0f : 0.0f;
    f[11] = p->second_opinion ? 1.0f : 0.0f;
    f[12] = c ? clip8(lpr_confidence_text_logit(c, p->candidates[k].text)) / 8.0f : 0.0f;
}

void lpr_confidence_apply(lpr_confidence *c, lpr_plate *p)
{
    float conf[LPR_MAX_CANDIDATES];
    for (int k = 0; k < p->n_candidates; k++) {
        float f[LPR_CONF_FEATS], z;
        lpr_confidence_features(c, p, k, f);
        lpr_nn_run(c->calibration, f, &z);
        conf[k] = 100.0f / (1.0f + expf(-z));
    }
    for (int k = 0; k < p->n_candidates; k++)
        p->candidates[k].confidence = conf[k];
    /* a stable sort: equal confidences keep the reader's order, and the
     * values stay probabilities (a tie-break subtracted from them once made
     * "-0.0" in reads) */
    lpr_sort_candidates(p->candidates, p->n_candidates);
    memcpy(p->text, p->candidates[0].text, sizeof p->text);
    p->confidence = p->candidates[0].confidence;
}

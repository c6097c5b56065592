/*
 * verify.c - the plate verifier of verify.h: the crop and the network.
 */
#include <math.h>

#include "nn.h"
#include "verify.h"
#include "tuning.h"

int lpr_plate_verify_crop(PIX *grey, const lpr_textline *line, float *out)
{
    return lpr_line_crop(grey, line, VERIFY_SIDE_PAD, VERIFY_HALF_H, 0, LPR_VERIFY_H_PX,
                         LPR_VERIFY_W_PX, out);
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

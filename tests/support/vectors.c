/*
 * vectors.c - test support: see vectors.h.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vectors.h"

float lpr_test_vectors_max_diff(lpr_nn *nn, const char *path, int inputs, int outputs,
                                unsigned *count)
{
    char magic[8];
    uint32_t hdr[3];
    float worst = -1.0f;
    *count = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1.0f;
    float *in = malloc(sizeof(float) * (size_t)inputs);
    float *want = malloc(sizeof(float) * (size_t)outputs);
    float *got = malloc(sizeof(float) * (size_t)outputs);
    if (!in || !want || !got || fread(magic, 1, 8, f) != 8 || memcmp(magic, "LPRVEC1\n", 8) ||
        fread(hdr, 4, 3, f) != 3 || hdr[1] != (uint32_t)inputs || hdr[2] != (uint32_t)outputs)
        goto out;
    worst = 0.0f;
    for (uint32_t i = 0; i < hdr[0]; i++) {
        if (fread(in, sizeof(float), (size_t)inputs, f) != (size_t)inputs ||
            fread(want, sizeof(float), (size_t)outputs, f) != (size_t)outputs) {
            worst = -1.0f;
            goto out;
        }
        lpr_nn_run(nn, in, got);
        for (int k = 0; k < outputs; k++) {
            float d = fabsf(got[k] - want[k]);
            worst = d > worst ? d : worst;
        }
    }
    *count = hdr[0];
out:
    free(in);
    free(want);
    free(got);
    fclose(f);
    return worst;
}

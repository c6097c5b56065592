/*
 * reader.c - the whole-plate reader of reader.h: the crop, the network and
 * the decoding of its columns into character positions (greedy CTC).
 */
#include <math.h>
#include <string.h>

#include "reader.h"
#include "tuning.h"

#define BLANK (LPR_READ_CLASSES - 1)

int lpr_plate_read_crop(PIX *grey, const lpr_textline *line, float *out)
{
    return lpr_line_crop(grey, line, READ_SIDE_PAD, READ_HALF_H, 1, LPR_READ_H_PX, LPR_READ_W_PX,
                         out);
}

lpr_err lpr_plate_reader_load(const char *path, lpr_plate_reader **out)
{
    return lpr_nn_load_shaped(path, "plate reader", 1, LPR_READ_H_PX, LPR_READ_W_PX,
                              LPR_READ_CLASSES * LPR_READ_STEPS, out);
}

void lpr_plate_reader_free(lpr_plate_reader *r)
{
    lpr_nn_free(r);
}

int lpr_plate_read_decode(const float *logits, lpr_charpos *pos, int max)
{
    static const char alphabet[] = LPR_READ_ALPHABET;
    float p[LPR_READ_STEPS][LPR_READ_CLASSES];
    int best[LPR_READ_STEPS];
    for (int t = 0; t < LPR_READ_STEPS; t++) {
        float top = logits[t], sum = 0;
        for (int c = 1; c < LPR_READ_CLASSES; c++)
            top = logits[c * LPR_READ_STEPS + t] > top ? logits[c * LPR_READ_STEPS + t] : top;
        best[t] = 0;
        for (int c = 0; c < LPR_READ_CLASSES; c++) {
            sum += p[t][c] = expf(logits[c * LPR_READ_STEPS + t] - top);
            if (p[t][c] > p[t][best[t]])
                best[t] = c;
        }
        for (int c = 0; c < LPR_READ_CLASSES; c++)
            p[t][c] /= sum;
    }
    int n = 0;
    for (int t = 0; t < LPR_READ_STEPS && n < max;) {
        int c = best[t], peak = t;
        int end = t + 1;
        while (end < LPR_READ_STEPS && best[end] == c) {
            if (p[end][c] > p[peak][c])
                peak = end;
            end++;
        }
        t = end;
        if (c == BLANK)
            continue;
        /* the run's best column: its character and the runners-up there */
        lpr_charpos *cp = &pos[n++];
        memset(cp, 0, sizeof *cp);
        float q[BLANK];
        memcpy(q, p[peak], sizeof q);
        for (int k = 0; k < LPR_MAX_ALTS; k++) {
            int arg = 0;
            for (int a = 1; a < BLANK; a++)
                if (q[a] > q[arg])
                    arg = a;
            if (q[arg] < 0 || (k > 0 && q[arg] < READ_MIN_ALT_P))
                break;
            cp->ch[k] = alphabet[arg];
            cp->conf[k] = 100.0f * q[arg];
            cp->n = k + 1;
            q[arg] = -1.0f;
        }
    }
    return n;
}

int lpr_plate_read_line(lpr_plate_reader *r, PIX *grey, const lpr_textline *line, lpr_charpos *pos,
                        int max)
{
    float crop[LPR_READ_H_PX * LPR_READ_W_PX], logits[LPR_READ_STEPS * LPR_READ_CLASSES];
    if (lpr_plate_read_crop(grey, line, crop) != 0)
        return 0;
    lpr_nn_run(r, crop, logits);
    return lpr_plate_read_decode(logits, pos, max);
}

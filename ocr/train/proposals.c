/*
 * proposals.c - training data for the plate verifier (not installed): runs
 * the reader's own localiser over a list of images and writes, for every
 * line it proposes, the verifier's crop (verify.c's lpr_plate_verify_crop, the
 * very code the reader runs) and a label from the plate boxes given.
 *
 * usage: proposals LIST OUT.f32 OUT.tsv [MAX_LINES]
 *   LIST     one image per line: PATH [TAB x,y,w,h[;x,y,w,h...]] (plate boxes;
 *            none: a plate-free image)
 *   OUT.f32  float32 crops, LPR_VERIFY_H_PX x LPR_VERIFY_W_PX each, in order
 *   OUT.tsv  per crop: list line, x, y, w, h, char_h, chars, inverted, label
 *            label 1: the line is a plate's characters (inside a box, at
 *            least 40% of its width, characters at least a quarter of its
 *            height); 0: touches no box; -1: neither (a fragment, a banner);
 *            then the index of the plate box of a label-1 line (-1 else)
 *   READ.f32 float32 crops, LPR_READ_H_PX x LPR_READ_W_PX each, one per
 *            label-1 line, in order
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reader.h"
#include "verify.h"

#define MAX_BOXES 16

static int label_of(const lpr_textline *l, const lpr_box *gt, int ngt, int *which)
{
    *which = -1;
    float area = (float)l->box.w * (float)l->box.h;
    int touches = 0;
    for (int i = 0; i < ngt; i++) {
        float ov = area > 0 ? lpr_box_intersection(l->box, gt[i]) / area : 0;
        if (ov >= 0.7f && (float)l->box.w >= 0.4f * (float)gt[i].w &&
            l->char_h >= 0.25f * (float)gt[i].h) {
            *which = i;
            return 1;
        }
        touches |= ov >= 0.05f;
    }
    return touches ? -1 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: proposals LIST OUT.f32 OUT.tsv [MAX_LINES [READ.f32]]\n");
        return 2;
    }
    int max_lines = argc > 4 ? atoi(argv[4]) : 16;
    if (max_lines < 1 || max_lines > 32)
        max_lines = 16;
    FILE *list = fopen(argv[1], "r"), *fc = fopen(argv[2], "wb"), *ft = fopen(argv[3], "w");
    FILE *fr = argc > 5 ? fopen(argv[5], "wb") : NULL;
    if (!list || !fc || !ft || (argc > 5 && !fr)) {
        fprintf(stderr, "proposals: cannot open %s\n",
                !list ? argv[1]
                : !fc ? argv[2]
                : !ft ? argv[3]
                      : argv[5]);
        return 1;
    }
    static float rcrop[LPR_READ_H_PX * LPR_READ_W_PX];
    char buf[8192];
    long idx = -1, crops = 0;
    float crop[LPR_VERIFY_H_PX * LPR_VERIFY_W_PX];
    while (fgets(buf, sizeof buf, list)) {
        idx++;
        buf[strcspn(buf, "\r\n")] = '\0';
        char *tab = strchr(buf, '\t');
        lpr_box gt[MAX_BOXES];
        int ngt = 0;
        if (tab) {
            *tab = '\0';
            for (char *s = strtok(tab + 1, ";"); s && ngt < MAX_BOXES; s = strtok(NULL, ";"))
                if (sscanf(s, "%d,%d,%d,%d", &gt[ngt].x, &gt[ngt].y, &gt[ngt].w, &gt[ngt].h) == 4)
                    ngt++;
        }
        PIX *pix = pixRead(buf), *grey = pix ? pixConvertTo8(pix, 0) : NULL;
        pixDestroy(&pix);
        if (!grey) {
            fprintf(stderr, "proposals: %s: cannot read\n", buf);
            continue;
        }
        lpr_textline lines[32];
        int n = lpr_locate(grey, lines, max_lines);
        for (int i = 0; i < n; i++) {
            if (lpr_plate_verify_crop(grey, &lines[i], crop) != 0)
                continue;
            int which, label = label_of(&lines[i], gt, ngt, &which);
            fwrite(crop, sizeof crop, 1, fc);
            fprintf(ft, "%ld\t%d\t%d\t%d\t%d\t%.2f\t%d\t%d\t%d\t%d\n", idx, lines[i].box.x,
                    lines[i].box.y, lines[i].box.w, lines[i].box.h, lines[i].char_h,
                    lines[i].n_chars, lines[i].inverted, label, which);
            if (fr && label == 1) {
                /* the same conditions as the verifier's crop: it succeeds */
                if (lpr_plate_read_crop(grey, &lines[i], rcrop) != 0)
                    memset(rcrop, 0, sizeof rcrop);
                fwrite(rcrop, sizeof rcrop, 1, fr);
            }
            crops++;
        }
        pixDestroy(&grey);
    }
    fclose(list);
    fclose(ft);
    if (fr && fclose(fr) != 0) {
        fprintf(stderr, "proposals: %s: write failed\n", argv[5]);
        return 1;
    }
    if (fclose(fc) != 0) {
        fprintf(stderr, "proposals: %s: write failed\n", argv[2]);
        return 1;
    }
    fprintf(stderr, "proposals: %ld images, %ld crops\n", idx + 1, crops);
    return 0;
}

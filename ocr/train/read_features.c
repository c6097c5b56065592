/*
 * read_features.c - training data for the confidence calibration (not
 * installed): reads a list of images with the whole reader (its verifier,
 * no calibration) and writes, for the first candidates of every plate it
 * returns, the features of confidence.h and whether that text is the plate
 * at that place.
 *
 * usage: read_features [--no-second-opinion] [--reader NET] LIST OUT.tsv [REGION] [VERIFIER]
 *   --no-second-opinion  the whole-plate reader alone (feature 11 is 0):
 *           the reads the calibration sees before the second opinion
 *   --reader NET  this whole-plate reader instead of the shipped one (a
 *           cross-fitting fold reader of train_confidence.py)
 *   LIST    one image per line: PATH [TAB x,y,w,h:TEXT[;x,y,w,h:TEXT...]]
 *           (boxes with the plate's text; TEXT "?" for a plate of unknown
 *           text, whose reads are left out; no boxes: a plate-free image)
 *   OUT.tsv per candidate: list line, rank, the LPR_CONF_FEATS features
 *           (12, the text model's, is 0: train_confidence.py computes it),
 *           label (1: the text of the labelled plate at the box, IoU > 0.2),
 *           the candidate's text
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confidence.h"

#define MAX_BOXES 16
#define RANKS 3

int main(int argc, char **argv)
{
    lpr_ocr_process_init(argv); /* may re-execute the program: before argv changes */
    int alone = 0;
    const char *reader = NULL;
    for (;;) {
        if (argc > 1 && !strcmp(argv[1], "--no-second-opinion")) {
            alone = 1;
            argv[1] = argv[0];
            argv++;
            argc--;
        } else if (argc > 2 && !strcmp(argv[1], "--reader")) {
            reader = argv[2];
            argv[2] = argv[0];
            argv += 2;
            argc -= 2;
        } else {
            break;
        }
    }
    if (argc < 3) {
        fprintf(stderr,
                "usage: read_features [--no-second-opinion] [--reader NET] LIST OUT.tsv [REGION] "
                "[VERIFIER]\n");
        return 2;
    }
    lpr_ocr_config cfg;
    lpr_ocr_config_init(&cfg);
    cfg.calibration = "none";
    cfg.no_second_opinion = alone;
    cfg.reader = reader;
    if (argc > 3 && lpr_region_parse(argv[3], &cfg.region) != LPR_OK) {
        fprintf(stderr, "read_features: bad region %s\n", argv[3]);
        return 2;
    }
    if (argc > 4)
        cfg.verifier = argv[4];
    lpr_ocr *ocr;
    if (lpr_ocr_new(&cfg, &ocr) != LPR_OK)
        return 1;
    FILE *list = fopen(argv[1], "r"), *out = fopen(argv[2], "w");
    if (!list || !out) {
        fprintf(stderr, "read_features: cannot open %s\n", !list ? argv[1] : argv[2]);
        return 1;
    }
    char buf[8192];
    long idx = -1, rows = 0;
    while (fgets(buf, sizeof buf, list)) {
        idx++;
        buf[strcspn(buf, "\r\n")] = '\0';
        char *tab = strchr(buf, '\t');
        lpr_box gt[MAX_BOXES];
        char text[MAX_BOXES][LPR_MAX_TEXT];
        int ngt = 0;
        if (tab) {
            *tab = '\0';
            for (char *s = strtok(tab + 1, ";"); s && ngt < MAX_BOXES; s = strtok(NULL, ";"))
                if (sscanf(s, "%d,%d,%d,%d:%15s", &gt[ngt].x, &gt[ngt].y, &gt[ngt].w, &gt[ngt].h,
                           text[ngt]) == 5)
                    ngt++;
        }
        lpr_ocr_result r;
        if (lpr_ocr_read_file(ocr, buf, &r) != LPR_OK)
            continue;
        for (int p = 0; p < r.n_plates; p++) {
            const lpr_plate *pl = &r.plates[p];
            int at = -1, unknown = 0;
            for (int g = 0; g < ngt; g++)
                if (lpr_box_iou(pl->box, gt[g]) > 0.2f) {
                    if (!strcmp(text[g], "?"))
                        unknown = 1;
                    else
                        at = g;
                }
            if (unknown && at < 0)
                continue;
            for (int k = 0; k < pl->n_candidates && k < RANKS; k++) {
                float f[LPR_CONF_FEATS];
                lpr_confidence_features(NULL, pl, k, f); /* 12: the training script's */
                fprintf(out, "%ld\t%d", idx, k);
                for (int i = 0; i < LPR_CONF_FEATS; i++)
                    fprintf(out, "\t%.5f", f[i]);
                fprintf(out, "\t%d\t%s\n", at >= 0 && !strcmp(pl->candidates[k].text, text[at]),
                        pl->candidates[k].text);
                rows++;
            }
        }
    }
    fclose(list);
    if (fclose(out) != 0) {
        fprintf(stderr, "read_features: %s: write failed\n", argv[2]);
        return 1;
    }
    fprintf(stderr, "read_features: %ld images, %ld candidates\n", idx + 1, rows);
    lpr_ocr_free(ocr);
    return 0;
}

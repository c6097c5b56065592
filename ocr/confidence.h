/*
 * confidence.h - private: a read's confidence, calibrated.
 *
 * The reader's own score of a text (candidates.c: character confidences
 * and the region's formats) ranks candidates but is no probability: plates
 * at 90 were right about half the time. A small perceptron trained by
 * ocr/train/train_confidence.py on plates read in training scenes
 * (ocr/models/lpr-confidence.nn) maps a candidate's features to the
 * probability that it is the plate, exactly; the confidence a read carries
 * is that probability in percent, the same number in `lpr read`, `lpr
 * replay`, `lprd` and the signed read.
 *
 * Features of a candidate, in this order (train_confidence.py writes them
 * with the same definitions):
 *   0  reader score / 100
 *   1  verifier probability as a logit, clipped to +-8, / 8
 *   2  1 if the text fits one of the plate region's formats
 *   3  characters / 8
 *   4  (best reader score - second best) / 100: how clear the winner is
 *   5  1 for the best candidate of its plate
 *   6  the line's least confident character / 100
 *   7  the smallest lead of a position's best character over its second / 100
 *   8  character line height in pixels, at most 80, / 40
 *   9  the second opinion's score of the text / 100 (0: not its candidate)
 *  10  1 if the text is the second opinion's best: two readers that err
 *      differently agree
 *  11  1 if the second opinion read the line: without it (features 9 and
 *      10 are 0) the same model gives the reader's read alone its
 *      probability, which decides whether the second opinion is worth
 *      its cost (ocr.c)
 *  12  the text model's logit, clipped to +-8, / 8: > 0 where the text
 *      looks like a plate's series, < 0 where it spells a word (the
 *      lettering of signs, most false reads in a city)
 *
 * The confidence model file (ocr/models/lpr-confidence.nn) holds two
 * LPRNN01 networks, one after the other: the calibration (LPR_CONF_FEATS
 * x 1 x 1 in, one logit out) and the text model (ocr/train/train_text.py:
 * the text one-hot, LPR_TEXT_C x 1 x LPR_TEXT_W in, one logit out).
 */
#ifndef LPR_CONFIDENCE_H
#define LPR_CONFIDENCE_H

#include "nn.h"
#include "ocr_internal.h"

#define LPR_CONF_FEATS 13
#define LPR_TEXT_C 37 /* 0-9, A-Z, and "no character" */
#define LPR_TEXT_W 10 /* characters seen; a longer text is cut */

typedef struct lpr_confidence lpr_confidence;

/* Loads a confidence model (the two networks above); logs one line naming
 * the file and the reason on a problem. */
lpr_err lpr_confidence_load(const char *path, lpr_confidence **out);
void lpr_confidence_free(lpr_confidence *c);

/* The text one-hot the text model reads: x[LPR_TEXT_C * LPR_TEXT_W],
 * [channel][position], left aligned. */
void lpr_text_encode(const char *text, float *x);

/* The text model's logit for a text (> 0: a plate's series). */
float lpr_confidence_text_logit(lpr_confidence *c, const char *text);

/* The features of candidate k of a plate whose candidates still hold the
 * reader's scores (and whose plate_p, char_min, char_margin and text_box
 * are set). With c NULL feature 12 is 0 (ocr/train/read_features: the
 * training script computes it from the text). */
void lpr_confidence_features(lpr_confidence *c, const lpr_plate *p, int k, float *f);

/* Replaces every candidate's confidence by its calibrated one, re-sorts
 * them, and sets the plate's text and confidence from the best. */
void lpr_confidence_apply(lpr_confidence *c, lpr_plate *p);

#endif

/*
 * verify.h - private: the plate verifier. Before any text is read, a small
 * learned network (ocr/models/lpr-verify.nn, trained by
 * ocr/train/train_verifier.py on real plate crops placed in plate-free
 * scenes against what the localiser proposes on plate-free scenes) looks at
 * each line the localiser proposes and says how plate-like it is; lines
 * below the threshold are neither read nor returned.
 *
 * The crop the network sees is made here, and the training data are cut by
 * this same code (ocr/train/proposals.c), so training and reading cannot
 * drift apart.
 */
#ifndef LPR_VERIFY_H
#define LPR_VERIFY_H

#include "nn.h"
#include "ocr_internal.h"

#define LPR_VERIFY_H_PX 32  /* crop the network sees, rows */
#define LPR_VERIFY_W_PX 128 /* columns */

/* Lines proposed per image before verification: the verifier costs ~3.3 M
 * multiply-adds a line against a read's tens of millions, so it looks at
 * more lines than are read (lpr_ocr_config.max_lines). */
/* Probability a line needs to be read: the operating point chosen from *
 * ocr/train/train_verifier.py's held-out report (ocr/models/README.md), on
 * * training data, never on the benchmark. */
#define LPR_MAX_PROPOSALS 16
/* Cuts the verifier's view of a located line out of the 8 bpp grey image: *
 * the line with VERIFY_SIDE_PAD (1.4) character heights each side and *
 * VERIFY_HALF_H (1.6) above and below its middle (tuning.h: enough to see *
 * whether the characters sit on a plate or on a sign), dark-on-light (a *
 * light-on-dark line is inverted), resampled bilinearly to LPR_VERIFY_H_PX
 * * x LPR_VERIFY_W_PX and standardised to zero mean and unit spread.
 * Returns 0, or -1 for an empty * box. */
#define LPR_MIN_PLATE_P 0.5f
int lpr_plate_verify_crop(PIX *grey, const lpr_textline *line, float *out);

/* The verifier is a network of 1 x LPR_VERIFY_H_PX x LPR_VERIFY_W_PX in,
 * one logit out. */
typedef lpr_nn lpr_plate_verifier;

/* Loads a verifier network; logs one line naming the file on a problem. */
lpr_err lpr_plate_verifier_load(const char *path, lpr_plate_verifier **out);
void lpr_plate_verifier_free(lpr_plate_verifier *v);

/* Probability (0..1) that the line is a licence plate's characters. */
float lpr_plate_verify_line(lpr_plate_verifier *v, PIX *grey, const lpr_textline *line);

#endif

/*
 * classify.h - private: the per-character classifier.
 *
 * A character segmented from the cleaned binary line (one connected
 * component, or pieces of one) is reduced to a fixed grid of ink coverage
 * plus its shape ratios, and a small multilayer perceptron trained by
 * ocr/train/ (real plate glyphs, see ocr/models/README.md) scores every
 * plate character. The same feature code runs at training time (the glyph
 * exporter links this library) and at reading time, so the two cannot drift.
 */
#ifndef LPR_CLASSIFY_H
#define LPR_CLASSIFY_H

#include <leptonica/allheaders.h>

#include "lpr_common.h"

#define LPR_GLYPH_W 20
#define LPR_GLYPH_H 28
/* grid + aspect (w/h) + height relative to the line's character height */
/* Features of the ink of 1 bpp 'bin' inside (x, y, w, h); char_h is the *
 * line's character height in the same pixels. Returns 0, -1 on bad input. */
#define LPR_GLYPH_FEATS (LPR_GLYPH_W * LPR_GLYPH_H + 2)
int lpr_glyph_features(PIX *bin, int x, int y, int w, int h, float char_h, float *feat);

typedef struct lpr_charclf lpr_charclf;

/* Loads a classifier file written by ocr/train/train_classifier.py. Logs one
 * line naming the file on any problem. */
lpr_err lpr_charclf_load(const char *path, lpr_charclf **out);
void lpr_charclf_free(lpr_charclf *clf);

/* Scores one glyph: writes the k best classes and their probabilities
 * (0..1, best first). Returns the number written. */
int lpr_charclf_classify(const lpr_charclf *clf, const float *feat, char *chars, float *probs,
                         int k);

#endif

/*
 * recognize.h - private: reading one text line with a Tesseract engine.
 */
#ifndef LPR_RECOGNIZE_H
#define LPR_RECOGNIZE_H

#include <tesseract/capi.h>

#include "classify.h"
#include "ocr_internal.h"

/* Reads 'line' of the 8 bpp image 'grey' with the LSTM engine and, if clf is
 * not NULL, the per-character classifier over the segmented cells; the
 * readings are voted per position. Fills up to max positions with the
 * character read there and its alternatives; returns the count (0 if
 * nothing readable). */
int lpr_recognize_line(TessBaseAPI *api, const lpr_charclf *clf, PIX *grey,
                       const lpr_textline *line, lpr_charpos *pos, int max);

/* The glyph features of the character cells of 'line', left to right, as
 * the reader segments them (for the classifier's training data). Returns
 * the count. */
int lpr_segment_line(PIX *grey, const lpr_textline *line, float (*feat)[LPR_GLYPH_FEATS], int max);

#endif

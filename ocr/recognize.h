/*
 * recognize.h - private: reading one text line with a Tesseract engine.
 */
#ifndef LPR_RECOGNIZE_H
#define LPR_RECOGNIZE_H

#include <tesseract/capi.h>

#include "ocr_internal.h"

/* Reads 'line' of the 8 bpp image 'grey'. Fills up to max positions with the
 * character read there and its alternatives; returns the count (0 if
 * nothing readable). */
int lpr_recognize_line(TessBaseAPI *api, PIX *grey, const lpr_textline *line,
                       lpr_charpos *pos, int max);

#endif

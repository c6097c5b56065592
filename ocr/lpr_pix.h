/*
 * lpr_pix.h - moving grey pixels between the plain buffers frames travel
 * in (one byte a pixel, rows `stride` bytes apart) and Leptonica's 8 bpp
 * PIX, which the reader and the image encoders work on. The one place the
 * copy is written (ocr/pixels.c), a 32-bit word at a time.
 */
#ifndef LPR_PIX_H
#define LPR_PIX_H

#include <leptonica/allheaders.h>
#include <stdint.h>

#include "lpr_ocr.h"

/* A new 8 bpp PIX holding the region of the grey buffer; the region must
 * lie inside the buffer. NULL if the region is empty or out of memory. */
PIX *lpr_pix_from_grey(const uint8_t *pixels, int stride, lpr_box region);

/* The pixels of an 8 bpp PIX as a new buffer of width x height bytes
 * (stride = width; caller frees). NULL if not 8 bpp or out of memory. */
uint8_t *lpr_grey_from_pix(PIX *grey);

#endif

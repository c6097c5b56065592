/*
 * reader.h - private: the whole-plate reader. A small learned network
 * (ocr/models/lpr-read.nn, trained by ocr/train/train_reader.py on real
 * plate crops and renders placed in plate-free scenes, read as the
 * localiser proposes them) looks at a verified line's crop and gives, for
 * each of LPR_READ_STEPS columns from left to right, a probability for
 * every plate character and for "none here" (CTC's blank): the text is
 * the columns' likeliest characters, repeats merged and blanks dropped
 * (greedy CTC decoding). No segmentation, no Tesseract: one network pass a
 * line. A convolutional reader learns characters, not plates: it reads
 * texts it never saw, which a head per character slot over the whole crop
 * did not (it learned the training plates by heart: 54% of training us
 * lines read exactly after 8 epochs, 6% of held-out ones).
 *
 * The crop is made here, and the training data are cut by this same code
 * (ocr/train/proposals.c), so training and reading cannot drift apart.
 */
#ifndef LPR_READER_H
#define LPR_READER_H

#include "nn.h"
#include "ocr_internal.h"

#define LPR_READ_H_PX 32    /* crop the network sees, rows */
#define LPR_READ_W_PX 128   /* columns */
#define LPR_READ_STEPS 32   /* output columns (the crop's width / 4) */
#define LPR_READ_CLASSES 37 /* per column: 0-9, A-Z, then the blank */

/* The characters of classes 0..35, in the network's order. */
/* Cuts the reader's view of a located line out of the 8 bpp grey image: *
 * the line with 1.0 character heights each side (a character the localiser
 * * missed at an end is still in view) and 0.9 above and below its middle,
 * * following the line's slope (a tilted plate's end characters would *
 * otherwise leave that narrow band), dark-on-light, LPR_READ_H_PX x *
 * LPR_READ_W_PX, standardised. Returns 0, or -1 for an empty box. */
#define LPR_READ_ALPHABET "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
int lpr_plate_read_crop(PIX *grey, const lpr_textline *line, float *out);

/* The reader is a network of 1 x LPR_READ_H_PX x LPR_READ_W_PX in,
 * LPR_READ_CLASSES x LPR_READ_STEPS logits out (class-major: a column
 * layer's output). */
typedef lpr_nn lpr_plate_reader;

/* Loads a reader network; logs one line naming the file on a problem. */
lpr_err lpr_plate_reader_load(const char *path, lpr_plate_reader **out);
void lpr_plate_reader_free(lpr_plate_reader *r);

/* Turns the network's logits into character positions: per column a
 * softmax; a character is a run of columns whose likeliest class is that
 * character (a blank between two runs of one character makes two); its
 * confidence is its best column's probability, and its alternatives are
 * the likeliest characters in that column (up to LPR_MAX_ALTS), in
 * percent. Returns the count (0..max). */
int lpr_plate_read_decode(const float *logits, lpr_charpos *pos, int max);

/* Reads a located line: crop, network, decode. Returns the count. */
int lpr_plate_read_line(lpr_plate_reader *r, PIX *grey, const lpr_textline *line, lpr_charpos *pos,
                        int max);

#endif

/*
 * vectors.h - test support: a network's outputs against those a training
 * script recorded for the same inputs (LPRVEC1 files, written by
 * ocr/train/train_verifier.py and train_reader.py):
 *   "LPRVEC1\n", u32 count, inputs, outputs, then per vector
 *   f32 in[inputs], f32 out[outputs] (little-endian)
 */
#ifndef LPR_TEST_VECTORS_H
#define LPR_TEST_VECTORS_H

#include "nn.h"

/* Runs nn over every vector of 'path' (which must hold 'inputs' x 'outputs'
 * vectors) and returns the largest |difference| of any output; *count gets
 * the number of vectors. Returns -1 for a missing or malformed file. */
float lpr_test_vectors_max_diff(lpr_nn *nn, const char *path, int inputs, int outputs,
                                unsigned *count);

#endif

/*
 * lpr_ocr.h - find licence plates in an image and read them.
 *
 * Decode -> propose -> verify -> read -> candidates -> calibrate -> plates.
 * Localisation is character-first (Leptonica): adaptive binarisation in both
 * polarities, connected components of character size, grouped into lines of
 * similar height, baseline and spacing (locate.c). A learned verifier
 * (verify.c) keeps the lines that look like a plate; only those are read,
 * each in one pass of a learned whole-plate reader (reader.c: a small
 * convolutional network over the line's crop, CTC-decoded into characters
 * with their probabilities). Where the calibration gives that read alone
 * at least a 10% chance (SECOND_OPINION_GATE, ocr.c), a second opinion
 * reads the line too: it is cut into characters for a learned classifier,
 * with Tesseract's LSTM where that is unsure (recognize.c); its candidates
 * join the reader's, and whether the two agree is part of each
 * candidate's confidence. Without the
 * network ([ocr] reader = none) the second opinion reads alone. Candidates
 * come from per-character
 * alternatives, the usual confusions (O/0, I/1, B/8 ...) and the region's
 * plate formats (candidates.c); a learned calibration (confidence.c) makes
 * each candidate's confidence the probability that it is the plate, and
 * plates below min_confidence are not returned.
 *
 * One lpr_ocr holds its networks' scratch buffers and one Tesseract engine:
 * create it once per thread and reuse it. Not thread-safe; use one lpr_ocr
 * per worker thread.
 */
#ifndef LPR_OCR_H
#define LPR_OCR_H

#include <stddef.h>
#include <stdint.h>

#include "lpr_common.h"

#define LPR_MAX_TEXT 16       /* plate text incl. NUL */
#define LPR_MAX_CANDIDATES 10 /* candidates per plate */
#define LPR_MAX_PLATES 8      /* plates per image */

typedef enum lpr_region {
    LPR_REGION_AUTO = 0,
    LPR_REGION_US,
    LPR_REGION_EU,
    LPR_REGION_BR
} lpr_region;

typedef struct lpr_box {
    int x, y, w, h; /* pixels, top-left origin */
} lpr_box;

typedef struct lpr_candidate {
    char text[LPR_MAX_TEXT]; /* upper-case A-Z0-9 */
    float confidence;        /* 0..100, calibrated as the plate's */
    float second;            /* the second opinion's score of this text,
                                0..100 before calibration (0: not among
                                its candidates, or no second opinion) */
} lpr_candidate;

typedef struct lpr_plate {
    char text[LPR_MAX_TEXT];        /* best candidate's text */
    float confidence;               /* best candidate's confidence, 0..100: with
                                       the shipped calibration, the probability
                                       in percent that the text is the plate's */
    float plate_p;                  /* verifier: probability the line is a plate
                                       (0..1; 1 without a verifier) */
    float char_min;                 /* the line's least confident character, 0..100 */
    float char_margin;              /* smallest lead of a position's best character
                                       over its second, 0..100 */
    char second_text[LPR_MAX_TEXT]; /* the second opinion's best text ("":
                                       none ran or it read nothing) */
    int second_opinion;             /* 1: the second opinion read this line (it
                                       runs only where the reader's read alone
                                       might be returned, see ocr.c) */
    lpr_box box;                    /* estimated plate box in image pixels */
    lpr_box text_box;               /* tight box around the character line */
    lpr_region region;              /* region whose rules ranked the candidates */
    int n_candidates;               /* 1..LPR_MAX_CANDIDATES, best first */
    lpr_candidate candidates[LPR_MAX_CANDIDATES];
} lpr_plate;

typedef struct lpr_ocr_result {
    int width, height; /* image size in pixels */
    double ms;         /* time spent localising and reading (not decoding) */
    int n_plates;      /* plates found, best first */
    lpr_plate plates[LPR_MAX_PLATES];
} lpr_ocr_result;

/* The largest image read by default, in pixels (50 Mpx: a 8192 x 6144 still;
 * larger is refused from its header, before decoding, as a decompression
 * bomb would be). */
#define LPR_DEFAULT_MAX_PIXELS (50L * 1000 * 1000)

typedef struct lpr_ocr_config {
    const char *model_dir;   /* tessdata directory; NULL: Tesseract's default */
    const char *model;       /* traineddata name without suffix; default "eng" */
    const char *char_model;  /* character classifier file; NULL: the shipped
                                one (LPR_CHAR_MODEL) if installed; "none": off */
    const char *verifier;    /* plate verifier network; NULL: the shipped
                                lpr-verify.nn if installed; "none": every
                                located line is read */
    const char *reader;      /* whole-plate reader network; NULL: the shipped
                                lpr-read.nn if installed; "none": the
                                character classifier and Tesseract read */
    int no_second_opinion;   /* 1: with the whole-plate reader, do not also
                                read each line with the classifier and
                                Tesseract (for measuring what they add; the
                                shipped calibration expects them) */
    const char *calibration; /* confidence model; NULL: the shipped
                               lpr-confidence.nn if installed; "none": the
                               reader's own score */
    float min_confidence;    /* plates below this (0..100) are not returned;
                                default LPR_DEFAULT_MIN_CONFIDENCE ([ocr]
                                min_confidence, lpr_common.h) */
    lpr_region region;       /* plate formats to apply; default auto */
    int max_plates;          /* 1..LPR_MAX_PLATES; default LPR_MAX_PLATES */
    int max_lines;           /* text lines read per image (bounds time); default 7 */
    long max_pixels;         /* images larger than this are refused; default
                                LPR_DEFAULT_MAX_PIXELS */
} lpr_ocr_config;

typedef struct lpr_ocr lpr_ocr;

/* Call first thing in main() of a program that reads plates: makes
 * Tesseract single-threaded per engine (sets OMP_THREAD_LIMIT=1 and
 * re-executes the program when it was not set). Returns only if no re-exec
 * was needed or possible. */
void lpr_ocr_process_init(char **argv);

/* The folder of shipped models holding 'file': the source tree's ocr/models
 * while running from a build tree, then the installed share/lpr-edge/models.
 * NULL if neither has it. */
const char *lpr_model_dir_with(const char *file);

/* Fills cfg with the defaults documented above. */
void lpr_ocr_config_init(lpr_ocr_config *cfg);

/* Loads the model once. On failure logs which model/dir and returns
 * LPR_ENOENT or LPR_EINVAL. Caller frees *out with lpr_ocr_free(). */
lpr_err lpr_ocr_new(const lpr_ocr_config *cfg, lpr_ocr **out);
void lpr_ocr_free(lpr_ocr *ocr); /* NULL is a no-op */

/* Reads an encoded image file (JPEG, PNG, BMP, TIFF, PNM). Errors:
 * LPR_EIO unreadable, LPR_EFORMAT not a decodable image, LPR_ETOOBIG larger
 * than max_pixels (checked from the header, before decoding). The reason is
 * logged once naming the file. */
lpr_err lpr_ocr_read_file(lpr_ocr *ocr, const char *path, lpr_ocr_result *out);

/* Same for an encoded image in memory; 'name' is used in log lines. */
lpr_err lpr_ocr_read_mem(lpr_ocr *ocr, const void *data, size_t len, const char *name,
                         lpr_ocr_result *out);

/* Reads an 8-bit grey frame (e.g. the Y plane of a camera frame). */
lpr_err lpr_ocr_read_grey(lpr_ocr *ocr, const uint8_t *pixels, int width, int height, int stride,
                          lpr_ocr_result *out);

/* 1 if the file name has an image extension the reader decodes (JPEG, PNG,
 * BMP, TIFF, PNM/PGM/PPM, WebP), case-insensitive; used to pick images out
 * of folders. */
int lpr_image_name(const char *name);

/* "auto", "us", "eu", "br". */
const char *lpr_region_name(lpr_region region);
/* Parses a region name; LPR_EINVAL for anything else. */
lpr_err lpr_region_parse(const char *name, lpr_region *out);

/* Intersection over union of two boxes (0..1). */
float lpr_box_iou(lpr_box a, lpr_box b);
/* Intersection over the smaller box's area (0..1): 1 when one is inside. */
float lpr_box_overlap(lpr_box a, lpr_box b);
/* b cut to the image [0, w) x [0, h) (w or h <= 0 when b lies outside). */
lpr_box lpr_box_clip(lpr_box b, int w, int h);

/* Normalises plate text for comparison: upper case, A-Z0-9 only. */
void lpr_plate_normalise(const char *in, char *out, size_t outlen);

#endif

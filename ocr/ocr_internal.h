/*
 * ocr_internal.h - private interfaces between the ocr/ files: the text-line
 * locator (locate.c), the line reader (recognize.c) and the candidate
 * generator (candidates.c). Unit tests include it; nothing outside ocr/ does.
 */
#ifndef LPR_OCR_INTERNAL_H
#define LPR_OCR_INTERNAL_H

#include <leptonica/allheaders.h>

#include "lpr_ocr.h"

#define LPR_LINE_MAX_CHARS 16
#define LPR_MAX_ALTS 4

/* A line of character-like components: a plate candidate. */
typedef struct lpr_textline {
    lpr_box box;     /* tight box of the chars, image px */
    int n_chars;     /* character-like components */
    float char_h;    /* median char height, px */
    float angle_deg; /* baseline slope, + = clockwise */
    int inverted;    /* 1: light characters on dark */
    float score;     /* higher = more plate-like */
} lpr_textline;

/* Finds up to max text lines in an 8 bpp grey image, best first.
 * Returns the count (0..max) or -1 on a Leptonica failure. */
int lpr_locate(PIX *grey, lpr_textline *lines, int max);

/* The mean of each pixel's (2 half + 1)^2 window of an 8 bpp image,
 * rounded, the window clipped to the image (pixels.c); NULL on a bad
 * image, half outside 1..64, or out of memory. */
PIX *lpr_box_mean(PIX *grey, int half);

/* Local-mean binarisation (pixels.c): with m the mean of a pixel's
 * (2 half + 1)^2 window (lpr_box_mean), the pixel is dark foreground when
 * it is below m - (10 + m / 10), light foreground when above m + (10 +
 * m / 10), and (if soft is not NULL) soft dark foreground when below
 * m - (6 + m / 16), for faint, blurred characters, whose broken strokes a
 * 1 x 3 vertical closing then rejoins. Cheaper than Sauvola (no local
 * variance) and as good for finding character components. Returns 0, or
 * -1 (nothing to free) on a bad image or out of memory. */
int lpr_binarize_local(PIX *grey, int half, PIX **dark, PIX **light, PIX **soft);

/* The bounding boxes of the 8-connected components of a 1 bpp image, in
 * the order of pixConnCompBB(bin, 8) (by first pixel in raster order), with
 * far less work (pixels.c). NULL on a bad image or out of memory. */
BOXA *lpr_components_bb(PIX *bin);

/* Estimates the full plate box from a character line (plates are taller
 * than their characters: frame, state or city banner). Clipped to w x h. */
lpr_box lpr_plate_box_from_line(const lpr_textline *line, lpr_region region, int img_w, int img_h);

/* The view of 'line' a learned model sees: the line with side_pad
 * character heights left and right and half_h above and below its middle,
 * dark-on-light (a light-on-dark line is inverted), resampled bilinearly to
 * out_h x out_w (at most 512 columns) and standardised to zero mean and
 * unit spread (crop.c). With deskew, each column's samples follow the
 * line's baseline slope, so a tilted line comes out level. Returns 0, or -1
 * for an empty box. */
int lpr_line_crop(PIX *grey, const lpr_textline *line, float side_pad, float half_h, int deskew,
                  int out_h, int out_w, float *out);

/* Union-find over 0..n-1 (the locator's character groups, pixels.c's
 * runs): the root of i's set, halving the path on the way; parent[r] == r
 * at a root. */
static inline int lpr_uf_find(int *parent, int i)
{
    while (parent[i] != i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    return i;
}

/* Intersection area of two boxes, in pixels. */
float lpr_box_intersection(lpr_box a, lpr_box b);

/* One recognised character position and its alternatives, best first. */
typedef struct lpr_charpos {
    int n; /* 1..LPR_MAX_ALTS */
    char ch[LPR_MAX_ALTS];
    float conf[LPR_MAX_ALTS]; /* 0..100 */
} lpr_charpos;

/* Ranks candidate texts for a sequence of character positions under the
 * region's plate formats. Writes up to max candidates (best first, distinct)
 * and returns the count; *region_out gets the region whose rule ranked best
 * (for LPR_REGION_AUTO the chosen one). */
int lpr_candidates(const lpr_charpos *pos, int n, lpr_region region, float line_aspect,
                   lpr_candidate *out, int max, lpr_region *region_out);

/* Fills 'pos' with the usual visual confusions of 'c' (O/0, I/1, B/8 ...)
 * appended after the existing alternatives, scaled by 'factor'. */
void lpr_add_confusions(lpr_charpos *pos, float factor);
/* Sorts candidates most confident first; stable: equal confidences keep
 * their order (candidates.c). */
void lpr_sort_candidates(lpr_candidate *c, int n);

/* 1 if text matches one of the region's formats (L letter, N digit). */
int lpr_region_format_match(lpr_region region, const char *text);

#endif

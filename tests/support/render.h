/*
 * render.h - test support: synthetic plate scenes at known boxes, drawn
 * with Leptonica's built-in bitmap font, so tests need no photos.
 */
#ifndef LPR_TEST_RENDER_H
#define LPR_TEST_RENDER_H

#include <leptonica/allheaders.h>

#include "lpr_ocr.h"

typedef struct render_plate {
    const char *text; /* A-Z0-9 */
    int x, y;         /* top-left of the plate in the scene */
    int char_h;       /* character height in pixels */
    int inverted;     /* 1: light characters on a dark plate */
    float angle_deg;  /* rotation, + clockwise */
} render_plate;

/* Renders an 8 bpp scene w x h with a textured grey background and the given
 * plates. plate_boxes[i] (may be NULL) gets each plate's box, text_boxes[i]
 * the box of its characters. Caller destroys the PIX. */
PIX *render_scene(int w, int h, const render_plate *plates, int n, lpr_box *plate_boxes,
                  lpr_box *text_boxes, unsigned seed);

#endif

/*
 * render.c - draws synthetic plates (see render.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"

static PIX *render_plate_pix(const char *text, int char_h, int inverted, lpr_box *text_box)
{
    L_BMF *bmf = bmfCreate(NULL, 20);
    if (!bmf)
        return NULL;
    l_int32 tw = 0;
    bmfGetStringWidth(bmf, text, &tw);
    int th = bmf->baselinetab[(int)'A']; /* cap height ~ baseline */
    int margin_x = th / 2 + 4, margin_y = th / 2 + 2;
    int pw = tw + 2 * margin_x, ph = th + 2 * margin_y;
    PIX *plate = pixCreate(pw, ph, 8);
    pixSetAll(plate); /* white */
    /* frame */
    BOX *frame = boxCreate(1, 1, pw - 2, ph - 2);
    pixRenderBoxArb(plate, frame, 2, 0, 0, 0);
    boxDestroy(&frame);
    PIX *p32 = pixConvertTo32(plate);
    pixDestroy(&plate);
    l_int32 width, ovf;
    pixSetTextline(p32, bmf, text, 0x00000000, margin_x, margin_y + th - 1, &width, &ovf);
    PIX *thin = pixConvertRGBToLuminance(p32);
    pixDestroy(&p32);
    /* plate lettering is bold: thicken the bitmap font's strokes */
    PIX *g = pixErodeGray(thin, 3, 1);
    pixDestroy(&thin);
    bmfDestroy(&bmf);
    /* find the drawn character extent */
    float f = (float)char_h / (float)th;
    PIX *scaled = pixScale(g, f, f);
    pixDestroy(&g);
    if (inverted)
        pixInvert(scaled, scaled);
    text_box->x = (int)(margin_x * f);
    text_box->y = (int)(margin_y * f);
    text_box->w = (int)(tw * f);
    text_box->h = char_h;
    return scaled;
}

PIX *render_scene(int w, int h, const render_plate *plates, int n, lpr_box *plate_boxes,
                  lpr_box *text_boxes, unsigned seed)
{
    PIX *scene = pixCreate(w, h, 8);
    if (!scene)
        return NULL;
    l_uint32 *data = pixGetData(scene);
    int wpl = pixGetWpl(scene);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            seed = seed * 1103515245u + 12345u;
            int v = 90 + (x * 60) / w + (int)((seed >> 16) % 21) - 10;
            SET_DATA_BYTE(data + y * wpl, x, v);
        }
    for (int i = 0; i < n; i++) {
        lpr_box tb;
        PIX *p = render_plate_pix(plates[i].text, plates[i].char_h, plates[i].inverted, &tb);
        if (!p)
            continue;
        if (fabsf(plates[i].angle_deg) > 0.01f) {
            PIX *r = pixRotate(p, plates[i].angle_deg * (float)M_PI / 180.0f, L_ROTATE_AREA_MAP,
                               plates[i].inverted ? L_BRING_IN_BLACK : L_BRING_IN_WHITE, 0, 0);
            pixDestroy(&p);
            p = r;
        }
        int pw = pixGetWidth(p), ph = pixGetHeight(p);
        pixRasterop(scene, plates[i].x, plates[i].y, pw, ph, PIX_SRC, p, 0, 0);
        if (plate_boxes)
            plate_boxes[i] = (lpr_box){plates[i].x, plates[i].y, pw, ph};
        if (text_boxes)
            text_boxes[i] = (lpr_box){plates[i].x + tb.x, plates[i].y + tb.y, tb.w, tb.h};
        pixDestroy(&p);
    }
    return scene;
}

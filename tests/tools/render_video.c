/*
 * render_video.c - synthetic footage for replay tests and the demo: N
 * vehicles pass one after another, each plate drifting across the scene for
 * a number of frames, with empty frames between them. Writes JPEG frames
 * OUTDIR/frame00000.jpg ... and prints the plate texts in pass order.
 * usage: render_video OUTDIR [VEHICLES] [FRAMES_PER_VEHICLE] [GAP_FRAMES]
 */
#include <stdio.h>
#include <stdlib.h>

#include "render.h"

int main(int argc, char **argv)
{
    /* no 0/O: Leptonica's bitmap font draws a zero the stock model splits */
    static const char *const plates[] = {"7ABC123", "KX4821",  "PLT9542", "ZX81ABC",
                                         "BRT5D21", "QWE7788", "LPR2626", "HJK3355"};
    if (argc < 2) {
        fprintf(stderr, "usage: render_video OUTDIR [VEHICLES] [FRAMES] [GAP]\n");
        return 2;
    }
    int vehicles = argc > 2 ? atoi(argv[2]) : 4;
    int frames = argc > 3 ? atoi(argv[3]) : 12;
    int gap = argc > 4 ? atoi(argv[4]) : 20;
    int w = 1280, h = 720, idx = 0;
    char path[4096];
    for (int v = 0; v < vehicles; v++) {
        const char *text = plates[v % 8];
        for (int f = 0; f < frames + gap; f++) {
            render_plate p = {text, 200 + f * 40, 260 + f * 12, 34, v % 3 == 2, 0};
            PIX *scene =
                render_scene(w, h, &p, f < frames ? 1 : 0, NULL, NULL, 1000u + (unsigned)idx);
            snprintf(path, sizeof path, "%s/frame%05d.jpg", argv[1], idx++);
            if (!scene || pixWriteJpeg(path, scene, 85, 0) != 0) {
                fprintf(stderr, "render_video: cannot write %s\n", path);
                return 1;
            }
            pixDestroy(&scene);
        }
        printf("%s\n", text);
    }
    return 0;
}

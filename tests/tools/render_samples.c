/*
 * render_samples.c - writes synthetic plate scenes (PNG) for the demo and
 * the golden-file test (JPEG, quality 90): no photo of a real vehicle is needed or shipped.
 * usage: render_samples OUTDIR
 */
#include <stdio.h>

#include "render.h"

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int w, h;
        render_plate plate[2];
        int n;
    } scenes[] = {
        {"sample-1-us.jpg", 800, 500, {{"7ABC123", 280, 220, 40, 0, 0}}, 1},
        {"sample-2-br.jpg", 800, 500, {{"MHA0361", 200, 180, 48, 0, 4.0f}}, 1},
        {"sample-3-night.jpg", 640, 480, {{"KX4821", 160, 200, 44, 1, 0}}, 1},
        {"sample-4-two.jpg",
         1000,
         600,
         {{"PLT9042", 80, 100, 36, 0, 0}, {"ZX81ABC", 520, 380, 40, 0, -6.0f}},
         2},
    };
    char path[4096];
    if (argc != 2) {
        fprintf(stderr, "usage: render_samples OUTDIR\n");
        return 2;
    }
    for (unsigned i = 0; i < sizeof scenes / sizeof scenes[0]; i++) {
        PIX *p = render_scene(scenes[i].w, scenes[i].h, scenes[i].plate, scenes[i].n, NULL, NULL,
                              11 + i);
        snprintf(path, sizeof path, "%s/%s", argv[1], scenes[i].name);
        if (!p || pixWriteJpeg(path, p, 90, 0) != 0) {
            fprintf(stderr, "render_samples: cannot write %s\n", path);
            pixDestroy(&p);
            return 1;
        }
        pixDestroy(&p);
    }
    return 0;
}

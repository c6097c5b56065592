/*
 * render_training.c - synthetic plate scenes for training the plate
 * verifier (ocr/train/train_verifier.py): the same renderer the tests, the
 * golden files and the demo use, at random texts, sizes, polarities and
 * tilts, so the verifier knows the project's own renders as plates. Writes
 * OUTDIR/rNNNNN.jpg and prints one line per scene:
 * "PATH<TAB>x,y,w,h[;x,y,w,h]<TAB>TEXT[;TEXT]" (plate boxes and texts).
 * usage: render_training OUTDIR COUNT SEED
 */
#include <stdio.h>
#include <stdlib.h>

#include "render.h"

static unsigned next(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return (*s >> 8) & 0xFFFFFFu;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: render_training OUTDIR COUNT SEED\n");
        return 2;
    }
    int count = atoi(argv[2]);
    unsigned s = (unsigned)strtoul(argv[3], NULL, 10);
    static const char *const formats[] = {"LLLNNNN", "NLLLNNN", "LLNNNN",  "LLNNLLL",
                                          "LLLNLNN", "NNNLLL",  "LLNNNLL", "LNNNLL"};
    char text[2][16], path[4096];
    for (int i = 0; i < count; i++) {
        render_plate p[2];
        int n = 1 + (int)(next(&s) % 4 == 0);
        for (int k = 0; k < n; k++) {
            const char *f = formats[next(&s) % 8];
            int j = 0;
            for (; f[j]; j++)
                text[k][j] =
                    f[j] == 'L' ? (char)('A' + next(&s) % 26) : (char)('0' + next(&s) % 10);
            text[k][j] = '\0';
            int ch = 14 + (int)(next(&s) % 30);
            p[k].text = text[k];
            p[k].char_h = ch;
            p[k].x = 40 + (int)(next(&s) % 700);
            p[k].y = k == 0 ? 60 + (int)(next(&s) % 240) : 380 + (int)(next(&s) % 240);
            p[k].inverted = next(&s) % 3 == 0;
            p[k].angle_deg = (float)((int)(next(&s) % 13) - 6);
        }
        lpr_box boxes[2];
        PIX *scene = render_scene(1280, 720, p, n, boxes, NULL, next(&s));
        snprintf(path, sizeof path, "%s/r%05d.jpg", argv[1], i);
        if (!scene || pixWriteJpeg(path, scene, 60 + (int)(next(&s) % 35), 0) != 0) {
            fprintf(stderr, "render_training: cannot write %s\n", path);
            return 1;
        }
        pixDestroy(&scene);
        printf("%s\t", path);
        for (int k = 0; k < n; k++)
            printf("%s%d,%d,%d,%d", k ? ";" : "", boxes[k].x, boxes[k].y, boxes[k].w, boxes[k].h);
        printf("\t");
        for (int k = 0; k < n; k++)
            printf("%s%s", k ? ";" : "", text[k]);
        printf("\n");
    }
    return 0;
}

/*
 * photo_video.c - frames for a video made from still photos: each photo is
 * held for K frames, letterboxed into W x H, with fresh random noise on
 * every frame (as a real sensor adds). Writes OUTDIR/frame00000.jpg ...
 * usage: photo_video OUTDIR K W H PHOTO...
 */
#include <stdio.h>
#include <stdlib.h>

#include <leptonica/allheaders.h>

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: photo_video OUTDIR K W H PHOTO...\n");
        return 2;
    }
    int k = atoi(argv[2]), W = atoi(argv[3]), H = atoi(argv[4]), idx = 0;
    unsigned seed = 12345;
    setMsgSeverity(L_SEVERITY_NONE);
    for (int i = 5; i < argc; i++) {
        PIX *p = pixRead(argv[i]), *g = p ? pixConvertTo8(p, 0) : NULL;
        pixDestroy(&p);
        if (!g) {
            fprintf(stderr, "photo_video: cannot read %s\n", argv[i]);
            return 1;
        }
        float s = (float)W / (float)pixGetWidth(g);
        if ((float)H / (float)pixGetHeight(g) < s)
            s = (float)H / (float)pixGetHeight(g);
        PIX *sc = s == 1.0f ? pixClone(g) : pixScale(g, s, s);
        pixDestroy(&g);
        for (int f = 0; f < k; f++) {
            PIX *frame = pixCreate(W, H, 8);
            int ox = (W - pixGetWidth(sc)) / 2, oy = (H - pixGetHeight(sc)) / 2;
            pixRasterop(frame, ox, oy, pixGetWidth(sc), pixGetHeight(sc), PIX_SRC, sc, 0, 0);
            l_uint32 *d = pixGetData(frame);
            int wpl = pixGetWpl(frame);
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++) {
                    seed = seed * 1103515245u + 12345u;
                    int v = (int)GET_DATA_BYTE(d + y * wpl, x) + (int)((seed >> 16) % 13) - 6;
                    SET_DATA_BYTE(d + y * wpl, x, v < 0 ? 0 : v > 255 ? 255 : v);
                }
            char path[4096];
            snprintf(path, sizeof path, "%s/frame%05d.jpg", argv[1], idx++);
            if (pixWriteJpeg(path, frame, 92, 0) != 0) {
                fprintf(stderr, "photo_video: cannot write %s\n", path);
                return 1;
            }
            pixDestroy(&frame);
        }
        pixDestroy(&sc);
    }
    return 0;
}

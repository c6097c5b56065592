/*
 * test_pixels.c - lpr_box_mean is the rounded mean of each pixel's window
 * clipped to the image (counted by brute force), and within one grey
 * level of Leptonica's pixBlockconv where the window is whole (but for the
 * first such row and column, where pixBlockconv leaves out the window's
 * first column or row: 124 for 120 in one case here);
 * lpr_binarize_local is its rule applied to that mean, pixel for pixel;
 * lpr_components_bb gives exactly what Leptonica's
 * pixConnCompBB(bin, 8) gives (the same boxes in the same order) on random
 * binary images of awkward widths and densities, on full and empty
 * images, with garbage in the row padding, and on the golden photos
 * binarised as the locator does; it refuses what is not 1 bpp;
 * lpr_pix_from_grey and lpr_grey_from_pix copy every pixel of a region
 * exactly, at widths that are and are not whole words.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "lpr_pix.h"
#include "ocr_internal.h"

/* Both functions over the image; Leptonica's sees the padding cleared,
 * ours does not: a difference is printed before the assertion fails. */
static void assert_same(PIX *bin, const char *what)
{
    PIX *clean = pixCopy(NULL, bin);
    assert_non_null(clean);
    pixSetPadBits(clean, 0);
    BOXA *want = pixConnCompBB(clean, 8), *got = lpr_components_bb(bin);
    assert_non_null(want);
    assert_non_null(got);
    int n = boxaGetCount(want);
    if (boxaGetCount(got) != n)
        printf("%s: %d components, want %d\n", what, boxaGetCount(got), n);
    assert_int_equal(boxaGetCount(got), n);
    for (int i = 0; i < n; i++) {
        l_int32 a[4], b[4];
        boxaGetBoxGeometry(want, i, &a[0], &a[1], &a[2], &a[3]);
        boxaGetBoxGeometry(got, i, &b[0], &b[1], &b[2], &b[3]);
        if (a[0] != b[0] || a[1] != b[1] || a[2] != b[2] || a[3] != b[3])
            printf("%s: box %d is %d,%d,%d,%d, want %d,%d,%d,%d\n", what, i, b[0], b[1], b[2], b[3],
                   a[0], a[1], a[2], a[3]);
        assert_memory_equal(a, b, sizeof a);
    }
    boxaDestroy(&want);
    boxaDestroy(&got);
    pixDestroy(&clean);
}

static void test_random_images(void **state)
{
    (void)state;
    const int widths[] = {1, 2, 31, 32, 33, 63, 64, 65, 97, 200};
    const int densities[] = {5, 30, 50, 70, 95}; /* percent of pixels on */
    unsigned seed = 12345;
    for (size_t wi = 0; wi < sizeof widths / sizeof widths[0]; wi++)
        for (size_t di = 0; di < sizeof densities / sizeof densities[0]; di++) {
            int w = widths[wi], h = 1 + (int)(seed % 60);
            PIX *bin = pixCreate(w, h, 1);
            assert_non_null(bin);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    seed = seed * 1103515245u + 12345u;
                    if ((int)((seed >> 16) % 100) < densities[di])
                        pixSetPixel(bin, x, y, 1);
                }
            /* garbage past each row's end, which must not join anything */
            l_uint32 *d = pixGetData(bin);
            int wpl = pixGetWpl(bin);
            if (w % 32)
                for (int y = 0; y < h; y++)
                    d[y * wpl + wpl - 1] |= 0xffffffffu >> (w % 32);
            char what[64];
            snprintf(what, sizeof what, "random %dx%d at %d%%", w, h, densities[di]);
            assert_same(bin, what);
            pixDestroy(&bin);
        }
}

static void test_full_and_empty(void **state)
{
    (void)state;
    PIX *bin = pixCreate(77, 13, 1);
    assert_non_null(bin);
    BOXA *none = lpr_components_bb(bin);
    assert_non_null(none);
    assert_int_equal(boxaGetCount(none), 0);
    boxaDestroy(&none);
    pixSetAll(bin);
    assert_same(bin, "full 77x13");
    /* a ring and a diagonal: joined only through corners and around */
    pixClearAll(bin);
    for (int x = 10; x < 40; x++) {
        pixSetPixel(bin, x, 2, 1);
        pixSetPixel(bin, x, 10, 1);
    }
    for (int y = 2; y <= 10; y++) {
        pixSetPixel(bin, 10, y, 1);
        pixSetPixel(bin, 39, y, 1);
    }
    for (int k = 0; k < 12; k++)
        pixSetPixel(bin, 50 + k, k, 1);
    assert_same(bin, "ring and diagonal");
    pixDestroy(&bin);
}

static void test_golden_photos(void **state)
{
    (void)state;
    const char *photos[] = {"sample-1-us.jpg", "sample-2-br.jpg", "sample-3-night.jpg",
                            "sample-4-two.jpg"};
    for (size_t i = 0; i < sizeof photos / sizeof photos[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/golden/read/%s", LPR_TEST_DIR, photos[i]);
        PIX *pix = pixRead(path), *grey = pix ? pixConvertTo8(pix, 0) : NULL;
        assert_non_null(grey);
        PIX *dark = NULL, *light = NULL;
        assert_int_equal(pixSauvolaBinarizeTiled(grey, 12, 0.2f, 1, 1, NULL, &dark), 0);
        light = pixInvert(NULL, dark);
        assert_same(dark, photos[i]);
        assert_same(light, photos[i]);
        pixDestroy(&dark);
        pixDestroy(&light);
        pixDestroy(&grey);
        pixDestroy(&pix);
    }
}

/* lpr_binarize_local is its rule applied to lpr_box_mean, pixel by pixel,
 * on the golden photos and on an image whose width is no multiple of 32 */
static void test_binarize_local(void **state)
{
    (void)state;
    const char *photos[] = {"sample-1-us.jpg", "sample-3-night.jpg", NULL};
    for (size_t i = 0; i < sizeof photos / sizeof photos[0]; i++) {
        PIX *grey;
        if (photos[i]) {
            char path[1024];
            snprintf(path, sizeof path, "%s/golden/read/%s", LPR_TEST_DIR, photos[i]);
            PIX *pix = pixRead(path);
            assert_non_null(pix);
            grey = pixConvertTo8(pix, 0);
            pixDestroy(&pix);
        } else {
            grey = pixCreate(101, 37, 8);
            unsigned seed = 99;
            for (int y = 0; y < 37; y++)
                for (int x = 0; x < 101; x++) {
                    seed = seed * 1103515245u + 12345u;
                    pixSetPixel(grey, x, y, (seed >> 16) & 255);
                }
        }
        assert_non_null(grey);
        PIX *dark, *light, *soft;
        assert_int_equal(lpr_binarize_local(grey, 12, &dark, &light, &soft), 0);
        PIX *mean = lpr_box_mean(grey, 12);
        int w = pixGetWidth(grey), h = pixGetHeight(grey);
        PIX *want[3] = {pixCreate(w, h, 1), pixCreate(w, h, 1), pixCreate(w, h, 1)};
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                l_uint32 g, m;
                pixGetPixel(grey, x, y, &g);
                pixGetPixel(mean, x, y, &m);
                int gi = (int)g, mi = (int)m;
                pixSetPixel(want[0], x, y, gi < mi - (10 + mi / 10));
                pixSetPixel(want[1], x, y, gi > mi + (10 + mi / 10));
                pixSetPixel(want[2], x, y, gi < mi - (6 + mi / 16));
            }
        pixCloseBrick(want[2], want[2], 1, 3);
        PIX *got[3] = {dark, light, soft};
        for (int k = 0; k < 3; k++) {
            l_int32 same = 0;
            pixEqual(got[k], want[k], &same);
            if (!same)
                printf("binarize %s: output %d differs\n", photos[i] ? photos[i] : "random", k);
            assert_true(same);
            pixDestroy(&want[k]);
            pixDestroy(&got[k]);
        }
        /* without the soft output */
        assert_int_equal(lpr_binarize_local(grey, 12, &dark, &light, NULL), 0);
        pixDestroy(&dark);
        pixDestroy(&light);
        pixDestroy(&mean);
        pixDestroy(&grey);
    }
}

static void test_refuses_grey(void **state)
{
    (void)state;
    PIX *grey = pixCreate(10, 10, 8), *bin = pixCreate(10, 10, 1);
    assert_null(lpr_components_bb(grey));
    assert_null(lpr_components_bb(NULL));
    assert_null(lpr_box_mean(bin, 3));
    assert_null(lpr_box_mean(grey, 0));
    assert_null(lpr_box_mean(grey, 65));
    PIX *d = NULL, *l = NULL;
    assert_int_equal(lpr_binarize_local(bin, 12, &d, &l, NULL), -1);
    assert_null(d);
    assert_null(l);
    pixDestroy(&grey);
    pixDestroy(&bin);
}

static void test_box_mean(void **state)
{
    (void)state;
    const int sizes[][3] = {{1, 1, 2}, {5, 3, 2}, {40, 31, 12}, {97, 64, 12}, {30, 20, 20}};
    unsigned seed = 777;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        int w = sizes[i][0], h = sizes[i][1], half = sizes[i][2];
        PIX *grey = pixCreate(w, h, 8);
        assert_non_null(grey);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                seed = seed * 1103515245u + 12345u;
                /* smooth ramps with noise, and saturated stretches */
                int v = (x * 7 + y * 3) % 256 + (int)((seed >> 16) % 61) - 30;
                pixSetPixel(grey, x, y, (l_uint32)(v < 0 ? 0 : v > 255 ? 255 : v));
            }
        PIX *mean = lpr_box_mean(grey, half);
        PIX *lept = w > 2 * half + 1 && h > 2 * half + 1 ? pixBlockconv(grey, half, half) : NULL;
        assert_non_null(mean);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                long sum = 0, n = 0;
                for (int yy = y - half; yy <= y + half; yy++)
                    for (int xx = x - half; xx <= x + half; xx++)
                        if (yy >= 0 && yy < h && xx >= 0 && xx < w) {
                            l_uint32 v;
                            pixGetPixel(grey, xx, yy, &v);
                            sum += (long)v;
                            n++;
                        }
                l_uint32 got, theirs;
                pixGetPixel(mean, x, y, &got);
                if ((long)got != (sum + n / 2) / n)
                    printf("mean %dx%d half %d at %d,%d: %u, want %ld\n", w, h, half, x, y, got,
                           (sum + n / 2) / n);
                assert_int_equal(got, (sum + n / 2) / n);
                if (lept && x > half && y > half && x + half < w && y + half < h) {
                    pixGetPixel(lept, x, y, &theirs);
                    if (!(got + 1 >= theirs && theirs + 1 >= got))
                        printf("lept %dx%d h%d at %d,%d: %u vs %u\n", w, h, half, x, y, got,
                               theirs);
                    assert_true(got + 1 >= theirs && theirs + 1 >= got);
                }
            }
        pixDestroy(&mean);
        pixDestroy(&lept);
        pixDestroy(&grey);
    }
}

/* A buffer of distinct-ish bytes, a region of it to a PIX and back. */
static void test_grey_pix_copies(void **state)
{
    (void)state;
    enum { W = 37, H = 11, STRIDE = 41 };
    uint8_t buf[STRIDE * H];
    for (int i = 0; i < STRIDE * H; i++)
        buf[i] = (uint8_t)(i * 7 + 3);
    static const lpr_box regions[] = {{0, 0, W, H}, {3, 2, 8, 5}, {5, 1, 13, 9}, {36, 10, 1, 1}};
    for (unsigned k = 0; k < sizeof regions / sizeof regions[0]; k++) {
        lpr_box r = regions[k];
        PIX *p = lpr_pix_from_grey(buf, STRIDE, r);
        assert_non_null(p);
        assert_int_equal(pixGetWidth(p), r.w);
        assert_int_equal(pixGetHeight(p), r.h);
        assert_int_equal(pixGetDepth(p), 8);
        for (int y = 0; y < r.h; y++)
            for (int x = 0; x < r.w; x++) {
                l_uint32 v = 0;
                pixGetPixel(p, x, y, &v);
                assert_int_equal(v, buf[(r.y + y) * STRIDE + r.x + x]);
            }
        uint8_t *back = lpr_grey_from_pix(p);
        assert_non_null(back);
        for (int y = 0; y < r.h; y++)
            assert_memory_equal(back + y * r.w, buf + (r.y + y) * STRIDE + r.x, (size_t)r.w);
        free(back);
        pixDestroy(&p);
    }
    assert_null(lpr_pix_from_grey(buf, STRIDE, (lpr_box){0, 0, 0, 4}));
    PIX *bin = pixCreate(8, 8, 1);
    assert_null(lpr_grey_from_pix(bin)); /* not 8 bpp */
    pixDestroy(&bin);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grey_pix_copies), cmocka_unit_test(test_random_images),
        cmocka_unit_test(test_full_and_empty),  cmocka_unit_test(test_golden_photos),
        cmocka_unit_test(test_refuses_grey),    cmocka_unit_test(test_box_mean),
        cmocka_unit_test(test_binarize_local),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_verify.c - the plate verifier and the network code under it: the C
 * network gives what PyTorch gave for the same crops (vectors recorded by
 * ocr/train/train_verifier.py with the shipped model), every way a network
 * file can be broken is refused with its reason, the crop is standardised
 * and polarity-free, and a rendered plate passes while a plate-free scene's
 * lines do not become reads.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "nn.h"
#include "render.h"
#include "vectors.h"
#include "verify.h"

#define SHIPPED LPR_MODEL_DIR_SRC "/lpr-verify.nn"
#define VECTORS LPR_TEST_DIR "/golden/verify-vectors.bin"
#define NPIX (LPR_VERIFY_H_PX * LPR_VERIFY_W_PX)

static char path[64];

static void test_matches_the_training_script(void **state)
{
    (void)state;
    lpr_nn *nn = NULL;
    assert_int_equal(lpr_nn_load(SHIPPED, "plate verifier", &nn), LPR_OK);
    unsigned n;
    float worst = lpr_test_vectors_max_diff(nn, VECTORS, NPIX, 1, &n);
    printf("verifier: C vs PyTorch over %u crops: max |logit difference| %.2e\n", n, (double)worst);
    assert_true(n >= 2);
    assert_true(worst >= 0.0f && worst < 1e-3f);
    lpr_nn_free(nn);
}

/* A network file: a conv (1->2 channels, pool) over 4x6 then dense 12->1. */
enum mutate { GOOD, BAD_MAGIC, NEW_VERSION, TRUNCATED, TRAILING, NAN_WEIGHT, BAD_KIND, POOL_DENSE };

static void write_net(enum mutate m)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(m == BAD_MAGIC ? "NOTNN01\n" : m == NEW_VERSION ? "LPRNN02\n" : "LPRNN01\n", f);
    uint32_t hdr[4] = {1, 4, 6, 2};
    uint32_t l0[3] = {m == BAD_KIND ? 7 : 1, 2, 3}, l1[3] = {2, 1, m == POOL_DENSE ? 2 : 0};
    fwrite(hdr, 4, 4, f);
    fwrite(l0, 4, 3, f);
    fwrite(l1, 4, 3, f);
    float w0[2 * 9] = {0}, b0[2] = {0, 1}, w1[12], b1 = 0.5f;
    w0[4] = 1.0f;   /* channel 0: the pixel itself */
    w0[13] = -1.0f; /* channel 1: its negative, plus 1 */
    for (int i = 0; i < 12; i++)
        w1[i] = i < 6 ? 1.0f : 0.0f; /* sum of channel 0's pooled map */
    if (m == NAN_WEIGHT)
        w1[3] = NAN;
    fwrite(w0, sizeof w0, 1, f);
    fwrite(b0, sizeof b0, 1, f);
    fwrite(w1, sizeof w1[0], m == TRUNCATED ? 5 : 12, f);
    if (m != TRUNCATED)
        fwrite(&b1, sizeof b1, 1, f);
    if (m == TRAILING)
        fputc(0, f);
    assert_int_equal(fclose(f), 0);
}

static void test_runs_a_known_network(void **state)
{
    (void)state;
    write_net(GOOD);
    lpr_nn *nn = NULL;
    assert_int_equal(lpr_nn_load(path, "test network", &nn), LPR_OK);
    int c, h, w;
    lpr_nn_input(nn, &c, &h, &w);
    assert_int_equal(c * 100 + h * 10 + w, 146);
    assert_int_equal(lpr_nn_outputs(nn), 1);
    float in[24], out;
    for (int i = 0; i < 24; i++)
        in[i] = (float)(i % 6) - 2.0f; /* -2..3 along each row */
    lpr_nn_run(nn, in, &out);
    /* channel 0 = relu(pixel): pooled 2x2 maxima per row pair are 0, 1, 3;
     * two row pairs: 2 * (0 + 1 + 3) = 8, plus the bias */
    assert_float_equal(out, 8.5f, 1e-5);
    lpr_nn_free(nn);
}

static void test_refuses_broken_networks(void **state)
{
    (void)state;
    static const enum mutate bad[] = {BAD_MAGIC,  NEW_VERSION, TRUNCATED, TRAILING,
                                      NAN_WEIGHT, BAD_KIND,    POOL_DENSE};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_net(bad[i]);
        lpr_nn *nn = (lpr_nn *)(uintptr_t)1;
        assert_int_equal(lpr_nn_load(path, "test network", &nn), LPR_EFORMAT);
        assert_null(nn);
    }
    lpr_nn *nn = (lpr_nn *)(uintptr_t)1;
    assert_int_equal(lpr_nn_load("/nonexistent/lpr-verify.nn", "plate verifier", &nn), LPR_ENOENT);
    assert_null(nn);
    /* a good network of the wrong shape is no verifier */
    write_net(GOOD);
    lpr_plate_verifier *v = (lpr_plate_verifier *)(uintptr_t)1;
    assert_int_equal(lpr_plate_verifier_load(path, &v), LPR_EFORMAT);
    assert_null(v);
}

static void test_crop_is_standardised_and_polarity_free(void **state)
{
    (void)state;
    render_plate p = {"AB1234", 200, 150, 30, 0, 0};
    render_plate q = {"AB1234", 200, 150, 30, 1, 0};
    lpr_box tb, tq;
    PIX *dark = render_scene(640, 400, &p, 1, NULL, &tb, 3);
    PIX *light = render_scene(640, 400, &q, 1, NULL, &tq, 3);
    assert_non_null(dark);
    assert_non_null(light);
    lpr_textline a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    a.box = tb;
    a.char_h = (float)tb.h;
    b.box = tq;
    b.char_h = (float)tq.h;
    b.inverted = 1;
    static float ca[NPIX], cb[NPIX];
    assert_int_equal(lpr_plate_verify_crop(dark, &a, ca), 0);
    assert_int_equal(lpr_plate_verify_crop(light, &b, cb), 0);
    double m = 0, s = 0, corr = 0;
    for (int i = 0; i < NPIX; i++) {
        m += ca[i];
        s += (double)ca[i] * ca[i];
        corr += (double)ca[i] * cb[i];
    }
    assert_true(fabs(m / NPIX) < 1e-3);
    assert_true(fabs(s / NPIX - 1.0) < 1e-2);
    /* the light-on-dark plate, inverted, looks like the dark-on-light one */
    assert_true(corr / NPIX > 0.6);
    lpr_box empty = {0, 0, 0, 0};
    a.box = empty;
    a.char_h = 0;
    assert_int_equal(lpr_plate_verify_crop(dark, &a, ca), -1);
    pixDestroy(&dark);
    pixDestroy(&light);
}

static void test_shipped_verifier_passes_a_plate(void **state)
{
    (void)state;
    lpr_plate_verifier *v = NULL;
    assert_int_equal(lpr_plate_verifier_load(SHIPPED, &v), LPR_OK);
    render_plate p = {"7ABC123", 300, 200, 28, 0, 0};
    lpr_box tb;
    PIX *scene = render_scene(1280, 720, &p, 1, NULL, &tb, 5);
    assert_non_null(scene);
    lpr_textline lines[16];
    int n = lpr_locate(scene, lines, 16);
    float best = 0.0f;
    for (int i = 0; i < n; i++)
        if (lpr_box_overlap(lines[i].box, tb) > 0.7f) {
            float pr = lpr_plate_verify_line(v, scene, &lines[i]);
            best = pr > best ? pr : best;
        }
    printf("verifier: rendered plate line p = %.3f\n", (double)best);
    assert_true(best >= 0.5f);
    pixDestroy(&scene);
    lpr_plate_verifier_free(v);
}

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof path, "/tmp/lpr-test-nn-%d.nn", (int)getpid());
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_the_training_script),
        cmocka_unit_test(test_runs_a_known_network),
        cmocka_unit_test(test_refuses_broken_networks),
        cmocka_unit_test(test_crop_is_standardised_and_polarity_free),
        cmocka_unit_test(test_shipped_verifier_passes_a_plate),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/*
 * test_classify.c - the per-character classifier: glyph features of known
 * shapes, scoring by a hand-built model file, every way a model file can
 * be broken (each must be refused, never half-loaded), and the cutting of a
 * line into character cells, characters fused to the plate's frame too.
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

#include "classify.h"
#include "recognize.h"
#include "render.h"

#define F LPR_GLYPH_FEATS

static char model_path[64];

/* A one-layer model over classes "ABC": A scores the aspect feature, B its
 * negative, C the mean ink of the grid. 'mutate' breaks the file. */
enum mutate { GOOD, BAD_MAGIC, TRUNCATED, WRONG_INPUT, TRAILING, NAN_WEIGHT, TOO_WIDE, BAD_CLASS };

static void write_model(enum mutate m)
{
    FILE *f = fopen(model_path, "wb");
    assert_non_null(f);
    fputs(m == BAD_MAGIC ? "LPRCLF9\n" : "LPRCLF1\n", f);
    uint32_t layers = 1, dims[2] = {m == WRONG_INPUT ? F - 1 : F, m == TOO_WIDE ? 5000 : 3};
    fwrite(&layers, 4, 1, f);
    fwrite(dims, 4, 2, f);
    if (m == TOO_WIDE) {
        fclose(f);
        return;
    }
    fputs(m == BAD_CLASS ? "A-C" : "ABC", f);
    float *buf = calloc((size_t)F * 3, sizeof(float));
    assert_non_null(buf);
    fwrite(buf, sizeof(float), (size_t)dims[0], f); /* mean 0 */
    for (int i = 0; i < F; i++)
        buf[i] = 1.0f;
    fwrite(buf, sizeof(float), (size_t)dims[0], f); /* scale 1 */
    memset(buf, 0, (size_t)F * 3 * sizeof(float));
    buf[0 * F + (F - 2)] = 8.0f;
    buf[1 * F + (F - 2)] = -8.0f;
    for (int i = 0; i < LPR_GLYPH_W * LPR_GLYPH_H; i++)
        buf[2 * F + i] = 4.0f / (LPR_GLYPH_W * LPR_GLYPH_H);
    if (m == NAN_WEIGHT)
        buf[5] = NAN;
    size_t nw = m == TRUNCATED ? (size_t)F : (size_t)F * 3;
    fwrite(buf, sizeof(float), nw, f);
    if (m != TRUNCATED) {
        float b[3] = {-4.0f, 4.0f, 0.0f};
        fwrite(b, sizeof(float), 3, f);
    }
    if (m == TRAILING)
        fputc(0, f);
    free(buf);
    assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
    (void)state;
    snprintf(model_path, sizeof model_path, "/tmp/lpr-test-clf-%d.clf", (int)getpid());
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(model_path);
    return 0;
}

/* A 1 bpp image with a filled w x h block at (10, 10). */
static PIX *block(int w, int h)
{
    PIX *p = pixCreate(80, 80, 1);
    assert_non_null(p);
    pixRasterop(p, 10, 10, w, h, PIX_SET, NULL, 0, 0);
    return p;
}

static void test_features_of_a_block(void **state)
{
    (void)state;
    PIX *p = block(10, 30);
    float a[F], b[F];
    assert_int_equal(lpr_glyph_features(p, 10, 10, 10, 30, 30.0f, a), 0);
    assert_int_equal(lpr_glyph_features(p, 10, 10, 10, 30, 30.0f, b), 0);
    assert_memory_equal(a, b, sizeof a); /* deterministic */
    float ink = 0;
    for (int i = 0; i < LPR_GLYPH_W * LPR_GLYPH_H; i++) {
        assert_true(a[i] >= 0.0f && a[i] <= 1.0f);
        ink += a[i];
    }
    /* a tall block fills the grid's height and a third of its width,
     * centred: neither empty nor full */
    assert_true(ink > 0.2f * LPR_GLYPH_W * LPR_GLYPH_H);
    assert_true(ink < 0.6f * LPR_GLYPH_W * LPR_GLYPH_H);
    assert_float_equal(a[0], 0.0f, 1e-6);              /* corner stays empty */
    assert_float_equal(a[F - 2], 10.0f / 30.0f, 1e-3); /* aspect */
    assert_float_equal(a[F - 1], 1.0f, 1e-3);          /* full character height */
    pixDestroy(&p);
}

static void test_features_reject_bad_boxes(void **state)
{
    (void)state;
    PIX *p = block(10, 30);
    float a[F];
    assert_int_equal(lpr_glyph_features(p, 10, 10, 0, 30, 30.0f, a), -1);
    assert_int_equal(lpr_glyph_features(p, 75, 10, 20, 30, 30.0f, a), -1); /* off the edge */
    assert_int_equal(lpr_glyph_features(NULL, 10, 10, 10, 30, 30.0f, a), -1);
    PIX *g = pixCreate(20, 20, 8);
    assert_int_equal(lpr_glyph_features(g, 0, 0, 10, 10, 10.0f, a), -1); /* not 1 bpp */
    pixDestroy(&g);
    pixDestroy(&p);
}

static void test_classifies_with_a_model(void **state)
{
    (void)state;
    write_model(GOOD);
    lpr_charclf *clf = NULL;
    assert_int_equal(lpr_charclf_load(model_path, &clf), LPR_OK);
    assert_non_null(clf);

    float feat[F] = {0};
    char ch[3];
    float pr[3];
    feat[F - 2] = 2.0f; /* wide: A */
    assert_int_equal(lpr_charclf_classify(clf, feat, ch, pr, 3), 3);
    assert_int_equal(ch[0], 'A');
    assert_true(pr[0] > 0.9f && pr[0] >= pr[1] && pr[1] >= pr[2]);
    assert_float_equal(pr[0] + pr[1] + pr[2], 1.0f, 1e-4);
    feat[F - 2] = 0.0f; /* narrow: B */
    assert_int_equal(lpr_charclf_classify(clf, feat, ch, pr, 2), 2);
    assert_int_equal(ch[0], 'B');
    /* all ink, balanced aspect: C */
    for (int i = 0; i < LPR_GLYPH_W * LPR_GLYPH_H; i++)
        feat[i] = 1.0f;
    feat[F - 2] = 0.5f;
    assert_int_equal(lpr_charclf_classify(clf, feat, ch, pr, 1), 1);
    assert_int_equal(ch[0], 'C');
    lpr_charclf_free(clf);
}

static void expect_refused(enum mutate m, lpr_err want)
{
    write_model(m);
    lpr_charclf *clf = (lpr_charclf *)(uintptr_t)1;
    assert_int_equal(lpr_charclf_load(model_path, &clf), want);
    assert_null(clf);
}

static void test_refuses_broken_models(void **state)
{
    (void)state;
    expect_refused(BAD_MAGIC, LPR_EFORMAT);
    expect_refused(TRUNCATED, LPR_EFORMAT);
    expect_refused(WRONG_INPUT, LPR_EFORMAT);
    expect_refused(TRAILING, LPR_EFORMAT);
    expect_refused(NAN_WEIGHT, LPR_EFORMAT);
    expect_refused(TOO_WIDE, LPR_EFORMAT);
    expect_refused(BAD_CLASS, LPR_EFORMAT);
    unlink(model_path);
    lpr_charclf *clf = NULL;
    assert_int_equal(lpr_charclf_load(model_path, &clf), LPR_ENOENT);
    assert_null(clf);
}

/* The character cells of a rendered plate's line, counted by
 * lpr_segment_line; 'holder' draws a dark plate holder whose left side
 * touches the first character and whose top bar touches the first two. */
static int cells_of_plate(const char *text, int holder)
{
    render_plate pl = {text, 40, 40, 30, 0, 0.0f};
    lpr_box tb;
    PIX *scene = render_scene(400, 160, &pl, 1, NULL, &tb, 3);
    assert_non_null(scene);
    if (holder) {
        /* left side: taller than any character, flush with the first one */
        BOX *side = boxCreate(tb.x - 20, tb.y - 25, 20, tb.h + 50);
        BOX *bar = boxCreate(tb.x - 20, tb.y - 5, 20 + tb.w / 3, 5);
        pixRenderBoxArb(scene, side, 10, 0, 0, 0);
        pixClearInRect(scene, side);
        pixClearInRect(scene, bar); /* grey: 0 = black */
        boxDestroy(&side);
        boxDestroy(&bar);
    }
    lpr_textline line;
    memset(&line, 0, sizeof line);
    line.box = tb;
    line.char_h = (float)tb.h;
    line.n_chars = (int)strlen(text);
    float feat[16][F];
    int n = lpr_segment_line(scene, &line, feat, 16);
    pixDestroy(&scene);
    return n;
}

/* A pale plate's lettering (yellow on white reads light grey) under a dark
 * holder whose edge fills the crop's top margin: a threshold over the
 * whole crop falls between the holder and the plate, and the letters go
 * with the plate; the middle's own threshold keeps them. */
static void test_segments_pale_lettering_under_a_dark_holder(void **state)
{
    (void)state;
    render_plate pl = {"AB2345", 40, 40, 30, 0, 0.0f};
    lpr_box tb;
    PIX *scene = render_scene(400, 160, &pl, 1, NULL, &tb, 3);
    assert_non_null(scene);
    for (int y = tb.y - 2; y < tb.y + tb.h + 2; y++)
        for (int x = tb.x - 2; x < tb.x + tb.w + 2; x++) {
            l_uint32 v;
            pixGetPixel(scene, x, y, &v);
            pixSetPixel(scene, x, y, 150 + v * 95 / 255); /* 0..255 -> 150..245 */
        }
    BOX *holder = boxCreate(0, tb.y - 40, 400, 37);
    pixClearInRect(scene, holder);
    boxDestroy(&holder);
    lpr_textline line;
    memset(&line, 0, sizeof line);
    line.box = tb;
    line.char_h = (float)tb.h;
    line.n_chars = 6;
    float feat[16][F];
    /* none before; 5 or 6 now (the bitmap font's 3 and 4 touch) */
    assert_true(lpr_segment_line(scene, &line, feat, 16) >= 5);
    pixDestroy(&scene);
}

static void test_segments_characters_fused_to_a_frame(void **state)
{
    (void)state;
    assert_int_equal(cells_of_plate("AB2345", 0), 6);
    /* before frames were peeled, A went with the holder: 5 cells */
    assert_int_equal(cells_of_plate("AB2345", 1), 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_features_of_a_block),
        cmocka_unit_test(test_features_reject_bad_boxes),
        cmocka_unit_test(test_classifies_with_a_model),
        cmocka_unit_test(test_refuses_broken_models),
        cmocka_unit_test(test_segments_characters_fused_to_a_frame),
        cmocka_unit_test(test_segments_pale_lettering_under_a_dark_holder),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

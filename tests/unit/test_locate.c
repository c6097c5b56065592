/*
 * test_locate.c - localisation on synthetic plates at known boxes: sizes
 * from ~60 to ~500 px wide, both polarities, tilt, several plates, and
 * nothing found on an empty scene.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ocr_internal.h"
#include "render.h"

/* Renders the plates, locates, and checks each text box is found. */
static void expect_found(const render_plate *plates, int n, int w, int h)
{
    lpr_box pboxes[4], tboxes[4];
    PIX *scene = render_scene(w, h, plates, n, pboxes, tboxes, 7);
    assert_non_null(scene);
    lpr_textline lines[16];
    int nl = lpr_locate(scene, lines, 16);
    assert_true(nl >= n);
    for (int i = 0; i < n; i++) {
        float best = 0;
        int best_chars = 0;
        for (int k = 0; k < nl; k++) {
            float v = lpr_box_iou(lines[k].box, tboxes[i]);
            if (v > best) {
                best = v;
                best_chars = lines[k].n_chars;
            }
        }
        if (best < 0.5f)
            print_error("plate %s at %d,%d: best IoU %.2f, %d chars\n", plates[i].text, tboxes[i].x,
                        tboxes[i].y, (double)best, best_chars);
        assert_true(best >= 0.5f);
        /* touching characters of the bitmap font may merge in pairs */
        assert_true(best_chars >= ((int)strlen(plates[i].text) + 1) / 2);
        assert_true(best_chars <= (int)strlen(plates[i].text) + 2); /* + frame bits */
    }
    pixDestroy(&scene);
}

static void test_small_plate(void **state)
{
    (void)state;
    render_plate p = {"7ABC123", 300, 200, 12, 0, 0};
    expect_found(&p, 1, 800, 500);
}

static void test_large_plate(void **state)
{
    (void)state;
    render_plate p = {"ABC1234", 100, 300, 70, 0, 0};
    expect_found(&p, 1, 1280, 720);
}

static void test_light_on_dark(void **state)
{
    (void)state;
    render_plate p = {"KX4821", 200, 150, 28, 1, 0};
    expect_found(&p, 1, 640, 480);
}

static void test_tilted(void **state)
{
    (void)state;
    render_plate p = {"PLT9042", 150, 150, 30, 0, 12.0f};
    expect_found(&p, 1, 640, 480);
}

static void test_several(void **state)
{
    (void)state;
    render_plate p[3] = {{"ABC123", 40, 40, 24, 0, 0},
                         {"XYZ7890", 400, 300, 30, 1, 0},
                         {"MHA0361", 80, 380, 20, 0, -8.0f}};
    expect_found(p, 3, 900, 600);
}

static void test_empty_scene(void **state)
{
    (void)state;
    PIX *scene = render_scene(640, 480, NULL, 0, NULL, NULL, 3);
    lpr_textline lines[8];
    assert_int_equal(lpr_locate(scene, lines, 8), 0);
    pixDestroy(&scene);
}

static void test_bounded(void **state)
{
    (void)state;
    render_plate p[3] = {{"ABC123", 40, 40, 24, 0, 0},
                         {"XYZ7890", 400, 300, 30, 1, 0},
                         {"MHA0361", 80, 380, 20, 0, 0}};
    PIX *scene = render_scene(900, 600, p, 3, NULL, NULL, 1);
    lpr_textline lines[2];
    assert_int_equal(lpr_locate(scene, lines, 2), 2);
    assert_true(lines[0].score >= lines[1].score);
    pixDestroy(&scene);
}

static void test_plate_box_estimate(void **state)
{
    (void)state;
    lpr_textline l = {.box = {100, 100, 120, 30}, .char_h = 30};
    lpr_box b = lpr_plate_box_from_line(&l, LPR_REGION_US, 1000, 1000);
    /* a us plate is about twice as tall as its characters, and wider */
    assert_true(b.h >= 55 && b.h <= 70);
    assert_true(b.w > 120 && b.x < 100 && b.y < 100);
    b = lpr_plate_box_from_line(&l, LPR_REGION_US, 150, 120);
    assert_true(b.x + b.w <= 150 && b.y + b.h <= 120);
}

int main(void)
{
    setMsgSeverity(L_SEVERITY_NONE);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_plate),   cmocka_unit_test(test_large_plate),
        cmocka_unit_test(test_light_on_dark), cmocka_unit_test(test_tilted),
        cmocka_unit_test(test_several),       cmocka_unit_test(test_empty_scene),
        cmocka_unit_test(test_bounded),       cmocka_unit_test(test_plate_box_estimate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_tracker.c - following a plate over frames: text distances, a plate
 * entering the frame (partial reads) joins its vehicle's track, and two
 * vehicles stay apart.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tracker.h"

static void test_distances(void **state)
{
    (void)state;
    assert_int_equal(lpr_edit_distance("ZX81ABC", "ZX81ABC"), 0);
    assert_int_equal(lpr_edit_distance("ZX81ABC", "ZX8IABC"), 1);
    assert_int_equal(lpr_edit_distance("7X81", "ZX81ABC"), 4);
    assert_int_equal(lpr_fragment_distance("X81", "ZX81ABC"), 0);
    assert_int_equal(lpr_fragment_distance("ZX81ABC", "7X81"), 1); /* either order */
    assert_int_equal(lpr_fragment_distance("81ABC", "ZX81ABC"), 0);
    assert_int_equal(lpr_fragment_distance("KQW305", "ZX81ABC"), 6);
}

typedef struct sink {
    int n;
    char text[8][LPR_MAX_TEXT];
} sink;

static void collect(void *ctx, lpr_track_read *r)
{
    sink *s = ctx;
    if (s->n < 8)
        snprintf(s->text[s->n++], LPR_MAX_TEXT, "%s", r->plate.text);
}

static lpr_plate plate(const char *text, int x, float conf)
{
    lpr_plate p;
    memset(&p, 0, sizeof p);
    snprintf(p.text, sizeof p.text, "%s", text);
    p.confidence = conf;
    p.box = (lpr_box){x, 300, 200, 50};
    return p;
}

/* A vehicle drives in from the left: its plate is read cut, then whole. */
static void test_entering_plate_is_one_read(void **state)
{
    (void)state;
    lpr_tracker *t = lpr_tracker_new(NULL, NULL);
    assert_non_null(t);
    sink s = {0};
    const char *seen[] = {"7X81", "7X81", "ZX81AB", "ZX81ABC", "ZX81ABC", "ZX81ABC", "ZX81ABC"};
    for (int f = 0; f < 7; f++) {
        lpr_plate p = plate(seen[f], 20 + 40 * f, 90.0f);
        lpr_tracker_add(t, f * 100, 0, &p, NULL, 1, collect, &s);
    }
    lpr_tracker_flush(t, collect, &s);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.text[0], "ZX81ABC");
    lpr_tracker_free(t);
}

/* Two vehicles side by side with unrelated plates: two reads. */
static void test_two_vehicles_stay_apart(void **state)
{
    (void)state;
    lpr_tracker *t = lpr_tracker_new(NULL, NULL);
    assert_non_null(t);
    sink s = {0};
    for (int f = 0; f < 4; f++) {
        lpr_plate p[2] = {plate("KQW3054", 100, 90.0f), plate("ZX81ABC", 500, 90.0f)};
        lpr_tracker_add(t, f * 100, 0, p, NULL, 2, collect, &s);
    }
    lpr_tracker_flush(t, collect, &s);
    assert_int_equal(s.n, 2);
    assert_true((!strcmp(s.text[0], "KQW3054") && !strcmp(s.text[1], "ZX81ABC")) ||
                (!strcmp(s.text[1], "KQW3054") && !strcmp(s.text[0], "ZX81ABC")));
    lpr_tracker_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_distances),
        cmocka_unit_test(test_entering_plate_is_one_read),
        cmocka_unit_test(test_two_vehicles_stay_apart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_tracker.c - following a plate over frames: text distances, a plate
 * entering the frame (partial reads) joins its vehicle's track, two
 * vehicles stay apart, a read's first candidate is its most confident, and
 * a vehicle whose frames vote below the floor gives no read.
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

static lpr_track_read last;

static void keep(void *ctx, lpr_track_read *r)
{
    (void)ctx;
    last = *r;
}

/* Frames that disagree on a character: the voted text leads, and no other
 * candidate is more confident than it (the store ranks by confidence). */
static void test_voted_text_is_the_most_confident(void **state)
{
    (void)state;
    lpr_tracker *t = lpr_tracker_new(NULL, NULL);
    assert_non_null(t);
    const char *seen[] = {"AYE132", "AYED32", "AYE132", "AYE132"};
    for (int f = 0; f < 4; f++) {
        lpr_plate p = plate(seen[f], 100 + 10 * f, 95.0f);
        p.n_candidates = 3;
        snprintf(p.candidates[0].text, LPR_MAX_TEXT, "%s", seen[f]);
        p.candidates[0].confidence = 95.0f;
        snprintf(p.candidates[1].text, LPR_MAX_TEXT, "4YE132");
        p.candidates[1].confidence = 93.0f;
        snprintf(p.candidates[2].text, LPR_MAX_TEXT, "AYEL32");
        p.candidates[2].confidence = 90.0f;
        lpr_tracker_add(t, f * 100, 0, &p, NULL, 1, keep, NULL);
    }
    memset(&last, 0, sizeof last);
    lpr_tracker_flush(t, keep, NULL);
    assert_string_equal(last.plate.text, "AYE132");
    assert_true(last.plate.n_candidates >= 2);
    assert_string_equal(last.plate.candidates[0].text, "AYE132");
    for (int i = 1; i < last.plate.n_candidates; i++)
        assert_true(last.plate.candidates[i].confidence < last.plate.candidates[0].confidence);
    for (int i = 2; i < last.plate.n_candidates; i++)
        assert_true(last.plate.candidates[i].confidence <= last.plate.candidates[i - 1].confidence);
    lpr_tracker_free(t);
}

/* Each frame is at the reader's floor (20), but the frames split on one
 * character: the vote is (5 x 20 + 10) / 6 = 18.3, below the floor, so no
 * read; the same frames with a floor of 0 give one. */
static void test_vote_below_the_floor_is_no_read(void **state)
{
    (void)state;
    for (int floor = 0; floor <= 20; floor += 20) {
        lpr_tracker_config cfg = {.min_confidence = (float)floor};
        lpr_tracker *t = lpr_tracker_new(&cfg, NULL);
        assert_non_null(t);
        sink s = {0};
        for (int f = 0; f < 4; f++) {
            lpr_plate p = plate(f % 2 ? "ABC723" : "ABC123", 100 + 5 * f, 20.0f);
            lpr_tracker_add(t, f * 100, 0, &p, NULL, 1, collect, &s);
        }
        lpr_tracker_flush(t, collect, &s);
        assert_int_equal(s.n, floor ? 0 : 1);
        lpr_tracker_free(t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_distances),
        cmocka_unit_test(test_entering_plate_is_one_read),
        cmocka_unit_test(test_two_vehicles_stay_apart),
        cmocka_unit_test(test_voted_text_is_the_most_confident),
        cmocka_unit_test(test_vote_below_the_floor_is_no_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

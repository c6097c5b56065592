/*
 * test_candidates.c - candidate generation, confusions and region formats.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ocr_internal.h"

static int make_pos(const char *text, float conf, lpr_charpos *pos)
{
    int n = (int)strlen(text);
    for (int i = 0; i < n; i++) {
        memset(&pos[i], 0, sizeof pos[i]);
        pos[i].n = 1;
        pos[i].ch[0] = text[i];
        pos[i].conf[0] = conf;
    }
    return n;
}

/* The look-alikes added to every position, then up to 10 candidates. */
static int ranked(lpr_charpos *pos, int n, lpr_region region, lpr_candidate *c)
{
    lpr_region r;
    for (int i = 0; i < n; i++)
        lpr_add_confusions(&pos[i], 0.6f);
    return lpr_candidates(pos, n, region, 4.7f, c, 10, &r);
}

static void test_confusions_added(void **state)
{
    (void)state;
    lpr_charpos p = {.n = 1, .ch = {'O'}, .conf = {80}};
    lpr_add_confusions(&p, 0.5f);
    assert_true(p.n >= 3);
    assert_int_equal(p.ch[0], 'O');
    int has0 = 0;
    for (int i = 1; i < p.n; i++) {
        if (p.ch[i] == '0') {
            has0 = 1;
            assert_float_equal(p.conf[i], 40.0f, 0.01f);
        }
    }
    assert_true(has0);
}

static void test_region_formats(void **state)
{
    (void)state;
    assert_true(lpr_region_format_match(LPR_REGION_BR, "ABC1234"));
    assert_true(lpr_region_format_match(LPR_REGION_BR, "ABC1D23"));
    assert_false(lpr_region_format_match(LPR_REGION_BR, "AB12345"));
    assert_false(lpr_region_format_match(LPR_REGION_BR, "ABC123"));
    assert_true(lpr_region_format_match(LPR_REGION_US, "7ABC123"));
    assert_false(lpr_region_format_match(LPR_REGION_US, "AB1"));
    assert_true(lpr_region_format_match(LPR_REGION_EU, "B123XYZ"));
}

static void test_br_fixes_classes(void **state)
{
    (void)state;
    lpr_charpos pos[8];
    int n = make_pos("A8C1234", 90, pos);
    for (int i = 0; i < n; i++)
        lpr_add_confusions(&pos[i], 0.6f);
    lpr_candidate c[LPR_MAX_CANDIDATES];
    lpr_region r;
    int k = lpr_candidates(pos, n, LPR_REGION_BR, 3.0f, c, LPR_MAX_CANDIDATES, &r);
    assert_true(k > 0);
    assert_int_equal(r, LPR_REGION_BR);
    assert_string_equal(c[0].text, "ABC1234");
    for (int i = 0; i < k; i++)
        assert_true(lpr_region_format_match(LPR_REGION_BR, c[i].text));
}

static void test_candidates_sorted_distinct_bounded(void **state)
{
    (void)state;
    lpr_charpos pos[8];
    int n = make_pos("O0I1B8S", 70, pos);
    for (int i = 0; i < n; i++)
        lpr_add_confusions(&pos[i], 0.6f);
    lpr_candidate c[LPR_MAX_CANDIDATES];
    lpr_region r;
    int k = lpr_candidates(pos, n, LPR_REGION_EU, 3.0f, c, LPR_MAX_CANDIDATES, &r);
    assert_int_equal(k, LPR_MAX_CANDIDATES);
    assert_string_equal(c[0].text, "O0I1B8S");
    for (int i = 1; i < k; i++) {
        assert_true(c[i - 1].confidence >= c[i].confidence);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(c[i].text, c[j].text);
    }
}

static void test_low_confidence_position_varies_first(void **state)
{
    (void)state;
    lpr_charpos pos[8];
    int n = make_pos("ABC123", 95, pos);
    pos[4].conf[0] = 40; /* the '2' is doubtful */
    for (int i = 0; i < n; i++)
        lpr_add_confusions(&pos[i], 0.6f);
    lpr_candidate c[LPR_MAX_CANDIDATES];
    lpr_region r;
    int k = lpr_candidates(pos, n, LPR_REGION_US, 3.0f, c, LPR_MAX_CANDIDATES, &r);
    assert_true(k >= 2);
    assert_string_equal(c[0].text, "ABC123");
    /* the runner-up changes the doubtful 2 into its confusion Z */
    assert_string_equal(c[1].text, "ABC1Z3");
}

static void test_us_prefers_digit_zero(void **state)
{
    (void)state;
    lpr_charpos pos[8];
    lpr_candidate c[LPR_MAX_CANDIDATES];
    lpr_region r;
    int n = make_pos("HB6LOZ", 90, pos);
    int k = lpr_candidates(pos, n, LPR_REGION_US, 3.0f, c, LPR_MAX_CANDIDATES, &r);
    assert_true(k >= 2);
    assert_string_equal(c[0].text, "HB6L0Z");
    assert_string_equal(c[1].text, "HB6LOZ"); /* the letter reading stays a candidate */
    /* other regions keep what was read */
    lpr_candidates(pos, n, LPR_REGION_EU, 3.0f, c, LPR_MAX_CANDIDATES, &r);
    assert_string_equal(c[0].text, "HB6LOZ");
}

static void test_auto_region(void **state)
{
    (void)state;
    lpr_charpos pos[8];
    lpr_candidate c[LPR_MAX_CANDIDATES];
    lpr_region r;
    int n = make_pos("MHA0361", 90, pos);
    lpr_candidates(pos, n, LPR_REGION_AUTO, 3.0f, c, LPR_MAX_CANDIDATES, &r);
    assert_int_equal(r, LPR_REGION_BR);
    n = make_pos("7ABC12", 90, pos);
    lpr_candidates(pos, n, LPR_REGION_AUTO, 3.0f, c, LPR_MAX_CANDIDATES, &r);
    assert_int_equal(r, LPR_REGION_US);
    n = make_pos("B12XYZ", 90, pos);
    lpr_candidates(pos, n, LPR_REGION_AUTO, 7.0f, c, LPR_MAX_CANDIDATES, &r);
    assert_int_equal(r, LPR_REGION_EU);
}

static void test_region_names(void **state)
{
    (void)state;
    lpr_region r;
    assert_int_equal(lpr_region_parse("br", &r), LPR_OK);
    assert_int_equal(r, LPR_REGION_BR);
    assert_int_equal(lpr_region_parse("xx", &r), LPR_EINVAL);
    assert_string_equal(lpr_region_name(LPR_REGION_EU), "eu");
    char buf[16];
    lpr_plate_normalise("ab-c 12.3", buf, sizeof buf);
    assert_string_equal(buf, "ABC123");
}

/* An engine that filled every alternative slot with its own guesses still
 * gets the look-alike, displacing its weakest guess, never its best. */
static void test_confusion_displaces_weak_alternative(void **state)
{
    (void)state;
    lpr_charpos p = {.n = 4, .ch = {'0', '8', 'C', 'U'}, .conf = {90, 5, 2, 1}};
    lpr_add_confusions(&p, 0.6f);
    assert_int_equal(p.n, 4);
    assert_int_equal(p.ch[0], '0');
    assert_float_equal(p.conf[0], 90.0f, 0.01f);
    int has_o = 0;
    for (int i = 1; i < p.n; i++)
        if (p.ch[i] == 'O') {
            has_o = 1;
            assert_float_equal(p.conf[i], 54.0f, 0.01f);
        }
    assert_true(has_o);
    /* an alternative the engine already scored low is raised, not doubled */
    lpr_charpos q = {.n = 2, .ch = {'1', 'I'}, .conf = {80, 3}};
    lpr_add_confusions(&q, 0.5f);
    int count_i = 0;
    for (int i = 0; i < q.n; i++)
        if (q.ch[i] == 'I') {
            count_i++;
            assert_float_equal(q.conf[i], 40.0f, 0.01f);
        }
    assert_int_equal(count_i, 1);
}

/* A 0 where a br plate must have a letter is an O (drawn alike), before a
 * Q or a D, which only look alike blurred, even where the classifier gave
 * the Q some weight of its own (the old plates' narrow O). */
static void test_letter_slot_zero_is_o(void **state)
{
    (void)state;
    lpr_charpos pos[8];
    int n = make_pos("0UG6157", 90, pos);
    pos[0].n = 2;
    pos[0].ch[1] = 'Q';
    pos[0].conf[1] = 50;
    lpr_candidate c[LPR_MAX_CANDIDATES];
    int k = ranked(pos, n, LPR_REGION_BR, c);
    assert_true(k > 1);
    assert_string_equal(c[0].text, "OUG6157");
    for (int i = 1; i < k; i++)
        if (!strcmp(c[i].text, "QUG6157"))
            assert_true(c[i].confidence < c[0].confidence);
}

/* eu: a reading of a common series' length that fits none of them ranks
 * below the look-alike reading that does (PP587AO read with a digit 0). */
static void test_eu_prefers_series(void **state)
{
    (void)state;
    lpr_charpos pos[8];
    int n = make_pos("PP587A0", 95, pos);
    lpr_candidate c[LPR_MAX_CANDIDATES];
    lpr_region r;
    int k = ranked(pos, n, LPR_REGION_EU, c);
    assert_true(k > 1);
    assert_string_equal(c[0].text, "PP587AO");
    int found = 0;
    for (int i = 0; i < k; i++)
        found |= !strcmp(c[i].text, "PP587A0");
    assert_true(found); /* kept as an alternative */
    /* a length no series has is left as read */
    n = make_pos("B1234X", 95, pos);
    k = lpr_candidates(pos, n, LPR_REGION_EU, 4.7f, c, 10, &r);
    assert_string_equal(c[0].text, "B1234X");
}

/* One or two positions too many (an emblem, the frame read as characters):
 * the reading without them that fits a series comes first; br drops one, eu
 * up to two. */
static void test_drops_extra_positions(void **state)
{
    (void)state;
    lpr_charpos pos[10];
    int n = make_pos("RKU565AV", 92, pos);
    pos[2].conf[0] = 60; /* the emblem, read with less confidence */
    lpr_candidate c[LPR_MAX_CANDIDATES];
    lpr_region r;
    int k = lpr_candidates(pos, n, LPR_REGION_EU, 4.7f, c, 10, &r);
    assert_true(k > 0);
    assert_string_equal(c[0].text, "RK565AV");
    /* eu: an emblem before and the frame after: two positions dropped */
    n = make_pos("PRK252AHI", 92, pos);
    pos[0].conf[0] = 55;
    pos[8].conf[0] = 50;
    k = lpr_candidates(pos, n, LPR_REGION_EU, 4.7f, c, 10, &r);
    assert_string_equal(c[0].text, "RK252AH");
    /* auto: a br plate whose dash was read as O */
    n = make_pos("MHAO0361", 95, pos);
    pos[3].conf[0] = 40;
    k = lpr_candidates(pos, n, LPR_REGION_AUTO, 4.0f, c, 10, &r);
    assert_string_equal(c[0].text, "MHA0361");
    assert_int_equal(r, LPR_REGION_BR);
    n = make_pos("ABC12345", 90, pos);
    pos[7].conf[0] = 40;
    k = lpr_candidates(pos, n, LPR_REGION_BR, 3.0f, c, 10, &r);
    assert_true(k > 0);
    assert_string_equal(c[0].text, "ABC1234");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_confusions_added),
        cmocka_unit_test(test_region_formats),
        cmocka_unit_test(test_br_fixes_classes),
        cmocka_unit_test(test_candidates_sorted_distinct_bounded),
        cmocka_unit_test(test_low_confidence_position_varies_first),
        cmocka_unit_test(test_us_prefers_digit_zero),
        cmocka_unit_test(test_auto_region),
        cmocka_unit_test(test_region_names),
        cmocka_unit_test(test_confusion_displaces_weak_alternative),
        cmocka_unit_test(test_eu_prefers_series),
        cmocka_unit_test(test_letter_slot_zero_is_o),
        cmocka_unit_test(test_drops_extra_positions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

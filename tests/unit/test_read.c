/*
 * test_read.c - the read record's travelling rules (read/record.c): a
 * payload's kind by its schema, the spool's stamp (members first and in
 * order, the id, the caller's own stamp members replaced), and the read
 * and plate builders (read/read_json.c) for a fixed plate.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lpr_read.h"
#include "lpr_read_json.h"

static lpr_read_kind kind(const char *s)
{
    return lpr_read_kind_of(s, strlen(s));
}

static void test_kind_of(void **state)
{
    (void)state;
    assert_int_equal(kind("{\"schema\":\"lpr.read/1\",\"plate\":{}}"), LPR_READ_KIND_READ);
    assert_int_equal(kind("{\"schema\":\"lpr.read/2\"}"), LPR_READ_KIND_READ);
    assert_int_equal(kind("{\"plate\":{\"text\":\"A1\"}}"), LPR_READ_KIND_READ); /* no schema */
    assert_int_equal(kind("{\"schema\":\"lpr.scene/1\",\"read_id\":\"x\"}"), LPR_READ_KIND_SCENE);
    /* key order does not matter, only the member's value */
    assert_int_equal(kind("{\"device\":\"d\",\"schema\":\"lpr.scene/1\"}"), LPR_READ_KIND_SCENE);
    /* a text that merely starts like a scene is not one */
    assert_int_equal(kind("{\"schema\":\"lpr.scenery\"}"), LPR_READ_KIND_OTHER);
    assert_int_equal(kind("{\"schema\":\"acme.read/1\"}"), LPR_READ_KIND_OTHER);
    assert_int_equal(kind("{\"schema\":7}"), LPR_READ_KIND_OTHER);
    assert_int_equal(kind("[1,2]"), LPR_READ_KIND_OTHER);
    assert_int_equal(kind("{\"schema\":\"lpr.scene/"), LPR_READ_KIND_OTHER); /* cut short */
    assert_int_equal(lpr_read_kind_of("", 0), LPR_READ_KIND_OTHER);
}

static void test_stamp(void **state)
{
    (void)state;
    json_t *in = json_loads("{\"schema\":\"lpr.scene/1\",\"id\":\"forged\",\"seq\":99,"
                            "\"read_id\":\"r-1\",\"device\":\"other\",\"z\":1.5}",
                            0, NULL);
    assert_non_null(in);
    char id[LPR_READ_ID_MAX];
    char *text = lpr_read_stamp(in, "cam-7", "00000000000000ab", 42, id, sizeof id);
    assert_non_null(text);
    assert_string_equal(id, "cam-7-00000000000000ab-42");
    assert_string_equal(text, "{\"schema\":\"lpr.scene/1\",\"device\":\"cam-7\",\"seq\":42,"
                              "\"epoch\":\"00000000000000ab\",\"id\":\"cam-7-00000000000000ab-42\","
                              "\"read_id\":\"r-1\",\"z\":1.5}");
    free(text);
    json_decref(in);

    /* no schema: a read; the id is still made when the caller wants none */
    in = json_loads("{\"plate\":{\"text\":\"7ABC123\"}}", 0, NULL);
    text = lpr_read_stamp(in, "d", "e", 1, NULL, 0);
    assert_string_equal(text, "{\"schema\":\"lpr.read/1\",\"device\":\"d\",\"seq\":1,"
                              "\"epoch\":\"e\",\"id\":\"d-e-1\",\"plate\":{\"text\":\"7ABC123\"}}");
    assert_int_equal(lpr_read_kind_of(text, strlen(text)), LPR_READ_KIND_READ);
    free(text);
    json_decref(in);
}

static void test_build(void **state)
{
    (void)state;
    lpr_config cfg;
    lpr_config_defaults(&cfg);
    snprintf(cfg.device.id, sizeof cfg.device.id, "cam-1");
    lpr_plate p;
    memset(&p, 0, sizeof p);
    snprintf(p.text, sizeof p.text, "7ABC123");
    p.confidence = 96.04f;
    p.region = LPR_REGION_US;
    p.box = (lpr_box){1, 2, 30, 10};
    p.n_candidates = 1;
    snprintf(p.candidates[0].text, LPR_MAX_TEXT, "7ABC123");
    p.candidates[0].confidence = 96.04f;
    lpr_read_meta m = {
        &cfg, 1700000000123, LPR_TIME_GPS, {LPR_FIX_NONE, NAN, NAN, NAN, NAN, NAN, NAN, -1}};
    json_t *o = lpr_read_build(&p, 3, NULL, 0, &m);
    char *text = lpr_read_dumps(o);
    /* the schema first, the plate rounded to 0.1, no position without a fix */
    assert_true(!strncmp(text,
                         "{\"schema\":\"lpr.read/1\",\"device\":\"cam-1\","
                         "\"observed_at\":\"2023-11-14T22:13:20.123Z\"",
                         strlen("{\"schema\":\"lpr.read/1\",\"device\":\"cam-1\","
                                "\"observed_at\":\"2023-11-14T22:13:20.123Z\"")));
    assert_non_null(strstr(text, "\"plate\":{\"text\":\"7ABC123\",\"confidence\":96.0,"
                                 "\"region\":\"us\",\"candidates\":[{\"text\":\"7ABC123\","
                                 "\"confidence\":96.0}]}"));
    assert_null(strstr(text, "\"lat\""));
    assert_non_null(strstr(text, "\"frames\":3,\"images\":{}"));
    free(text);
    json_decref(o);
}

static void test_iso8601(void **state)
{
    (void)state;
    int64_t ms = 0;
    assert_int_equal(lpr_parse_iso8601("2023-11-14T22:13:20.123Z", &ms), LPR_OK);
    assert_int_equal(ms, 1700000000123);
    assert_int_equal(lpr_parse_iso8601("2023-11-14T22:13:20Z", &ms), LPR_OK);
    assert_int_equal(ms, 1700000000000);
    assert_int_equal(lpr_parse_iso8601("2023-11-14T22:13:20", &ms), LPR_EINVAL); /* no zone */
    assert_int_equal(lpr_parse_iso8601("2023-13-14T22:13:20Z", &ms), LPR_EINVAL);
    assert_int_equal(lpr_parse_iso8601("yesterday", &ms), LPR_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kind_of),
        cmocka_unit_test(test_stamp),
        cmocka_unit_test(test_build),
        cmocka_unit_test(test_iso8601),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

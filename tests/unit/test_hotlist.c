/*
 * test_hotlist.c - hotlists: look-alike matching and its limits,
 * wildcards, lengths, regions, expired entries, bad entries skipped, and
 * signed lists refused when tampered, unsigned, of another key or expired.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lpr_hotlist.h"
#include "lpr_sign.h"

#define NOW 1796600000000LL /* 2026-12-07 */

static const char list[] =
    "{\"name\":\"stolen\",\"version\":3,\"issued_at\":\"2026-12-07T00:00:00Z\","
    "\"expires_at\":\"2026-12-31T00:00:00Z\",\"covert\":false,\"priority\":80,\"entries\":["
    "{\"plate\":\"7ABC123\",\"region\":\"us\",\"reason\":\"stolen vehicle\"},"
    "{\"plate\":\"OB5Z1\"},"
    "{\"plate\":\"KX*821\",\"reason\":\"partial\"},"
    "{\"plate\":\"AB**99\"},"
    "{\"plate\":\"OLD1234\",\"expires_at\":\"2026-01-01T00:00:00Z\"},"
    "{\"plate\":\"abc-12\"},"
    "{\"plate\":\"A***1\"},"
    "{\"reason\":\"no plate\"},"
    "{\"plate\":\"TOOLONGPLATE1\"}]}";

static lpr_hotlist *load(void)
{
    lpr_hotlist *h;
    char why[300];
    assert_int_equal(lpr_hotlist_parse(list, strlen(list), "stolen.json", &h, why, sizeof why),
                     LPR_OK);
    return h;
}

static int matches(lpr_hotlist *h, const char *text, const char *region, int subs,
                   lpr_hotlist_match *m)
{
    return lpr_hotlist_match_text(h, text, region, subs, NOW, m, 4);
}

static void test_list_and_bad_entries(void **state)
{
    (void)state;
    lpr_hotlist *h = load();
    assert_string_equal(lpr_hotlist_about(h)->name, "stolen");
    assert_int_equal(lpr_hotlist_about(h)->version, 3);
    assert_int_equal(lpr_hotlist_about(h)->priority, 80);
    assert_false(lpr_hotlist_about(h)->covert);
    /* lower case and '-', three wildcards, no plate, too long: skipped */
    assert_int_equal(lpr_hotlist_about(h)->entries, 5);
    assert_int_equal(lpr_hotlist_about(h)->skipped, 4);
    lpr_hotlist_free(h);
}

static void test_lookalikes_and_limits(void **state)
{
    (void)state;
    lpr_hotlist *h = load();
    lpr_hotlist_match m[4];
    /* exact */
    assert_int_equal(matches(h, "7ABC123", "us", 1, m), 1);
    assert_string_equal(m[0].plate, "7ABC123");
    assert_string_equal(m[0].reason, "stolen vehicle");
    assert_int_equal(m[0].substitutions, 0);
    /* one look-alike (B read 8) within the default limit of 1 */
    assert_int_equal(matches(h, "7A8C123", "us", 1, m), 1);
    assert_int_equal(m[0].substitutions, 1);
    /* two look-alikes need max_substitutions 2 */
    assert_int_equal(matches(h, "7A8C1Z3", "us", 1, m), 0);
    assert_int_equal(matches(h, "7A8C1Z3", "us", 2, m), 1);
    assert_int_equal(m[0].substitutions, 2);
    /* and never more than 2, whatever is asked */
    assert_int_equal(matches(h, "7A8CIZ3", "us", 5, m), 0);
    /* no look-alike: another character is no match */
    assert_int_equal(matches(h, "7ABC124", "us", 2, m), 0);
    assert_int_equal(matches(h, "7ABC123", "us", 0, m), 1);
    assert_int_equal(matches(h, "7A8C123", "us", 0, m), 0);
    /* every class: O D Q 0, 1 I, 2 Z, 5 S, 8 B, 6 G */
    assert_int_equal(matches(h, "0B5Z1", NULL, 1, m), 1);
    assert_int_equal(matches(h, "DB5Z1", NULL, 1, m), 1);
    assert_int_equal(matches(h, "Q8SZI", NULL, 2, m), 0); /* four look-alikes */
    assert_int_equal(matches(h, "OB522", NULL, 1, m), 0); /* 1 and 2 are not alike */
    assert_int_equal(lpr_hotlist_class('G'), '6');
    assert_int_equal(lpr_hotlist_class('Q'), '0');
    assert_int_equal(lpr_hotlist_class('K'), 'K');
    /* no length difference */
    assert_int_equal(matches(h, "7ABC1234", "us", 2, m), 0);
    assert_int_equal(matches(h, "7ABC12", "us", 2, m), 0);
    lpr_hotlist_free(h);
}

static void test_wildcards_regions_expiry(void **state)
{
    (void)state;
    lpr_hotlist *h = load();
    lpr_hotlist_match m[4];
    /* '*' is exactly one character, any */
    assert_int_equal(matches(h, "KX4821", NULL, 1, m), 1);
    assert_string_equal(m[0].plate, "KX*821");
    assert_int_equal(matches(h, "KXZ821", NULL, 1, m), 1);
    assert_int_equal(matches(h, "KX821", NULL, 1, m), 0);
    assert_int_equal(matches(h, "KX48821", NULL, 1, m), 0);
    /* wildcards and a look-alike together */
    assert_int_equal(matches(h, "KXA82I", NULL, 1, m), 1);
    assert_int_equal(m[0].substitutions, 1);
    assert_int_equal(matches(h, "ABXY99", NULL, 0, m), 1);
    assert_int_equal(matches(h, "A8XY99", NULL, 0, m), 0);
    /* an entry of another region does not match; one without matches all */
    assert_int_equal(matches(h, "7ABC123", "br", 1, m), 0);
    assert_int_equal(matches(h, "7ABC123", NULL, 1, m), 1);
    assert_int_equal(matches(h, "OB5Z1", "eu", 0, m), 1);
    assert_string_equal(m[0].region, "");
    /* an expired entry never matches */
    assert_int_equal(matches(h, "OLD1234", NULL, 1, m), 0);
    assert_int_equal(lpr_hotlist_match_text(h, "OLD1234", NULL, 1, 1700000000000LL, m, 4), 1);
    /* a read with a '*' matches nothing */
    assert_int_equal(matches(h, "KX*821", NULL, 1, m), 0);
    lpr_hotlist_free(h);
}

static void test_not_a_list(void **state)
{
    (void)state;
    lpr_hotlist *h;
    char why[300];
    static const char *const bad[] = {
        "",
        "[]",
        "{\"name\":\"x\",\"version\":1,\"issued_at\":\"2026-12-07T00:00:00Z\"}",
        "{\"name\":\"x\",\"version\":0,\"issued_at\":\"2026-12-07T00:00:00Z\",\"entries\":[]}",
        "{\"name\":\"x\",\"version\":1,\"issued_at\":\"yesterday\",\"entries\":[]}",
        "{\"name\":\"x\",\"version\":1,\"issued_at\":\"2026-12-07T00:00:00Z\",\"entries\":{}}",
        "{\"name\":\"x\",\"version\":1,\"issued_at\":\"2026-12-07T00:00:00Z\",\"priority\":101,"
        "\"entries\":[]}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why[0] = 0;
        assert_int_equal(lpr_hotlist_parse(bad[i], strlen(bad[i]), "l.json", &h, why, sizeof why),
                         LPR_EFORMAT);
        assert_null(h);
        assert_non_null(strstr(why, "l.json: "));
    }
}

static void test_signed(void **state)
{
    (void)state;
    char dir[] = "/tmp/lpr-hotlist-XXXXXX", path[96], kid[LPR_KID_LEN], why[300];
    assert_non_null(mkdtemp(dir));
    assert_int_equal(lpr_keygen(dir, 0, kid), LPR_OK);
    lpr_signer *s;
    lpr_verifier *v;
    snprintf(path, sizeof path, "%s/device.key", dir);
    assert_int_equal(lpr_signer_load(path, &s), LPR_OK);
    snprintf(path, sizeof path, "%s/device.pub.pem", dir);
    assert_int_equal(lpr_verifier_load(path, &v), LPR_OK);
    unsigned char der[LPR_SIG_MAX];
    size_t n;
    char sig[160];
    assert_int_equal(lpr_sign(s, list, strlen(list), der, &n), LPR_OK);
    assert_int_equal(lpr_base64_encode(der, n, sig, sizeof sig), LPR_OK);
    lpr_hotlist *h;
    assert_int_equal(lpr_hotlist_load_signed(list, strlen(list), "ES256", kid, sig, v, NOW,
                                             "stolen", &h, why, sizeof why),
                     LPR_OK);
    assert_int_equal(lpr_hotlist_about(h)->entries, 5);
    lpr_hotlist_free(h);
    /* tampered: a plate added after signing */
    char *t = strdup(list);
    memcpy(strstr(t, "OB5Z1"), "XXXXX", 5);
    assert_int_equal(lpr_hotlist_load_signed(t, strlen(t), "ES256", kid, sig, v, NOW, "stolen", &h,
                                             why, sizeof why),
                     LPR_ECRYPTO);
    assert_non_null(strstr(why, "BAD SIGNATURE"));
    free(t);
    /* unsigned */
    assert_int_equal(lpr_hotlist_load_signed(list, strlen(list), NULL, NULL, NULL, v, NOW, "stolen",
                                             &h, why, sizeof why),
                     LPR_ECRYPTO);
    assert_non_null(strstr(why, "unsigned"));
    /* the list expired */
    assert_int_equal(lpr_hotlist_load_signed(list, strlen(list), "ES256", kid, sig, v,
                                             NOW + 40LL * 86400000, "stolen", &h, why, sizeof why),
                     LPR_EINVAL);
    assert_non_null(strstr(why, "expired at 2026-12-31T00:00:00"));
    lpr_signer_free(s);
    lpr_verifier_free(v);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_and_bad_entries),
        cmocka_unit_test(test_lookalikes_and_limits),
        cmocka_unit_test(test_wildcards_regions_expiry),
        cmocka_unit_test(test_not_a_list),
        cmocka_unit_test(test_signed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

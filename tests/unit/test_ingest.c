/*
 * test_ingest.c - the read store's ingest without a broker: verification
 * against the key folder, storing once, repeats, conflicts, drops, and
 * the receipts it makes (and the device's parsing of them).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "lpr_ingest.h"
#include "lpr_read.h"
#include "lpr_sign.h"

#define EPOCH "00112233aabbccdd"

static char dir[64], keys[96], db[96];
static lpr_signer *cam, *other;
static lpr_ingest *g;

static int setup(void **state)
{
    (void)state;
    char kid[LPR_KID_LEN], path[160], cmd[400];
    snprintf(dir, sizeof dir, "/tmp/lpr-ingest-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(keys, sizeof keys, "%s/keys", dir);
    snprintf(db, sizeof db, "%s/store.db", dir);
    snprintf(cmd, sizeof cmd, "mkdir -p %s/cam %s/other %s", dir, dir, keys);
    if (system(cmd) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/cam", dir);
    if (lpr_keygen(path, 0, kid) != LPR_OK)
        return -1;
    snprintf(path, sizeof path, "%s/other", dir);
    if (lpr_keygen(path, 0, kid) != LPR_OK)
        return -1;
    /* cam-1 is registered; cam-2 is not */
    snprintf(cmd, sizeof cmd, "cp %s/cam/device.pub.pem %s/cam-1.pub.pem", dir, keys);
    if (system(cmd) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/cam/device.key", dir);
    if (lpr_signer_load(path, &cam) != LPR_OK)
        return -1;
    snprintf(path, sizeof path, "%s/other/device.key", dir);
    if (lpr_signer_load(path, &other) != LPR_OK)
        return -1;
    lpr_ingest_options o;
    lpr_ingest_options_defaults(&o);
    snprintf(o.keys_dir, sizeof o.keys_dir, "%s", keys);
    snprintf(o.db, sizeof o.db, "%s", db);
    return lpr_ingest_new(&o, &g) == LPR_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    lpr_ingest_free(g);
    lpr_signer_free(cam);
    lpr_signer_free(other);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

typedef struct msg {
    char payload[512];
    char sig[160];
    const char *kid;
} msg;

/* A read of device dev as the spool stamps it, signed by s. */
static void make(msg *m, lpr_signer *s, const char *dev, int64_t seq, const char *plate)
{
    json_t *r = json_pack("{s:{s:s}}", "plate", "text", plate);
    char *text = lpr_read_stamp(r, dev, EPOCH, seq, NULL, 0);
    json_decref(r);
    snprintf(m->payload, sizeof m->payload, "%s", text);
    free(text);
    unsigned char der[LPR_SIG_MAX];
    size_t n;
    assert_int_equal(lpr_sign(s, m->payload, strlen(m->payload), der, &n), LPR_OK);
    assert_int_equal(lpr_base64_encode(der, n, m->sig, sizeof m->sig), LPR_OK);
    m->kid = lpr_signer_kid(s);
}

static lpr_ingest_result take(const msg *m, const char *topic, char *why)
{
    return lpr_ingest_take(g, topic, m->payload, strlen(m->payload), "ES256", m->kid, m->sig, why,
                           400);
}

static int64_t rows(const char *sql)
{
    sqlite3 *d;
    sqlite3_stmt *st;
    int64_t v = -1;
    assert_int_equal(sqlite3_open(db, &d), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(d, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(d);
    return v;
}

static void test_store_once_and_receipts(void **state)
{
    (void)state;
    msg m[6];
    char why[400];
    for (int i = 0; i < 6; i++)
        make(&m[i], cam, "cam-1", i == 5 ? 9 : i + 1, "ABC123"); /* seqs 1-5, 9 */
    for (int i = 0; i < 6; i++)
        assert_int_equal(take(&m[i], "lpr/v1/cam-1/read", why), LPR_INGEST_QUEUED);
    assert_int_equal(take(&m[2], "lpr/v1/cam-1/read", why), LPR_INGEST_QUEUED); /* redelivered */
    lpr_ingest_receipt *r;
    int n;
    lpr_ingest_result res[8];
    assert_int_equal(lpr_ingest_commit(g, &r, &n, res), LPR_OK);
    assert_int_equal(res[0], LPR_INGEST_STORED);
    assert_int_equal(res[6], LPR_INGEST_REPEAT);
    assert_int_equal(n, 1);
    assert_string_equal(r[0].topic, "lpr/v1/cam-1/receipt");
    assert_string_equal(r[0].payload, "{\"epoch\":\"" EPOCH "\",\"seqs\":[[1,5],[9,9]]}");
    /* the device reads the same ranges back */
    char epoch[17];
    lpr_receipt_range rr[4];
    int nr;
    assert_null(lpr_receipt_parse(r[0].payload, strlen(r[0].payload), epoch, rr, 4, &nr));
    assert_string_equal(epoch, EPOCH);
    assert_int_equal(nr, 2);
    assert_true(rr[0].first == 1 && rr[0].last == 5 && rr[1].first == 9 && rr[1].last == 9);
    lpr_ingest_receipts_free(r, n);
    assert_int_equal(rows("SELECT count(*) FROM reads"), 6);
    assert_int_equal(rows("SELECT value FROM counters WHERE name='repeats'"), 1);

    /* a repeat in a later batch is counted and confirmed again */
    assert_int_equal(take(&m[0], "lpr/v1/cam-1/read", why), LPR_INGEST_QUEUED);
    assert_int_equal(lpr_ingest_commit(g, &r, &n, res), LPR_OK);
    assert_int_equal(res[0], LPR_INGEST_REPEAT);
    assert_string_equal(r[0].payload, "{\"epoch\":\"" EPOCH "\",\"seqs\":[[1,1]]}");
    lpr_ingest_receipts_free(r, n);
    assert_int_equal(rows("SELECT count(*) FROM reads"), 6);
}

static void test_conflict_kept_apart(void **state)
{
    (void)state;
    msg a, b;
    char why[400];
    make(&a, cam, "cam-1", 40, "FIRST1");
    make(&b, cam, "cam-1", 40, "SECND2"); /* the same id, other bytes, validly signed */
    assert_int_equal(take(&a, "lpr/v1/cam-1/read", why), LPR_INGEST_QUEUED);
    assert_int_equal(take(&b, "lpr/v1/cam-1/read", why), LPR_INGEST_QUEUED);
    assert_int_equal(take(&b, "lpr/v1/cam-1/read", why), LPR_INGEST_QUEUED);
    lpr_ingest_receipt *r;
    int n;
    lpr_ingest_result res[3];
    assert_int_equal(lpr_ingest_commit(g, &r, &n, res), LPR_OK);
    assert_int_equal(res[0], LPR_INGEST_STORED);
    assert_int_equal(res[1], LPR_INGEST_CONFLICT);
    assert_int_equal(res[2], LPR_INGEST_CONFLICT);
    lpr_ingest_receipts_free(r, n);
    /* the first stays the read; the other bytes are kept once, apart */
    assert_int_equal(rows("SELECT count(*) FROM reads WHERE seq=40 AND "
                          "instr(CAST(payload AS TEXT), 'FIRST1') > 0"),
                     1);
    assert_int_equal(rows("SELECT count(*) FROM conflicts WHERE seq=40"), 1);
    assert_int_equal(rows("SELECT value FROM counters WHERE name='conflicts'"), 2);
}

static void test_drops(void **state)
{
    (void)state;
    msg m;
    char why[400];
    make(&m, cam, "cam-1", 50, "ABC123");
    /* altered on the way */
    msg bad = m;
    bad.payload[strlen(bad.payload) - 3] ^= 1;
    assert_int_equal(take(&bad, "lpr/v1/cam-1/read", why), LPR_INGEST_REJECTED);
    assert_non_null(strstr(why, "BAD SIGNATURE"));
    /* unsigned */
    assert_int_equal(lpr_ingest_take(g, "lpr/v1/cam-1/read", m.payload, strlen(m.payload), NULL,
                                     NULL, NULL, why, sizeof why),
                     LPR_INGEST_REJECTED);
    assert_non_null(strstr(why, "unsigned"));
    /* a device with no registered key */
    msg m2;
    make(&m2, cam, "cam-2", 1, "ABC123");
    assert_int_equal(take(&m2, "lpr/v1/cam-2/read", why), LPR_INGEST_REJECTED);
    assert_non_null(strstr(why, "no key registered for device cam-2"));
    /* signed by another key under cam-1's topic */
    msg m3;
    make(&m3, other, "cam-1", 51, "ABC123");
    assert_int_equal(take(&m3, "lpr/v1/cam-1/read", why), LPR_INGEST_REJECTED);
    assert_non_null(strstr(why, "kid does not match"));
    /* cam-1's key, but the read says another device */
    msg m4;
    make(&m4, cam, "cam-9", 1, "ABC123");
    assert_int_equal(take(&m4, "lpr/v1/cam-1/read", why), LPR_INGEST_REJECTED);
    assert_string_equal(why, "signed by cam-1's key but says device cam-9");
    /* a topic outside the tree, or a device id that walks out of the key folder */
    assert_int_equal(take(&m, "lpr/v1/cam-1/health", why), LPR_INGEST_REJECTED);
    assert_int_equal(take(&m, "lpr/v1/../cam-1/read", why), LPR_INGEST_REJECTED);
    assert_non_null(strstr(why, "topic is not"));
    assert_int_equal(lpr_ingest_queued(g), 0);
    lpr_ingest_counters c;
    lpr_ingest_get_counters(g, &c);
    assert_true(c.rejected >= 7);
}

static void test_receipt_parse_refuses(void **state)
{
    (void)state;
    char epoch[17];
    lpr_receipt_range r[2];
    int n = -1;
    static const char *const bad[] = {
        "",
        "[]",
        "{\"seqs\":[[1,2]]}",
        "{\"epoch\":\"xyz\",\"seqs\":[[1,2]]}",
        "{\"epoch\":\"" EPOCH "\"}",
        "{\"epoch\":\"" EPOCH "\",\"seqs\":[[2,1]]}",
        "{\"epoch\":\"" EPOCH "\",\"seqs\":[[0,1]]}",
        "{\"epoch\":\"" EPOCH "\",\"seqs\":[[1,2,3]]}",
        "{\"epoch\":\"" EPOCH "\",\"seqs\":[[1,2],[4,5],[7,8]]}", /* more than max */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_non_null(lpr_receipt_parse(bad[i], strlen(bad[i]), epoch, r, 2, &n));
        assert_int_equal(n, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store_once_and_receipts),
        cmocka_unit_test(test_conflict_kept_apart),
        cmocka_unit_test(test_drops),
        cmocka_unit_test(test_receipt_parse_refuses),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

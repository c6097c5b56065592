/*
 * test_spool.c - the SQLite spool: seq strictly increasing across reopen
 * and deletes, ids, stamped payloads, signatures stored once, quotas, the
 * file's mode for two service users, tools that never make a spool, an age
 * quota that clock steps cannot trigger, a spool from before the age columns,
 * reads sealed as they are appended, a refused spool moved aside.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "lpr_spool.h"

static char dbpath[256];

static int setup(void **state)
{
    (void)state;
    char dir[] = "/tmp/lpr-spool-XXXXXX";
    assert_non_null(mkdtemp(dir));
    snprintf(dbpath, sizeof dbpath, "%s/spool.db", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf \"$(dirname %s)\"", dbpath);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *READ =
    "{\"plate\":{\"text\":\"ABC123\"},\"seq\":999,\"epoch\":\"0\",\"id\":\"forged\"}";

static void test_seq_survives_reopen_and_delete(void **state)
{
    (void)state;
    lpr_spool_opts o = {.device_id = "cam-1", .max_mb = 0, .max_age_days = 0, .must_exist = 0};
    lpr_spool *s;
    int64_t seq;
    char id[96];
    assert_int_equal(lpr_spool_open(dbpath, &o, &s), LPR_OK);
    for (int i = 1; i <= 3; i++) {
        assert_int_equal(lpr_spool_append(s, READ, strlen(READ), &seq, id, sizeof id), LPR_OK);
        assert_int_equal(seq, i);
    }
    char want[96], epoch[17];
    snprintf(epoch, sizeof epoch, "%s", lpr_spool_epoch(s));
    assert_int_equal(strlen(epoch), 16);
    snprintf(want, sizeof want, "cam-1-%s-3", epoch);
    assert_string_equal(id, want);
    int64_t del[] = {2, 3};
    assert_int_equal(lpr_spool_delete(s, del, 2), LPR_OK);
    lpr_spool_close(s);
    /* reopen: the next seq continues after the deleted ones, never reused */
    assert_int_equal(lpr_spool_open(dbpath, &o, &s), LPR_OK);
    assert_int_equal(lpr_spool_append(s, READ, strlen(READ), &seq, id, sizeof id), LPR_OK);
    assert_int_equal(seq, 4);
    snprintf(want, sizeof want, "cam-1-%s-4", epoch); /* the epoch stays with the spool */
    assert_string_equal(id, want);
    lpr_spool_stats st;
    assert_int_equal(lpr_spool_get_stats(s, 0, &st), LPR_OK);
    assert_int_equal(st.depth, 2);
    assert_int_equal(st.next_seq, 5);
    assert_string_equal(st.epoch, epoch);
    lpr_spool_close(s);
}

/* Issue 15: a lost or replaced spool restarted at seq 1, and cam-test-1 was
 * issued twice for different reads, both validly signed. A spool made anew
 * draws a new epoch, so its ids differ from every earlier spool's. */
static void test_new_spool_never_repeats_an_id(void **state)
{
    (void)state;
    lpr_spool_opts o = {.device_id = "cam-e"};
    char ids[8][96];
    for (int k = 0; k < 8; k++) {
        lpr_spool *s;
        int64_t seq;
        unlink(dbpath);
        assert_int_equal(lpr_spool_open(dbpath, &o, &s), LPR_OK);
        assert_int_equal(lpr_spool_append(s, READ, strlen(READ), &seq, ids[k], sizeof ids[k]),
                         LPR_OK);
        assert_int_equal(seq, 1);
        for (int j = 0; j < k; j++)
            assert_string_not_equal(ids[j], ids[k]);
        lpr_spool_close(s);
        char wal[300];
        snprintf(wal, sizeof wal, "%s-wal", dbpath);
        unlink(wal);
        snprintf(wal, sizeof wal, "%s-shm", dbpath);
        unlink(wal);
    }
}

/* Two service users share the spool as group lpr under UMask=0007: a new
 * spool file must be group-writable (SQLite alone makes it 0640), and the
 * tools that only look never make one. */
static void test_file_mode_and_must_exist(void **state)
{
    (void)state;
    lpr_spool_opts look = {.device_id = NULL, .max_mb = 0, .max_age_days = 0, .must_exist = 1};
    lpr_spool *s;
    assert_int_equal(lpr_spool_open(dbpath, &look, &s), LPR_ENOENT);
    assert_null(s);
    assert_int_not_equal(access(dbpath, F_OK), 0);
    mode_t old = umask(0007);
    lpr_spool_opts o = {.device_id = "cam-m", .max_mb = 0, .max_age_days = 0, .must_exist = 0};
    assert_int_equal(lpr_spool_open(dbpath, &o, &s), LPR_OK);
    umask(old);
    assert_int_equal(lpr_spool_append(s, READ, strlen(READ), NULL, NULL, 0), LPR_OK);
    lpr_spool_close(s);
    struct stat st;
    assert_int_equal(stat(dbpath, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0660);
    assert_int_equal(lpr_spool_open(dbpath, &look, &s), LPR_OK);
    lpr_spool_stats ss;
    assert_int_equal(lpr_spool_get_stats(s, 0, &ss), LPR_OK);
    assert_int_equal(ss.depth, 1);
    lpr_spool_close(s);
}

/* A corrupt page is an error, not the end of the reads: before, fetch said
 * LPR_OK with fewer rows, and the uplink took the spool for drained. */
static void test_fetch_error_is_not_end(void **state)
{
    (void)state;
    lpr_spool_opts o = {.device_id = "cam-c"};
    lpr_spool *s;
    char big[1200];
    snprintf(big, sizeof big, "{\"plate\":{\"text\":\"%0900d\"}}", 7);
    assert_int_equal(lpr_spool_open(dbpath, &o, &s), LPR_OK);
    for (int i = 0; i < 200; i++)
        assert_int_equal(lpr_spool_append(s, big, strlen(big), NULL, NULL, 0), LPR_OK);
    lpr_spool_close(s);
    FILE *f = fopen(dbpath, "r+b");
    assert_non_null(f);
    char junk[4096];
    memset(junk, 0xA5, sizeof junk);
    for (long page = 40; page < 60; page++) { /* the reads' pages, not the header */
        assert_int_equal(fseek(f, page * 4096, SEEK_SET), 0);
        assert_int_equal(fwrite(junk, 1, sizeof junk, f), sizeof junk);
    }
    fclose(f);
    assert_int_equal(lpr_spool_open(dbpath, &o, &s), LPR_OK);
    lpr_spool_row rows[300];
    int n = -1;
    assert_int_not_equal(lpr_spool_fetch(s, 0, 300, rows, &n), LPR_OK);
    assert_int_equal(n, 0);
    lpr_spool_close(s);
}

static void test_payload_stamped(void **state)
{
    (void)state;
    lpr_spool_opts o = {.device_id = "cam-2", .max_mb = 0, .max_age_days = 0, .must_exist = 0};
    lpr_spool *s;
    lpr_spool_row rows[4];
    int n;
    assert_int_equal(lpr_spool_open(dbpath, &o, &s), LPR_OK);
    assert_int_equal(lpr_spool_append(s, READ, strlen(READ), NULL, NULL, 0), LPR_OK);
    assert_int_equal(lpr_spool_fetch(s, 0, 4, rows, &n), LPR_OK);
    assert_int_equal(n, 1);
    /* the spool's device/seq/epoch/id win over whatever the caller put there */
    char want[256];
    const char *e = lpr_spool_epoch(s);
    snprintf(want, sizeof want,
             "{\"schema\":\"lpr.read/1\",\"device\":\"cam-2\",\"seq\":1,\"epoch\":\"%s\","
             "\"id\":\"cam-2-%s-1\",\"plate\":{\"text\":\"ABC123\"}}",
             e, e);
    assert_string_equal((char *)rows[0].payload, want);
    assert_null(rows[0].sig);
    lpr_spool_row_clear(&rows[0]);
    lpr_spool_close(s);
}

static void test_signature_stored_once(void **state)
{
    (void)state;
    lpr_spool_opts o = {.device_id = "cam-3", .max_mb = 0, .max_age_days = 0, .must_exist = 0};
    lpr_spool *s;
    lpr_spool_row rows[2];
    int n;
    const unsigned char a[] = {1, 2, 3}, b[] = {9, 9};
    assert_int_equal(lpr_spool_open(dbpath, &o, &s), LPR_OK);
    assert_int_equal(lpr_spool_append(s, READ, strlen(READ), NULL, NULL, 0), LPR_OK);
    lpr_spool_row first = {.seq = 1, .sig = (unsigned char *)a, .sig_len = sizeof a};
    lpr_spool_row second = {.seq = 1, .sig = (unsigned char *)b, .sig_len = sizeof b};
    assert_int_equal(lpr_spool_set_signatures(s, &first, 1), LPR_OK);
    assert_int_equal(lpr_spool_set_signatures(s, &second, 1), LPR_OK);
    assert_int_equal(lpr_spool_note_attempt(s, 1), LPR_OK);
    assert_int_equal(lpr_spool_fetch(s, 0, 2, rows, &n), LPR_OK);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].sig_len, 3);
    assert_memory_equal(rows[0].sig, a, 3);
    assert_int_equal(rows[0].attempts, 1);
    lpr_spool_row_clear(&rows[0]);
    lpr_spool_close(s);
}

static void clear_rows(lpr_spool_row *rows, int n)
{
    for (int i = 0; i < n; i++)
        lpr_spool_row_clear(&rows[i]);
}

/* A sealer for the tests: the signature is the payload's length and first
 * byte; fail makes it refuse. */
static int seal_fail, seals;
static lpr_err fake_seal(void *ctx, const void *payload, size_t len, unsigned char *sig,
                         size_t *sig_len)
{
    (void)ctx;
    seals++;
    if (seal_fail)
        return LPR_ECRYPTO;
    sig[0] = (unsigned char)len;
    sig[1] = ((const unsigned char *)payload)[0];
    *sig_len = 2;
    return LPR_OK;
}

/* Issue 16: reads sat unsigned in the spool until the uplink signed them,
 * so an edit in the spool was signed as if the camera had made it. With a
 * sealer, an append stores the signature of the exact stamped bytes and
 * the key id in the same transaction; reads spooled before are sealed on
 * request; a read that cannot be sealed is not spooled. */
static void test_sealed_at_append(void **state)
{
    (void)state;
    lpr_spool_opts o = {.device_id = "cam-5", .max_mb = 0, .max_age_days = 0, .must_exist = 0};
    lpr_spool *s;
    lpr_spool_row rows[4];
    int n;
    int64_t sealed = -1;
    assert_int_equal(lpr_spool_open(dbpath, &o, &s), LPR_OK);
    assert_int_equal(lpr_spool_seal_unsigned(s, &sealed), LPR_EINVAL); /* no sealer */
    assert_int_equal(lpr_spool_append(s, READ, strlen(READ), NULL, NULL, 0), LPR_OK);
    seal_fail = 0;
    seals = 0;
    lpr_spool_set_sealer(s, fake_seal, NULL, "kid-1");
    assert_int_equal(lpr_spool_append(s, READ, strlen(READ), NULL, NULL, 0), LPR_OK);
    assert_int_equal(seals, 1);
    assert_int_equal(lpr_spool_fetch(s, 0, 4, rows, &n), LPR_OK);
    assert_int_equal(n, 2);
    assert_null(rows[0].sig); /* spooled before the sealer */
    assert_string_equal(rows[0].kid, "");
    assert_non_null(rows[1].sig);
    assert_int_equal(rows[1].sig_len, 2);
    assert_int_equal(rows[1].sig[0], (unsigned char)rows[1].payload_len);
    assert_int_equal(rows[1].sig[1], '{');
    assert_string_equal(rows[1].kid, "kid-1");
    clear_rows(rows, n);
    /* the one spooled before is sealed on request, once */
    assert_int_equal(lpr_spool_seal_unsigned(s, &sealed), LPR_OK);
    assert_int_equal(sealed, 1);
    assert_int_equal(lpr_spool_seal_unsigned(s, &sealed), LPR_OK);
    assert_int_equal(sealed, 0);
    assert_int_equal(lpr_spool_fetch(s, 0, 4, rows, &n), LPR_OK);
    assert_int_equal(n, 2);
    assert_non_null(rows[0].sig);
    assert_int_equal(rows[0].sig[0], (unsigned char)rows[0].payload_len);
    assert_string_equal(rows[0].kid, "kid-1");
    clear_rows(rows, n);
    /* a seal that fails: the read is not spooled, and its seq not used */
    seal_fail = 1;
    int64_t seq = 0;
    assert_int_equal(lpr_spool_append(s, READ, strlen(READ), &seq, NULL, 0), LPR_ECRYPTO);
    seal_fail = 0;
    assert_int_equal(lpr_spool_append(s, READ, strlen(READ), &seq, NULL, 0), LPR_OK);
    assert_int_equal(seq, 3);
    assert_int_equal(lpr_spool_fetch(s, 0, 4, rows, &n), LPR_OK);
    assert_int_equal(n, 3);
    clear_rows(rows, n);
    lpr_spool_close(s);
}

static void test_rejects_non_object(void **state)
{
    (void)state;
    lpr_spool_opts o = {.device_id = "cam-4", .max_mb = 0, .max_age_days = 0, .must_exist = 0};
    lpr_spool *s;
    assert_int_equal(lpr_spool_open(dbpath, &o, &s), LPR_OK);
    assert_int_equal(lpr_spool_append(s, "[1,2]", 5, NULL, NULL, 0), LPR_EFORMAT);
    assert_int_equal(lpr_spool_append(s, "{broken", 7, NULL, NULL, 0), LPR_EFORMAT);
    lpr_spool_stats st;
    lpr_spool_get_stats(s, 0, &st);
    assert_int_equal(st.depth, 0);
    assert_int_equal(st.next_seq, 1); /* a rejected read takes no number */
    lpr_spool_close(s);
}

static void test_size_quota_drops_oldest_counted(void **state)
{
    (void)state;
    lpr_spool_opts o = {.device_id = "cam-5", .max_mb = 0.1, .max_age_days = 0, .must_exist = 0};
    lpr_spool *s;
    char big[2048];
    snprintf(big, sizeof big, "{\"images\":{\"plate_jpeg\":\"%01500d\"}}", 0);
    assert_int_equal(lpr_spool_open(dbpath, &o, &s), LPR_OK);
    for (int i = 0; i < 200; i++)
        assert_int_equal(lpr_spool_append(s, big, strlen(big), NULL, NULL, 0), LPR_OK);
    lpr_spool_stats st;
    assert_int_equal(lpr_spool_get_stats(s, 0, &st), LPR_OK);
    assert_true(st.dropped > 0);
    assert_int_equal(st.depth + st.dropped, 200);
    assert_true(st.db_bytes <= (int64_t)(0.1 * 1024 * 1024) + 4096);
    lpr_spool_row r[1];
    int n;
    assert_int_equal(lpr_spool_fetch(s, 0, 1, r, &n), LPR_OK);
    assert_int_equal(r[0].seq, st.dropped + 1); /* the oldest went first */
    lpr_spool_row_clear(&r[0]);
    lpr_spool_close(s);
}

static void test_counters(void **state)
{
    (void)state;
    lpr_spool *s, *other;
    int64_t v = -1;
    assert_int_equal(lpr_spool_open(dbpath, NULL, &s), LPR_OK);
    assert_int_equal(lpr_spool_get_counter(s, "camera_frames", &v), LPR_ENOENT);
    assert_int_equal(lpr_spool_put_counter(s, "camera_frames", 1234), LPR_OK);
    assert_int_equal(lpr_spool_put_counter(s, "camera_frames", 1240), LPR_OK);
    /* a second connection (the uplink's) sees the last value */
    assert_int_equal(lpr_spool_open(dbpath, NULL, &other), LPR_OK);
    assert_int_equal(lpr_spool_get_counter(other, "camera_frames", &v), LPR_OK);
    assert_int_equal(v, 1240);
    /* counters are not reads */
    lpr_spool_stats st;
    lpr_spool_get_stats(other, 0, &st);
    assert_int_equal(st.depth, 0);
    assert_int_equal(st.next_seq, 1);
    lpr_spool_close(other);
    lpr_spool_close(s);
}

static void sql(const char *statement)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char *err = NULL;
    if (sqlite3_exec(db, statement, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("%s: %s", statement, err);
    sqlite3_close(db);
}

static int64_t depth_of(lpr_spool *s)
{
    lpr_spool_stats st;
    assert_int_equal(lpr_spool_get_stats(s, 0, &st), LPR_OK);
    return st.depth;
}

#define DAY_MS (86400LL * 1000)

/* Spools a read with the clock in the given state (lpr_clock_synced). */
static void spool_with_clock(lpr_spool *s, const char *read, const char *source)
{
    lpr_set_time_override(source);
    assert_int_equal(lpr_spool_append(s, read, strlen(read), NULL, NULL, 0), LPR_OK);
    lpr_set_time_override(NULL);
}
static const char *UNSYNCED = "{\"time_source\":\"unsynced\",\"plate\":{\"text\":\"U1\"}}";
static const char *NTP = "{\"time_source\":\"ntp\",\"plate\":{\"text\":\"N1\"}}";

/* Issue 15: 100 reads spooled while the clock was 60 days behind were all
 * deleted as "quota reached" once NTP corrected it. Age now counts time
 * that passed: CLOCK_BOOTTIME within a boot; the wall clock across boots
 * only for reads spooled while it was synchronised, and while it is. */
static void test_age_quota_ignores_clock_steps(void **state)
{
    (void)state;
    lpr_spool_opts o = {.device_id = "cam-age", .max_age_days = 30};
    lpr_spool *s;
    int64_t d = -1;
    assert_int_equal(lpr_spool_open(dbpath, &o, &s), LPR_OK);
    spool_with_clock(s, UNSYNCED, "unsynced");
    spool_with_clock(s, NTP, "ntp");
    lpr_spool_clock now = lpr_spool_clock_now();
    now.synced = 1;
    /* the clock steps 60 days forward (it was behind) and back: nothing ages */
    lpr_spool_clock ahead = now, behind = now;
    ahead.wall_ms += 60 * DAY_MS;
    behind.wall_ms -= 60 * DAY_MS;
    assert_int_equal(lpr_spool_enforce(s, &ahead, &d), LPR_OK);
    assert_int_equal(d, 0);
    assert_int_equal(lpr_spool_enforce(s, &behind, &d), LPR_OK);
    assert_int_equal(d, 0);
    assert_int_equal(depth_of(s), 2);
    /* 29 days of uptime later both stay; 31 days later both go, counted */
    lpr_spool_clock later = now;
    later.boot_ms += 29 * DAY_MS;
    assert_int_equal(lpr_spool_enforce(s, &later, &d), LPR_OK);
    assert_int_equal(d, 0);
    later.boot_ms += 2 * DAY_MS;
    later.synced = 0; /* the boot clock needs no synchronised wall clock */
    assert_int_equal(lpr_spool_enforce(s, &later, &d), LPR_OK);
    assert_int_equal(d, 2);
    assert_int_equal(depth_of(s), 0);

    /* reads of an earlier boot: the synchronised one ages by the wall
     * clock while it is synchronised; the unsynced one never by age */
    spool_with_clock(s, UNSYNCED, "unsynced");
    spool_with_clock(s, NTP, "ntp");
    sql("UPDATE reads SET boot = 'an-earlier-boot', boot_ms = 5");
    now = lpr_spool_clock_now();
    now.synced = 0;
    now.wall_ms += 60 * DAY_MS;
    assert_int_equal(lpr_spool_enforce(s, &now, &d), LPR_OK);
    assert_int_equal(d, 0); /* the clock now is not synchronised: no wall age */
    now.synced = 1;
    assert_int_equal(lpr_spool_enforce(s, &now, &d), LPR_OK);
    assert_int_equal(d, 1);
    lpr_spool_row r;
    int n = 0;
    assert_int_equal(lpr_spool_fetch(s, 0, 1, &r, &n), LPR_OK);
    assert_int_equal(n, 1);
    assert_non_null(strstr((const char *)r.payload, "\"U1\""));
    lpr_spool_row_clear(&r);
    now.wall_ms += 3000 * DAY_MS;
    assert_int_equal(lpr_spool_enforce(s, &now, &d), LPR_OK);
    assert_int_equal(d, 0);
    lpr_spool_stats st;
    assert_int_equal(lpr_spool_get_stats(s, 0, &st), LPR_OK);
    assert_int_equal(st.depth, 1);
    assert_int_equal(st.dropped, 3);
    lpr_spool_close(s);
}

/* A spool made before the age columns opens, keeps its reads and seq, gains
 * the columns; its old reads age by the wall clock while it is synced. */
static void test_spool_before_age_columns(void **state)
{
    (void)state;
    sql("CREATE TABLE reads(seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
        " payload BLOB NOT NULL, sig BLOB, created_ms INTEGER NOT NULL,"
        " attempts INTEGER NOT NULL DEFAULT 0);"
        "CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
        "INSERT INTO meta VALUES('next_seq', 8); INSERT INTO meta VALUES('dropped', 0);"
        "INSERT INTO reads(seq, id, payload, created_ms) VALUES(7, 'cam-old-7', '{}', 1000);");
    lpr_spool_opts o = {.device_id = "cam-old", .max_age_days = 30};
    lpr_spool *s;
    int64_t seq = 0, d = -1;
    assert_int_equal(lpr_spool_open(dbpath, &o, &s), LPR_OK);
    assert_int_equal(depth_of(s), 1);
    lpr_spool_clock now = lpr_spool_clock_now();
    now.synced = 0;
    assert_int_equal(lpr_spool_enforce(s, &now, &d), LPR_OK);
    assert_int_equal(d, 0);
    lpr_set_time_override("unsynced");
    assert_int_equal(lpr_spool_append(s, UNSYNCED, strlen(UNSYNCED), &seq, NULL, 0), LPR_OK);
    lpr_set_time_override(NULL);
    assert_int_equal(seq, 8);
    assert_int_equal(depth_of(s), 2); /* appended with an unsynced clock: no wall age */
    now.synced = 1;
    assert_int_equal(lpr_spool_enforce(s, &now, &d), LPR_OK);
    assert_int_equal(d, 1); /* the 1970 read; the new one stays */
    lpr_spool_row r;
    int n = 0;
    assert_int_equal(lpr_spool_fetch(s, 0, 2, &r, &n), LPR_OK);
    assert_int_equal(n, 1);
    assert_int_equal(r.seq, 8);
    lpr_spool_row_clear(&r);
    lpr_spool_close(s);
}

static int64_t sql_int(const char *query)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int64_t v = -1;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    if (sqlite3_prepare_v2(db, query, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return v;
}

/* Issue 16, 5.: lpr spool stats added tables to an unrelated SQLite file and
 * switched it to WAL; a foreign schema made the uplink spin; a corrupt
 * spool opened and lpr doctor said PASS. */
static void test_foreign_and_corrupt_spools(void **state)
{
    (void)state;
    lpr_spool *s;
    lpr_spool_opts look = {.read_only = 1}, daemon = {.device_id = "cam-f", .check = 1};
    sql("CREATE TABLE contacts(name TEXT); INSERT INTO contacts VALUES('x');");
    assert_int_equal(lpr_spool_open(dbpath, &look, &s), LPR_EFORMAT);
    assert_int_equal(lpr_spool_open(dbpath, &daemon, &s), LPR_EFORMAT);
    assert_int_equal(sql_int("SELECT count(*) FROM sqlite_master"), 1); /* untouched */
    assert_int_equal(sql_int("PRAGMA application_id"), 0);
    char mode[16] = "";
    {
        sqlite3 *db;
        sqlite3_stmt *st;
        assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        snprintf(mode, sizeof mode, "%s", (const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
        sqlite3_close(db);
    }
    assert_string_equal(mode, "delete");
    unlink(dbpath);
    /* looking never makes a spool, not even from an empty file */
    assert_int_equal(lpr_spool_open(dbpath, &look, &s), LPR_ENOENT);
    FILE *f = fopen(dbpath, "w");
    fclose(f);
    assert_int_equal(lpr_spool_open(dbpath, &look, &s), LPR_EFORMAT);
    /* a spool: the application id is set, a look opens it read-only */
    assert_int_equal(lpr_spool_open(dbpath, &daemon, &s), LPR_OK);
    char big[1200];
    snprintf(big, sizeof big, "{\"plate\":{\"text\":\"%0900d\"}}", 7);
    for (int i = 0; i < 200; i++)
        assert_int_equal(lpr_spool_append(s, big, strlen(big), NULL, NULL, 0), LPR_OK);
    lpr_spool_close(s);
    assert_int_equal(sql_int("PRAGMA application_id"), LPR_SPOOL_APP_ID);
    assert_int_equal(lpr_spool_open(dbpath, &look, &s), LPR_OK);
    lpr_spool_stats st;
    assert_int_equal(lpr_spool_get_stats(s, 0, &st), LPR_OK);
    assert_int_equal(st.depth, 200);
    assert_int_equal(lpr_spool_append(s, big, strlen(big), NULL, NULL, 0) == LPR_OK, 0);
    lpr_spool_close(s);
    /* corrupt pages: a daemon refuses to start on it, naming the cause */
    f = fopen(dbpath, "r+b");
    char junk[4096];
    memset(junk, 0xA5, sizeof junk);
    for (long page = 40; page < 60; page++) {
        assert_int_equal(fseek(f, page * 4096, SEEK_SET), 0);
        assert_int_equal(fwrite(junk, 1, sizeof junk, f), sizeof junk);
    }
    fclose(f);
    assert_int_equal(lpr_spool_open(dbpath, &daemon, &s), LPR_EDB);
    /* told to, the corrupt spool moves aside whole (nothing deleted) and the
     * next start makes a new spool with a new epoch: no id repeats */
    char moved[700], wal[720];
    struct stat sb;
    assert_int_equal(lpr_spool_quarantine(dbpath, moved, sizeof moved), LPR_OK);
    assert_non_null(strstr(moved, "spool.db.bad-"));
    assert_int_equal(stat(moved, &sb), 0);
    assert_true(sb.st_size >= 60 * 4096);
    assert_int_equal(access(dbpath, F_OK), -1);
    snprintf(wal, sizeof wal, "%s-wal", dbpath);
    assert_int_equal(access(wal, F_OK), -1);
    assert_int_equal(lpr_spool_open(dbpath, &daemon, &s), LPR_OK);
    lpr_spool_stats fresh;
    assert_int_equal(lpr_spool_get_stats(s, 0, &fresh), LPR_OK);
    assert_int_equal(fresh.depth, 0);
    assert_int_equal(fresh.next_seq, 1);
    assert_string_not_equal(fresh.epoch, st.epoch);
    lpr_spool_close(s);
    assert_int_equal(lpr_spool_quarantine("/nonexistent-dir/spool.db", NULL, 0), LPR_ENOENT);
}

static void test_open_bad_path(void **state)
{
    (void)state;
    lpr_spool *s;
    assert_int_equal(lpr_spool_open("/nonexistent-dir/x/spool.db", NULL, &s), LPR_EIO);
    assert_null(s);
}

int main(void)
{
    lpr_log_set_level(LPR_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_seq_survives_reopen_and_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_payload_stamped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_spool_never_repeats_an_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signature_stored_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rejects_non_object, setup, teardown),
        cmocka_unit_test_setup_teardown(test_size_quota_drops_oldest_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_mode_and_must_exist, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fetch_error_is_not_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_age_quota_ignores_clock_steps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spool_before_age_columns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sealed_at_append, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_and_corrupt_spools, setup, teardown),
        cmocka_unit_test(test_open_bad_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

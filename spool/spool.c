/*
 * spool.c - the SQLite spool (see lpr_spool.h).
 *
 * Schema: reads(seq PRIMARY KEY, id UNIQUE, payload, sig, created_ms,
 * attempts, clock_synced, boot, boot_ms) and meta(key, value) holding
 * next_seq, dropped and epoch (63 random bits drawn when the spool is made:
 * ids are "<device>-<epoch>-<seq>", so a spool made anew never repeats an
 * id an earlier one issued). An append is one IMMEDIATE transaction: take next_seq, stamp,
 * seal (sign the stamped bytes, when a sealer is set), insert, bump next_seq. A full disk on append
 * drops the oldest reads (counted) and retries once.
 *
 * Full disk: SQLite in WAL mode needs disk space even to delete (the WAL
 * grows by the pages it changes). So beside the spool lies a reserve file,
 * <spool>.reserve, LPR_SPOOL_RESERVE_BYTES made when there is room. A write
 * that fails with a full disk releases it, makes room (an append drops the
 * oldest reads, counted; every write checkpoints and truncates the WAL) and
 * retries once; the reserve is made again once there is room. The WAL is
 * checkpointed every WAL_PAGES pages and truncated to the same size, and the
 * size quota counts it.
 *
 * Age: clock_synced says whether the wall clock (created_ms) was
 * synchronised when the read was spooled, boot is the kernel's boot id and
 * boot_ms CLOCK_BOOTTIME then. A read spooled in this boot ages by
 * CLOCK_BOOTTIME, which no clock step moves; one from an earlier boot by the
 * wall clock, and only if the clock was synchronised then and is now: a
 * read spooled while the clock was wrong is never aged out by the
 * correction (the size quota still bounds it). Rows from before these
 * columns (boot NULL) age by the wall clock while it is synchronised.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "lpr_config.h"
#include "lpr_read.h"
#include "lpr_spool.h"

#define WAL_PAGES 128 /* 512 KiB of 4 KiB pages: checkpoint and WAL size limit */

struct lpr_spool {
    sqlite3 *db;
    char path[512];
    char device[64];
    char boot[40];  /* this boot's id; "" when the kernel does not say */
    char epoch[17]; /* the spool's epoch, 16 hex digits */
    double max_mb, max_age_days;
    int64_t age_checked_boot_ms; /* when append last ran the age quota */
    int reserve_missing_logged;  /* said once that no reserve could be made */
    int quiet_full;              /* a full disk is being handled: db_error says nothing */
    lpr_spool_sealer seal;       /* signs each appended read; NULL: stored unsealed */
    void *seal_ctx;
    char seal_kid[LPR_SPOOL_KID_MAX]; /* the sealing key's id, stored with each seal */
};

/* ---- the reserve (see the top of this file) ---- */
static void reserve_path(const lpr_spool *s, char *out, size_t n)
{
    snprintf(out, n, "%s.reserve", s->path);
}

/* Makes the reserve if it is missing; 0 when it is there. */
static int reserve_make(lpr_spool *s)
{
    char p[600];
    struct stat st;
    reserve_path(s, p, sizeof p);
    if (stat(p, &st) == 0 && st.st_size >= LPR_SPOOL_RESERVE_BYTES)
        return 0;
    int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0660);
    if (fd < 0)
        return -1;
    int rc = posix_fallocate(fd, 0, LPR_SPOOL_RESERVE_BYTES);
    if (rc == EOPNOTSUPP || rc == EINVAL) { /* a file system without fallocate: write it */
        static const char zero[4096];
        rc = 0;
        for (off_t off = 0; rc == 0 && off < LPR_SPOOL_RESERVE_BYTES; off += sizeof zero)
            if (pwrite(fd, zero, sizeof zero, off) != (ssize_t)sizeof zero)
                rc = errno ? errno : ENOSPC;
        if (rc == 0 && fsync(fd) != 0)
            rc = errno;
    }
    close(fd);
    if (rc != 0) {
        unlink(p);
        if (!s->reserve_missing_logged)
            LPR_WARN("spool", "%s: no room for the %d KiB full-disk reserve (%s); will retry", p,
                     LPR_SPOOL_RESERVE_BYTES / 1024, strerror(rc));
        s->reserve_missing_logged = 1;
        return -1;
    }
    if (s->reserve_missing_logged)
        LPR_INFO("spool", "%s: full-disk reserve made again", p);
    s->reserve_missing_logged = 0;
    return 0;
}

/* Frees the reserve's space; 1 if there was one. */
static int reserve_release(lpr_spool *s)
{
    char p[600];
    reserve_path(s, p, sizeof p);
    return unlink(p) == 0;
}

static int exec_sql(lpr_spool *s, const char *sql);

/* Writes the WAL back into the database and truncates it; 0 when done
 * (another process's open read can hold it back). */
static int checkpoint(lpr_spool *s)
{
    return sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL) !=
           SQLITE_OK;
}

/* Gives the free pages of the database back to the file system (a spool
 * made with auto_vacuum=INCREMENTAL; older ones keep them for new reads). */
static void give_back(lpr_spool *s)
{
    exec_sql(s, "PRAGMA incremental_vacuum;");
    checkpoint(s);
}

static const char *const schema_sql =
    "CREATE TABLE IF NOT EXISTS reads("
    " seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, payload BLOB NOT NULL,"
    " sig BLOB, created_ms INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
    " clock_synced INTEGER, boot TEXT, boot_ms INTEGER, kid TEXT);"
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "INSERT OR IGNORE INTO meta VALUES('next_seq', 1);"
    "INSERT OR IGNORE INTO meta VALUES('dropped', 0);";

/* A spool made before these columns gets them (NULL in its old rows): the
 * age columns, and kid, the key id of the seal (NULL: signed by an uplink
 * before reads were sealed at capture, or not sealed yet). */
static const char *const added_columns[] = {"clock_synced INTEGER", "boot TEXT", "boot_ms INTEGER",
                                            "kid TEXT"};

lpr_spool_clock lpr_spool_clock_now(void)
{
    return (lpr_spool_clock){lpr_realtime_ms(), lpr_boottime_ms(), lpr_clock_synced()};
}

static void read_boot_id(char *out, size_t n)
{
    out[0] = 0;
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
    if (!f)
        return;
    if (!fgets(out, (int)n, f))
        out[0] = 0;
    fclose(f);
    out[strcspn(out, "\r\n")] = 0;
}

static int64_t query_int(lpr_spool *s, const char *sql, int64_t dflt)
{
    sqlite3_stmt *st;
    int64_t v = dflt;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
            v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    return v;
}

static lpr_err db_error(lpr_spool *s, const char *what)
{
    int code = sqlite3_errcode(s->db);
    if (!(s->quiet_full && code == SQLITE_FULL))
        LPR_ERROR("spool", "%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
    if (code == SQLITE_FULL)
        return LPR_EFULL;
    if (code == SQLITE_CANTOPEN || code == SQLITE_IOERR || code == SQLITE_READONLY)
        return LPR_EIO;
    return LPR_EDB;
}

static int exec_sql(lpr_spool *s, const char *sql)
{
    return sqlite3_exec(s->db, sql, NULL, NULL, NULL);
}

/* Whether the tables and meta rows exist: then opening needs no write
 * lock, so a spool another process holds locked still opens (and is read). */
static int schema_ready(lpr_spool *s)
{
    sqlite3_stmt *st;
    int ready = 0;
    if (sqlite3_prepare_v2(
            s->db,
            "SELECT (SELECT count(*) FROM sqlite_master WHERE type='table' AND "
            "name IN ('reads','meta')) = 2 AND (SELECT count(*) FROM meta WHERE key "
            "IN ('next_seq','dropped','epoch')) = 3 AND (SELECT count(*) FROM "
            "pragma_table_info('reads') WHERE name IN ('clock_synced','boot','boot_ms')) = 3",
            -1, &st, NULL) != SQLITE_OK) {
        /* no meta table yet: not ready */
        return 0;
    }
    if (sqlite3_step(st) == SQLITE_ROW)
        ready = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return ready;
}

/* Whether the file at s is a spool (or empty, to be made one): never
 * another program's SQLite file, which opening would change (tables added,
 * WAL switched on). With check, PRAGMA quick_check must pass too. */
static lpr_err check_identity(lpr_spool *s, int read_only, int check)
{
    sqlite3_stmt *st;
    int64_t app = query_int(s, "PRAGMA application_id", -1), tables, ours;
    if (app < 0) {
        LPR_ERROR("spool", "%s: not a spool: %s", s->path, sqlite3_errmsg(s->db));
        return sqlite3_errcode(s->db) == SQLITE_NOTADB ? LPR_EFORMAT : LPR_EDB;
    }
    tables = query_int(s, "SELECT count(*) FROM sqlite_master WHERE type='table'", -1);
    ours = query_int(s,
                     "SELECT count(*) FROM sqlite_master WHERE type='table' AND "
                     "name IN ('reads','meta')",
                     -1);
    if (tables < 0) {
        LPR_ERROR("spool", "%s: not a spool: %s", s->path, sqlite3_errmsg(s->db));
        return LPR_EFORMAT;
    }
    if ((app != 0 && app != LPR_SPOOL_APP_ID) || (tables > 0 && ours != 2)) {
        LPR_ERROR("spool",
                  "%s: another program's SQLite database (application id %lld, %lld "
                  "table(s)), not an lpr spool: left as it is",
                  s->path, (long long)app, (long long)tables);
        return LPR_EFORMAT;
    }
    if (tables == 0 && read_only) {
        LPR_ERROR("spool", "%s: an empty database, not a spool", s->path);
        return LPR_EFORMAT;
    }
    if (check && tables > 0) {
        char *res = NULL;
        if (sqlite3_prepare_v2(s->db, "PRAGMA quick_check(1)", -1, &st, NULL) == SQLITE_OK) {
            if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
                res = strdup((const char *)sqlite3_column_text(st, 0));
            sqlite3_finalize(st);
        }
        if (!res || strcmp(res, "ok")) {
            LPR_ERROR("spool",
                      "%s: corrupt (quick_check: %s); `lpr spool quarantine` moves it aside "
                      "(its reads may be recoverable with sqlite3 .recover) and the next start "
                      "makes a new spool, with a new epoch",
                      s->path, res ? res : sqlite3_errmsg(s->db));
            free(res);
            return LPR_EDB;
        }
        free(res);
    }
    return LPR_OK;
}

/* Makes the tables, and adds the age columns to a spool made before them;
 * one transaction, so two processes opening a new spool at once agree. */
static int migrate(lpr_spool *s)
{
    if (exec_sql(s, "BEGIN IMMEDIATE;") != SQLITE_OK)
        return SQLITE_ERROR;
    char app[64];
    snprintf(app, sizeof app, "PRAGMA application_id=%d;", LPR_SPOOL_APP_ID);
    int rc = exec_sql(s, schema_sql);
    if (rc == SQLITE_OK)
        rc = exec_sql(s, app);
    if (rc == SQLITE_OK) {
        /* the epoch: 63 random bits, so a spool made anew (lost, replaced,
         * corrupted) never issues an id an earlier one did */
        uint64_t r = 0;
        if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r) {
            LPR_ERROR("spool", "%s: no random bytes for the spool's epoch: %s", s->path,
                      strerror(errno));
            exec_sql(s, "ROLLBACK;");
            return SQLITE_ERROR;
        }
        sqlite3_stmt *st;
        rc = sqlite3_prepare_v2(s->db, "INSERT OR IGNORE INTO meta VALUES('epoch', ?)", -1, &st,
                                NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_int64(st, 1, (sqlite3_int64)(r >> 1));
            rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
            sqlite3_finalize(st);
        }
    }
    for (unsigned i = 0; rc == SQLITE_OK && i < sizeof added_columns / sizeof added_columns[0];
         i++) {
        char name[16], sql[128], probe[128];
        sscanf(added_columns[i], "%15s", name);
        snprintf(probe, sizeof probe,
                 "SELECT count(*) FROM pragma_table_info('reads') WHERE name='%s'", name);
        int64_t have = query_int(s, probe, -1);
        if (have < 0) {
            rc = SQLITE_ERROR;
            break;
        }
        snprintf(sql, sizeof sql, "ALTER TABLE reads ADD COLUMN %s;", added_columns[i]);
        if (!have)
            rc = exec_sql(s, sql);
    }
    if (rc == SQLITE_OK)
        rc = exec_sql(s, "COMMIT;");
    if (rc != SQLITE_OK)
        exec_sql(s, "ROLLBACK;");
    return rc;
}

lpr_err lpr_spool_quarantine(const char *path, char *moved_to, size_t n)
{
    char stamp[32], to[600], from[600];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(to, sizeof to, "%s.bad-%s", path, stamp);
    if (access(to, F_OK) == 0) {
        LPR_ERROR("spool", "%s: %s is already there: try again in a second", path, to);
        return LPR_EEXIST;
    }
    /* the database first: once it is gone, the next start makes a new
     * spool; its WAL and shared memory follow it (they hold its last
     * transactions), the reserve is only filler */
    if (rename(path, to) != 0) {
        LPR_ERROR("spool", "%s: cannot move it to %s: %s", path, to, strerror(errno));
        return errno == ENOENT ? LPR_ENOENT : LPR_EIO;
    }
    static const char *const sides[] = {"-wal", "-shm"};
    for (unsigned i = 0; i < sizeof sides / sizeof sides[0]; i++) {
        char side_to[620];
        snprintf(from, sizeof from, "%s%s", path, sides[i]);
        snprintf(side_to, sizeof side_to, "%s%s", to, sides[i]);
        if (rename(from, side_to) != 0 && errno != ENOENT)
            LPR_WARN("spool", "%s: cannot move it beside %s: %s", from, to, strerror(errno));
    }
    snprintf(from, sizeof from, "%s.reserve", path);
    unlink(from);
    if (moved_to)
        snprintf(moved_to, n, "%s", to);
    return LPR_OK;
}

lpr_spool_opts lpr_spool_opts_from_config(const lpr_config *c)
{
    return (lpr_spool_opts){.device_id = c->device.id,
                            .max_mb = c->spool.max_mb,
                            .max_age_days = c->spool.max_age_days,
                            .must_exist = 0,
                            .check = 1};
}

lpr_err lpr_spool_open(const char *path, const lpr_spool_opts *opts, lpr_spool **out)
{
    lpr_spool *s = calloc(1, sizeof *s);
    *out = NULL;
    if (!s)
        return LPR_ENOMEM;
    snprintf(s->path, sizeof s->path, "%s", path);
    if (opts) {
        if (opts->device_id)
            snprintf(s->device, sizeof s->device, "%s", opts->device_id);
        s->max_mb = opts->max_mb;
        s->max_age_days = opts->max_age_days;
    }
    int read_only = opts && opts->read_only;
    if (read_only || (opts && opts->must_exist)) {
        if (access(path, F_OK) != 0) {
            LPR_ERROR("spool", "%s: no spool there: %s", path, strerror(errno));
            free(s);
            return LPR_ENOENT;
        }
    } else {
        /* SQLite would create the file 0644 less the umask (0640 under the
         * units' UMask=0007): the other service user could not write it */
        int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0660);
        if (fd >= 0)
            close(fd);
    }
    if (sqlite3_open_v2(path, &s->db, read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE,
                        NULL) != SQLITE_OK) {
        lpr_err rc = db_error(s, "cannot open spool");
        lpr_spool_close(s);
        return rc == LPR_EDB ? LPR_EIO : rc;
    }
    sqlite3_busy_timeout(s->db, opts && opts->busy_ms > 0 ? opts->busy_ms : 10000);
    read_boot_id(s->boot, sizeof s->boot);
    s->age_checked_boot_ms = INT64_MIN / 2;
    lpr_err rc = check_identity(s, read_only, opts && opts->check);
    if (rc != LPR_OK) {
        lpr_spool_close(s);
        return rc;
    }
    if (read_only) {
        if (!schema_ready(s)) {
            LPR_ERROR("spool",
                      "%s: an lpr spool of an older version: open it once with lprd or "
                      "lpr-uplink",
                      path);
            lpr_spool_close(s);
            return LPR_EFORMAT;
        }
        snprintf(s->epoch, sizeof s->epoch, "%016llx",
                 (unsigned long long)query_int(s, "SELECT value FROM meta WHERE key='epoch'", 0));
        *out = s;
        return LPR_OK;
    }
    /* WAL: the camera appends while the uplink reads and deletes;
     * synchronous=FULL: a committed read survives a power cut. A full disk
     * (the -shm and -wal files need room): release the reserve, once. */
    /* a new spool gives the pages of dropped reads back to the file system
     * (a full disk); it must be set before the first write (WAL mode's
     * included), and takes the write lock: so only on an empty file */
    if (query_int(s, "PRAGMA page_count", 1) == 0)
        exec_sql(s, "PRAGMA auto_vacuum=INCREMENTAL;");
    for (int attempt = 0;; attempt++) {
        char sql[160];
        snprintf(sql, sizeof sql,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                 " PRAGMA wal_autocheckpoint=%d; PRAGMA journal_size_limit=%d;",
                 WAL_PAGES, WAL_PAGES * 4096);
        if (exec_sql(s, sql) == SQLITE_OK && (schema_ready(s) || migrate(s) == SQLITE_OK))
            break;
        /* SQLite says "disk I/O error" when it cannot size the -shm file */
        int code = sqlite3_errcode(s->db);
        if (attempt == 0 && (code == SQLITE_FULL || code == SQLITE_IOERR) && reserve_release(s)) {
            LPR_WARN("spool", "%s: disk full on open: released the full-disk reserve", path);
            continue;
        }
        rc = db_error(s, "cannot initialise spool");
        lpr_spool_close(s);
        return rc;
    }
    if (!(opts && opts->must_exist))
        reserve_make(s);
    snprintf(s->epoch, sizeof s->epoch, "%016llx",
             (unsigned long long)query_int(s, "SELECT value FROM meta WHERE key='epoch'", 0));
    *out = s;
    return LPR_OK;
}

void lpr_spool_close(lpr_spool *s)
{
    if (!s)
        return;
    sqlite3_close_v2(s->db);
    free(s);
}

const char *lpr_spool_epoch(const lpr_spool *s)
{
    return s->epoch;
}

static lpr_err append_once(lpr_spool *s, const json_t *obj, int64_t *seq_out, char *id,
                           size_t idlen)
{
    sqlite3_stmt *st = NULL;
    char *payload = NULL;
    char idbuf[LPR_READ_ID_MAX];
    int64_t seq = 0;
    lpr_err rc = LPR_OK;

    if (exec_sql(s, "BEGIN IMMEDIATE;") != SQLITE_OK)
        return db_error(s, "begin append");
    if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key='next_seq'", -1, &st, NULL) !=
            SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        rc = db_error(s, "read next_seq");
        goto out;
    }
    seq = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    payload = lpr_read_stamp(obj, s->device, s->epoch, seq, idbuf, sizeof idbuf);
    if (!payload) {
        rc = LPR_ENOMEM;
        goto out;
    }
    unsigned char sig[LPR_SPOOL_SIG_MAX];
    size_t sig_len = 0;
    if (s->seal && (rc = s->seal(s->seal_ctx, payload, strlen(payload), sig, &sig_len)) != LPR_OK) {
        LPR_ERROR("spool", "%s: read %s not sealed (%s): not spooled", s->path, idbuf,
                  lpr_strerror(rc));
        goto out;
    }
    if (sqlite3_prepare_v2(
            s->db,
            "INSERT INTO reads(seq, id, payload, sig, kid, created_ms, clock_synced, boot, boot_ms)"
            " VALUES(?,?,?,?,?,?,?,?,?)",
            -1, &st, NULL) != SQLITE_OK) {
        rc = db_error(s, "prepare insert");
        goto out;
    }
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_text(st, 2, idbuf, -1, SQLITE_TRANSIENT);
    sqlite3_bind_blob(st, 3, payload, (int)strlen(payload), SQLITE_TRANSIENT);
    if (s->seal) {
        sqlite3_bind_blob(st, 4, sig, (int)sig_len, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 5, s->seal_kid, -1, SQLITE_TRANSIENT);
    } else {
        sqlite3_bind_null(st, 4);
        sqlite3_bind_null(st, 5);
    }
    lpr_spool_clock now = lpr_spool_clock_now();
    sqlite3_bind_int64(st, 6, now.wall_ms);
    sqlite3_bind_int(st, 7, now.synced);
    sqlite3_bind_text(st, 8, s->boot, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 9, now.boot_ms);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = db_error(s, "insert read");
        goto out;
    }
    if (exec_sql(s, "UPDATE meta SET value = value + 1 WHERE key='next_seq';") != SQLITE_OK) {
        rc = db_error(s, "bump next_seq");
        goto out;
    }
    if (exec_sql(s, "COMMIT;") != SQLITE_OK) {
        rc = db_error(s, "commit append");
        goto out;
    }
    if (seq_out)
        *seq_out = seq;
    if (id)
        snprintf(id, idlen, "%s", idbuf);
out:
    sqlite3_finalize(st);
    free(payload);
    if (rc != LPR_OK)
        exec_sql(s, "ROLLBACK;");
    return rc;
}

/* Drops the n oldest reads and counts them. */
static lpr_err drop_oldest(lpr_spool *s, int64_t n, int64_t *dropped)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "BEGIN IMMEDIATE;"
             "UPDATE meta SET value = value + (SELECT count(*) FROM (SELECT seq FROM reads"
             " ORDER BY seq LIMIT %lld)) WHERE key='dropped';"
             "DELETE FROM reads WHERE seq IN (SELECT seq FROM reads ORDER BY seq LIMIT %lld);"
             "COMMIT;",
             (long long)n, (long long)n);
    int before = sqlite3_total_changes(s->db);
    if (exec_sql(s, sql) != SQLITE_OK) {
        lpr_err rc = db_error(s, "drop oldest reads");
        if (!sqlite3_get_autocommit(s->db))
            exec_sql(s, "ROLLBACK;");
        return rc;
    }
    if (dropped)
        *dropped += (sqlite3_total_changes(s->db) - before) - 1; /* minus the meta row */
    return LPR_OK;
}

static lpr_err enforce(lpr_spool *s, const lpr_spool_clock *now, int with_age, int64_t *dropped);

/* Makes the reserve again; when the disk has no room for it (others filled
 * it), the oldest reads make the room, counted: without the reserve the
 * next full disk could not even delete. At most 4 x 64 reads per call. */
static void keep_reserve(lpr_spool *s)
{
    for (int round = 0; reserve_make(s) != 0 && round < 4; round++) {
        int64_t d = 0;
        s->quiet_full = 1;
        lpr_err rc = drop_oldest(s, 64, &d);
        give_back(s);
        s->quiet_full = 0;
        if (rc != LPR_OK || d == 0)
            break;
        LPR_WARN("spool",
                 "%s: disk full: dropped the %lld oldest read(s) to make the full-disk "
                 "reserve again",
                 s->path, (long long)d);
    }
}

lpr_err lpr_spool_append(lpr_spool *s, const char *json, size_t len, int64_t *seq_out, char *id,
                         size_t idlen)
{
    json_error_t jerr;
    if (!s->device[0]) {
        LPR_ERROR("spool", "%s: append needs a device id", s->path);
        return LPR_EINVAL;
    }
    json_t *obj = json_loadb(json, len, 0, &jerr);
    if (!obj || !json_is_object(obj)) {
        LPR_ERROR("spool", "read is not a JSON object: %s (column %d)",
                  obj ? "not an object" : jerr.text, jerr.column);
        json_decref(obj);
        return LPR_EFORMAT;
    }
    s->quiet_full = 1; /* the last attempt below says it, if all fail */
    lpr_err rc = append_once(s, obj, seq_out, id, idlen);
    if (rc == LPR_EFULL) {
        /* disk full: first the WAL's room (a truncating checkpoint; the
         * database's free pages then take the read) */
        checkpoint(s);
        rc = append_once(s, obj, seq_out, id, idlen);
    }
    if (rc == LPR_EFULL) {
        /* still full: the reserve gives the room to delete; the oldest reads
         * go (counted) so the newest is kept; retry once */
        int64_t d = 0;
        int had = reserve_release(s);
        checkpoint(s);
        lpr_err drc = drop_oldest(s, 64, &d);
        give_back(s);
        if (drc == LPR_OK)
            LPR_WARN("spool", "%s: disk full: %sdropped the %lld oldest read(s) to keep the newest",
                     s->path, had ? "released the full-disk reserve, " : "", (long long)d);
        else
            LPR_WARN("spool", "%s: disk full, and %s: no room even to delete reads", s->path,
                     had ? "the full-disk reserve is not enough" : "no full-disk reserve is left");
        s->quiet_full = 0;
        rc = append_once(s, obj, seq_out, id, idlen);
    }
    s->quiet_full = 0;
    if (rc == LPR_OK) {
        keep_reserve(s);
        /* the age quota scans the reads: once a minute is enough */
        lpr_spool_clock now = lpr_spool_clock_now();
        int with_age = now.boot_ms - s->age_checked_boot_ms >= 60000;
        if (with_age)
            s->age_checked_boot_ms = now.boot_ms;
        enforce(s, &now, with_age, NULL);
    }
    json_decref(obj);
    return rc;
}

static int64_t wal_bytes(lpr_spool *s)
{
    char wal[600];
    struct stat st;
    snprintf(wal, sizeof wal, "%s-wal", s->path);
    return stat(wal, &st) == 0 ? (int64_t)st.st_size : 0;
}

/* What the size quota counts: the database's pages in use and the WAL. */
static int64_t db_bytes(lpr_spool *s)
{
    int64_t pages = query_int(s, "PRAGMA page_count", 0);
    int64_t free_pages = query_int(s, "PRAGMA freelist_count", 0);
    int64_t size = query_int(s, "PRAGMA page_size", 4096);
    return (pages - free_pages) * size + wal_bytes(s);
}

/* Binds drop_aged's parameters: this boot, the boot-clock and wall-clock
 * cut-offs, whether the wall clock is synchronised. */
static void bind_age(sqlite3_stmt *st, const lpr_spool *s, const lpr_spool_clock *now,
                     int64_t age_ms)
{
    sqlite3_bind_text(st, 1, s->boot, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, now->boot_ms - age_ms);
    sqlite3_bind_int(st, 3, now->synced != 0);
    sqlite3_bind_int64(st, 4, now->wall_ms - age_ms);
}

/* Drops the reads older than the age quota (see the top of this file),
 * counted as dropped, in one transaction. */
static lpr_err drop_aged(lpr_spool *s, const lpr_spool_clock *now, int64_t *dropped)
{
    static const char *const stale =
        " WHERE (boot = ?1 AND ?1 <> '' AND boot_ms < ?2)"
        " OR (?3 AND (boot IS NULL OR boot <> ?1) AND (boot IS NULL OR clock_synced = 1)"
        " AND created_ms < ?4)";
    int64_t age_ms = (int64_t)(s->max_age_days * 86400000.0);
    char count_sql[512], delete_sql[512];
    snprintf(count_sql, sizeof count_sql, "SELECT count(*) FROM reads%s", stale);
    snprintf(delete_sql, sizeof delete_sql, "DELETE FROM reads%s", stale);
    sqlite3_stmt *st = NULL;
    int64_t n = 0;
    if (sqlite3_prepare_v2(s->db, count_sql, -1, &st, NULL) != SQLITE_OK)
        return db_error(s, "prepare age quota");
    bind_age(st, s, now, age_ms);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (n == 0)
        return LPR_OK;
    if (exec_sql(s, "BEGIN IMMEDIATE;") != SQLITE_OK)
        return db_error(s, "begin age quota");
    if (sqlite3_prepare_v2(s->db, delete_sql, -1, &st, NULL) != SQLITE_OK)
        goto fail;
    bind_age(st, s, now, age_ms);
    if (sqlite3_step(st) != SQLITE_DONE)
        goto fail;
    sqlite3_finalize(st);
    st = NULL;
    n = sqlite3_changes(s->db);
    char sql[128];
    snprintf(sql, sizeof sql, "UPDATE meta SET value = value + %lld WHERE key='dropped';",
             (long long)n);
    if (exec_sql(s, sql) != SQLITE_OK || exec_sql(s, "COMMIT;") != SQLITE_OK)
        goto fail;
    *dropped += n;
    return LPR_OK;
fail:;
    lpr_err rc = db_error(s, "age quota");
    sqlite3_finalize(st);
    exec_sql(s, "ROLLBACK;");
    return rc;
}

/* The quotas; the age quota only with_age (it scans the reads). */
static lpr_err enforce(lpr_spool *s, const lpr_spool_clock *now, int with_age, int64_t *dropped)
{
    int64_t d = 0;
    lpr_err rc = LPR_OK;
    if (with_age && s->max_age_days > 0)
        rc = drop_aged(s, now, &d);
    if (rc == LPR_OK && s->max_mb > 0) {
        int64_t limit = (int64_t)(s->max_mb * 1024 * 1024);
        /* the WAL counts; a checkpoint truncates it. One that another
         * process's open read holds back is no reason to drop reads: then
         * only the database's pages count, until the next try */
        for (int guard = 0; guard < 1000 && db_bytes(s) > limit; guard++) {
            int busy = checkpoint(s);
            int64_t used = db_bytes(s);
            if ((busy ? used - wal_bytes(s) : used) <= limit)
                break;
            int64_t depth = query_int(s, "SELECT count(*) FROM reads", 0);
            if (depth == 0)
                break;
            rc = drop_oldest(s, depth / 50 + 1, &d);
            if (rc != LPR_OK)
                break;
        }
    }
    if (d > 0)
        LPR_WARN("spool", "%s: quota reached, dropped %lld oldest read(s)", s->path, (long long)d);
    if (dropped)
        *dropped = d;
    return rc;
}

lpr_err lpr_spool_enforce(lpr_spool *s, const lpr_spool_clock *now, int64_t *dropped)
{
    return enforce(s, now, 1, dropped);
}

static lpr_err fetch_rows(lpr_spool *s, sqlite3_stmt *st, int max, lpr_spool_row *rows, int *n);

lpr_err lpr_spool_fetch(lpr_spool *s, int64_t after_seq, int max, lpr_spool_row *rows, int *n)
{
    sqlite3_stmt *st;
    *n = 0;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT seq, id, payload, sig, created_ms, attempts, kid FROM reads"
                           " WHERE seq > ? ORDER BY seq LIMIT ?",
                           -1, &st, NULL) != SQLITE_OK)
        return db_error(s, "prepare fetch");
    sqlite3_bind_int64(st, 1, after_seq);
    sqlite3_bind_int(st, 2, max);
    return fetch_rows(s, st, max, rows, n);
}

/* Oldest unsealed reads with seq > after_seq: lpr_spool_seal_unsigned's work. */
static lpr_err fetch_unsigned(lpr_spool *s, int64_t after_seq, int max, lpr_spool_row *rows, int *n)
{
    sqlite3_stmt *st;
    *n = 0;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT seq, id, payload, sig, created_ms, attempts, kid FROM reads"
                           " WHERE seq > ? AND sig IS NULL ORDER BY seq LIMIT ?",
                           -1, &st, NULL) != SQLITE_OK)
        return db_error(s, "prepare fetch unsigned");
    sqlite3_bind_int64(st, 1, after_seq);
    sqlite3_bind_int(st, 2, max);
    return fetch_rows(s, st, max, rows, n);
}

void lpr_spool_set_sealer(lpr_spool *s, lpr_spool_sealer fn, void *ctx, const char *kid)
{
    s->seal = fn;
    s->seal_ctx = ctx;
    snprintf(s->seal_kid, sizeof s->seal_kid, "%s", fn && kid ? kid : "");
}

lpr_err lpr_spool_seal_unsigned(lpr_spool *s, int64_t *sealed)
{
    int64_t cursor = 0, count = 0;
    lpr_err rc = LPR_OK;
    if (sealed)
        *sealed = 0;
    if (!s->seal)
        return LPR_EINVAL;
    for (;;) {
        lpr_spool_row rows[64];
        int n = 0;
        if ((rc = fetch_unsigned(s, cursor, 64, rows, &n)) != LPR_OK || n == 0)
            break;
        for (int i = 0; i < n && rc == LPR_OK; i++) {
            unsigned char sig[LPR_SPOOL_SIG_MAX];
            size_t sl = 0;
            if ((rc = s->seal(s->seal_ctx, rows[i].payload, rows[i].payload_len, sig, &sl)) ==
                    LPR_OK &&
                (rows[i].sig = malloc(sl)) == NULL)
                rc = LPR_ENOMEM;
            if (rc == LPR_OK) {
                memcpy(rows[i].sig, sig, sl);
                rows[i].sig_len = sl;
                snprintf(rows[i].kid, sizeof rows[i].kid, "%s", s->seal_kid);
            }
        }
        if (rc == LPR_OK && (rc = lpr_spool_set_signatures(s, rows, n)) == LPR_OK) {
            cursor = rows[n - 1].seq;
            count += n;
        }
        for (int i = 0; i < n; i++)
            lpr_spool_row_clear(&rows[i]);
        if (rc != LPR_OK)
            break;
    }
    if (sealed)
        *sealed = count;
    return rc;
}

static lpr_err fetch_rows(lpr_spool *s, sqlite3_stmt *st, int max, lpr_spool_row *rows, int *n)
{
    int step = SQLITE_DONE;
    while (*n < max && (step = sqlite3_step(st)) == SQLITE_ROW) {
        lpr_spool_row *r = &rows[*n];
        memset(r, 0, sizeof *r);
        r->seq = sqlite3_column_int64(st, 0);
        snprintf(r->id, sizeof r->id, "%s", (const char *)sqlite3_column_text(st, 1));
        r->payload_len = (size_t)sqlite3_column_bytes(st, 2);
        r->payload = malloc(r->payload_len + 1);
        if (!r->payload) {
            sqlite3_finalize(st);
            return LPR_ENOMEM;
        }
        memcpy(r->payload, sqlite3_column_blob(st, 2), r->payload_len);
        r->payload[r->payload_len] = 0;
        if (sqlite3_column_type(st, 3) == SQLITE_BLOB) {
            r->sig_len = (size_t)sqlite3_column_bytes(st, 3);
            r->sig = malloc(r->sig_len);
            if (!r->sig) {
                lpr_spool_row_clear(r);
                sqlite3_finalize(st);
                return LPR_ENOMEM;
            }
            memcpy(r->sig, sqlite3_column_blob(st, 3), r->sig_len);
        }
        r->created_ms = sqlite3_column_int64(st, 4);
        r->attempts = sqlite3_column_int(st, 5);
        if (sqlite3_column_type(st, 6) == SQLITE_TEXT)
            snprintf(r->kid, sizeof r->kid, "%s", (const char *)sqlite3_column_text(st, 6));
        (*n)++;
    }
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        /* an error (busy past the timeout, I/O, corruption) is not the end
         * of the rows: say so, and hand out none of this batch */
        lpr_err rc = db_error(s, "reading reads");
        sqlite3_finalize(st);
        for (int i = 0; i < *n; i++)
            lpr_spool_row_clear(&rows[i]);
        *n = 0;
        return rc;
    }
    sqlite3_finalize(st);
    return LPR_OK;
}

void lpr_spool_row_clear(lpr_spool_row *r)
{
    free(r->payload);
    free(r->sig);
    memset(r, 0, sizeof *r);
}

/* Binds item i to the statement; 0 to skip it. */
typedef int (*batch_bind)(sqlite3_stmt *st, const void *items, int i);

/* Runs one statement for each of n items in one IMMEDIATE transaction:
 * all or nothing, one fsync. */
static lpr_err run_batch_once(lpr_spool *s, const char *sql, const void *items, int n,
                              batch_bind bind, const char *what)
{
    sqlite3_stmt *st;
    if (n <= 0)
        return LPR_OK;
    if (exec_sql(s, "BEGIN IMMEDIATE;") != SQLITE_OK)
        return db_error(s, what);
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        lpr_err rc = db_error(s, what);
        exec_sql(s, "ROLLBACK;");
        return rc;
    }
    for (int i = 0; i < n; i++) {
        if (!bind(st, items, i))
            continue;
        if (sqlite3_step(st) != SQLITE_DONE) {
            lpr_err rc = db_error(s, what);
            sqlite3_finalize(st);
            exec_sql(s, "ROLLBACK;");
            return rc;
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    if (exec_sql(s, "COMMIT;") != SQLITE_OK) {
        lpr_err rc = db_error(s, what);
        exec_sql(s, "ROLLBACK;");
        return rc;
    }
    return LPR_OK;
}

/* Items off.. of another batch (run_batch's pieces). */
typedef struct offset_items {
    batch_bind bind;
    const void *items;
    int off;
} offset_items;

static int bind_offset(sqlite3_stmt *st, const void *items, int i)
{
    const offset_items *o = items;
    return o->bind(st, o->items, o->off + i);
}

#define FULL_DISK_PIECE 16 /* items per transaction when the disk is full */

/* run_batch_once, and on a full disk once more after releasing the
 * reserve and truncating the WAL: signatures and deletes change pages in
 * place, so that room is enough for a batch of a few pages. A big batch
 * (the thousands of reads one store receipt confirms) changes more pages
 * than that room holds, so it goes again in pieces of FULL_DISK_PIECE, each
 * its own transaction and the WAL truncated after each: the uplink keeps
 * draining. The pieces are not all or nothing, which both callers allow
 * (a delete or signature repeated changes nothing). */
static lpr_err run_batch(lpr_spool *s, const char *sql, const void *items, int n, batch_bind bind,
                         const char *what)
{
    s->quiet_full = 1;
    lpr_err rc = run_batch_once(s, sql, items, n, bind, what);
    s->quiet_full = 0;
    if (rc != LPR_EFULL)
        return rc;
    int had = reserve_release(s);
    checkpoint(s);
    LPR_WARN("spool", "%s: disk full: %struncated the WAL; trying to %s again%s", s->path,
             had ? "released the full-disk reserve, " : "", what,
             n > FULL_DISK_PIECE ? ", a few at a time" : "");
    if (n <= FULL_DISK_PIECE)
        rc = run_batch_once(s, sql, items, n, bind, what);
    for (int off = 0; n > FULL_DISK_PIECE && off < n; off += FULL_DISK_PIECE) {
        offset_items o = {bind, items, off};
        rc = run_batch_once(s, sql, &o, n - off < FULL_DISK_PIECE ? n - off : FULL_DISK_PIECE,
                            bind_offset, what);
        checkpoint(s);
        if (rc != LPR_OK)
            break;
    }
    if (rc == LPR_OK)
        reserve_make(s);
    return rc;
}

static int bind_signature(sqlite3_stmt *st, const void *items, int i)
{
    const lpr_spool_row *r = (const lpr_spool_row *)items + i;
    if (!r->sig)
        return 0;
    sqlite3_bind_blob(st, 1, r->sig, (int)r->sig_len, SQLITE_TRANSIENT);
    if (r->kid[0])
        sqlite3_bind_text(st, 2, r->kid, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, 2);
    sqlite3_bind_int64(st, 3, r->seq);
    return 1;
}

lpr_err lpr_spool_set_signatures(lpr_spool *s, const lpr_spool_row *rows, int n)
{
    return run_batch(s, "UPDATE reads SET sig = ?, kid = ? WHERE seq = ? AND sig IS NULL", rows, n,
                     bind_signature, "store signatures");
}

static int bind_seq(sqlite3_stmt *st, const void *items, int i)
{
    sqlite3_bind_int64(st, 1, ((const int64_t *)items)[i]);
    return 1;
}

lpr_err lpr_spool_note_attempt(lpr_spool *s, int64_t seq)
{
    return run_batch(s, "UPDATE reads SET attempts = attempts + 1 WHERE seq = ?", &seq, 1, bind_seq,
                     "count attempt");
}

lpr_err lpr_spool_delete(lpr_spool *s, const int64_t *seqs, int n)
{
    return run_batch(s, "DELETE FROM reads WHERE seq = ?", seqs, n, bind_seq, "delete reads");
}

lpr_err lpr_spool_get_stats(lpr_spool *s, int64_t now_ms, lpr_spool_stats *st)
{
    (void)now_ms;
    memset(st, 0, sizeof *st);
    st->depth = query_int(s, "SELECT count(*) FROM reads", -1);
    if (st->depth < 0)
        return db_error(s, "stats");
    st->bytes = query_int(s, "SELECT total(length(payload) + ifnull(length(sig),0)) FROM reads", 0);
    st->oldest_ms = query_int(s, "SELECT min(created_ms) FROM reads", 0);
    st->dropped = query_int(s, "SELECT value FROM meta WHERE key='dropped'", 0);
    st->unsealed = query_int(s, "SELECT count(*) FROM reads WHERE sig IS NULL", 0);
    st->next_seq = query_int(s, "SELECT value FROM meta WHERE key='next_seq'", 0);
    snprintf(st->epoch, sizeof st->epoch, "%s", s->epoch);
    st->db_bytes = db_bytes(s);
    return LPR_OK;
}

lpr_err lpr_spool_put_counter(lpr_spool *s, const char *key, int64_t value)
{
    sqlite3_stmt *st;
    char name[96];
    snprintf(name, sizeof name, "counter.%s", key);
    if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)", -1, &st,
                           NULL) != SQLITE_OK)
        return db_error(s, "prepare counter");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, value);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? LPR_OK : db_error(s, "store counter");
}

lpr_err lpr_spool_get_counter(lpr_spool *s, const char *key, int64_t *value)
{
    sqlite3_stmt *st;
    char name[96];
    lpr_err rc = LPR_ENOENT;
    snprintf(name, sizeof name, "counter.%s", key);
    if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = ?", -1, &st, NULL) !=
        SQLITE_OK)
        return db_error(s, "prepare counter");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW) {
        *value = sqlite3_column_int64(st, 0);
        rc = LPR_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

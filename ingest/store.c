/*
 * store.c - the read store's tables in SQLite, and the choice between
 * SQLite and PostgreSQL (store_pg.c) by the name given (see store.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store.h"
#include "store_backend.h"

typedef struct sqlite_store {
    lpr_store base;
    sqlite3 *db;
    sqlite3_stmt *ins, *get, *conf_ins, *count;
} sqlite_store;

static const char schema_sql[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=FULL;"
    "CREATE TABLE IF NOT EXISTS reads(device TEXT NOT NULL, epoch TEXT NOT NULL,"
    " seq INTEGER NOT NULL, id TEXT NOT NULL, topic TEXT NOT NULL, payload BLOB NOT NULL,"
    " sig BLOB NOT NULL, kid TEXT NOT NULL, received_at TEXT NOT NULL,"
    " PRIMARY KEY(device, epoch, seq)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS conflicts(device TEXT NOT NULL, epoch TEXT NOT NULL,"
    " seq INTEGER NOT NULL, id TEXT NOT NULL, topic TEXT NOT NULL, payload BLOB NOT NULL,"
    " sig BLOB NOT NULL, kid TEXT NOT NULL, received_at TEXT NOT NULL,"
    " UNIQUE(device, epoch, seq, payload));"
    "CREATE TABLE IF NOT EXISTS counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL);";

static void sq_error(lpr_store *base)
{
    sqlite_store *s = (sqlite_store *)base;
    snprintf(base->err, sizeof base->err, "%s", sqlite3_errmsg(s->db));
}

static int sq_exec(lpr_store *base, const char *sql)
{
    sqlite_store *s = (sqlite_store *)base;
    if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK)
        return 0;
    sq_error(base);
    return -1;
}

static int sq_begin(lpr_store *base)
{
    return sq_exec(base, "BEGIN IMMEDIATE");
}

static int sq_commit(lpr_store *base)
{
    return sq_exec(base, "COMMIT");
}

static void sq_rollback(lpr_store *base)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

static void bind_read(sqlite3_stmt *st, const lpr_store_read *r, const char *at)
{
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, r->device, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, r->epoch, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, r->seq);
    sqlite3_bind_text(st, 4, r->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, r->topic, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 6, r->payload, (int)r->len, SQLITE_STATIC);
    sqlite3_bind_blob(st, 7, r->sig, (int)r->sig_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, r->kid, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, at, -1, SQLITE_TRANSIENT);
}

static int sq_put(lpr_store *base, const lpr_store_read *r, const char *at)
{
    sqlite_store *s = (sqlite_store *)base;
    bind_read(s->ins, r, at);
    if (sqlite3_step(s->ins) != SQLITE_DONE)
        goto fail;
    if (sqlite3_changes(s->db) == 1)
        return LPR_STORE_NEW;
    sqlite3_reset(s->get);
    sqlite3_bind_text(s->get, 1, r->device, -1, SQLITE_STATIC);
    sqlite3_bind_text(s->get, 2, r->epoch, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s->get, 3, r->seq);
    if (sqlite3_step(s->get) != SQLITE_ROW)
        goto fail;
    int same = (size_t)sqlite3_column_bytes(s->get, 0) == r->len &&
               !memcmp(sqlite3_column_blob(s->get, 0), r->payload, r->len);
    sqlite3_reset(s->get);
    if (same)
        return LPR_STORE_REPEAT;
    bind_read(s->conf_ins, r, at);
    if (sqlite3_step(s->conf_ins) != SQLITE_DONE)
        goto fail;
    if (sqlite3_changes(s->db) == 1)
        lpr_store_said_conflict(r);
    return LPR_STORE_CONFLICT;
fail:
    sq_error(base);
    return -1;
}

static int sq_count(lpr_store *base, const char *name, int64_t n)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_reset(s->count);
    sqlite3_bind_text(s->count, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s->count, 2, n);
    if (sqlite3_step(s->count) == SQLITE_DONE)
        return 0;
    sq_error(base);
    return -1;
}

static void sq_close(lpr_store *base)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_finalize(s->ins);
    sqlite3_finalize(s->get);
    sqlite3_finalize(s->conf_ins);
    sqlite3_finalize(s->count);
    sqlite3_close(s->db);
    free(s);
}

static const lpr_store_ops sqlite_ops = {sq_begin,  sq_put,      sq_count,
                                         sq_commit, sq_rollback, sq_close};

static lpr_err sqlite_open(const char *path, lpr_store **out)
{
    sqlite_store *s = calloc(1, sizeof *s);
    if (!s)
        return LPR_ENOMEM;
    s->base.ops = &sqlite_ops;
    snprintf(s->base.name, sizeof s->base.name, "%s", path);
    *out = &s->base;
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        LPR_ERROR("ingest", "database %s: cannot open: %s", path,
                  s->db ? sqlite3_errmsg(s->db) : "out of memory");
        return LPR_EDB;
    }
    sqlite3_busy_timeout(s->db, 10000); /* several instances may share one file */
    char *err = NULL;
    if (sqlite3_exec(s->db, schema_sql, NULL, NULL, &err) != SQLITE_OK) {
        LPR_ERROR("ingest", "database %s: %s", path, err ? err : "cannot make the tables");
        sqlite3_free(err);
        return LPR_EDB;
    }
    static const char *const sql[] = {
        "INSERT OR IGNORE INTO reads VALUES(?,?,?,?,?,?,?,?,?)",
        "SELECT payload FROM reads WHERE device=? AND epoch=? AND seq=?",
        "INSERT OR IGNORE INTO conflicts VALUES(?,?,?,?,?,?,?,?,?)",
        "INSERT INTO counters VALUES(?,?) ON CONFLICT(name) DO UPDATE SET "
        "value=value+excluded.value",
    };
    sqlite3_stmt **st[] = {&s->ins, &s->get, &s->conf_ins, &s->count};
    for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++)
        if (sqlite3_prepare_v2(s->db, sql[i], -1, st[i], NULL) != SQLITE_OK) {
            LPR_ERROR("ingest", "database %s: %s", path, sqlite3_errmsg(s->db));
            return LPR_EDB;
        }
    return LPR_OK;
}

/* ---- the choice, and the calls ---- */

void lpr_store_said_conflict(const lpr_store_read *r)
{
    LPR_ERROR("ingest",
              "CONFLICT %s: validly signed, but a read with this id and other bytes is "
              "stored (an id issued twice, or a key in other hands); kept in conflicts",
              r->id);
}

lpr_err lpr_store_open(const char *db, lpr_store **out)
{
    *out = NULL;
    lpr_err rc = !strncmp(db, "postgresql://", 13) || !strncmp(db, "postgres://", 11)
                     ? lpr_store_pg_open(db, out)
                     : sqlite_open(db, out);
    if (rc != LPR_OK && *out) {
        lpr_store_close(*out);
        *out = NULL;
    }
    return rc;
}

void lpr_store_close(lpr_store *s)
{
    if (s)
        s->ops->close(s);
}

int lpr_store_begin(lpr_store *s)
{
    return s->ops->begin(s);
}

int lpr_store_put(lpr_store *s, const lpr_store_read *r, const char *at)
{
    return s->ops->put(s, r, at);
}

int lpr_store_count(lpr_store *s, const char *name, int64_t n)
{
    return n == 0 ? 0 : s->ops->count(s, name, n);
}

int lpr_store_commit(lpr_store *s)
{
    return s->ops->commit(s);
}

void lpr_store_rollback(lpr_store *s)
{
    s->ops->rollback(s);
}

const char *lpr_store_error(lpr_store *s)
{
    return s->err;
}

const char *lpr_store_name(const lpr_store *s)
{
    return s->name;
}

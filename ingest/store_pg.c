/*
 * store_pg.c - the read store's tables in PostgreSQL (libpq), for a store
 * that outgrows one machine: several lpr-ingest instances on several
 * machines write one database (see store.h). Built when libpq is found
 * (LPR_WITH_POSTGRES); without it, opening a postgresql:// store says so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_backend.h"

#ifndef LPR_WITH_POSTGRES
lpr_err lpr_store_pg_open(const char *uri, lpr_store **out)
{
    (void)uri;
    *out = NULL;
    LPR_ERROR("ingest", "this lpr-ingest was built without PostgreSQL (libpq-dev): use an SQLite "
                        "file as --db, or rebuild with libpq-dev installed");
    return LPR_EINVAL;
}
#else
#include <libpq-fe.h>

typedef struct pg_store {
    lpr_store base;
    PGconn *c;
} pg_store;

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS reads(device TEXT NOT NULL, epoch TEXT NOT NULL,"
    " seq BIGINT NOT NULL, id TEXT NOT NULL, topic TEXT NOT NULL, payload BYTEA NOT NULL,"
    " sig BYTEA NOT NULL, kid TEXT NOT NULL, received_at TIMESTAMPTZ NOT NULL,"
    " PRIMARY KEY(device, epoch, seq));"
    "CREATE TABLE IF NOT EXISTS conflicts(device TEXT NOT NULL, epoch TEXT NOT NULL,"
    " seq BIGINT NOT NULL, id TEXT NOT NULL, topic TEXT NOT NULL, payload BYTEA NOT NULL,"
    " sig BYTEA NOT NULL, kid TEXT NOT NULL, received_at TIMESTAMPTZ NOT NULL);"
    /* each distinct other payload once (an index on md5: a payload is
     * larger than a B-tree entry may be) */
    "CREATE UNIQUE INDEX IF NOT EXISTS conflicts_once ON conflicts(device, epoch, seq, "
    "md5(payload));"
    "CREATE TABLE IF NOT EXISTS counters(name TEXT PRIMARY KEY, value BIGINT NOT NULL);";

static void quiet(void *arg, const char *msg)
{
    (void)arg;
    (void)msg; /* "relation already exists, skipping" and the like */
}

static void pg_error(lpr_store *base, const PGresult *r)
{
    pg_store *s = (pg_store *)base;
    const char *m = r ? PQresultErrorMessage(r) : "";
    if (!m || !m[0])
        m = PQerrorMessage(s->c);
    snprintf(base->err, sizeof base->err, "%s", m);
    base->err[strcspn(base->err, "\n")] = 0; /* one line */
}

static int pg_command(lpr_store *base, const char *sql)
{
    pg_store *s = (pg_store *)base;
    PGresult *r = PQexec(s->c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        pg_error(base, r);
    PQclear(r);
    return ok ? 0 : -1;
}

static int pg_begin(lpr_store *base)
{
    pg_store *s = (pg_store *)base;
    if (PQstatus(s->c) != CONNECTION_OK) {
        PQreset(s->c);
        if (PQstatus(s->c) != CONNECTION_OK) {
            pg_error(base, NULL);
            return -1;
        }
        LPR_INFO("ingest", "database %s: connected again", base->name);
    }
    return pg_command(base, "BEGIN");
}

static int pg_commit(lpr_store *base)
{
    return pg_command(base, "COMMIT");
}

static void pg_rollback(lpr_store *base)
{
    pg_store *s = (pg_store *)base;
    PQclear(PQexec(s->c, "ROLLBACK"));
}

/* INSERT of r into table; 1 if a row went in, 0 if it was there, -1. */
static int insert(lpr_store *base, const char *sql, const lpr_store_read *r, const char *at)
{
    pg_store *s = (pg_store *)base;
    char seq[24];
    snprintf(seq, sizeof seq, "%lld", (long long)r->seq);
    const char *v[9] = {
        r->device, r->epoch, seq, r->id, r->topic, (const char *)r->payload, (const char *)r->sig,
        r->kid,    at};
    int len[9] = {0, 0, 0, 0, 0, (int)r->len, (int)r->sig_len, 0, 0};
    int fmt[9] = {0, 0, 0, 0, 0, 1, 1, 0, 0};
    PGresult *res = PQexecParams(s->c, sql, 9, NULL, v, len, fmt, 0);
    int rc = -1;
    if (PQresultStatus(res) == PGRES_COMMAND_OK)
        rc = !strcmp(PQcmdTuples(res), "1");
    else
        pg_error(base, res);
    PQclear(res);
    return rc;
}

static int pg_put(lpr_store *base, const lpr_store_read *r, const char *at)
{
    pg_store *s = (pg_store *)base;
    int in = insert(
        base, "INSERT INTO reads VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT DO NOTHING", r, at);
    if (in != 0)
        return in < 0 ? -1 : LPR_STORE_NEW;
    char seq[24];
    snprintf(seq, sizeof seq, "%lld", (long long)r->seq);
    const char *v[3] = {r->device, r->epoch, seq};
    PGresult *res =
        PQexecParams(s->c, "SELECT payload FROM reads WHERE device=$1 AND epoch=$2 AND seq=$3", 3,
                     NULL, v, NULL, NULL, 1);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        pg_error(base, res);
        PQclear(res);
        return -1;
    }
    int same = (size_t)PQgetlength(res, 0, 0) == r->len &&
               !memcmp(PQgetvalue(res, 0, 0), r->payload, r->len);
    PQclear(res);
    if (same)
        return LPR_STORE_REPEAT;
    in = insert(base,
                "INSERT INTO conflicts VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT DO NOTHING",
                r, at);
    if (in < 0)
        return -1;
    if (in == 1)
        lpr_store_said_conflict(r);
    return LPR_STORE_CONFLICT;
}

static int pg_count(lpr_store *base, const char *name, int64_t n)
{
    pg_store *s = (pg_store *)base;
    char num[24];
    snprintf(num, sizeof num, "%lld", (long long)n);
    const char *v[2] = {name, num};
    PGresult *res = PQexecParams(s->c,
                                 "INSERT INTO counters VALUES($1,$2) ON CONFLICT(name) DO UPDATE "
                                 "SET value=counters.value+excluded.value",
                                 2, NULL, v, NULL, NULL, 0);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok)
        pg_error(base, res);
    PQclear(res);
    return ok ? 0 : -1;
}

static void pg_close(lpr_store *base)
{
    pg_store *s = (pg_store *)base;
    PQfinish(s->c);
    free(s);
}

static const lpr_store_ops pg_ops = {pg_begin, pg_put, pg_count, pg_commit, pg_rollback, pg_close};

/* The URI for logs: a password after user: is masked. */
static void masked(const char *uri, char *out, size_t n)
{
    snprintf(out, n, "%s", uri);
    char *scheme = strstr(out, "://");
    char *at = scheme ? strchr(scheme + 3, '@') : NULL;
    char *colon = at ? memchr(scheme + 3, ':', (size_t)(at - (scheme + 3))) : NULL;
    if (colon)
        memmove(colon + 4, at, strlen(at) + 1), memcpy(colon, ":***", 4);
    char *pw = strstr(out, "password=");
    if (pw)
        snprintf(pw, n - (size_t)(pw - out), "password=***");
}

lpr_err lpr_store_pg_open(const char *uri, lpr_store **out)
{
    pg_store *s = calloc(1, sizeof *s);
    if (!s)
        return LPR_ENOMEM;
    s->base.ops = &pg_ops;
    masked(uri, s->base.name, sizeof s->base.name);
    *out = &s->base;
    s->c = PQconnectdb(uri);
    if (!s->c || PQstatus(s->c) != CONNECTION_OK) {
        pg_error(&s->base, NULL);
        LPR_ERROR("ingest", "database %s: cannot connect: %s", s->base.name, s->base.err);
        return LPR_EDB;
    }
    PQsetNoticeProcessor(s->c, quiet, NULL);
    PGresult *r = PQexec(s->c, schema_sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        pg_error(&s->base, r);
    PQclear(r);
    if (!ok) {
        LPR_ERROR("ingest", "database %s: cannot make the tables: %s", s->base.name, s->base.err);
        return LPR_EDB;
    }
    return LPR_OK;
}
#endif

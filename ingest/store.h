/*
 * store.h - where lpr-ingest keeps reads: SQLite (a file path, the
 * embedded default) or PostgreSQL (a "postgresql://" or "postgres://"
 * connection URI, libpq; built when libpq is found). Both hold the same
 * tables:
 *   reads(device, epoch, seq, id, topic, payload, sig, kid, received_at):
 *     one row per read id, the first bytes that came, primary key
 *     (device, epoch, seq);
 *   conflicts(the same columns): other bytes that came with a stored id,
 *     each distinct one once;
 *   counters(name, value): repeats, conflicts, across restarts.
 * Several lpr-ingest instances may write one store at once.
 */
#ifndef LPR_STORE_H
#define LPR_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "lpr_common.h"

typedef struct lpr_store lpr_store;

/* A verified read as it is stored. */
typedef struct lpr_store_read {
    const char *device, *epoch, *id, *topic, *kid;
    int64_t seq;
    const unsigned char *payload;
    size_t len;
    const unsigned char *sig;
    size_t sig_len;
} lpr_store_read;

typedef enum { LPR_STORE_NEW, LPR_STORE_REPEAT, LPR_STORE_CONFLICT } lpr_store_put_result;

/* Opens (and makes the tables of) the store named db; errors are logged
 * naming it (never a password). */
lpr_err lpr_store_open(const char *db, lpr_store **out);
void lpr_store_close(lpr_store *s);
/* The transaction of one batch. begin reconnects a lost PostgreSQL
 * connection. Each returns 0 on success, -1 on an error (lpr_store_error). */
int lpr_store_begin(lpr_store *s);
/* Stores r unless its (device, epoch, seq) is stored: the result, or -1.
 * A conflict new to the store is logged. at: received_at, ISO 8601 UTC. */
int lpr_store_put(lpr_store *s, const lpr_store_read *r, const char *at);
int lpr_store_count(lpr_store *s, const char *name, int64_t n);
int lpr_store_commit(lpr_store *s);
void lpr_store_rollback(lpr_store *s);
/* The last error, one line. */
const char *lpr_store_error(lpr_store *s);
/* What the store is, for logs: the path, or the URI without a password. */
const char *lpr_store_name(const lpr_store *s);

#endif

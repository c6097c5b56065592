/*
 * store_backend.h - what a store backend (store.c's SQLite, store_pg.c's
 * PostgreSQL) provides to store.c. Private to ingest/.
 */
#ifndef LPR_STORE_BACKEND_H
#define LPR_STORE_BACKEND_H

#include "store.h"

typedef struct lpr_store_ops {
    int (*begin)(lpr_store *s);
    int (*put)(lpr_store *s, const lpr_store_read *r, const char *at);
    int (*count)(lpr_store *s, const char *name, int64_t n);
    int (*commit)(lpr_store *s);
    void (*rollback)(lpr_store *s);
    void (*close)(lpr_store *s);
} lpr_store_ops;

struct lpr_store {
    const lpr_store_ops *ops;
    char name[512]; /* for logs: no password */
    char err[512];
};

/* PostgreSQL (store_pg.c); without libpq at build, says so and fails. */
lpr_err lpr_store_pg_open(const char *uri, lpr_store **out);
/* The one line a conflict new to the store gets. */
void lpr_store_said_conflict(const lpr_store_read *r);

#endif

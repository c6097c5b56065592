/*
 * lpr_ingest.h - the reference read store's ingest (lpr-ingest): takes the
 * reads devices publish, verifies each against the device's registered
 * public key, stores it durably, and tells the device what it holds, so
 * the device deletes a read only once the store has it (a PUBACK only
 * says the broker has it, and a broker can lose it).
 *
 * - Subscribes with a shared subscription, $share/<group>/lpr/v1/+/read
 *   (and .../scene), QoS 1, on a persistent session: several instances
 *   split the reads between them, and the broker keeps the reads while
 *   none runs.
 * - Verifies every read: alg ES256, the signature over the exact payload
 *   bytes with KEYS/<device>.pub.pem (one file per device; a device id is
 *   letters, digits, '_' and '-', as lpr.conf's [device] id), the kid of
 *   that key, and the payload's "device" equal to the topic's. A read that
 *   fails is dropped with one line naming it and why, and gets no receipt:
 *   the device keeps it (a key registered later lets it in).
 * - Stores (device, epoch, seq) once, keeping the first; the same bytes
 *   again (a redelivery) are counted, other bytes with the same id are a
 *   conflict: kept apart in the conflicts table and logged.
 * - After each commit, publishes on lpr/v1/<device>/receipt, QoS 1, a
 *   receipt (lpr_read.h): the reads of that spool epoch now stored (or
 *   stored before). A receipt lost on the way costs
 *   nothing: the device sends the read again and gets another.
 *
 * The store: SQLite (WAL, synchronous=FULL) or PostgreSQL; store.h.
 */
#ifndef LPR_INGEST_H
#define LPR_INGEST_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "lpr_common.h"

#define LPR_INGEST_STR 1024

typedef struct lpr_ingest_options {
    char host[256];
    int port;                      /* default 8883 */
    int insecure;                  /* plaintext MQTT (tests on 127.0.0.1 only) */
    char ca[LPR_INGEST_STR];       /* the fleet CA */
    char cert[LPR_INGEST_STR];     /* the store's certificate (CN "store" in the example ACL) */
    char key[LPR_INGEST_STR];      /* its key */
    char keys_dir[LPR_INGEST_STR]; /* <device>.pub.pem, one per device */
    char db[LPR_INGEST_STR];       /* the SQLite database */
    char group[64];                /* shared subscription group; default lpr-ingest */
    char client_id[128];           /* default lpr-ingest-<host name>-<pid> */
    char topic_root[128];          /* default lpr/v1/ */
    int batch_ms;                  /* commit at least this often; default 50 */
    int print;                     /* one line on stdout per read stored (the demo) */
} lpr_ingest_options;

void lpr_ingest_options_defaults(lpr_ingest_options *o);

typedef struct lpr_ingest lpr_ingest;

typedef struct lpr_ingest_counters {
    int64_t received;  /* messages taken from the broker */
    int64_t stored;    /* new reads stored */
    int64_t repeats;   /* the same signed bytes again (not stored twice) */
    int64_t conflicts; /* a second read with a stored id and other bytes */
    int64_t rejected;  /* failed verification, unknown device, not a read */
    int64_t receipts;  /* receipt messages published */
} lpr_ingest_counters;

/* Opens the store and the key folder (errors name the file); does not
 * connect yet. */
lpr_err lpr_ingest_new(const lpr_ingest_options *o, lpr_ingest **out);
void lpr_ingest_free(lpr_ingest *g);

/* Connects (and reconnects) and ingests until *stop becomes non-zero. */
lpr_err lpr_ingest_run(lpr_ingest *g, volatile sig_atomic_t *stop);

void lpr_ingest_get_counters(lpr_ingest *g, lpr_ingest_counters *c);

/* ---- the parts without a broker (tests) ---- */

/* What became of one message. */
typedef enum lpr_ingest_result {
    LPR_INGEST_STORED,
    LPR_INGEST_REPEAT,
    LPR_INGEST_CONFLICT,
    LPR_INGEST_REJECTED,
    LPR_INGEST_QUEUED /* verified, waiting for the batch's commit */
} lpr_ingest_result;

/* One message as the broker delivered it: topic, payload and the user
 * properties alg, kid and sig (NULL when absent). Verifies it and queues
 * it for lpr_ingest_commit; returns LPR_INGEST_REJECTED (why gets the
 * reason, also logged) or LPR_INGEST_QUEUED. */
lpr_ingest_result lpr_ingest_take(lpr_ingest *g, const char *topic, const void *payload, size_t len,
                                  const char *alg, const char *kid, const char *sig, char *why,
                                  size_t whylen);

/* A receipt to publish: topic and JSON payload (free both). */
typedef struct lpr_ingest_receipt {
    char *topic;
    char *payload;
} lpr_ingest_receipt;

/* Stores the queued reads in one transaction and, once it is committed,
 * makes the receipts (one per device and epoch; *receipts gets a malloc'd
 * array, *n its length; results (may be NULL) gets one result per queued
 * read in the order taken, room for lpr_ingest_queued()). On a store error
 * the reads stay queued for the next commit and no receipt is made. */
lpr_err lpr_ingest_commit(lpr_ingest *g, lpr_ingest_receipt **receipts, int *n,
                          lpr_ingest_result *results);
int lpr_ingest_queued(const lpr_ingest *g);
void lpr_ingest_receipts_free(lpr_ingest_receipt *r, int n);

#endif

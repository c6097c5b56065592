/*
 * lpr_read.h - the read record as it travels: its schema names, how the
 * spool stamps a read with its device, seq, epoch and id, and what kind of
 * message a stored payload is (a read, or a read's full-scene image). The
 * one owner of those rules: lprd and `lpr replay` stamp through the spool,
 * which calls lpr_read_stamp; `lpr replay` prints what the spool stored;
 * lpr-uplink picks a topic by lpr_read_kind_of. Depends on jansson only, so
 * the uplink process links no camera code. The builders of a read from the
 * camera's plates and positions are in lpr_read_json.h.
 */
#ifndef LPR_READ_H
#define LPR_READ_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define LPR_SCHEMA_READ "lpr.read/1"   /* a read (ARCHITECTURE.md) */
#define LPR_SCHEMA_SCENE "lpr.scene/1" /* the full scene of a read (opt-in) */

typedef enum lpr_read_kind {
    LPR_READ_KIND_READ,  /* schema lpr.read/N, or none (a read) */
    LPR_READ_KIND_SCENE, /* schema lpr.scene/N */
    LPR_READ_KIND_OTHER, /* another schema, or not a JSON object */
} lpr_read_kind;

/* What a stored payload is, by its "schema" member. */
lpr_read_kind lpr_read_kind_of(const char *payload, size_t len);

/* The longest id lpr_read_stamp makes, with its NUL. */
/* The payload as the spool stores, signs and sends it: "schema" (the *
 * object's own, else lpr.read/1), "device", "seq", "epoch" and "id" *
 * (DEVICE-EPOCH-SEQ) first, then the object's other members in order, *
 * compact. id (may be NULL) gets the id. NULL if out of memory. Caller *
 * frees. */
#define LPR_READ_ID_MAX 96
char *lpr_read_stamp(const json_t *read, const char *device, const char *epoch, int64_t seq,
                     char *id, size_t idlen);

/* Serialises a read object the way every payload is serialised (compact,
 * members in order, reals to 12 digits). Caller frees. */
char *lpr_read_dumps(const json_t *read);

/* A message as the read store received it: the payload's exact bytes and
 * the signature properties (alg, kid, sig; "" when absent). */
typedef struct lpr_read_message {
    char *payload; /* malloc'd, NUL after len bytes */
    size_t len;
    char alg[16], kid[48], sig[160];
} lpr_read_message;

/* Parses one line as `lpr verify` takes them: mosquitto_sub's
 * -F '%P\t%x' (the properties as "alg:ES256 kid:... sig:...", a TAB, the
 * payload in hex) or a JSON object {"payload": TEXT, "properties": {...}}.
 * line is modified. NULL, or why it is not a message. Either way free m
 * with lpr_read_message_clear. */
const char *lpr_read_message_parse(char *line, lpr_read_message *m);
void lpr_read_message_clear(lpr_read_message *m);

/* A receipt: the store (lpr-ingest) tells a device, on
 * <prefix>receipt, which reads of one spool epoch it has stored durably:
 * {"epoch":"<16 hex digits>","seqs":[[first,last],...]}, runs of
 * consecutive seqs. The device deletes those reads, and only those. */
typedef struct lpr_receipt_range {
    int64_t first, last;
} lpr_receipt_range;

/* The receipt for seqs (ascending, no repeats). Caller frees; NULL if out
 * of memory. */
char *lpr_receipt_make(const char *epoch, const int64_t *seqs, int n);

/* Parses a receipt: epoch (room for 17) and up to max ranges (*n their
 * count, first <= last, both >= 1). NULL, or why it is not a receipt (then
 * nothing is to be deleted). */
const char *lpr_receipt_parse(const char *payload, size_t len, char *epoch, lpr_receipt_range *r,
                              int max, int *n);

#endif

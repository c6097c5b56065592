/*
 * lpr_spool.h - the on-disk spool of reads: the one hand-over between the
 * camera process (appends reads it has sealed) and the uplink process
 * (publishes them as they are, deletes on PUBACK).
 *
 * SQLite in WAL mode with synchronous=FULL: one writer and one reader
 * process at once, and a kill -9 or power cut of either loses nothing that
 * lpr_spool_append() returned LPR_OK for. seq is strictly increasing per
 * spool across restarts (kept in the database, not derived from rows, so
 * deleting rows never reuses a number); each spool has an epoch, random,
 * drawn when it is made, and id = "<device>-<epoch>-<seq>": a lost, replaced
 * or corrupted spool's successor never repeats an id.
 * Quotas (max_mb, max_age_days) drop the oldest reads and count them: never
 * silent loss, never a full disk that stops the camera. A read's age counts
 * time that really passed: CLOCK_BOOTTIME since it was spooled in this
 * boot, the wall clock across a reboot only when the clock was
 * synchronised then and is now; a clock step never ages a read out.
 *
 * One lpr_spool per thread; open the same file from several processes.
 */
#ifndef LPR_SPOOL_H
#define LPR_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "lpr_common.h"

typedef struct lpr_spool lpr_spool;

/* Beside the spool, <spool>.reserve holds this much disk so that a full
 * disk still leaves room to delete reads (see spool.c); made on open and
 * after each append when there is room, released by a write that finds
 * the disk full. */
#define LPR_SPOOL_RESERVE_BYTES (512 * 1024)

typedef struct lpr_spool_opts {
    const char *device_id; /* required for append; stamps device/seq/id */
    double max_mb;         /* database size quota; <= 0: none */
    double max_age_days;   /* age quota; <= 0: none */
    int must_exist;        /* 1: LPR_ENOENT if there is no spool at path (tools that
                            * only look: a mistyped path never makes a spool) */
    int busy_ms;           /* how long a write waits for another process's lock
                            * before failing; 0: 10 000 */
    int read_only;         /* 1: look only (lpr spool stats/export): opened read-only,
                            * never made, never migrated; implies must_exist */
    int check;             /* 1: PRAGMA quick_check at open, LPR_EDB if it fails
                            * (the daemons and lpr doctor at start) */
} lpr_spool_opts;

#define LPR_SPOOL_KID_MAX 40 /* room for a key id (lpr_sign.h: 32 hex digits) */

/* PRAGMA application_id of a spool ("LPRS"): a SQLite file without it and
 * without the spool's tables is another program's, and is never touched. */
#define LPR_SPOOL_APP_ID 0x4c505253

typedef struct lpr_spool_row {
    int64_t seq;
    char id[96];
    unsigned char *payload; /* exact bytes to publish (JSON, UTF-8) */
    size_t payload_len;
    unsigned char *sig; /* DER ECDSA signature, NULL until signed */
    size_t sig_len;
    char kid[LPR_SPOOL_KID_MAX]; /* id of the key that sealed it; "" if not recorded */
    int64_t created_ms;          /* epoch ms when spooled */
    int attempts;                /* publish attempts so far */
} lpr_spool_row;

typedef struct lpr_spool_stats {
    int64_t depth;     /* reads waiting */
    int64_t bytes;     /* payload + signature bytes waiting */
    int64_t db_bytes;  /* database pages in use and the WAL: what max_mb counts */
    int64_t oldest_ms; /* created_ms of the oldest read, 0 if empty */
    int64_t dropped;   /* reads dropped by quotas, ever */
    int64_t next_seq;  /* the seq the next append gets */
    int64_t unsealed;  /* reads without a signature: none leaves before lprd seals it */
    char epoch[17];    /* the spool's epoch (16 hex digits) */
} lpr_spool_stats;

struct lpr_config;
/* The spool options a loaded lpr.conf gives: [device] id and the [spool]
 * quotas; must_exist 0, check 1. The one mapping lprd, lpr-uplink, lpr replay and
 * lpr doctor use (override fields by name). */
lpr_spool_opts lpr_spool_opts_from_config(const struct lpr_config *c);

/* Opens (creating if needed, unless must_exist) the spool at path. A new
 * spool file is made mode 0660 less the umask, so under the units' UMask=0007
 * both service users (group lpr) can write it; SQLite gives its -wal and
 * -shm files the database's mode and, run as root, its owner. Errors name
 * the path. */
lpr_err lpr_spool_open(const char *path, const lpr_spool_opts *opts, lpr_spool **out);
void lpr_spool_close(lpr_spool *spool); /* NULL is a no-op */

/* Moves the spool at path aside, to "<path>.bad-<UTC time>" with its -wal
 * and -shm (nothing is deleted: its reads may be recoverable), so that the
 * next start makes a new spool, which draws a new epoch: ids never repeat.
 * For a spool the daemons refuse (corrupt, or another program's file at
 * the spool's path), when the operator says so (`lpr spool quarantine`).
 * moved_to (may be NULL) gets the new name. Errors name the path. */
lpr_err lpr_spool_quarantine(const char *path, char *moved_to, size_t n);

/* The spool's epoch: 16 hex digits, in every read's "epoch" and id. */
const char *lpr_spool_epoch(const lpr_spool *spool);

/* A seal: signs the exact bytes the spool stores for a read (sig gets at
 * most LPR_SPOOL_SIG_MAX bytes, *sig_len their count). lpr_sign_sealer
 * (lpr_sign.h) is one, with the device's signer as ctx. */
#define LPR_SPOOL_SIG_MAX 80
typedef lpr_err (*lpr_spool_sealer)(void *ctx, const void *payload, size_t len, unsigned char *sig,
                                    size_t *sig_len);

/* From now on every append seals its read: the stamped bytes are signed in
 * the append's transaction and stored with the signature and kid (the
 * key's id, which the uplink sends beside the signature), so a read is
 * never in the spool unsigned and an edit of it fails at the store. The
 * camera side (lprd, lpr replay --spool, lpr spool push) sets it; the
 * uplink publishes the sealed bytes as they are. fn NULL: appends store
 * reads unsealed (tests of the spool alone). */
void lpr_spool_set_sealer(lpr_spool *spool, lpr_spool_sealer fn, void *ctx, const char *kid);

/* Seals, with the sealer set, every read in the spool that has no
 * signature yet (spooled before reads were sealed at capture, or by a tool
 * without the key); *sealed (may be NULL) gets how many. LPR_EINVAL
 * without a sealer. */
lpr_err lpr_spool_seal_unsigned(lpr_spool *spool, int64_t *sealed);

/* Appends one read given as a JSON object text. The spool stamps it with
 * lpr_read_stamp ("schema" when absent, "device", "seq", "epoch", "id";
 * lpr_read.h), seals it when a sealer is set, and stores that text;
 * *seq_out and id (may be NULL, room for LPR_READ_ID_MAX) get what was
 * assigned. LPR_EFORMAT if json is not a JSON object; the sealer's error
 * if it fails (nothing is stored). Runs the quotas afterwards. */
lpr_err lpr_spool_append(lpr_spool *spool, const char *json, size_t len, int64_t *seq_out, char *id,
                         size_t idlen);

/* Oldest reads with seq > after_seq, up to max, into rows[]; *n gets the
 * count. Free each with lpr_spool_row_clear(). */
lpr_err lpr_spool_fetch(lpr_spool *spool, int64_t after_seq, int max, lpr_spool_row *rows, int *n);
void lpr_spool_row_clear(lpr_spool_row *row);

/* Stores the signatures (and kid) of several reads (rows[i].sig, where not NULL) in
 * one transaction; reads that already have one keep it. */
lpr_err lpr_spool_set_signatures(lpr_spool *spool, const lpr_spool_row *rows, int n);
/* Counts one publish attempt of seq. */
lpr_err lpr_spool_note_attempt(lpr_spool *spool, int64_t seq);

/* Deletes reads (after the broker acknowledged them). */
lpr_err lpr_spool_delete(lpr_spool *spool, const int64_t *seqs, int n);

/* The clocks the age quota reads: the wall clock, CLOCK_BOOTTIME, and
 * whether the wall clock is synchronised (lpr_clock_synced). */
typedef struct lpr_spool_clock {
    int64_t wall_ms;
    int64_t boot_ms;
    int synced;
} lpr_spool_clock;
lpr_spool_clock lpr_spool_clock_now(void);

/* Applies the quotas at 'now'; *dropped (may be NULL) gets how many went.
 * An append runs them itself (the age quota at most once a minute). */
lpr_err lpr_spool_enforce(lpr_spool *spool, const lpr_spool_clock *now, int64_t *dropped);

lpr_err lpr_spool_get_stats(lpr_spool *spool, int64_t now_ms, lpr_spool_stats *st);

/* Named integer counters kept beside the reads: the camera daemon's figures
 * (frames, drops, fps) reach the uplink's health message through these.
 * Keys are short names; get returns LPR_ENOENT for a key never put. The
 * ones lprd writes and lpr-uplink reads (the names are the interface
 * between the two, and what `lpr spool stats` prints): */
#define LPR_CTR_CAMERA_FRAMES "camera_frames"         /* captured, since lprd started */
#define LPR_CTR_CAMERA_DROPPED "camera_dropped"       /* dropped: the readers were behind */
#define LPR_CTR_CAMERA_READS "camera_reads"           /* reads spooled */
#define LPR_CTR_CAMERA_FPS_X10 "camera_fps_x10"       /* frames/s of this run, x10 */
#define LPR_CTR_CAMERA_UPDATED_MS "camera_updated_ms" /* lprd's heartbeat, epoch ms */
#define LPR_CTR_GPS_MODE "gps_mode"                   /* lpr_fix_mode, -1: no report yet */
#define LPR_CTR_GPS_SATS "gps_sats"                   /* satellites used */
#define LPR_CTR_GPS_FIX_AGE_MS "gps_fix_age_ms"       /* since the last report; -1 fixed site */
#define LPR_CTR_GPS_CONNECTED "gps_connected"         /* 1: gpsd answers */
#define LPR_CTR_CLOCK_SOURCE "clock_source"           /* lpr_time_source */
lpr_err lpr_spool_put_counter(lpr_spool *spool, const char *key, int64_t value);
lpr_err lpr_spool_get_counter(lpr_spool *spool, const char *key, int64_t *value);

#endif

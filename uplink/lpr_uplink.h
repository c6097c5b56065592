/*
 * lpr_uplink.h - drains the spool to the MQTT broker: publishes each read
 * as the camera sealed it (the same bytes and signature on every retry) on
 * <prefix>read at QoS 1 with up to [uplink] inflight unacknowledged, and
 * deletes it from the spool once the store's receipt on <prefix>receipt
 * names it ([uplink] delete_on = receipt, the default; lpr_read.h has the
 * receipt) or, with delete_on = puback, once the broker acknowledges it.
 * A read acknowledged and not confirmed within receipt_timeout_s is sent
 * again (the wait doubles while reads keep waiting, up to an hour, and is
 * back to receipt_timeout_s once the store has caught up). Keeps a retained
 * <prefix>status (birth "online", last will "offline") and publishes
 * <prefix>health every health_interval_s. Reconnects with capped
 * exponential backoff and jitter; the spool keeps filling meanwhile.
 *
 * One lpr_uplink per process (Paho callbacks find it through a static).
 */
#ifndef LPR_UPLINK_H
#define LPR_UPLINK_H

#include <signal.h>
#include <stdint.h>

#include "lpr_common.h"
#include "lpr_config.h"

typedef struct lpr_uplink lpr_uplink;

typedef struct lpr_uplink_counters {
    int64_t sent;                  /* reads acknowledged by the broker */
    int64_t published;             /* publish calls (incl. retries) */
    int64_t reconnects;            /* successful connects after the first */
    int64_t inflight;              /* now unacknowledged */
    double ack_ms_p50, ack_ms_p99; /* publish -> PUBACK over the last 4096 */
    int64_t refused;               /* publishes the broker refused (PUBACK reason >= 0x80) */
    int last_refusal;              /* the last refusal's MQTT v5 reason code, 0 if none */
    int64_t confirmed;             /* reads the store's receipts confirmed (then deleted) */
    int64_t awaiting_receipt;      /* acknowledged by the broker, not yet by the store */
    double oldest_unconfirmed_ms;  /* how long the oldest of those has waited */
} lpr_uplink_counters;

/* Checks the config (key permissions, TLS files) and opens the spool; does
 * not connect yet. Errors are logged naming the file. */
lpr_err lpr_uplink_new(const lpr_config *cfg, lpr_uplink **out);
void lpr_uplink_free(lpr_uplink *u);

/* Runs until *stop becomes non-zero (e.g. from SIGTERM), then finishes
 * in-flight publishes for up to drain_ms and disconnects cleanly.
 * If exit_when_empty, returns once the spool is empty and nothing is in
 * flight (for `lpr spool` pushes and benchmarks). */
lpr_err lpr_uplink_run(lpr_uplink *u, volatile sig_atomic_t *stop, int exit_when_empty,
                       int drain_ms);

void lpr_uplink_get_counters(lpr_uplink *u, lpr_uplink_counters *c);

/* A count that grows while lpr_uplink_run makes progress: reads
 * acknowledged, nothing to send, or no broker to send to (it keeps
 * reconnecting). It stands still while connected with reads in flight and
 * none acknowledged: what the systemd watchdog of lpr-uplink watches. */
int64_t lpr_uplink_progress(const lpr_uplink *u);

/* Repeats the TLS handshake with the configured CA, certificate, key and
 * host name and writes in why one line saying what fails (or that it
 * succeeds). Returns 1 if the handshake succeeds. Blocks up to ~5 s. */
int lpr_tls_diagnose(const lpr_config *cfg, char *why, size_t len);

/* Checks the client certificate [uplink] cert: its CN equals [device] id
 * (the broker's ACL names devices by CN) and it expires in more than
 * min_days. Writes one line in why; returns 1 if both hold. */
int lpr_cert_check(const lpr_config *cfg, int min_days, char *why, size_t len);

/* One MQTT v5 CONNECT (client id "<id>-doctor", so a running lpr-uplink
 * keeps its session) and one QoS 1 test publish on <prefix>health; writes
 * in why what the broker answered. Returns 1 if both are accepted. Blocks
 * up to ~15 s. */
int lpr_uplink_probe(const lpr_config *cfg, char *why, size_t len);

#endif

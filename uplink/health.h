/*
 * health.h - the fleet's view of a unit: the health message (every
 * health_interval_s on <prefix>health) and the retained status (on
 * <prefix>status: "online", "degraded" with the health's problems, or
 * "offline" as the will and a clean stop's goodbye), built from plain
 * values so that what a dashboard receives is pinned by golden files
 * (tests/golden/payload/status.chk). uplink.c gathers the values.
 */
#ifndef LPR_HEALTH_H
#define LPR_HEALTH_H

#include <jansson.h>
#include <stdint.h>

#include "lpr_spool.h"
#include "lpr_uplink.h"

/* lprd's counters as it last left them in the spool (LPR_CTR_*). */
typedef struct lpr_health_camera {
    int present; /* 0: lprd has left no heartbeat */
    int64_t updated_ms, frames, dropped, reads, fps_x10;
} lpr_health_camera;

typedef struct lpr_health_gps {
    int present;          /* 0: no GPS counters in the spool */
    int64_t mode;         /* lpr_fix_mode, -1: none ever */
    int64_t sats, age_ms; /* age_ms < 0: unknown */
    int64_t connected;    /* gpsd reachable */
} lpr_health_gps;

typedef struct lpr_health_in {
    const char *device, *version;
    int64_t now_ms; /* wall clock, for ts and ages */
    int64_t uptime_s;
    lpr_spool_stats spool;
    lpr_uplink_counters link;
    int64_t undeleted; /* acknowledged, not yet deleted from the spool */
    int by_receipt;    /* delete_on = receipt: the link's receipt figures mean something */
    int receipt_timeout_s;
    int64_t disk_free_mb;
    double cpu_temp_c; /* < -999: unknown */
    lpr_health_camera camera;
    lpr_health_gps gps;
    int have_clock;
    int64_t clock_source; /* lpr_time_source */
} lpr_health_in;

/* A camera whose heartbeat is older than this is dead (lprd writes its
 * counters every 10 s while frames arrive: three missed). */
/* The health message: state "ok", or "degraded" with one line per problem *
 * in "problems", so a dashboard needs no rules of its own. NULL: no memory. */
#define LPR_CAMERA_STALE_MS 30000
json_t *lpr_health_build(const lpr_health_in *in);

/* The retained status while connected: "online", or "degraded" with the
 * problems of a health message (problems may be NULL). */
json_t *lpr_status_build(const char *device, const char *kid, const char *since, const char *owner,
                         const char *model, const char *version, const json_t *problems);

/* The retained status that says "offline": the will (ts NULL, clean false)
 * or a clean stop's goodbye at ts. Both carry when the session began. */
json_t *lpr_status_offline(const char *device, const char *connected_at, const char *ts);

#endif

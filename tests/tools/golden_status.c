/*
 * golden_status.c - prints what a fleet dashboard receives from a unit for
 * fixed inputs: health messages (all well; camera dead, no GPS fix, clock
 * unsynchronised, a refusal; nothing from lprd yet) and the retained
 * status (online, degraded, the will, a clean stop's goodbye), built by the
 * uplink's own health.c. tests/golden/run-golden-status compares the output
 * with tests/golden/payload/status.chk.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health.h"
#include "lpr_gps.h"

static void show(const char *what, json_t *j)
{
    char *s =
        j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10)) : NULL;
    printf("# %s\n%s\n", what, s ? s : "(null)");
    free(s);
}

/* A health message, then the retained status that goes with it. */
static void health_and_status(const char *what, const char *status, const lpr_health_in *in)
{
    json_t *h = lpr_health_build(in);
    show(what, h);
    json_t *st = lpr_status_build("cam-golden", "ed570eb6eaef022705ecd848e639ed2d",
                                  "2026-08-11T05:50:00.000Z", "City of Example \"Traffic\"",
                                  "Pi 4 + HQ camera", "9.9.9", json_object_get(h, "problems"));
    show(status, st);
    json_decref(st);
    json_decref(h);
}

int main(void)
{
    const int64_t now = 1786427554217; /* 2026-08-11T05:52:34.217Z */
    lpr_health_in ok = {.device = "cam-golden",
                        .version = "9.9.9",
                        .now_ms = now,
                        .uptime_s = 86461,
                        .undeleted = 0,
                        .disk_free_mb = 12034,
                        .cpu_temp_c = 48.5};
    ok.spool = (lpr_spool_stats){.depth = 3, .bytes = 4096, .oldest_ms = now - 2500, .dropped = 1};
    ok.link = (lpr_uplink_counters){.sent = 1200,
                                    .published = 1203,
                                    .reconnects = 2,
                                    .inflight = 3,
                                    .confirmed = 1180,
                                    .awaiting_receipt = 20,
                                    .oldest_unconfirmed_ms = 850};
    ok.by_receipt = 1;
    ok.receipt_timeout_s = 60;
    ok.camera = (lpr_health_camera){1, now - 4000, 1296000, 12, 1187, 149};
    ok.gps = (lpr_health_gps){1, LPR_FIX_3D, 11, 800, 1};
    ok.have_clock = 1;
    ok.clock_source = LPR_TIME_NTP;
    health_and_status("health, all well", "status, online", &ok);

    lpr_health_in bad = ok;
    bad.cpu_temp_c = -1000;
    bad.undeleted = 7;
    bad.link.refused = 4;
    bad.link.last_refusal = 0x87; /* not authorized */
    bad.link.awaiting_receipt = 1500;
    bad.link.oldest_unconfirmed_ms = 95000; /* the store sends no receipts */
    bad.camera.updated_ms = now - 45300;
    bad.gps = (lpr_health_gps){1, LPR_FIX_NONE, 0, -1, 0};
    bad.clock_source = LPR_TIME_UNSYNCED;
    health_and_status("health, degraded: camera dead, no fix and no gpsd, clock unsynchronised, "
                      "refused, no receipts",
                      "status, degraded", &bad);

    lpr_health_in none = ok;
    none.camera.present = 0;
    none.gps.present = 0;
    none.have_clock = 0;
    none.spool = (lpr_spool_stats){0};
    json_t *h = lpr_health_build(&none);
    show("health, before lprd ever ran", h);
    json_decref(h);

    json_t *will = lpr_status_offline("cam-golden", "2026-08-11T05:50:00.000Z", NULL);
    show("status, offline: the will", will);
    json_decref(will);
    json_t *bye =
        lpr_status_offline("cam-golden", "2026-08-11T05:50:00.000Z", "2026-08-11T05:52:34.217Z");
    show("status, offline: a clean stop", bye);
    json_decref(bye);
    return 0;
}

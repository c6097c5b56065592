/*
 * health.c - the health message and the retained status (see health.h).
 */
#include <stdio.h>

#include <MQTTReasonCodes.h>

#include "health.h"
#include "lpr_common.h"
#include "lpr_gps.h"

json_t *lpr_health_build(const lpr_health_in *in)
{
    char ts[32], line[160];
    const lpr_spool_stats *st = &in->spool;
    const lpr_uplink_counters *c = &in->link;
    int64_t now = in->now_ms;
    lpr_format_utc_ms(now, ts, sizeof ts);
    json_t *problems = json_array();
    json_t *h =
        json_pack("{s:s,s:s,s:s,s:s,s:I,s:{s:I,s:f,s:I,s:I},s:I,s:I,s:I,s:I}", "device", in->device,
                  "ts", ts, "version", in->version, "state", "ok", "uptime_s",
                  (json_int_t)in->uptime_s, "spool", "depth", (json_int_t)st->depth, "oldest_age_s",
                  st->oldest_ms ? (double)(now - st->oldest_ms) / 1000.0 : 0.0, "bytes",
                  (json_int_t)st->bytes, "dropped", (json_int_t)st->dropped, "sent",
                  (json_int_t)c->sent, "inflight", (json_int_t)c->inflight, "reconnects",
                  (json_int_t)c->reconnects, "disk_free_mb", (json_int_t)in->disk_free_mb);
    if (!h || !problems) {
        json_decref(h);
        json_decref(problems);
        return NULL;
    }
    json_object_set_new(h, "refused", json_integer((json_int_t)c->refused));
    /* acknowledged, but the spool has not managed to delete them yet */
    json_object_set_new(h, "undeleted", json_integer((json_int_t)in->undeleted));
    if (in->by_receipt) {
        /* delete_on = receipt: the store's receipts, and what waits for one */
        json_object_set_new(h, "confirmed", json_integer((json_int_t)c->confirmed));
        json_object_set_new(h, "awaiting_receipt", json_integer((json_int_t)c->awaiting_receipt));
        json_object_set_new(h, "oldest_unconfirmed_s",
                            json_real(c->oldest_unconfirmed_ms / 1000.0));
        if (c->awaiting_receipt > 0 && c->oldest_unconfirmed_ms > 1000.0 * in->receipt_timeout_s) {
            snprintf(line, sizeof line,
                     "store: no receipt for %.0f s (%lld reads acknowledged by the broker wait): "
                     "they stay spooled and go again; is the store (lpr-ingest) running?",
                     c->oldest_unconfirmed_ms / 1000.0, (long long)c->awaiting_receipt);
            json_array_append_new(problems, json_string(line));
        }
    }
    if (c->last_refusal)
        json_object_set_new(
            h, "last_refusal",
            json_string(MQTTReasonCode_toString((enum MQTTReasonCodes)c->last_refusal)));
    if (in->cpu_temp_c > -999)
        json_object_set_new(h, "cpu_temp_c", json_real(in->cpu_temp_c));
    /* the camera daemon's counters, as it last left them in the spool */
    const lpr_health_camera *cam = &in->camera;
    if (cam->present) {
        int alive = now - cam->updated_ms <= LPR_CAMERA_STALE_MS;
        /* a dead camera delivers 0 frames/s, whatever it last said */
        json_object_set_new(h, "camera",
                            json_pack("{s:b,s:f,s:I,s:I,s:I,s:f}", "alive", alive, "fps",
                                      alive ? (double)cam->fps_x10 / 10.0 : 0.0, "frames",
                                      (json_int_t)cam->frames, "dropped", (json_int_t)cam->dropped,
                                      "reads", (json_int_t)cam->reads, "age_s",
                                      (double)(now - cam->updated_ms) / 1000.0));
        if (!alive) {
            snprintf(line, sizeof line,
                     "camera: no heartbeat from lprd for %.0f s (not running, "
                     "or its camera stopped)",
                     (double)(now - cam->updated_ms) / 1000.0);
            json_array_append_new(problems, json_string(line));
        }
    } else {
        json_array_append_new(
            problems,
            json_string("camera: lprd has left no heartbeat in the spool (never started?)"));
    }
    const lpr_health_gps *gps = &in->gps;
    if (gps->present) {
        const char *mode = gps->mode < 0 ? "none" : lpr_fix_mode_name((lpr_fix_mode)gps->mode);
        json_t *g = json_pack("{s:s,s:I,s:b}", "fix", mode, "sats", (json_int_t)gps->sats, "gpsd",
                              (int)gps->connected);
        if (gps->age_ms >= 0)
            json_object_set_new(g, "age_s", json_real((double)gps->age_ms / 1000.0));
        json_object_set_new(h, "gps", g);
        if (gps->mode < 0 || (lpr_fix_mode)gps->mode == LPR_FIX_NONE) {
            snprintf(line, sizeof line, "gps: no fix (%s): reads carry no position",
                     gps->connected ? "gpsd has none" : "gpsd not reachable");
            json_array_append_new(problems, json_string(line));
        }
    }
    if (in->have_clock) {
        lpr_time_source src = (lpr_time_source)in->clock_source;
        json_object_set_new(h, "clock", json_string(lpr_time_source_name(src)));
        if (src > LPR_TIME_NTP) {
            snprintf(line, sizeof line, "clock: not synchronised (%s): read times are uncertain",
                     lpr_time_source_name(src));
            json_array_append_new(problems, json_string(line));
        }
    }
    if (in->spool.unsealed > 0) {
        snprintf(line, sizeof line,
                 "spool: %lld read(s) wait unsealed (spooled without the device key): lprd "
                 "seals them when it starts, and none is sent before",
                 (long long)in->spool.unsealed);
        json_array_append_new(problems, json_string(line));
    }
    if (json_array_size(problems))
        json_object_set_new(h, "state", json_string("degraded"));
    json_object_set_new(h, "problems", problems);
    return h;
}

json_t *lpr_status_build(const char *device, const char *kid, const char *since, const char *owner,
                         const char *model, const char *version, const json_t *problems)
{
    int degraded = problems && json_array_size(problems) > 0;
    json_t *s = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "state",
                          degraded ? "degraded" : "online", "device", device, "kid", kid, "since",
                          since, "owner", owner, "model", model, "version", version);
    if (s && degraded)
        json_object_set(s, "problems", (json_t *)problems);
    return s;
}

json_t *lpr_status_offline(const char *device, const char *connected_at, const char *ts)
{
    json_t *s = json_pack("{s:s,s:s,s:s,s:b}", "state", "offline", "device", device, "connected_at",
                          connected_at, "clean", ts != NULL);
    if (s && ts)
        json_object_set_new(s, "ts", json_string(ts));
    return s;
}

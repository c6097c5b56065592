/*
 * client.c - the gpsd client thread (libgps) and fixed-site mode (see
 * lpr_gps.h).
 *
 * The thread connects to gpsd, asks for JSON reports, and turns each TPV
 * with a fix into an lpr_fix in the history; when gpsd goes away or
 * restarts it reconnects with capped exponential backoff. Readers take the
 * mutex only to copy or interpolate.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gps.h>

#include "lpr_config.h"
#include "lpr_gps.h"

#define HISTORY 600 /* one minute at 10 Hz */

struct lpr_gps {
    lpr_gps_config cfg;
    char host[256], port[16];
    int fixed_mode;
    lpr_fix fixed;
    pthread_t thread;
    int thread_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
    lpr_fixes *track;
    lpr_gps_status st;
};

lpr_err lpr_parse_fixed(const char *s, lpr_fix *out)
{
    double lat, lon, alt;
    if (lpr_parse_position(s, &lat, &lon, &alt) != LPR_OK)
        return LPR_EINVAL;
    memset(out, 0, sizeof *out);
    out->mode = LPR_FIX_FIXED;
    out->lat = lat;
    out->lon = lon;
    out->alt_m = alt;
    out->err_m = NAN;
    out->speed_mps = 0;
    out->heading_deg = NAN;
    return LPR_OK;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int should_stop(lpr_gps *g)
{
    pthread_mutex_lock(&g->mu);
    int s = g->stop;
    pthread_mutex_unlock(&g->mu);
    return s;
}

static void take_report(lpr_gps *g, const struct gps_data_t *d)
{
    if (!(d->set & (MODE_SET | LATLON_SET | TIME_SET)))
        return;
    lpr_fix f;
    memset(&f, 0, sizeof f);
    f.recv_ms = lpr_realtime_ms();
    f.time_ms = (int64_t)d->fix.time.tv_sec * 1000 + d->fix.time.tv_nsec / 1000000;
    f.mode = d->fix.mode >= MODE_3D   ? LPR_FIX_3D
             : d->fix.mode == MODE_2D ? LPR_FIX_2D
                                      : LPR_FIX_NONE;
    f.lat = f.mode ? d->fix.latitude : NAN;
    f.lon = f.mode ? d->fix.longitude : NAN;
    if (!isfinite(f.lat) || !isfinite(f.lon)) { /* a mode without a position is no fix */
        f.mode = LPR_FIX_NONE;
        f.lat = f.lon = NAN;
    }
    f.alt_m = f.mode == LPR_FIX_3D && isfinite(d->fix.altMSL) ? d->fix.altMSL : NAN;
    f.err_m = isfinite(d->fix.eph) ? d->fix.eph : NAN;
    f.speed_mps = isfinite(d->fix.speed) ? d->fix.speed : NAN;
    f.heading_deg = isfinite(d->fix.track) ? d->fix.track : NAN;
    f.sats_used = d->satellites_used;
    f.sats_seen = d->satellites_visible;
    lpr_fix_plausible(&f);
    pthread_mutex_lock(&g->mu);
    if (f.mode >= LPR_FIX_2D && d->fix.time.tv_sec > 0 && isfinite(f.lat)) {
        lpr_fixes_add(g->track, &f);
        g->st.fixes++;
    }
    g->st.last = f;
    g->st.have_last = 1;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

static void *run(void *arg)
{
    lpr_gps *g = arg;
    int backoff = 250, logged_down = 0;
    /* libgps writes to the socket (WATCH commands) after gpsd may have
     * gone: with SIGPIPE blocked in this thread the write fails with EPIPE
     * instead of killing the process */
    sigset_t pipe_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, NULL);
    while (!should_stop(g)) {
        struct gps_data_t d;
        memset(&d, 0, sizeof d);
        if (gps_open(g->host, g->port, &d) != 0) {
            if (!logged_down)
                LPR_WARN("gps", "gpsd at %s:%s not reachable (%s); retrying", g->host, g->port,
                         gps_errstr(errno));
            logged_down = 1;
            for (int t = 0; t < backoff && !should_stop(g); t += 50)
                sleep_ms(50);
            backoff = backoff * 2 > 8000 ? 8000 : backoff * 2;
            continue;
        }
        gps_stream(&d, WATCH_ENABLE | WATCH_JSON, NULL);
        pthread_mutex_lock(&g->mu);
        if (g->st.connected == 0 && logged_down >= 0 && g->st.fixes + g->st.have_last > 0)
            g->st.reconnects++;
        g->st.connected = 1;
        pthread_mutex_unlock(&g->mu);
        if (logged_down)
            LPR_INFO("gps", "connected to gpsd at %s:%s", g->host, g->port);
        logged_down = 0;
        backoff = 250;
        while (!should_stop(g)) {
            if (!gps_waiting(&d, 200000))
                continue;
            if (gps_read(&d, NULL, 0) < 0) {
                LPR_WARN("gps", "gpsd at %s:%s went away; reconnecting", g->host, g->port);
                logged_down = 1;
                break;
            }
            take_report(g, &d);
        }
        gps_stream(&d, WATCH_DISABLE, NULL);
        gps_close(&d);
        pthread_mutex_lock(&g->mu);
        g->st.connected = 0;
        pthread_mutex_unlock(&g->mu);
    }
    return NULL;
}

lpr_gps_config lpr_gps_config_from(const lpr_config *c)
{
    return (lpr_gps_config){.server = c->gps.server,
                            .fixed = c->gps.fixed,
                            .max_extrapolate_ms = c->gps.max_extrapolate_ms};
}

lpr_err lpr_gps_new(const lpr_gps_config *cfg, lpr_gps **out)
{
    *out = NULL;
    lpr_gps *g = calloc(1, sizeof *g);
    if (!g)
        return LPR_ENOMEM;
    if (cfg)
        g->cfg = *cfg;
    if (g->cfg.max_extrapolate_ms <= 0)
        g->cfg.max_extrapolate_ms = 2000;
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    g->track = lpr_fixes_new(HISTORY);
    if (!g->track) {
        lpr_gps_free(g);
        return LPR_ENOMEM;
    }
    if (g->cfg.fixed && g->cfg.fixed[0]) {
        if (lpr_parse_fixed(g->cfg.fixed, &g->fixed) != LPR_OK) {
            LPR_ERROR("gps", "[gps] fixed: '%s' is not LAT,LON[,ALT] in degrees", g->cfg.fixed);
            lpr_gps_free(g);
            return LPR_EINVAL;
        }
        g->fixed_mode = 1;
        *out = g;
        return LPR_OK;
    }
    const char *server = g->cfg.server && g->cfg.server[0] ? g->cfg.server : LPR_GPSD_SERVER;
    const char *colon = strrchr(server, ':');
    if (!colon || colon == server || (size_t)(colon - server) >= sizeof g->host ||
        strlen(colon + 1) == 0 || strlen(colon + 1) >= sizeof g->port ||
        strspn(colon + 1, "0123456789") != strlen(colon + 1)) {
        LPR_ERROR("gps", "[gps] server: '%s' is not HOST:PORT", server);
        lpr_gps_free(g);
        return LPR_EINVAL;
    }
    memcpy(g->host, server, (size_t)(colon - server));
    snprintf(g->port, sizeof g->port, "%s", colon + 1);
    if (pthread_create(&g->thread, NULL, run, g) != 0) {
        lpr_gps_free(g);
        return LPR_ENOMEM;
    }
    g->thread_started = 1;
    *out = g;
    return LPR_OK;
}

void lpr_gps_free(lpr_gps *g)
{
    if (!g)
        return;
    if (g->thread_started) {
        pthread_mutex_lock(&g->mu);
        g->stop = 1;
        pthread_mutex_unlock(&g->mu);
        pthread_join(g->thread, NULL);
    }
    lpr_fixes_free(g->track);
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->cv);
    free(g);
}

void lpr_gps_at(lpr_gps *g, int64_t instant_ms, lpr_position *out)
{
    if (g->fixed_mode) {
        memset(out, 0, sizeof *out);
        out->fix = LPR_FIX_FIXED;
        out->lat = g->fixed.lat;
        out->lon = g->fixed.lon;
        out->alt_m = g->fixed.alt_m;
        out->err_m = NAN;
        out->speed_mps = 0;
        out->heading_deg = NAN;
        out->age_ms = 0;
        return;
    }
    pthread_mutex_lock(&g->mu);
    /* the history is in GPS time; when the system clock is not synchronised
     * map the frame's instant through the offset seen at the last fix */
    int64_t gps_instant = instant_ms;
    if (lpr_time_source_system() >= LPR_TIME_RTC && g->st.have_last && g->st.last.time_ms > 0)
        gps_instant += g->st.last.time_ms - g->st.last.recv_ms;
    lpr_fixes_at(g->track, gps_instant, g->cfg.max_extrapolate_ms, out);
    pthread_mutex_unlock(&g->mu);
}

void lpr_gps_get_status(lpr_gps *g, lpr_gps_status *st)
{
    pthread_mutex_lock(&g->mu);
    *st = g->st;
    pthread_mutex_unlock(&g->mu);
    if (g->fixed_mode) {
        st->last = g->fixed;
        st->have_last = 1;
    }
}

int64_t lpr_gps_wait(lpr_gps *g, int64_t after_fixes, int timeout_ms)
{
    struct timespec ts = lpr_deadline_in_ms(timeout_ms);
    pthread_mutex_lock(&g->mu);
    while (g->st.fixes + g->st.have_last <= after_fixes && !g->fixed_mode)
        if (pthread_cond_timedwait(&g->cv, &g->mu, &ts) != 0)
            break;
    int64_t n = g->st.fixes + g->st.have_last;
    pthread_mutex_unlock(&g->mu);
    return n;
}

int64_t lpr_time_stamp(lpr_gps *g, int64_t instant_ms, lpr_time_source *src)
{
    lpr_time_source sys = lpr_time_source_system();
    if (sys <= LPR_TIME_NTP || !g) {
        *src = sys;
        return instant_ms;
    }
    pthread_mutex_lock(&g->mu);
    int have = g->st.have_last && g->st.last.time_ms > 0 && g->st.last.recv_ms > 0;
    int64_t off = have ? g->st.last.time_ms - g->st.last.recv_ms : 0;
    pthread_mutex_unlock(&g->mu);
    if (!have) {
        *src = sys;
        return instant_ms;
    }
    *src = LPR_TIME_GPS;
    return instant_ms + off;
}

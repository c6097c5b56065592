/*
 * lprd_main.c - `lprd --config FILE`: the camera daemon.
 *
 * Opens the configured source, reads plates, follows vehicles, stamps each
 * read with time and position at its best frame's capture instant, and
 * appends it to the spool sealed: signed with the device key, which only
 * the camera user reads, before it enters the spool (the uplink publishes
 * the sealed bytes as they are). systemd-ready:
 * READY=1 once the camera delivers, WATCHDOG=1 only while frames keep
 * coming, SIGTERM flushes open tracks to the spool, SIGHUP reloads the
 * config (the pipeline restarts; no read is lost, open tracks are flushed);
 * a config that fails lprd's checks is not taken: the error is logged and
 * the running one stays.
 */
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "lpr_gps.h"
#include "lpr_ocr.h"
#include "lpr_read_json.h"
#include "lpr_sign.h"
#include "lpr_spool.h"
#include "pipeline.h"

static volatile sig_atomic_t stop_flag, reload_flag, run_stop;

static void on_term(int sig)
{
    (void)sig;
    stop_flag = 1;
    run_stop = 1;
}

static void on_hup(int sig)
{
    (void)sig;
    reload_flag = 1;
    run_stop = 1;
}

typedef struct daemon_ctx {
    lpr_config cfg;
    lpr_spool *spool;
    lpr_signer *signer; /* seals each read the spool takes */
    lpr_gps *gps;
    int64_t reads, spool_errors;
    int64_t progress;
    int watchdog_stop;
} daemon_ctx;

/* Spools a read's full-scene message, keyed by the read's id. */
static void spool_scene(daemon_ctx *d, const char *id, const uint8_t *scene, size_t scene_len,
                        const lpr_read_meta *m)
{
    json_t *o = lpr_scene_build(id, scene, scene_len, m);
    char *text = lpr_read_dumps(o);
    if (!text || lpr_spool_append(d->spool, text, strlen(text), NULL, NULL, 0) != LPR_OK) {
        d->spool_errors++;
        LPR_ERROR("lprd", "scene image of %s could not be spooled", id);
    }
    free(text);
    json_decref(o);
}

static void on_read(void *arg, const lpr_track_read *r, const uint8_t *jpeg, size_t len,
                    const uint8_t *scene, size_t scene_len)
{
    daemon_ctx *d = arg;
    int64_t wall = r->best_wall_ms ? r->best_wall_ms : lpr_realtime_ms();
    lpr_read_meta m = {&d->cfg, 0, LPR_TIME_UNSYNCED, {0}};
    m.observed_ms = lpr_time_stamp(d->gps, wall, &m.time_source);
    lpr_gps_at(d->gps, wall, &m.pos);
    json_t *o = lpr_read_build(&r->plate, r->frames, jpeg, len, &m);
    char *text = lpr_read_dumps(o);
    char id[LPR_READ_ID_MAX] = "";
    if (!text || lpr_spool_append(d->spool, text, strlen(text), NULL, id, sizeof id) != LPR_OK) {
        d->spool_errors++;
        LPR_ERROR("lprd", "read %s could not be spooled", r->plate.text);
    } else {
        d->reads++;
        LPR_INFO("lprd", "read %s %s conf %.1f frames %d fix %s", id, r->plate.text,
                 (double)r->plate.confidence, r->frames, lpr_fix_mode_name(m.pos.fix));
        if (scene && scene_len)
            spool_scene(d, id, scene, scene_len, &m);
    }
    free(text);
    json_decref(o);
}

/* Counters of the pipeline runs before this one (a SIGHUP reload starts a
 * new run): health reports totals since the daemon started. */
static int64_t done_frames, done_dropped, done_reads;

/* The camera's counters, for the uplink's health message. */
static void put_counters(daemon_ctx *d, const lpr_pipeline_stats *st)
{
    lpr_spool_put_counter(d->spool, LPR_CTR_CAMERA_FRAMES, done_frames + st->frames);
    lpr_spool_put_counter(d->spool, LPR_CTR_CAMERA_DROPPED, done_dropped + st->dropped);
    lpr_spool_put_counter(d->spool, LPR_CTR_CAMERA_READS, done_reads + d->reads);
    /* A run just started by a SIGHUP reload has no frames yet: the last run's
     * rate stands until this one has frames, or has had none for 5 s (then 0
     * is the truth: the camera delivers nothing). */
    if (st->frames > 0 || st->seconds >= 5.0)
        lpr_spool_put_counter(d->spool, LPR_CTR_CAMERA_FPS_X10,
                              st->seconds > 0 ? (int64_t)(10.0 * (double)st->frames / st->seconds)
                                              : 0);
    /* what the fleet sees of position and time, as lprd stamps reads */
    lpr_gps_status gs;
    lpr_gps_get_status(d->gps, &gs);
    int64_t now = lpr_realtime_ms();
    lpr_spool_put_counter(d->spool, LPR_CTR_GPS_MODE, gs.have_last ? (int64_t)gs.last.mode : -1);
    lpr_spool_put_counter(d->spool, LPR_CTR_GPS_SATS, gs.have_last ? gs.last.sats_used : 0);
    lpr_spool_put_counter(d->spool, LPR_CTR_GPS_FIX_AGE_MS,
                          gs.have_last && gs.last.recv_ms > 0 ? now - gs.last.recv_ms : -1);
    lpr_spool_put_counter(d->spool, LPR_CTR_GPS_CONNECTED, gs.connected);
    lpr_spool_put_counter(d->spool, LPR_CTR_CLOCK_SOURCE, (int64_t)lpr_time_source_system());
    /* the heartbeat: the uplink calls the camera dead when this grows old */
    lpr_spool_put_counter(d->spool, LPR_CTR_CAMERA_UPDATED_MS, now);
}

static void on_stats(void *arg, const lpr_pipeline_stats *st)
{
    put_counters(arg, st);
}

/* Pings the systemd watchdog only while frames keep arriving. */
static void *watchdog_main(void *arg)
{
    daemon_ctx *d = arg;
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0)
        return NULL;
    int64_t last = -1;
    while (!__atomic_load_n(&d->watchdog_stop, __ATOMIC_RELAXED)) {
        int64_t now = __atomic_load_n(&d->progress, __ATOMIC_RELAXED);
        if (now != last)
            sd_notify(0, "WATCHDOG=1");
        last = now;
        usleep((useconds_t)(usec / 2 > 100000 ? usec / 2 : 100000));
    }
    return NULL;
}

/* Loads path and makes every check lprd makes before it starts (config,
 * source, roi, models, the device key that seals reads): 0, or 1 with each
 * problem logged in one line. */
static int load_checked(const char *path, lpr_config *cfg)
{
    char err[600];
    if (lpr_config_load(path, cfg, err, sizeof err) != LPR_OK) {
        LPR_ERROR("lprd", "%s", err);
        return 1;
    }
    lpr_pipeline_config pc;
    lpr_pipeline_config_init(&pc);
    lpr_pipeline_config_apply(&pc, cfg);
    int bad = lpr_pipeline_check(&pc, cfg, path) != LPR_OK;
    lpr_signer *s = NULL;
    if (lpr_signer_load(cfg->uplink.sign_key, &s) != LPR_OK) /* logged, naming the key */
        bad = 1;
    lpr_signer_free(s);
    return bad;
}

/* Runs the pipeline on cfg (already checked) until it stops: SIGTERM, a
 * reload, the end of footage or a failing camera. */
static int run_once(const lpr_config *cfg)
{
    daemon_ctx d;
    int rc = 1;
    memset(&d, 0, sizeof d);
    d.cfg = *cfg;
    lpr_pipeline_config pc;
    lpr_pipeline_config_init(&pc);
    lpr_pipeline_config_apply(&pc, &d.cfg);
    pc.motion_gate = 1;
    pc.progress = &d.progress;
    pc.on_stats = on_stats;

    lpr_spool_opts so = lpr_spool_opts_from_config(&d.cfg);
    if (lpr_spool_open(d.cfg.spool.path, &so, &d.spool) != LPR_OK)
        return 1;
    if (lpr_seal_spool(d.spool, d.cfg.uplink.sign_key, &d.signer) != LPR_OK)
        goto out;
    lpr_gps_config gc = lpr_gps_config_from(&d.cfg);
    if (lpr_gps_new(&gc, &d.gps) != LPR_OK)
        goto out;
    lpr_source_options so_cam = lpr_source_options_from(&d.cfg);
    lpr_source *src;
    if (lpr_source_open(d.cfg.camera.source, &so_cam, &src) != LPR_OK)
        goto out;
    sd_notify(0, "READY=1\nSTATUS=reading plates");
    LPR_INFO("lprd", "device %s camera %s source %s spool %s", d.cfg.device.id, d.cfg.camera.id,
             d.cfg.camera.source, d.cfg.spool.path);
    pthread_t wd;
    int wd_started = pthread_create(&wd, NULL, watchdog_main, &d) == 0;
    lpr_pipeline_stats ps;
    /* not 0: a SIGTERM (or another SIGHUP) that came while this run was
     * being set up, after the last run ended, must stop this one, or the
     * signal would be lost and lprd would read on */
    run_stop = stop_flag || reload_flag;
    lpr_err prc = lpr_pipeline_run(&pc, src, &run_stop, on_read, &d, &ps);
    __atomic_store_n(&d.watchdog_stop, 1, __ATOMIC_RELAXED);
    if (wd_started)
        pthread_join(wd, NULL);
    int live = lpr_source_is_live(src);
    lpr_source_close(src);
    put_counters(&d, &ps);
    done_frames += ps.frames;
    done_dropped += ps.dropped;
    done_reads += d.reads;
    LPR_INFO("lprd",
             "%lld frames (%.1f/s), %lld dropped, %lld gated, %lld reads spooled; "
             "frame->spool latency p50 %.0f ms; peak RSS %.0f MB",
             (long long)ps.frames, ps.seconds > 0 ? (double)ps.frames / ps.seconds : 0.0,
             (long long)ps.dropped, (long long)ps.gated, (long long)d.reads,
             ps.capture_to_read_ms_p50, (double)lpr_peak_rss_kb() / 1024.0);
    rc = prc == LPR_OK && d.spool_errors == 0 ? 0 : 1;
    if (prc == LPR_OK && !stop_flag && !reload_flag && live) {
        LPR_ERROR("lprd", "%s: the camera stopped delivering frames", d.cfg.camera.source);
        rc = 1;
    }
out:
    lpr_gps_free(d.gps);
    lpr_spool_close(d.spool);
    lpr_signer_free(d.signer);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"check", no_argument, NULL, 'k'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *path = "/etc/lpr/lpr.conf";
    int c, check = 0;
    lpr_ocr_process_init(argv);
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': path = optarg; break;
        case 'k': check = 1; break;
        case 'h':
            printf("usage: lprd [--config FILE] [--check]\nThe camera daemon: reads plates from "
                   "[camera] source and spools reads sealed with the device key.\n"
                   "--check: make every check lprd makes at start (config, source,\n"
                   "roi, models, device key) without starting, then exit.\n");
            return 0;
        default: return 2;
        }
    }
    lpr_config cur;
    if (check) {
        if (load_checked(path, &cur))
            return 1;
        printf("%s: configuration ok (device %s, source %s)\n", path, cur.device.id,
               cur.camera.source);
        return 0;
    }
    if (load_checked(path, &cur))
        return 1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_hup;
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    for (;;) {
        int rc = run_once(&cur);
        if (reload_flag && !stop_flag) {
            reload_flag = 0;
            sd_notify(0, "RELOADING=1");
            LPR_INFO("lprd", "reloading %s", path);
            lpr_config next;
            if (load_checked(path, &next) == 0)
                cur = next;
            else
                LPR_ERROR("lprd",
                          "%s: not reloaded; still running the configuration it "
                          "started with",
                          path);
            continue;
        }
        sd_notify(0, "STOPPING=1");
        return rc;
    }
}

/*
 * cmd_doctor.c - `lpr doctor`: the on-site check a field tech runs after
 * installing a unit. One line per check, PASS or FAIL with the reason;
 * exit 1 if anything failed.
 */
#include <getopt.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <libgen.h>
#include <unistd.h>

#include "lpr_gps.h"
#include "lpr_sign.h"
#include "lpr_spool.h"
#include "lpr_tool.h"
#include "lpr_uplink.h"
#include "source.h"

static int failures;

static void result(int ok, const char *check, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void result(int ok, const char *check, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    printf("%s  %-8s %s\n", ok ? "PASS" : "FAIL", check, msg);
    fflush(stdout);
    failures += !ok;
}

static void check_keys(const lpr_config *cfg)
{
    char err[600];
    lpr_signer *s;
    if (lpr_check_secret_file(cfg->uplink.sign_key, err, sizeof err) != LPR_OK)
        result(0, "keys", "signing key: %s", err);
    else if (lpr_signer_load(cfg->uplink.sign_key, &s) != LPR_OK)
        result(0, "keys", "signing key %s: not an ECDSA P-256 private key", cfg->uplink.sign_key);
    else {
        result(1, "keys", "signing key %s (0600), key id %s", cfg->uplink.sign_key, lpr_signer_kid(s));
        lpr_signer_free(s);
    }
    if (cfg->uplink.insecure) {
        result(1, "keys", "no TLS files needed: insecure = true (plaintext MQTT!)");
        return;
    }
    if (lpr_check_secret_file(cfg->uplink.key, err, sizeof err) != LPR_OK)
        result(0, "keys", "TLS key: %s", err);
    else if (access(cfg->uplink.cert, R_OK) || access(cfg->uplink.ca, R_OK))
        result(0, "keys", "TLS certificate %s or CA %s not readable", cfg->uplink.cert, cfg->uplink.ca);
    else
        result(1, "keys", "TLS key %s (0600), certificate and CA readable", cfg->uplink.key);
}

static void check_camera(const lpr_config *cfg)
{
    lpr_source *src;
    lpr_frame f;
    if (!cfg->camera.source[0]) {
        result(0, "camera", "[camera] source is not set");
        return;
    }
    lpr_source_options so_cam = {cfg->camera.width, cfg->camera.height, cfg->camera.exposure_us,
                                 cfg->camera.gain};
    if (lpr_source_open(cfg->camera.source, &so_cam, &src) != LPR_OK) {
        result(0, "camera", "%s does not open (reason above)", cfg->camera.source);
        return;
    }
    lpr_source_set_timeout(src, 5000);
    double t0 = lpr_monotonic_ms();
    if (lpr_source_read(src, &f) != LPR_OK)
        result(0, "camera", "%s opened but delivered no frame in 5 s", cfg->camera.source);
    else {
        result(1, "camera", "%s delivers %dx%d frames (first after %.0f ms)", cfg->camera.source,
               f.width, f.height, lpr_monotonic_ms() - t0);
        lpr_frame_clear(&f);
    }
    lpr_source_close(src);
}

static void check_gps(const lpr_config *cfg)
{
    lpr_gps_config gc = {cfg->gps.server, cfg->gps.fixed, cfg->gps.max_extrapolate_ms};
    lpr_gps *g;
    if (lpr_gps_new(&gc, &g) != LPR_OK) {
        result(0, "gps", "bad [gps] settings");
        return;
    }
    if (cfg->gps.fixed[0]) {
        lpr_position p;
        lpr_gps_at(g, lpr_realtime_ms(), &p);
        result(1, "gps", "fixed site %.6f,%.6f (no gpsd needed)", p.lat, p.lon);
    } else {
        lpr_gps_wait(g, 0, 5000);
        lpr_gps_status st;
        lpr_gps_get_status(g, &st);
        if (!st.connected && !st.have_last)
            result(0, "gps", "gpsd at %s not reachable", cfg->gps.server);
        else if (!st.have_last || st.last.mode < LPR_FIX_2D)
            result(0, "gps", "gpsd at %s reachable, but NO FIX (%d satellites used); reads will say fix none",
                   cfg->gps.server, st.have_last ? st.last.sats_used : 0);
        else
            result(1, "gps", "%s fix %.6f,%.6f, %d satellites, error %s", lpr_fix_mode_name(st.last.mode),
                   st.last.lat, st.last.lon, st.last.sats_used,
                   isnan(st.last.err_m) ? "unknown" : "known");
    }
    lpr_gps_free(g);
}

static void check_clock(void)
{
    lpr_time_source ts = lpr_time_source_system();
    if (ts <= LPR_TIME_NTP)
        result(1, "clock", "synchronised (%s)", lpr_time_source_name(ts));
    else
        result(0, "clock", "not synchronised (%s): reads use GPS time when gpsd has it, else say unsynced",
               lpr_time_source_name(ts));
}

static void check_spool(const lpr_config *cfg)
{
    lpr_spool_opts so = {cfg->device.id, 0, 0};
    lpr_spool *sp;
    struct statvfs sv;
    char dir[LPR_CFG_STR];
    snprintf(dir, sizeof dir, "%s", cfg->spool.path);
    if (lpr_spool_open(cfg->spool.path, &so, &sp) != LPR_OK) {
        result(0, "spool", "%s cannot be opened for writing", cfg->spool.path);
        return;
    }
    lpr_spool_stats st;
    lpr_spool_get_stats(sp, lpr_realtime_ms(), &st);
    lpr_spool_close(sp);
    double free_mb = statvfs(dirname(dir), &sv) == 0
                         ? (double)sv.f_bavail * (double)sv.f_frsize / 1048576.0 : -1;
    if (free_mb >= 0 && free_mb < cfg->spool.max_mb)
        result(0, "spool", "%s writable, but only %.0f MB free for a %.0f MB quota",
               cfg->spool.path, free_mb, cfg->spool.max_mb);
    else
        result(1, "spool", "%s writable, %lld reads waiting, %.0f MB free", cfg->spool.path,
               (long long)st.depth, free_mb);
}

static void check_broker(const lpr_config *cfg)
{
    char why[512];
    if (!cfg->uplink.host[0]) {
        result(0, "broker", "[uplink] host is not set");
        return;
    }
    if (cfg->uplink.insecure) {
        int ok = lpr_uplink_probe(cfg, why, sizeof why);
        result(ok, "broker", "%s:%d (insecure = true, plaintext): %s", cfg->uplink.host,
               cfg->uplink.port, why);
        return;
    }
    int ok = lpr_cert_check(cfg, 30, why, sizeof why);
    result(ok, "cert", "%s", why);
    if (!lpr_tls_diagnose(cfg, why, sizeof why)) {
        result(0, "broker", "%s:%d: %s", cfg->uplink.host, cfg->uplink.port, why);
        return;
    }
    ok = lpr_uplink_probe(cfg, why, sizeof why);
    result(ok, "broker", "%s:%d: TLS with our certificate; %s", cfg->uplink.host,
           cfg->uplink.port, why);
}

int lpr_cmd_doctor(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *path = "/etc/lpr/lpr.conf";
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': path = optarg; break;
        case 'h':
            printf("usage: lpr doctor [--config FILE]\n"
                   "Checks config, key files, camera, GPS, clock, spool, the client certificate\n"
                   "(CN = device id, 30 days left) and the broker (TLS, MQTT CONNECT, a test\n"
                   "publish on <prefix>health). One PASS/FAIL line each; exit 1 if any fails.\n");
            return 0;
        default: return 2;
        }
    }
    lpr_config cfg;
    char err[600];
    failures = 0;
    if (lpr_config_load(path, &cfg, err, sizeof err) != LPR_OK) {
        result(0, "config", "%s", err);
        return 1;
    }
    result(1, "config", "%s parses (device %s)", path, cfg.device.id);
    check_keys(&cfg);
    check_camera(&cfg);
    check_gps(&cfg);
    check_clock();
    check_spool(&cfg);
    check_broker(&cfg);
    printf("%s\n", failures ? "some checks FAILED" : "all checks passed");
    return failures ? 1 : 0;
}

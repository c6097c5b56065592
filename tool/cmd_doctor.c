/*
 * cmd_doctor.c - `lpr doctor`: the on-site check a field tech runs after
 * installing a unit. One line per check, PASS or FAIL with the reason;
 * exit 1 if anything failed.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <libgen.h>
#include <unistd.h>

#include <jansson.h>

#include "lpr_gps.h"
#include "lpr_sign.h"
#include "lpr_spool.h"
#include "lpr_tool.h"
#include "lpr_uplink.h"
#include "pipeline.h"
#include "source.h"

static int failures;
static json_t *json_checks; /* --json: the results, printed at the end */

static void result(int ok, const char *check, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void result(int ok, const char *check, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    failures += !ok;
    if (json_checks) {
        json_array_append_new(json_checks,
                              json_pack("{s:s,s:b,s:s}", "check", check, "ok", ok, "detail", msg));
        return;
    }
    printf("%s  %-8s %s\n", ok ? "PASS" : "FAIL", check, msg);
    fflush(stdout);
}

/* Run as root on an installed unit, a file root can read says nothing about
 * the service user that needs it: "" when user may (or is not on this
 * system: a build tree), else why not. */
static const char *user_cannot(const char *path, const char *user, int want)
{
    static char why[700];
    struct stat st;
    int may = lpr_user_may(path, user, want);
    if (may != 0 || stat(path, &st) != 0)
        return "";
    struct passwd *pw = getpwuid(st.st_uid);
    char owner[64];
    snprintf(owner, sizeof owner, "%s", pw ? pw->pw_name : "?");
    struct group *gr = getgrgid(st.st_gid);
    snprintf(why, sizeof why, "%s is %s:%s %04o: %s cannot %s it", path, owner,
             gr ? gr->gr_name : "?", (unsigned)(st.st_mode & 07777), user,
             want & W_OK ? "write" : "read");
    return why;
}

static void check_keys(const lpr_config *cfg)
{
    char err[600];
    lpr_signer *s;
    const char *no;
    if (lpr_check_secret_file(cfg->uplink.sign_key, err, sizeof err) != LPR_OK)
        result(0, "keys", "signing key: %s", err);
    else if (*(no = user_cannot(cfg->uplink.sign_key, LPR_USER_CAMERA, R_OK)))
        result(0, "keys", "signing key: %s; lprd seals reads with it (chown %s:%s it)", no,
               LPR_USER_CAMERA, LPR_GROUP);
    else if (lpr_signer_load(cfg->uplink.sign_key, &s) != LPR_OK)
        result(0, "keys", "signing key %s: not an ECDSA P-256 private key", cfg->uplink.sign_key);
    else {
        result(1, "keys", "signing key %s (0600), key id %s", cfg->uplink.sign_key,
               lpr_signer_kid(s));
        lpr_signer_free(s);
    }
    if (cfg->uplink.insecure) {
        result(1, "keys", "no TLS files needed: insecure = true (plaintext MQTT!)");
        return;
    }
    if (lpr_check_secret_file(cfg->uplink.key, err, sizeof err) != LPR_OK)
        result(0, "keys", "TLS key: %s", err);
    else if (*(no = user_cannot(cfg->uplink.key, LPR_USER_UPLINK, R_OK)))
        result(0, "keys", "TLS key: %s (chown %s:%s it)", no, LPR_USER_UPLINK, LPR_GROUP);
    else if (*(no = user_cannot(cfg->uplink.cert, LPR_USER_UPLINK, R_OK)) ||
             *(no = user_cannot(cfg->uplink.ca, LPR_USER_UPLINK, R_OK)))
        result(0, "keys", "TLS: %s", no);
    else if (access(cfg->uplink.cert, R_OK) || access(cfg->uplink.ca, R_OK))
        result(0, "keys", "TLS certificate %s or CA %s not readable", cfg->uplink.cert,
               cfg->uplink.ca);
    else
        result(1, "keys", "TLS key %s (0600), certificate and CA readable", cfg->uplink.key);
}

/* The models lprd reads with: the shipped ones found beside the program
 * (an installed unit) or in the source tree (a build tree), readable by the
 * camera's user, and every one loads. A missing shipped model would not stop
 * lprd, only make its reads far worse, so it is a FAIL here. */
static void check_models(const lpr_config *cfg)
{
    static const char *const shipped[] = {"lpr-verify.nn", "lpr-read.nn", "lpr-confidence.nn",
                                          "lpr-chars.clf"};
    const char *const set[] = {cfg->ocr.verifier, cfg->ocr.reader, cfg->ocr.calibration,
                               cfg->ocr.char_model};
    char list[900] = "";
    size_t n = 0;
    const char *dir = NULL;
    for (int i = 0; i < 4; i++) {
        const char *what = set[i];
        char path[1200];
        if (!what[0]) {
            const char *d = lpr_model_dir_with(shipped[i]);
            if (!d) {
                result(0, "models",
                       "the shipped %s is not installed (share/lpr-edge/models beside "
                       "the program): reads would be far worse without it; reinstall the package",
                       shipped[i]);
                return;
            }
            dir = d;
            snprintf(path, sizeof path, "%s/%s", d, shipped[i]);
            what = shipped[i];
        } else {
            snprintf(path, sizeof path, "%s", what);
        }
        const char *no = strcmp(what, "none") ? user_cannot(path, LPR_USER_CAMERA, R_OK) : "";
        if (*no) {
            result(0, "models", "%s", no);
            return;
        }
        n += (size_t)snprintf(list + n, n < sizeof list ? sizeof list - n : 0, "%s%s",
                              i ? ", " : "", what);
    }
    lpr_pipeline_config pc;
    lpr_pipeline_config_init(&pc);
    lpr_pipeline_config_apply(&pc, cfg);
    lpr_ocr *o;
    if (lpr_ocr_new(&pc.ocr, &o) != LPR_OK) {
        result(0, "models", "the reader cannot start (reason above)");
        return;
    }
    lpr_ocr_free(o);
    result(1, "models", "%s%s%s load; Tesseract '%s'", list, dir ? " from " : "", dir ? dir : "",
           pc.ocr.model);
}

static void check_camera(const lpr_config *cfg)
{
    lpr_source *src;
    lpr_frame f;
    if (!cfg->camera.source[0]) {
        result(0, "camera", "[camera] source is not set");
        return;
    }
    lpr_source_options so_cam = lpr_source_options_from(cfg);
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

/* How long doctor waits for a fix: a receiver that has had one reports
 * again within a second or two; a cold start takes longer, and is a FAIL
 * worth knowing about on site. */
#define GPS_FIX_WAIT_MS 10000.0

static void check_gps(const lpr_config *cfg)
{
    lpr_gps_config gc = lpr_gps_config_from(cfg);
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
        /* a receiver's first reports often have no fix while it acquires:
         * wait for one, report by report, up to GPS_FIX_WAIT_MS */
        double t0 = lpr_monotonic_ms(), left;
        int64_t n = 0, reports = 0;
        lpr_gps_status st;
        memset(&st, 0, sizeof st);
        while ((left = GPS_FIX_WAIT_MS - (lpr_monotonic_ms() - t0)) > 0) {
            int64_t m = lpr_gps_wait(g, n, (int)left);
            reports += m > n ? m - n : 0;
            n = m;
            lpr_gps_get_status(g, &st);
            if (st.have_last && st.last.mode >= LPR_FIX_2D)
                break;
        }
        double took = (lpr_monotonic_ms() - t0) / 1000.0;
        if (!st.connected && !st.have_last)
            result(0, "gps", "gpsd at %s not reachable", cfg->gps.server);
        else if (!st.have_last || st.last.mode < LPR_FIX_2D)
            result(0, "gps",
                   "gpsd at %s reachable, but NO FIX within %.0f s (%lld reports, last with "
                   "%d satellites used); reads will say fix none",
                   cfg->gps.server, GPS_FIX_WAIT_MS / 1000.0, (long long)reports,
                   st.have_last ? st.last.sats_used : 0);
        else
            result(1, "gps",
                   "%s fix %.6f,%.6f, %d satellites, error %s, after %.1f s (%lld reports)",
                   lpr_fix_mode_name(st.last.mode), st.last.lat, st.last.lon, st.last.sats_used,
                   isnan(st.last.err_m) ? "unknown" : "known", took, (long long)reports);
    }
    lpr_gps_free(g);
}

static void check_clock(void)
{
    lpr_time_source ts = lpr_time_source_system();
    if (ts <= LPR_TIME_NTP)
        result(1, "clock", "synchronised (%s)", lpr_time_source_name(ts));
    else
        result(0, "clock",
               "not synchronised (%s): reads use GPS time when gpsd has it, else say unsynced",
               lpr_time_source_name(ts));
}

/* The spool is never made here: one made by root before the first start
 * would be root's, and lprd could not write it. */
/* What the first of the two service users that write the spool cannot do
 * with path (user_cannot's line), or "" when both can. */
static const char *either_cannot(const char *path, int mode)
{
    const char *no = user_cannot(path, LPR_USER_CAMERA, mode);
    return *no ? no : user_cannot(path, LPR_USER_UPLINK, mode);
}

static void check_spool(const lpr_config *cfg)
{
    lpr_spool_opts so = lpr_spool_opts_from_config(cfg);
    so.must_exist = 1;
    so.max_mb = so.max_age_days = 0; /* looking only: no quota runs */
    lpr_spool *sp;
    struct statvfs sv;
    char dir[LPR_CFG_STR];
    snprintf(dir, sizeof dir, "%s", cfg->spool.path);
    dirname(dir);
    lpr_spool_stats st = {0};
    int exists = access(cfg->spool.path, F_OK) == 0;
    char whom[96] = "";
    if (lpr_user_may(dir, LPR_USER_CAMERA, 0) >= 0 && lpr_user_may(dir, LPR_USER_UPLINK, 0) >= 0)
        snprintf(whom, sizeof whom, " by %s and %s", LPR_USER_CAMERA, LPR_USER_UPLINK);
    if (!exists) {
        if (access(dir, W_OK | X_OK) != 0) {
            result(0, "spool", "%s: no spool yet, and its folder %s is not writable: %s",
                   cfg->spool.path, dir, strerror(errno));
            return;
        }
        const char *no = either_cannot(dir, W_OK | X_OK);
        if (*no) {
            result(0, "spool", "no spool yet, and %s", no);
            return;
        }
    } else {
        const char *no = either_cannot(cfg->spool.path, R_OK | W_OK);
        if (*no) {
            result(0, "spool", "%s (both %s and %s write the spool; chgrp %s and chmod 660 it)", no,
                   LPR_USER_CAMERA, LPR_USER_UPLINK, LPR_GROUP);
            return;
        }
        if (lpr_spool_open(cfg->spool.path, &so, &sp) != LPR_OK) {
            result(0, "spool", "%s cannot be opened for writing (reason above)", cfg->spool.path);
            return;
        }
        lpr_spool_get_stats(sp, lpr_realtime_ms(), &st);
        lpr_spool_close(sp);
    }
    double free_mb =
        statvfs(dir, &sv) == 0 ? (double)sv.f_bavail * (double)sv.f_frsize / 1048576.0 : -1;
    if (free_mb >= 0 && free_mb < cfg->spool.max_mb)
        result(0, "spool", "%s writable, but only %.0f MB free for a %.0f MB quota",
               cfg->spool.path, free_mb, cfg->spool.max_mb);
    else if (!exists)
        result(1, "spool",
               "%s not made yet (lprd makes it at its first start); %s writable%s, "
               "%.0f MB free",
               cfg->spool.path, dir, whom, free_mb);
    else if (st.unsealed > 0)
        result(0, "spool",
               "%s: %lld of its %lld reads wait unsealed (spooled without the device key); "
               "lprd seals them when it starts, and the uplink sends none before",
               cfg->spool.path, (long long)st.unsealed, (long long)st.depth);
    else
        result(1, "spool", "%s writable%s, %lld reads waiting, %.0f MB free", cfg->spool.path, whom,
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
    result(ok, "broker", "%s:%d: TLS with our certificate; %s", cfg->uplink.host, cfg->uplink.port,
           why);
}

/* The verdict line, or with --json the whole report; the exit status. */
static int finish(const char *path)
{
    if (json_checks) {
        json_t *o =
            json_pack("{s:b,s:s,s:o}", "ok", failures == 0, "config", path, "checks", json_checks);
        json_checks = NULL;
        char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (s)
            printf("%s\n", s);
        free(s);
        json_decref(o);
    } else {
        printf("%s\n", failures ? "some checks FAILED" : "all checks passed");
    }
    return failures ? 1 : 0;
}

int lpr_cmd_doctor(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *path = "/etc/lpr/lpr.conf";
    int c, json = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:jh", opts, NULL)) != -1) {
        switch (c) {
        case 'c': path = optarg; break;
        case 'j': json = 1; break;
        case 'h':
            printf("usage: lpr doctor [--config FILE] [--json]\n"
                   "Checks config, key files, the OCR models, camera, GPS, clock, spool, the\n"
                   "client certificate (CN = device id, 30 days left) and the broker (TLS, MQTT\n"
                   "CONNECT, a test publish on <prefix>health). Run as root on an installed unit,\n"
                   "files are checked for the service user that needs them (%s, %s).\n"
                   "One PASS/FAIL line each; exit 1 if any fails. --json: one JSON object,\n"
                   "{\"ok\":BOOL,\"config\":FILE,\"checks\":[{\"check\",\"ok\",\"detail\"}...]}.\n",
                   LPR_USER_CAMERA, LPR_USER_UPLINK);
            return 0;
        default: return 2;
        }
    }
    lpr_config cfg;
    char err[600];
    failures = 0;
    json_checks = json ? json_array() : NULL;
    if (lpr_config_load(path, &cfg, err, sizeof err) != LPR_OK) {
        result(0, "config", "%s", err);
        return finish(path);
    }
    result(1, "config", "%s parses (device %s)", path, cfg.device.id);
    check_keys(&cfg);
    check_models(&cfg);
    check_camera(&cfg);
    check_gps(&cfg);
    check_clock();
    check_spool(&cfg);
    check_broker(&cfg);
    return finish(path);
}

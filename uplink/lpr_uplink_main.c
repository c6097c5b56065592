/*
 * lpr_uplink_main.c - `lpr-uplink --config FILE`: drains the spool to the
 * broker until SIGTERM/SIGINT (see lpr_uplink.h). systemd-ready: READY=1
 * once the spool is open, WATCHDOG=1 only while the uplink makes progress
 * (lpr_uplink_progress), so a unit with WatchdogSec= restarts one that is
 * connected with reads in flight and gets none acknowledged.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "lpr_uplink.h"

static int watchdog_stop;

/* Pings the systemd watchdog, at half its interval, only when the
 * uplink's progress count has moved since the last look. */
static void *watchdog_main(void *arg)
{
    const lpr_uplink *u = arg;
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0)
        return NULL;
    int64_t last = -1;
    while (!__atomic_load_n(&watchdog_stop, __ATOMIC_RELAXED)) {
        int64_t now = lpr_uplink_progress(u);
        if (now != last)
            sd_notify(0, "WATCHDOG=1");
        last = now;
        usleep((useconds_t)(usec / 2 > 100000 ? usec / 2 : 100000));
    }
    return NULL;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: lpr-uplink --config FILE [--once]\n"
               "Signs spooled reads and publishes them to the MQTT broker over TLS.\n"
               "  --config FILE  lpr.conf (default /etc/lpr/lpr.conf)\n"
               "  --once         exit when the spool is empty\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"once", no_argument, NULL, 'o'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *path = "/etc/lpr/lpr.conf";
    int once = 0, c;
    while ((c = getopt_long(argc, argv, "c:oh", opts, NULL)) != -1) {
        switch (c) {
        case 'c': path = optarg; break;
        case 'o': once = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    lpr_config cfg;
    char err[600];
    if (lpr_config_load(path, &cfg, err, sizeof err) != LPR_OK) {
        fprintf(stderr, "lpr-uplink: %s\n", err);
        return 1;
    }
    volatile sig_atomic_t *stop = lpr_stop_on_signals();
    signal(SIGPIPE, SIG_IGN);

    lpr_uplink *u;
    lpr_err rc = lpr_uplink_new(&cfg, &u);
    if (rc != LPR_OK) {
        fprintf(stderr, "lpr-uplink: cannot start: %s\n", lpr_strerror(rc));
        return 1;
    }
    pthread_t wd;
    int have_wd = pthread_create(&wd, NULL, watchdog_main, u) == 0;
    if (!have_wd)
        fprintf(stderr, "lpr-uplink: cannot start the watchdog thread; running without it\n");
    sd_notify(0, "READY=1\nSTATUS=draining the spool");
    rc = lpr_uplink_run(u, stop, once, 3000);
    sd_notify(0, "STOPPING=1");
    __atomic_store_n(&watchdog_stop, 1, __ATOMIC_RELAXED);
    if (have_wd)
        pthread_join(wd, NULL);
    lpr_uplink_counters cn;
    lpr_uplink_get_counters(u, &cn);
    fprintf(stderr,
            "lpr-uplink: sent %lld, published %lld, refused %lld, reconnects %lld, PUBACK p50 "
            "%.1f ms p99 %.1f ms, peak RSS %.1f MB\n",
            (long long)cn.sent, (long long)cn.published, (long long)cn.refused,
            (long long)cn.reconnects, cn.ack_ms_p50, cn.ack_ms_p99,
            (double)lpr_peak_rss_kb() / 1024.0);
    lpr_uplink_free(u);
    return rc == LPR_OK ? 0 : 1;
}

/*
 * lpr_uplink_main.c - `lpr-uplink --config FILE`: drains the spool to the
 * broker until SIGTERM/SIGINT (see lpr_uplink.h).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "lpr_uplink.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
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
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    lpr_uplink *u;
    lpr_err rc = lpr_uplink_new(&cfg, &u);
    if (rc != LPR_OK) {
        fprintf(stderr, "lpr-uplink: cannot start: %s\n", lpr_strerror(rc));
        return 1;
    }
    rc = lpr_uplink_run(u, &stop_flag, once, 3000);
    lpr_uplink_counters cn;
    lpr_uplink_get_counters(u, &cn);
    fprintf(stderr,
            "lpr-uplink: sent %lld, published %lld, refused %lld, reconnects %lld, PUBACK p50 "
            "%.1f ms p99 %.1f ms, peak RSS %.1f MB\n",
            (long long)cn.sent, (long long)cn.published, (long long)cn.refused,
            (long long)cn.reconnects,
            cn.ack_ms_p50, cn.ack_ms_p99, (double)lpr_peak_rss_kb() / 1024.0);
    lpr_uplink_free(u);
    return rc == LPR_OK ? 0 : 1;
}

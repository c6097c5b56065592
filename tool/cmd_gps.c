/*
 * cmd_gps.c - `lpr gps`: fixes from gpsd (or a recorded NMEA log) as a
 * status line a field tech can read on a small terminal, or as JSON lines.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lpr_gps.h"
#include "lpr_read_json.h"
#include "lpr_tool.h"

static void print_fix(const lpr_fix *f, int json, lpr_time_source ts, const char *note)
{
    char when[32] = "-";
    if (f->time_ms > 0)
        lpr_format_utc_ms(f->time_ms, when, sizeof when);
    if (json) {
        lpr_position p = {f->mode,        f->lat,
                          f->lon,         f->alt_m,
                          f->err_m,       f->speed_mps,
                          f->heading_deg, f->recv_ms ? lpr_realtime_ms() - f->recv_ms : 0};
        json_t *o = json_pack("{s:s,s:o,s:s,s:i}", "time", when, "location", lpr_position_json(&p),
                              "time_source", lpr_time_source_name(ts), "sats_used", f->sats_used);
        char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
        puts(s);
        free(s);
        json_decref(o);
    } else if (f->mode == LPR_FIX_NONE) {
        printf("%s  NO FIX   %s; satellites used %d, seen %d; clock %s\n", when, note, f->sats_used,
               f->sats_seen, lpr_time_source_name(ts));
    } else {
        printf("%s  %-5s  %.6f,%.6f", when, lpr_fix_mode_name(f->mode), f->lat, f->lon);
        if (!isnan(f->alt_m))
            printf("  alt %.1f m", f->alt_m);
        if (!isnan(f->err_m))
            printf("  +-%.1f m", f->err_m);
        if (!isnan(f->speed_mps))
            printf("  %.1f m/s", f->speed_mps);
        if (!isnan(f->heading_deg))
            printf(" %.0f deg", f->heading_deg);
        printf("  sats %d  clock %s\n", f->sats_used, lpr_time_source_name(ts));
    }
    fflush(stdout);
}

int lpr_cmd_gps(int argc, char **argv)
{
    static const struct option opts[] = {{"server", required_argument, NULL, 's'},
                                         {"count", required_argument, NULL, 'n'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"nmea", required_argument, NULL, 'f'},
                                         {"timeout", required_argument, NULL, 't'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *server = LPR_GPSD_SERVER, *nmea = NULL;
    long count = -1, timeout_s = 0;
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "s:n:jf:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 's': server = optarg; break;
        case 'n': count = strtol(optarg, NULL, 10); break;
        case 'j': json = 1; break;
        case 'f': nmea = optarg; break;
        case 't': timeout_s = strtol(optarg, NULL, 10); break;
        case 'h':
            printf("usage: lpr gps [--server HOST:PORT] [--count N] [--json] [--timeout S]\n"
                   "       lpr gps --nmea LOG [--json]\n"
                   "One line per fix from gpsd (default " LPR_GPSD_SERVER "): fix type, position,\n"
                   "error, speed/heading, satellites and clock sync; NO FIX when there is none.\n"
                   "--nmea prints the fixes of a recorded NMEA log (checksums verified).\n");
            return 0;
        default: return 2;
        }
    }
    if (nmea) {
        FILE *fp = fopen(nmea, "r");
        char line[4096];
        lpr_fix f;
        if (!fp) {
            fprintf(stderr, "lpr gps: %s: %m\n", nmea);
            return 1;
        }
        lpr_nmea *n = lpr_nmea_new();
        long printed = 0;
        while (fgets(line, sizeof line, fp) && (count < 0 || printed < count))
            if (lpr_nmea_feed(n, line, &f)) {
                print_fix(&f, json, LPR_TIME_GPS, "");
                printed++;
            }
        if ((count < 0 || printed < count) && lpr_nmea_flush(n, &f)) {
            print_fix(&f, json, LPR_TIME_GPS, "");
            printed++;
        }
        lpr_nmea_stats st;
        lpr_nmea_get_stats(n, &st);
        lpr_nmea_free(n);
        fclose(fp);
        fprintf(stderr,
                "lpr gps: %s: %ld fixes, %ld epochs without fix, %ld sentences, %ld bad checksums, "
                "%ld unparsable\n",
                nmea, st.fixes, st.no_fix_epochs, st.sentences, st.bad_checksum, st.unparsed);
        if (st.sentences == 0) {
            fprintf(stderr, "lpr gps: %s: no valid NMEA sentence\n", nmea);
            return 1;
        }
        return 0;
    }
    lpr_gps_config cfg = {.server = server, .max_extrapolate_ms = 2000};
    lpr_gps *g;
    if (lpr_gps_new(&cfg, &g) != LPR_OK)
        return 2;
    int64_t seen = 0;
    long printed = 0;
    double start = lpr_monotonic_ms();
    int warned = 0;
    while (count < 0 || printed < count) {
        int64_t n = lpr_gps_wait(g, seen, 1000);
        lpr_gps_status st;
        lpr_gps_get_status(g, &st);
        if (n > seen && st.have_last) {
            seen = n;
            print_fix(&st.last, json, lpr_time_source_system(),
                      st.connected ? "gpsd connected, receiver has no fix" : "gpsd not connected");
            printed++;
        } else if (!st.connected && !warned && !json) {
            printf("waiting for gpsd at %s ...\n", server);
            fflush(stdout);
            warned = 1;
        }
        if (timeout_s > 0 && lpr_monotonic_ms() - start > timeout_s * 1000.0) {
            fprintf(stderr, "lpr gps: no %s from gpsd at %s within %ld s\n",
                    printed ? "more reports" : "report", server, timeout_s);
            lpr_gps_free(g);
            return 1;
        }
    }
    lpr_gps_free(g);
    return 0;
}

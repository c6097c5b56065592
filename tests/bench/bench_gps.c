/*
 * bench_gps.c - the gpsd client's cost at a given fix rate: CPU time and
 * peak RSS of this process (the client thread plus an idle waiter) over a
 * run, and the latency from the client receiving a report to a waiter
 * seeing it through lpr_gps_at().
 * usage: bench_gps HOST:PORT SECONDS
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "lpr_gps.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: bench_gps HOST:PORT SECONDS\n");
        return 2;
    }
    lpr_gps_config cfg = {.server = argv[1], .max_extrapolate_ms = 2000};
    lpr_gps *g;
    if (lpr_gps_new(&cfg, &g) != LPR_OK)
        return 1;
    double secs = atof(argv[2]), start = lpr_monotonic_ms();
    static double lat[100000];
    int nlat = 0;
    int64_t seen = 0, fixes = 0;
    while (lpr_monotonic_ms() - start < secs * 1000.0) {
        int64_t n = lpr_gps_wait(g, seen, 200);
        if (n <= seen)
            continue;
        seen = n;
        lpr_gps_status st;
        lpr_gps_get_status(g, &st);
        lpr_position p;
        lpr_gps_at(g, lpr_realtime_ms(), &p);
        if (st.last.mode >= LPR_FIX_2D && st.last.recv_ms > 0 && nlat < 100000) {
            lat[nlat++] = (double)(lpr_realtime_ms() - st.last.recv_ms);
            fixes++;
        }
    }
    double wall = (lpr_monotonic_ms() - start) / 1000.0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    lpr_sort_doubles(lat, (size_t)nlat);
    printf("gps client: %lld fixes in %.0f s (%.1f Hz); CPU %.2f%% of one core; peak RSS %.1f MB;"
           " report->lpr_gps_at latency p50 %.2f ms, max %.2f ms\n",
           (long long)fixes, wall, (double)fixes / wall, 100.0 * cpu / wall,
           (double)ru.ru_maxrss / 1024.0, nlat ? lat[nlat / 2] : NAN, nlat ? lat[nlat - 1] : NAN);
    lpr_gps_free(g);
    return fixes > 0 ? 0 : 1;
}

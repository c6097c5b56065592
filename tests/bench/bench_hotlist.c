/*
 * bench_hotlist.c - a hotlist of N entries (default 1 000 000; random
 * plates of 5-8 letters and digits, 1% with one or two wildcards, a reason
 * each): the time to parse and index it, the memory it takes, and the time
 * to match a read against it (reads of listed plates with a look-alike
 * swapped in, and reads of plates not listed), at max_substitutions 1.
 * usage: bench_hotlist [N] [READS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lpr_hotlist.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

static void plate(unsigned *seed, char *p)
{
    int n = 5 + (int)(rand_r(seed) % 4);
    for (int i = 0; i < n; i++)
        p[i] = alnum[rand_r(seed) % 36];
    p[n] = 0;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    long reads = argc > 2 ? atol(argv[2]) : 200000;
    unsigned seed = 7;
    size_t cap = (size_t)n * 64 + 256, len = 0;
    char *doc = malloc(cap), (*plates)[12] = malloc((size_t)n * sizeof *plates);
    if (!doc || !plates)
        return 1;
    len += (size_t)snprintf(doc, cap,
                            "{\"name\":\"bench\",\"version\":1,\"issued_at\":"
                            "\"2026-12-07T00:00:00Z\",\"priority\":50,\"entries\":[");
    for (long i = 0; i < n; i++) {
        plate(&seed, plates[i]);
        char listed[12];
        memcpy(listed, plates[i], sizeof listed);
        if (rand_r(&seed) % 100 == 0) /* 1%: one or two wildcards */
            for (int w = 1 + (int)(rand_r(&seed) % 2); w > 0; w--)
                listed[rand_r(&seed) % strlen(listed)] = '*';
        len += (size_t)snprintf(doc + len, cap - len, "%s{\"plate\":\"%s\",\"reason\":\"r%ld\"}",
                                i ? "," : "", listed, i);
    }
    len += (size_t)snprintf(doc + len, cap - len, "]}");
    long rss0 = lpr_peak_rss_kb();
    double t0 = now_s();
    lpr_hotlist *h;
    char why[300];
    if (lpr_hotlist_parse(doc, len, "bench", &h, why, sizeof why) != LPR_OK) {
        fprintf(stderr, "bench_hotlist: %s\n", why);
        return 1;
    }
    double t1 = now_s();
    long rss1 = lpr_peak_rss_kb();
    free(doc);
    /* the reads: every other one a listed plate with a look-alike swapped in */
    char(*q)[12] = malloc((size_t)reads * sizeof *q);
    for (long i = 0; i < reads; i++) {
        if (i % 2 == 0) {
            memcpy(q[i], plates[rand_r(&seed) % n], 12);
            for (char *c = q[i]; *c; c++)
                if (*c == 'O' || *c == 'B' || *c == 'S') {
                    *c = *c == 'O' ? '0' : *c == 'B' ? '8' : '5';
                    break;
                }
        } else {
            plate(&seed, q[i]);
        }
    }
    lpr_hotlist_match m[4];
    long hits = 0;
    double t2 = now_s();
    for (long i = 0; i < reads; i++)
        hits += lpr_hotlist_match_text(h, q[i], NULL, 1, 0, m, 4) > 0;
    double t3 = now_s();
    printf("Hotlist of %ld entries (1%% with wildcards), this machine:\n", n);
    printf("parse and index: %.2f s; memory: %.0f MB (peak RSS rise while parsing and "
           "indexing; the document itself, which the signature covers, %.0f MB more)\n",
           t1 - t0, (double)(rss1 - rss0) / 1024.0, (double)len / 1e6);
    printf("match a read (max_substitutions 1): %.2f us on average over %ld reads, %ld of "
           "them matched\n",
           (t3 - t2) * 1e6 / (double)reads, reads, hits);
    lpr_hotlist_free(h);
    free(q);
    free(plates);
    return 0;
}

/*
 * cmd_spool.c - `lpr spool stats|push|export|quarantine --spool PATH`:
 * inspect the spool, append reads from stdin (JSON, one per line), export
 * them, move a spool the daemons refuse aside.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpr_config.h"
#include "lpr_sign.h"
#include "lpr_spool.h"
#include "lpr_tool.h"

int lpr_tool_seal(lpr_spool *spool, const char *key, const char *tool, lpr_signer **signer)
{
    *signer = NULL;
    if (!key || !key[0]) {
        fprintf(stderr,
                "%s: no device key (--key, or [uplink] sign_key of --config): reads are spooled "
                "unsealed; lprd seals them when it starts on this spool, the uplink sends none "
                "before\n",
                tool);
        return 0;
    }
    if (lpr_seal_spool(spool, key, signer) != LPR_OK) {
        fprintf(stderr, "%s: %s: cannot seal reads with this key (reason above); nothing spooled\n",
                tool, key);
        return -1;
    }
    return 0;
}

static void spool_usage(FILE *f)
{
    fprintf(f, "usage: lpr spool stats|push|export --spool PATH [--device ID] [--config FILE]\n"
               "                [--key FILE]\n"
               "  stats   depth, oldest age, bytes, dropped, next seq, epoch, unsealed\n"
               "  push    append JSON reads from stdin, one per line (needs a device id,\n"
               "          from --device or [device] id of --config), sealed with the device\n"
               "          key (--key, or [uplink] sign_key of --config); prints each id\n"
               "  export  write the spooled reads as JSON lines\n"
               "  quarantine  move a spool the daemons refuse (corrupt, or not a spool)\n"
               "          aside, to PATH.bad-<time>; the next start makes a new spool\n");
}

/* lpr spool quarantine: only a spool the daemons would refuse moves. */
static int quarantine(const char *path, lpr_spool_opts *so)
{
    lpr_spool *sp;
    so->must_exist = 1;
    so->check = 1; /* as the daemons open it */
    lpr_err rc = lpr_spool_open(path, so, &sp);
    if (rc == LPR_OK) {
        lpr_spool_close(sp);
        fprintf(stderr, "lpr spool quarantine: %s is a sound spool: nothing moved\n", path);
        return 1;
    }
    if (rc != LPR_EDB && rc != LPR_EFORMAT)
        return 1; /* missing or unreadable: the open said why, and moving it would not help */
    char to[700];
    if (lpr_spool_quarantine(path, to, sizeof to) != LPR_OK)
        return 1;
    printf("%s\n", to);
    fprintf(stderr,
            "lpr spool quarantine: %s moved to %s (with its -wal and -shm); the next start of "
            "lprd or lpr-uplink makes a new spool, with a new epoch\n",
            path, to);
    return 0;
}

int lpr_cmd_spool(int argc, char **argv)
{
    static const struct option opts[] = {
        {"spool", required_argument, NULL, 's'},  {"device", required_argument, NULL, 'd'},
        {"config", required_argument, NULL, 'c'}, {"key", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    const char *path = NULL, *device = NULL, *config = NULL, *key = NULL;
    lpr_config cfg;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "s:d:c:k:h", opts, NULL)) != -1) {
        switch (c) {
        case 'k': key = optarg; break;
        case 's': path = optarg; break;
        case 'd': device = optarg; break;
        case 'c': config = optarg; break;
        case 'h': spool_usage(stdout); return 0;
        default: spool_usage(stderr); return 2;
        }
    }
    if (optind >= argc) {
        spool_usage(stderr);
        return 2;
    }
    const char *verb = argv[optind];
    lpr_spool_opts so = {.device_id = NULL};
    if (config) {
        char err[600];
        if (lpr_config_load(config, &cfg, err, sizeof err) != LPR_OK) {
            fprintf(stderr, "lpr spool: %s\n", err);
            return 1;
        }
        so.device_id = cfg.device.id;
        so.max_mb = cfg.spool.max_mb;
        so.max_age_days = cfg.spool.max_age_days;
        if (!path)
            path = cfg.spool.path;
        if (!key)
            key = cfg.uplink.sign_key;
    }
    if (device)
        so.device_id = device;
    if (!path) {
        fprintf(stderr, "lpr spool: --spool PATH or --config FILE is required\n");
        return 2;
    }
    if (!strcmp(verb, "quarantine"))
        return quarantine(path, &so);
    /* only push makes a spool: stats or export of a mistyped path (or run
     * as root before the first start) must not create one */
    so.must_exist = strcmp(verb, "push") != 0;
    so.read_only = so.must_exist; /* stats and export only look: never change a file */
    lpr_spool *sp;
    lpr_signer *signer = NULL;
    if (lpr_spool_open(path, &so, &sp) != LPR_OK)
        return 1; /* the spool logged one line naming the path and the cause */
    int rc = 0;
    if (!strcmp(verb, "stats")) {
        lpr_spool_stats st;
        int64_t now = lpr_realtime_ms();
        if (lpr_spool_get_stats(sp, now, &st) != LPR_OK) {
            rc = 1;
        } else {
            printf("depth %lld\noldest_age_s %.1f\nbytes %lld\ndb_bytes %lld\ndropped %lld\n"
                   "next_seq %lld\nepoch %s\nunsealed %lld\n",
                   (long long)st.depth, st.oldest_ms ? (double)(now - st.oldest_ms) / 1000.0 : 0.0,
                   (long long)st.bytes, (long long)st.db_bytes, (long long)st.dropped,
                   (long long)st.next_seq, st.epoch, (long long)st.unsealed);
            static const char *const counters[] = {
                LPR_CTR_CAMERA_FRAMES,  LPR_CTR_CAMERA_DROPPED,    LPR_CTR_CAMERA_READS,
                LPR_CTR_CAMERA_FPS_X10, LPR_CTR_CAMERA_UPDATED_MS, LPR_CTR_GPS_MODE,
                LPR_CTR_GPS_SATS,       LPR_CTR_GPS_FIX_AGE_MS,    LPR_CTR_GPS_CONNECTED,
                LPR_CTR_CLOCK_SOURCE};
            for (unsigned i = 0; i < sizeof counters / sizeof counters[0]; i++) {
                int64_t v;
                if (lpr_spool_get_counter(sp, counters[i], &v) == LPR_OK)
                    printf("%s %lld\n", counters[i], (long long)v);
            }
        }
    } else if (!strcmp(verb, "push")) {
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        long lineno = 0;
        if (!so.device_id) {
            fprintf(stderr, "lpr spool push: --device ID or --config FILE is required\n");
            lpr_spool_close(sp);
            return 2;
        }
        if (lpr_tool_seal(sp, key, "lpr spool push", &signer) != 0) {
            lpr_spool_close(sp);
            return 1;
        }
        while ((n = getline(&line, &cap, stdin)) > 0) {
            char id[96];
            lineno++;
            if (line[0] == '\n')
                continue;
            if (lpr_spool_append(sp, line, (size_t)n, NULL, id, sizeof id) != LPR_OK) {
                fprintf(stderr, "lpr spool push: stdin line %ld: not spooled\n", lineno);
                rc = 1;
                continue;
            }
            printf("%s\n", id);
        }
        free(line);
    } else if (!strcmp(verb, "export")) {
        int64_t after = 0;
        lpr_spool_row rows[128];
        int n;
        while (lpr_spool_fetch(sp, after, 128, rows, &n) == LPR_OK && n > 0) {
            for (int i = 0; i < n; i++) {
                fwrite(rows[i].payload, 1, rows[i].payload_len, stdout);
                putchar('\n');
                after = rows[i].seq;
                lpr_spool_row_clear(&rows[i]);
            }
        }
    } else {
        fprintf(stderr, "lpr spool: unknown action '%s'\n", verb);
        rc = 2;
    }
    lpr_spool_close(sp);
    lpr_signer_free(signer);
    return rc;
}

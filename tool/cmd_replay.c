/*
 * cmd_replay.c - `lpr replay`: the camera pipeline over recorded footage,
 * for integrators. Same input, same output: frames are never dropped, their
 * times come from the footage (start + pts), positions from the recorded
 * NMEA track (or a fixed site). Reads go to stdout as JSON lines, and into
 * the spool when --spool is given.
 */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpr_gps.h"
#include "lpr_read_json.h"
#include "lpr_sign.h"
#include "lpr_spool.h"
#include "lpr_tool.h"
#include "pipeline.h"

typedef struct replay_ctx {
    lpr_config cfg;
    lpr_fixes *track; /* recorded GPS, or NULL */
    lpr_fix fixed;
    int have_fixed;
    int max_extrapolate_ms;
    int64_t start_ms;
    lpr_spool *spool;
    lpr_signer *signer; /* seals what goes into the spool */
    int failed;
    long reads;
} replay_ctx;

static void on_read(void *arg, const lpr_track_read *r, const uint8_t *jpeg, size_t len,
                    const uint8_t *scene, size_t scene_len)
{
    replay_ctx *c = arg;
    lpr_read_meta m = {&c->cfg, c->start_ms + r->best_ms, LPR_TIME_UNSYNCED, {0}};
    if (c->track) {
        m.time_source = LPR_TIME_GPS;
        lpr_fixes_at(c->track, m.observed_ms, c->max_extrapolate_ms, &m.pos);
    } else if (c->have_fixed) {
        m.pos = (lpr_position){LPR_FIX_FIXED,        c->fixed.lat,
                               c->fixed.lon,         c->fixed.alt_m,
                               c->fixed.err_m,       0,
                               c->fixed.heading_deg, 0};
    } else {
        /* no GPS: say so; never invent a position */
        m.pos = (lpr_position){LPR_FIX_NONE, NAN, NAN, NAN, NAN, NAN, NAN, -1};
    }
    json_t *o = lpr_read_build(&r->plate, r->frames, jpeg, len, &m);
    char *text = lpr_read_dumps(o);
    if (c->spool && text) {
        int64_t seq;
        char id[LPR_READ_ID_MAX];
        if (lpr_spool_append(c->spool, text, strlen(text), &seq, id, sizeof id) != LPR_OK) {
            fprintf(stderr, "lpr replay: read %s not spooled\n", r->plate.text);
            c->failed = 1;
        } else {
            /* print it as the spool stored it: the same stamp */
            free(text);
            text = lpr_read_stamp(o, c->cfg.device.id, lpr_spool_epoch(c->spool), seq, NULL, 0);
            if (scene && scene_len) {
                /* the full scene travels as its own message, keyed by the read */
                json_t *so = lpr_scene_build(id, scene, scene_len, &m);
                char *st = lpr_read_dumps(so);
                if (!st || lpr_spool_append(c->spool, st, strlen(st), NULL, NULL, 0) != LPR_OK) {
                    fprintf(stderr, "lpr replay: scene image of %s not spooled\n", id);
                    c->failed = 1;
                }
                free(st);
                json_decref(so);
            }
        }
    }
    if (text)
        puts(text);
    fflush(stdout);
    free(text);
    json_decref(o);
    c->reads++;
}

static void replay_usage(FILE *f)
{
    fprintf(f, "usage: lpr replay [--gps LOG.nmea | --fixed LAT,LON] [--start ISO8601]\n"
               "                  [--speed 1|max] [--spool PATH [--key FILE]] [--config FILE]\n"
               "                  [--region R] [--workers N] [--min-frames N] VIDEO|DIR\n"
               "Runs the camera pipeline over recorded footage: a video file or a folder of\n"
               "stills (10 frames/s). One JSON read per vehicle on stdout; into the spool\n"
               "with --spool, sealed with the device key (--key, or [uplink] sign_key of\n"
               "--config) as lprd seals them. Frame times are START + the frame's timestamp; START "
               "defaults\n"
               "to the first fix of --gps (time_source gps), else 1970-01-01 (unsynced).\n");
}

int lpr_cmd_replay(int argc, char **argv)
{
    static const struct option opts[] = {
        {"gps", required_argument, NULL, 'g'},     {"fixed", required_argument, NULL, 'f'},
        {"start", required_argument, NULL, 's'},   {"speed", required_argument, NULL, 'S'},
        {"spool", required_argument, NULL, 'p'},   {"key", required_argument, NULL, 'k'},
        {"config", required_argument, NULL, 'c'},  {"region", required_argument, NULL, 'r'},
        {"workers", required_argument, NULL, 'w'}, {"min-frames", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
    replay_ctx c;
    lpr_pipeline_config pc;
    const char *gps = NULL, *fixed = NULL, *start = NULL, *spool = NULL, *config = NULL;
    const char *key = NULL;
    int opt, rc = 0, min_frames = 0, region_set = 0;
    lpr_region region = LPR_REGION_AUTO;
    char err[600];

    memset(&c, 0, sizeof c);
    lpr_config_defaults(&c.cfg);
    snprintf(c.cfg.device.id, sizeof c.cfg.device.id, "replay");
    lpr_pipeline_config_init(&pc);
    optind = 1;
    while ((opt = getopt_long(argc, argv, "g:f:s:S:p:k:c:r:w:m:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'g': gps = optarg; break;
        case 'f': fixed = optarg; break;
        case 's': start = optarg; break;
        case 'S':
            if (!strcmp(optarg, "1"))
                pc.realtime = 1;
            else if (strcmp(optarg, "max")) {
                fprintf(stderr, "lpr replay: --speed: '%s' is not 1 or max\n", optarg);
                return 2;
            }
            break;
        case 'p': spool = optarg; break;
        case 'k': key = optarg; break;
        case 'c': config = optarg; break;
        case 'r':
            region_set = 1;
            if (lpr_region_parse(optarg, &region) != LPR_OK) {
                fprintf(stderr, "lpr replay: --region: '%s' is not us, eu, br or auto\n", optarg);
                return 2;
            }
            break;
        case 'w': pc.workers = atoi(optarg); break;
        case 'm': min_frames = atoi(optarg); break;
        case 'h': replay_usage(stdout); return 0;
        default: replay_usage(stderr); return 2;
        }
    }
    if (optind != argc - 1) {
        replay_usage(stderr);
        return 2;
    }
    if (gps && fixed) {
        fprintf(stderr, "lpr replay: give --gps or --fixed, not both\n");
        return 2;
    }
    if (config && lpr_config_load(config, &c.cfg, err, sizeof err) != LPR_OK) {
        fprintf(stderr, "lpr replay: %s\n", err);
        return 1;
    }
    /* the config (or its defaults) as lprd reads it; the options over it */
    lpr_pipeline_config_apply(&pc, &c.cfg);
    if (region_set)
        pc.ocr.region = region;
    if (min_frames > 0)
        pc.tracker.min_frames = min_frames;
    if (pc.scene_images && !spool) {
        fprintf(stderr, "lpr replay: [camera] scene_images needs --spool (scenes are keyed by the "
                        "spooled read's id)\n");
        return 2;
    }
    c.max_extrapolate_ms = c.cfg.gps.max_extrapolate_ms;
    if (gps) {
        c.track = lpr_fixes_new(1 << 20);
        lpr_nmea_stats st;
        if (!c.track || lpr_nmea_load(gps, c.track, &st) != LPR_OK) {
            fprintf(stderr, "lpr replay: %s: cannot use as GPS track\n", gps);
            rc = 1;
            goto out;
        }
        if (lpr_fixes_count(c.track) == 0)
            fprintf(stderr, "lpr replay: %s: no fix in the log; reads get fix none\n", gps);
        c.start_ms = lpr_fixes_first_ms(c.track);
    } else if (fixed) {
        if (lpr_parse_fixed(fixed, &c.fixed) != LPR_OK) {
            fprintf(stderr, "lpr replay: --fixed: '%s' is not LAT,LON[,ALT]\n", fixed);
            rc = 2;
            goto out;
        }
        c.have_fixed = 1;
    }
    if (start && lpr_parse_iso8601(start, &c.start_ms) != LPR_OK) {
        fprintf(stderr, "lpr replay: --start: '%s' is not YYYY-MM-DDTHH:MM:SS[.mmm]Z\n", start);
        rc = 2;
        goto out;
    }
    if (spool) {
        lpr_spool_opts so = lpr_spool_opts_from_config(&c.cfg);
        if (lpr_spool_open(spool, &so, &c.spool) != LPR_OK) {
            fprintf(stderr, "lpr replay: %s: cannot open spool\n", spool);
            rc = 1;
            goto out;
        }
        if (lpr_tool_seal(c.spool, key ? key : c.cfg.uplink.sign_key, "lpr replay", &c.signer)) {
            rc = 1;
            goto out;
        }
    }
    char spec[4200];
    snprintf(spec, sizeof spec, "file:%s", argv[optind]);
    lpr_source *src;
    if (lpr_source_open(spec, NULL, &src) != LPR_OK) {
        rc = 1; /* the source said why, naming the file */
        goto out;
    }
    volatile sig_atomic_t *stop = lpr_stop_on_signals();
    lpr_pipeline_stats ps;
    lpr_err prc = lpr_pipeline_run(&pc, src, stop, on_read, &c, &ps);
    int64_t skipped = lpr_source_skipped(src);
    lpr_source_close(src);
    char refused[96] = "";
    if (ps.refused)
        snprintf(refused, sizeof refused, ", %lld frames over the reader's pixel limit",
                 (long long)ps.refused);
    fprintf(stderr,
            "lpr replay: %lld frames in %.1f s (%.1f frames/s), %ld reads, %lld frames skipped "
            "as unreadable%s; frame->read latency p50 %.0f ms max %.0f ms; peak RSS %.0f MB\n",
            (long long)ps.frames, ps.seconds, ps.seconds > 0 ? (double)ps.frames / ps.seconds : 0,
            c.reads, (long long)skipped, refused, ps.capture_to_read_ms_p50,
            ps.capture_to_read_ms_max, (double)lpr_peak_rss_kb() / 1024.0);
    if (prc != LPR_OK)
        rc = 1; /* the source said why; the reads made before it were kept */
    if (c.failed)
        rc = 1;
out:
    lpr_spool_close(c.spool);
    lpr_signer_free(c.signer);
    lpr_fixes_free(c.track);
    return rc;
}

/*
 * pipeline.h - frames in, one read per vehicle pass out.
 *
 * A capture thread pulls frames from the source into a bounded queue; when
 * the workers fall behind a live source the oldest queued frame is dropped
 * and counted (memory stays bounded); footage is never dropped, so replay
 * is deterministic. An optional motion gate skips frames that did not
 * change while no plate is being tracked. Worker threads (one Tesseract
 * engine each) read plates; results are put back in frame order and fed to
 * the tracker, which calls on_read once per vehicle with the best plate
 * crop as JPEG. The callback runs on the thread that called
 * lpr_pipeline_run().
 */
#ifndef LPR_PIPELINE_H
#define LPR_PIPELINE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "lpr_config.h"
#include "lpr_ocr.h"
#include "source.h"
#include "tracker.h"

struct lpr_pipeline_stats;

typedef struct lpr_pipeline_config {
    lpr_ocr_config ocr;
    lpr_tracker_config tracker;
    int workers;       /* OCR threads; default: number of cores */
    int queue_len;     /* frames waiting for a worker; default 2 x workers */
    lpr_box roi;       /* region of interest; w == 0: whole frame */
    int motion_gate;   /* 1: skip unchanged frames while nothing is tracked */
    int realtime;      /* footage: pace frames at their timestamps (speed 1) */
    int scene_images;  /* keep the best frame whole: on_read gets it as JPEG too */
    int64_t *progress; /* if set, frames captured so far (atomic; for watchdogs) */
    /* if set, called every stats_interval_ms (default 10 s) with the counters
     * so far, on the thread that runs the pipeline */
    void (*on_stats)(void *ctx, const struct lpr_pipeline_stats *st);
    int stats_interval_ms;
} lpr_pipeline_config;

typedef struct lpr_pipeline_stats {
    int64_t frames;  /* captured */
    int64_t read;    /* given to the reader */
    int64_t dropped; /* dropped because the workers were behind */
    int64_t gated;   /* skipped by the motion gate */
    int64_t refused; /* refused by the reader (over its pixel limit); logged once */
    int64_t reads;   /* reads emitted */
    double seconds;  /* wall time of the run */
    double capture_to_read_ms_p50, capture_to_read_ms_max; /* frame capture -> read emitted */
} lpr_pipeline_stats;

/* jpeg: the plate crop; scene/scene_len: the whole best frame, only with
 * scene_images (else NULL, 0). Both buffers belong to the pipeline. */
typedef void (*lpr_read_cb)(void *ctx, const lpr_track_read *read, const uint8_t *jpeg,
                            size_t jpeg_len, const uint8_t *scene, size_t scene_len);

void lpr_pipeline_config_init(lpr_pipeline_config *cfg);

/* Sets the reader's, tracker's and camera's options from a loaded lpr.conf:
 * the one mapping lprd and `lpr replay --config` share (models default to
 * the installed ones). Pointers refer into c, which must outlive pc. */
void lpr_pipeline_config_apply(lpr_pipeline_config *pc, const lpr_config *c);

/* Every check lprd makes before it starts, without starting anything
 * (`lprd --check`, a SIGHUP reload): [camera] source is set and passes
 * lpr_source_check, the roi lies inside the configured frame size, and
 * every model of pc->ocr loads. Each problem is logged in one line naming
 * path or the input; returns the first error. */
lpr_err lpr_pipeline_check(const lpr_pipeline_config *pc, const lpr_config *c, const char *path);

/* Runs until the source ends or *stop is set; open tracks are flushed as
 * reads before returning. Returns the source's error, if any (reads made
 * before it are still delivered). stats may be NULL. */
lpr_err lpr_pipeline_run(const lpr_pipeline_config *cfg, lpr_source *src,
                         volatile sig_atomic_t *stop, lpr_read_cb on_read, void *ctx,
                         lpr_pipeline_stats *stats);

#endif

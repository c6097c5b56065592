/*
 * tracker.h - follows each vehicle's plate over frames and votes its text.
 *
 * A plate read in a frame joins the live track whose last box is near
 * (within a few plate widths) and whose text is similar (edit distance at
 * most a third of the length, or a part of the track's text give or take a
 * character: a plate entering the frame); otherwise it starts a track. A track ends
 * when it has not been seen for timeout_ms, or has run max_track_ms; then
 * its text is voted per character position, weighted by confidence, over
 * the observations of the most supported length, and one read is emitted
 * (unless seen on fewer than min_frames frames, or voted below
 * min_confidence).
 * Time is the frame's time (ms): deterministic for replayed footage.
 */
#ifndef LPR_TRACKER_H
#define LPR_TRACKER_H

#include <stdint.h>

#include "lpr_ocr.h"

typedef struct lpr_tracker_config {
    int timeout_ms;       /* default 1500 */
    int max_track_ms;     /* default 10000 */
    int min_frames;       /* reads seen on fewer frames are dropped; default 2 */
    float min_confidence; /* a voted read below this (0..100) is dropped, as
                             [ocr] min_confidence drops a frame's plate: the
                             vote can fall below every frame's confidence when
                             the frames disagree; default 0 */
} lpr_tracker_config;

/* One emitted read: the voted plate and the best observation. */
typedef struct lpr_track_read {
    lpr_plate plate;      /* voted text/confidence; candidates, region, box of the best frame */
    int frames;           /* observations in the track */
    int64_t best_ms;      /* frame time of the best observation */
    int64_t best_wall_ms; /* its capture realtime (live), 0 for footage */
    int64_t first_ms, last_ms;
    void *image; /* the best observation's image (caller's), owned by the callback */
} lpr_track_read;

typedef void (*lpr_track_emit)(void *ctx, lpr_track_read *read);
typedef void (*lpr_image_free)(void *image);

typedef struct lpr_tracker lpr_tracker;

lpr_tracker *lpr_tracker_new(const lpr_tracker_config *cfg, lpr_image_free free_image);
void lpr_tracker_free(lpr_tracker *t); /* frees pending images */

/* Adds the plates read in one frame at time t_ms. images[i] (may be NULL)
 * is kept if that plate becomes its track's best; otherwise freed. Tracks
 * that ended by t_ms are emitted first. */
void lpr_tracker_add(lpr_tracker *t, int64_t t_ms, int64_t wall_ms, const lpr_plate *plates,
                     void **images, int n, lpr_track_emit emit, void *ctx);
/* Emits every open track (end of footage, SIGTERM). */
void lpr_tracker_flush(lpr_tracker *t, lpr_track_emit emit, void *ctx);
/* How many tracks are open (not yet emitted). */
int lpr_tracker_count_open(const lpr_tracker *t);

/* Levenshtein distance of two short strings. */
int lpr_edit_distance(const char *a, const char *b);
/* Edit distance of the shorter string to the closest part of the longer
 * ("X81" in "ZX81ABC" is 0, "7X81" is 1). */
int lpr_fragment_distance(const char *a, const char *b);

#endif

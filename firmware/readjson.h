/*
 * readjson.h - the read record of ARCHITECTURE.md as JSON (jansson).
 */
#ifndef LPR_READJSON_H
#define LPR_READJSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "lpr_config.h"
#include "lpr_gps.h"
#include "tracker.h"

typedef struct lpr_read_meta {
    const lpr_config *cfg;      /* device and camera identity */
    int64_t observed_ms;        /* epoch ms of the best frame */
    lpr_time_source time_source;
    lpr_position pos;
} lpr_read_meta;

/* Builds the read object (without seq/id, which the spool assigns).
 * Caller owns the result (json_decref). */
json_t *lpr_read_build(const lpr_track_read *r, const uint8_t *jpeg, size_t jpeg_len,
                       const lpr_read_meta *m);

/* The full-scene message of a read (only with [camera] scene_images):
 * {"schema":"lpr.scene/1","device",...,"read_id","observed_at",
 *  "images":{"scene_jpeg":"<base64>"}}; the spool gives it its own seq/id
 * and the uplink publishes it on <prefix>scene. Caller json_decrefs. */
json_t *lpr_scene_build(const char *read_id, const uint8_t *jpeg, size_t jpeg_len,
                        const lpr_read_meta *m);

/* A plate as reads and `lpr read --json` show it: text, confidence (0.1),
 * box (only if box is not NULL), region, candidates with their
 * confidences. The one place a plate's JSON and its rounding are made. */
json_t *lpr_plate_json(const lpr_plate *p, const lpr_box *box);

/* Location object: lat/lon only with a fix; unknown values null. */
json_t *lpr_position_json(const lpr_position *p);

/* Parses "YYYY-MM-DDTHH:MM:SS[.mmm]Z" into epoch ms; LPR_EINVAL if not. */
lpr_err lpr_parse_iso8601(const char *s, int64_t *ms);

#endif

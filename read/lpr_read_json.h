/*
 * lpr_read_json.h - builds the read record of ARCHITECTURE.md as JSON
 * (jansson) from what the camera saw: a plate, where and when. lprd and
 * `lpr replay` build reads here, `lpr read` and `lpr gps` print plates and
 * positions with the same code and rounding; the spool stamps them
 * (lpr_read.h).
 */
#ifndef LPR_READ_JSON_H
#define LPR_READ_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "lpr_config.h"
#include "lpr_gps.h"
#include "lpr_ocr.h"
#include "lpr_read.h"

typedef struct lpr_read_meta {
    const lpr_config *cfg; /* device and camera identity */
    int64_t observed_ms;   /* epoch ms of the best frame */
    lpr_time_source time_source;
    lpr_position pos;
} lpr_read_meta;

/* Builds the read object of a vehicle's plate, voted over `frames` frames
 * (without seq/epoch/id, which the spool stamps); the plate image if jpeg
 * is not NULL. Caller owns the result (json_decref). */
json_t *lpr_read_build(const lpr_plate *plate, int frames, const uint8_t *jpeg, size_t jpeg_len,
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

#endif

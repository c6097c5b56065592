/*
 * read_json.c - builds the read record (see lpr_read_json.h, ARCHITECTURE.md).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lpr_read_json.h"

static json_t *rounded(double v, double scale)
{
    return json_real(round(v * scale) / scale);
}

static json_t *base64_json(const uint8_t *data, size_t len)
{
    size_t cap = 4 * ((len + 2) / 3) + 1;
    char *b64 = malloc(cap);
    json_t *j = NULL;
    if (b64 && lpr_base64_encode(data, len, b64, cap) == LPR_OK)
        j = json_string(b64);
    free(b64);
    return j;
}

json_t *lpr_scene_build(const char *read_id, const uint8_t *jpeg, size_t jpeg_len,
                        const lpr_read_meta *m)
{
    char when[32];
    lpr_format_utc_ms(m->observed_ms, when, sizeof when);
    json_t *o = json_object();
    json_object_set_new(o, "schema", json_string(LPR_SCHEMA_SCENE));
    json_object_set_new(o, "device", json_string(m->cfg->device.id));
    json_object_set_new(o, "read_id", json_string(read_id));
    json_object_set_new(o, "observed_at", json_string(when));
    json_t *images = json_object();
    json_t *b64 = base64_json(jpeg, jpeg_len);
    if (b64)
        json_object_set_new(images, "scene_jpeg", b64);
    json_object_set_new(o, "images", images);
    return o;
}

json_t *lpr_plate_json(const lpr_plate *p, const lpr_box *box)
{
    json_t *plate = json_object(), *cands = json_array();
    json_object_set_new(plate, "text", json_string(p->text));
    json_object_set_new(plate, "confidence", rounded(p->confidence, 10));
    if (box)
        json_object_set_new(plate, "box", json_pack("[iiii]", box->x, box->y, box->w, box->h));
    json_object_set_new(plate, "region", json_string(lpr_region_name(p->region)));
    for (int i = 0; i < p->n_candidates; i++)
        json_array_append_new(cands,
                              json_pack("{s:s,s:o}", "text", p->candidates[i].text, "confidence",
                                        rounded(p->candidates[i].confidence, 10)));
    json_object_set_new(plate, "candidates", cands);
    return plate;
}

json_t *lpr_read_build(const lpr_plate *plate, int frames, const uint8_t *jpeg, size_t jpeg_len,
                       const lpr_read_meta *m)
{
    char when[32];
    json_t *o = json_object();
    lpr_format_utc_ms(m->observed_ms, when, sizeof when);
    json_object_set_new(o, "schema", json_string(LPR_SCHEMA_READ));
    json_object_set_new(o, "device", json_string(m->cfg->device.id));
    json_object_set_new(o, "observed_at", json_string(when));
    json_object_set_new(o, "time_source", json_string(lpr_time_source_name(m->time_source)));

    json_object_set_new(o, "plate", lpr_plate_json(plate, NULL));
    json_object_set_new(o, "location", lpr_position_json(&m->pos));

    json_t *cam = json_object();
    json_object_set_new(cam, "id", json_string(m->cfg->camera.id));
    json_object_set_new(cam, "owner", json_string(m->cfg->device.owner));
    json_object_set_new(cam, "model", json_string(m->cfg->device.model));
    json_object_set_new(cam, "bearing_deg",
                        m->cfg->camera.bearing_deg >= 0 ? json_real(m->cfg->camera.bearing_deg)
                                                        : json_null());
    json_object_set_new(o, "camera", cam);
    json_object_set_new(
        o, "box", json_pack("[iiii]", plate->box.x, plate->box.y, plate->box.w, plate->box.h));
    json_object_set_new(o, "frames", json_integer(frames));
    json_t *images = json_object();
    json_t *b64 = jpeg && jpeg_len ? base64_json(jpeg, jpeg_len) : NULL;
    if (b64)
        json_object_set_new(images, "plate_jpeg", b64);
    json_object_set_new(o, "images", images);
    return o;
}

static json_t *num_or_null(double v, double scale)
{
    return isnan(v) ? json_null() : json_real(round(v * scale) / scale);
}

json_t *lpr_position_json(const lpr_position *p)
{
    json_t *o = json_object();
    if (p->fix != LPR_FIX_NONE) {
        json_object_set_new(o, "lat", num_or_null(p->lat, 1e7));
        json_object_set_new(o, "lon", num_or_null(p->lon, 1e7));
    }
    json_object_set_new(o, "alt_m", num_or_null(p->alt_m, 10));
    json_object_set_new(o, "err_m", num_or_null(p->err_m, 10));
    json_object_set_new(o, "speed_mps", num_or_null(p->speed_mps, 100));
    json_object_set_new(o, "heading_deg", num_or_null(p->heading_deg, 10));
    json_object_set_new(o, "fix", json_string(lpr_fix_mode_name(p->fix)));
    json_object_set_new(o, "age_ms", json_integer(p->age_ms));
    return o;
}

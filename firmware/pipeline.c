/*
 * pipeline.c - capture thread, OCR workers, in-order tracking (see
 * pipeline.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <leptonica/allheaders.h>
#include <pthread.h>

#include "lpr_pix.h"
#include "models.h"
#include "pipeline.h"

#define MAX_WORKERS 16
#define GATE_STEP 8        /* motion gate samples every 8th pixel */
#define GATE_THRESHOLD 2.0 /* mean absolute change (grey levels) that counts as motion */

/* What the tracker keeps of an observation: the plate crop, and the whole
 * frame when scene images are on. */
typedef struct obs_image {
    PIX *crop;
    PIX *scene;
} obs_image;

typedef struct result {
    uint64_t index;
    int64_t t_ms, wall_ms;
    double captured_mono;
    int n;
    lpr_plate plates[LPR_MAX_PLATES];
    struct obs_image *images[LPR_MAX_PLATES];
    struct result *next;
} result;

typedef struct shared {
    const lpr_pipeline_config *cfg;
    lpr_source *src;
    volatile sig_atomic_t *stop;
    pthread_mutex_t mu;
    pthread_cond_t cv_frames, cv_space, cv_results;
    /* frame queue */
    lpr_frame *queue;
    double *queue_mono;
    int qhead, qcount, qcap;
    int capture_done;
    lpr_err capture_err;
    /* results, any order; the consumer takes them by index */
    result *results;
    int tracks_open;
    int workers_alive;
    lpr_pipeline_stats st;
} shared;

void lpr_pipeline_config_init(lpr_pipeline_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    lpr_ocr_config_init(&cfg->ocr);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    cfg->workers = n > 0 ? (int)(n > MAX_WORKERS ? MAX_WORKERS : n) : 1;
}

void lpr_pipeline_config_apply(lpr_pipeline_config *pc, const lpr_config *c)
{
    lpr_region_parse(c->ocr.region, &pc->ocr.region);
    pc->ocr.model = c->ocr.model[0] ? c->ocr.model : "eng";
    pc->ocr.model_dir =
        c->ocr.model_dir[0] ? c->ocr.model_dir : lpr_default_model_dir(pc->ocr.model);
    pc->ocr.char_model = c->ocr.char_model[0] ? c->ocr.char_model : NULL;
    pc->ocr.verifier = c->ocr.verifier[0] ? c->ocr.verifier : NULL;
    pc->ocr.reader = c->ocr.reader[0] ? c->ocr.reader : NULL;
    pc->ocr.calibration = c->ocr.calibration[0] ? c->ocr.calibration : NULL;
    pc->ocr.min_confidence = (float)c->ocr.min_confidence;
    pc->tracker.min_frames = c->camera.min_frames;
    pc->tracker.min_confidence = pc->ocr.min_confidence; /* the vehicle's read, as each frame's */
    pc->scene_images = c->camera.scene_images;
    pc->roi = (lpr_box){c->camera.roi[0], c->camera.roi[1], c->camera.roi[2], c->camera.roi[3]};
}

lpr_err lpr_pipeline_check(const lpr_pipeline_config *pc, const lpr_config *c, const char *path)
{
    if (!c->camera.source[0]) {
        LPR_ERROR("config", "%s: [camera] source is not set", path);
        return LPR_EINVAL;
    }
    const lpr_box *r = &pc->roi;
    if (r->w > 0 && c->camera.width > 0 && c->camera.height > 0 &&
        (r->x + r->w > c->camera.width || r->y + r->h > c->camera.height)) {
        LPR_ERROR("config", "%s: [camera] roi %d,%d,%d,%d reaches outside the %dx%d frame", path,
                  r->x, r->y, r->w, r->h, c->camera.width, c->camera.height);
        return LPR_EINVAL;
    }
    lpr_err rc = lpr_source_check(c->camera.source);
    if (rc != LPR_OK)
        return rc;
    lpr_ocr *probe = NULL;
    rc = lpr_ocr_new(&pc->ocr, &probe); /* every model loads, or one line says which not */
    lpr_ocr_free(probe);
    return rc;
}

static void push_result(shared *s, result *r)
{
    pthread_mutex_lock(&s->mu);
    r->next = s->results;
    s->results = r;
    pthread_cond_broadcast(&s->cv_results);
    pthread_mutex_unlock(&s->mu);
}

static result *empty_result(const lpr_frame *f, double mono)
{
    result *r = calloc(1, sizeof *r);
    if (r) {
        r->index = f->index;
        r->t_ms = f->pts_ms;
        r->wall_ms = f->wall_ms;
        r->captured_mono = mono;
    }
    return r;
}

static double motion(const lpr_frame *a, const lpr_frame *b)
{
    if (!a->pixels || a->width != b->width || a->height != b->height)
        return 1e9;
    double sum = 0;
    long n = 0;
    for (int y = 0; y < a->height; y += GATE_STEP)
        for (int x = 0; x < a->width; x += GATE_STEP) {
            int d = (int)a->pixels[(size_t)y * (size_t)a->stride + (size_t)x] -
                    (int)b->pixels[(size_t)y * (size_t)b->stride + (size_t)x];
            sum += d < 0 ? -d : d;
            n++;
        }
    return n ? sum / (double)n : 0;
}

static void *capture_main(void *arg)
{
    shared *s = arg;
    lpr_frame prev = {0};
    int live = lpr_source_is_live(s->src);
    double t0 = lpr_monotonic_ms();
    int64_t first_pts = -1;
    for (;;) {
        lpr_frame f;
        if (*s->stop)
            break;
        lpr_err rc = lpr_source_read(s->src, &f);
        if (rc != LPR_OK) {
            if (rc != LPR_ENOENT)
                s->capture_err = rc;
            break;
        }
        const lpr_box *roi = &s->cfg->roi;
        if (roi->w > 0 && (roi->x + roi->w > f.width || roi->y + roi->h > f.height)) {
            /* reading the whole frame instead would read where the site
             * chose not to: stop, and say why */
            LPR_ERROR("pipeline",
                      "[camera] roi %d,%d,%d,%d reaches outside the camera's %dx%d "
                      "frame",
                      roi->x, roi->y, roi->w, roi->h, f.width, f.height);
            s->capture_err = LPR_EINVAL;
            lpr_frame_clear(&f);
            break;
        }
        double mono = lpr_monotonic_ms();
        if (s->cfg->realtime && !live) {
            if (first_pts < 0)
                first_pts = f.pts_ms;
            double due = t0 + (double)(f.pts_ms - first_pts);
            while (lpr_monotonic_ms() < due && !*s->stop)
                usleep(2000);
            mono = lpr_monotonic_ms();
        }
        if (s->cfg->progress)
            __atomic_add_fetch(s->cfg->progress, 1, __ATOMIC_RELAXED);
        pthread_mutex_lock(&s->mu);
        s->st.frames++;
        int gate = s->cfg->motion_gate && !s->tracks_open;
        pthread_mutex_unlock(&s->mu);
        if (gate && motion(&prev, &f) < GATE_THRESHOLD) {
            result *r = empty_result(&f, mono);
            pthread_mutex_lock(&s->mu);
            s->st.gated++;
            pthread_mutex_unlock(&s->mu);
            if (r)
                push_result(s, r);
            lpr_frame_clear(&f);
            continue;
        }
        if (s->cfg->motion_gate) {
            lpr_frame_clear(&prev);
            prev = f;
            prev.pixels = malloc((size_t)f.stride * (size_t)f.height);
            if (prev.pixels)
                memcpy(prev.pixels, f.pixels, (size_t)f.stride * (size_t)f.height);
        }
        pthread_mutex_lock(&s->mu);
        while (s->qcount == s->qcap && !live && !*s->stop && s->workers_alive > 0)
            pthread_cond_wait(&s->cv_space, &s->mu);
        if (s->workers_alive == 0) {
            /* every reader thread failed to start or to load its models:
             * nothing would ever take this frame (a replay would hang) */
            s->capture_err = LPR_EIO;
            pthread_mutex_unlock(&s->mu);
            lpr_frame_clear(&f);
            LPR_ERROR("pipeline", "no reader thread is running: capture stops");
            break;
        }
        if (s->qcount == s->qcap) {
            /* live and behind: drop the oldest queued frame, keep the newest */
            lpr_frame old = s->queue[s->qhead];
            s->qhead = (s->qhead + 1) % s->qcap;
            s->qcount--;
            s->st.dropped++;
            pthread_mutex_unlock(&s->mu);
            result *r = empty_result(&old, mono);
            if (r)
                push_result(s, r);
            lpr_frame_clear(&old);
            pthread_mutex_lock(&s->mu);
        }
        int slot = (s->qhead + s->qcount) % s->qcap;
        s->queue[slot] = f;
        s->queue_mono[slot] = mono;
        s->qcount++;
        pthread_cond_signal(&s->cv_frames);
        pthread_mutex_unlock(&s->mu);
    }
    lpr_frame_clear(&prev);
    pthread_mutex_lock(&s->mu);
    s->capture_done = 1;
    pthread_cond_broadcast(&s->cv_frames);
    pthread_cond_broadcast(&s->cv_results);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static PIX *crop_plate(const lpr_frame *f, lpr_box b)
{
    int mx = b.w / 8, my = b.h / 6;
    lpr_box c = lpr_box_clip((lpr_box){b.x - mx, b.y - my, b.w + 2 * mx, b.h + 2 * my}, f->width,
                             f->height);
    if (c.w < 2 || c.h < 2)
        return NULL;
    return lpr_pix_from_grey(f->pixels, f->stride, c);
}

static void free_image(void *arg)
{
    obs_image *im = arg;
    if (!im)
        return;
    pixDestroy(&im->crop);
    pixDestroy(&im->scene);
    free(im);
}

static void *worker_main(void *arg)
{
    shared *s = arg;
    lpr_ocr *ocr = NULL;
    if (lpr_ocr_new(&s->cfg->ocr, &ocr) != LPR_OK) {
        pthread_mutex_lock(&s->mu);
        s->workers_alive--;
        pthread_cond_broadcast(&s->cv_results);
        pthread_cond_broadcast(&s->cv_space); /* capture must not wait for us */
        pthread_mutex_unlock(&s->mu);
        return NULL;
    }
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (s->qcount == 0 && !s->capture_done)
            pthread_cond_wait(&s->cv_frames, &s->mu);
        if (s->qcount == 0) {
            s->workers_alive--;
            pthread_cond_broadcast(&s->cv_results);
            pthread_cond_broadcast(&s->cv_space);
            pthread_mutex_unlock(&s->mu);
            break;
        }
        lpr_frame f = s->queue[s->qhead];
        double mono = s->queue_mono[s->qhead];
        s->qhead = (s->qhead + 1) % s->qcap;
        s->qcount--;
        s->st.read++;
        pthread_cond_signal(&s->cv_space);
        pthread_mutex_unlock(&s->mu);

        result *r = empty_result(&f, mono);
        lpr_ocr_result o;
        lpr_box roi = s->cfg->roi;
        int ox = 0, oy = 0;
        const uint8_t *px = f.pixels;
        int w = f.width, h = f.height;
        if (roi.w > 0 && roi.h > 0) { /* inside the frame: capture_main checked */
            px = f.pixels + (size_t)roi.y * (size_t)f.stride + (size_t)roi.x;
            w = roi.w;
            h = roi.h;
            ox = roi.x;
            oy = roi.y;
        }
        PIX *scene = NULL; /* the whole frame, copied once and shared by its plates */
        lpr_err orc = r ? lpr_ocr_read_grey(ocr, px, w, h, f.stride, &o) : LPR_ENOMEM;
        if (orc == LPR_ETOOBIG) {
            /* never silently unread: count it, and say why on the first */
            pthread_mutex_lock(&s->mu);
            if (s->st.refused++ == 0)
                LPR_WARN("pipeline",
                         "frames of %dx%d are over the reader's limit of %ld pixels and are not "
                         "read; set a smaller frame size or a [camera] roi",
                         w, h,
                         s->cfg->ocr.max_pixels > 0 ? s->cfg->ocr.max_pixels
                                                    : LPR_DEFAULT_MAX_PIXELS);
            pthread_mutex_unlock(&s->mu);
        }
        if (orc == LPR_OK) {
            if (s->cfg->scene_images && o.n_plates > 0)
                scene = lpr_pix_from_grey(f.pixels, f.stride, (lpr_box){0, 0, f.width, f.height});
            for (int i = 0; i < o.n_plates && r->n < LPR_MAX_PLATES; i++) {
                lpr_plate p = o.plates[i];
                p.box.x += ox;
                p.box.y += oy;
                p.text_box.x += ox;
                p.text_box.y += oy;
                r->plates[r->n] = p;
                obs_image *im = calloc(1, sizeof *im);
                if (im) {
                    im->crop = crop_plate(&f, p.box);
                    im->scene = scene ? pixClone(scene) : NULL;
                }
                r->images[r->n] = im;
                r->n++;
            }
        }
        pixDestroy(&scene); /* the plates keep their clones */
        lpr_frame_clear(&f);
        if (r)
            push_result(s, r);
    }
    lpr_ocr_free(ocr);
    return NULL;
}

typedef struct emit_ctx {
    lpr_read_cb cb;
    void *ctx;
    shared *s;
    double *lat;
    int nlat, caplat;
    double now_captured;
} emit_ctx;

static void encode(PIX *pix, l_uint8 **jpeg, size_t *len)
{
    *jpeg = NULL;
    *len = 0;
    if (pix && pixWriteMemJpeg(jpeg, len, pix, 85, 0) != 0) {
        *jpeg = NULL;
        *len = 0;
    }
}

static void on_track_read(void *arg, lpr_track_read *read)
{
    emit_ctx *e = arg;
    l_uint8 *jpeg, *scene;
    size_t len, scene_len;
    obs_image *im = read->image;
    encode(im ? im->crop : NULL, &jpeg, &len);
    encode(im ? im->scene : NULL, &scene, &scene_len);
    e->cb(e->ctx, read, jpeg, len, scene, scene_len);
    lept_free(jpeg);
    lept_free(scene);
    e->s->st.reads++;
    if (e->nlat < e->caplat)
        e->lat[e->nlat++] = lpr_monotonic_ms() - e->now_captured;
}

lpr_err lpr_pipeline_run(const lpr_pipeline_config *cfg, lpr_source *src,
                         volatile sig_atomic_t *stop, lpr_read_cb on_read, void *ctx,
                         lpr_pipeline_stats *stats)
{
    shared s;
    pthread_t cap, workers[MAX_WORKERS];
    int nworkers = cfg->workers > 0 ? (cfg->workers > MAX_WORKERS ? MAX_WORKERS : cfg->workers) : 1;
    double t0 = lpr_monotonic_ms();
    /* a model the workers cannot load (missing, corrupt) is refused here,
     * before any frame is taken, not found by each worker in turn while the
     * frames go unread */
    lpr_ocr *probe = NULL;
    lpr_err rc = lpr_ocr_new(&cfg->ocr, &probe);
    lpr_ocr_free(probe);
    if (rc != LPR_OK) {
        if (stats)
            memset(stats, 0, sizeof *stats);
        return rc;
    }
    memset(&s, 0, sizeof s);
    s.cfg = cfg;
    s.src = src;
    s.stop = stop;
    s.qcap = cfg->queue_len > 0 ? cfg->queue_len : 2 * nworkers;
    s.queue = calloc((size_t)s.qcap, sizeof *s.queue);
    s.queue_mono = calloc((size_t)s.qcap, sizeof *s.queue_mono);
    lpr_tracker *tr = lpr_tracker_new(&cfg->tracker, free_image);
    emit_ctx e = {on_read, ctx, &s, calloc(4096, sizeof(double)), 0, 4096, 0};
    if (!s.queue || !s.queue_mono || !tr || !e.lat) {
        free(s.queue);
        free(s.queue_mono);
        free(e.lat);
        lpr_tracker_free(tr);
        return LPR_ENOMEM;
    }
    pthread_mutex_init(&s.mu, NULL);
    pthread_cond_init(&s.cv_frames, NULL);
    pthread_cond_init(&s.cv_space, NULL);
    pthread_cond_init(&s.cv_results, NULL);
    s.workers_alive = nworkers;
    int started[MAX_WORKERS] = {0}, nstarted = 0;
    for (int i = 0; i < nworkers; i++) {
        int err = pthread_create(&workers[i], NULL, worker_main, &s);
        started[i] = err == 0;
        nstarted += started[i];
        if (err) {
            LPR_ERROR("pipeline", "reader thread %d cannot start: %s", i, strerror(err));
            pthread_mutex_lock(&s.mu);
            s.workers_alive--;
            pthread_mutex_unlock(&s.mu);
        }
    }
    int cap_err = nstarted ? pthread_create(&cap, NULL, capture_main, &s) : EAGAIN;
    if (cap_err) {
        /* no capture: the readers see the end of frames and stop */
        if (nstarted)
            LPR_ERROR("pipeline", "capture thread cannot start: %s", strerror(cap_err));
        pthread_mutex_lock(&s.mu);
        s.capture_done = 1;
        s.capture_err = LPR_EIO;
        pthread_cond_broadcast(&s.cv_frames);
        pthread_mutex_unlock(&s.mu);
    }

    uint64_t next = 0;
    double next_stats = t0 + (cfg->stats_interval_ms > 0 ? cfg->stats_interval_ms : 10000);
    for (;;) {
        pthread_mutex_lock(&s.mu);
        result *r = NULL;
        for (;;) {
            result **pp = &s.results;
            while (*pp && (*pp)->index != next)
                pp = &(*pp)->next;
            if (*pp) {
                r = *pp;
                *pp = r->next;
                break;
            }
            if (s.capture_done && s.workers_alive == 0)
                break;
            pthread_cond_wait(&s.cv_results, &s.mu);
        }
        pthread_mutex_unlock(&s.mu);
        if (!r)
            break;
        next++;
        e.now_captured = r->captured_mono;
        lpr_tracker_add(tr, r->t_ms, r->wall_ms, r->plates, (void **)r->images, r->n, on_track_read,
                        &e);
        pthread_mutex_lock(&s.mu);
        s.tracks_open = lpr_tracker_count_open(tr);
        lpr_pipeline_stats snap = s.st;
        pthread_mutex_unlock(&s.mu);
        free(r);
        if (cfg->on_stats && lpr_monotonic_ms() >= next_stats) {
            snap.seconds = (lpr_monotonic_ms() - t0) / 1000.0;
            cfg->on_stats(ctx, &snap);
            next_stats =
                lpr_monotonic_ms() + (cfg->stats_interval_ms > 0 ? cfg->stats_interval_ms : 10000);
        }
    }
    if (!cap_err)
        pthread_join(cap, NULL);
    for (int i = 0; i < nworkers; i++)
        if (started[i])
            pthread_join(workers[i], NULL);
    e.now_captured = lpr_monotonic_ms();
    lpr_tracker_flush(tr, on_track_read, &e);
    lpr_tracker_free(tr);
    /* results left behind (stop requested mid-way) */
    while (s.results) {
        result *r = s.results;
        s.results = r->next;
        for (int i = 0; i < r->n; i++)
            free_image(r->images[i]);
        free(r);
    }
    for (int i = 0; i < s.qcount; i++)
        lpr_frame_clear(&s.queue[(s.qhead + i) % s.qcap]);
    s.st.seconds = (lpr_monotonic_ms() - t0) / 1000.0;
    if (e.nlat > 0) {
        lpr_sort_doubles(e.lat, (size_t)e.nlat);
        s.st.capture_to_read_ms_p50 = e.lat[e.nlat / 2];
        s.st.capture_to_read_ms_max = e.lat[e.nlat - 1];
    }
    if (stats)
        *stats = s.st;
    free(e.lat);
    free(s.queue);
    free(s.queue_mono);
    pthread_mutex_destroy(&s.mu);
    pthread_cond_destroy(&s.cv_frames);
    pthread_cond_destroy(&s.cv_space);
    pthread_cond_destroy(&s.cv_results);
    return s.capture_err;
}

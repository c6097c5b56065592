/*
 * tracker.c - plate tracks and per-character voting (see tracker.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tracker.h"

#define MAX_TRACKS 32
#define MAX_LEN LPR_MAX_TEXT

typedef struct track {
    int used;
    int64_t first_ms, last_ms;
    lpr_box last_box;
    char last_text[LPR_MAX_TEXT];
    int frames;
    /* votes[len][pos][char] summed confidence; chars A-Z0-9 -> 0..35 */
    float votes[MAX_LEN][MAX_LEN][36];
    float len_votes[MAX_LEN];
    int len_count[MAX_LEN];
    lpr_plate best;
    int64_t best_ms, best_wall_ms;
    void *best_image;
} track;

struct lpr_tracker {
    lpr_tracker_config cfg;
    lpr_image_free free_image;
    track tracks[MAX_TRACKS];
};

static int char_index(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= '0' && c <= '9')
        return 26 + c - '0';
    return -1;
}

static char index_char(int i)
{
    return i < 26 ? (char)('A' + i) : (char)('0' + i - 26);
}

/* Levenshtein distance of a to b; with free_ends, a may start and end
 * anywhere in b (the distance of a to b's closest part). */
static int distance(const char *a, const char *b, int free_ends)
{
    int la = (int)strlen(a), lb = (int)strlen(b);
    int d[MAX_LEN + 1][MAX_LEN + 1] = {{0}};
    if (la > MAX_LEN || lb > MAX_LEN)
        return 99;
    for (int i = 0; i <= la; i++)
        d[i][0] = i;
    for (int j = 0; j <= lb; j++)
        d[0][j] = free_ends ? 0 : j;
    for (int i = 1; i <= la; i++)
        for (int j = 1; j <= lb; j++) {
            int sub = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            int del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;
            d[i][j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
    int best = d[la][lb];
    for (int j = 0; free_ends && j < lb; j++)
        if (d[la][j] < best)
            best = d[la][j];
    return best;
}

int lpr_edit_distance(const char *a, const char *b)
{
    return distance(a, b, 0);
}

int lpr_fragment_distance(const char *a, const char *b)
{
    return strlen(a) <= strlen(b) ? distance(a, b, 1) : distance(b, a, 1);
}

lpr_tracker *lpr_tracker_new(const lpr_tracker_config *cfg, lpr_image_free free_image)
{
    lpr_tracker *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->cfg.timeout_ms = 1500;
    t->cfg.max_track_ms = 10000;
    t->cfg.min_frames = 2;
    if (cfg) {
        if (cfg->timeout_ms > 0)
            t->cfg.timeout_ms = cfg->timeout_ms;
        if (cfg->max_track_ms > 0)
            t->cfg.max_track_ms = cfg->max_track_ms;
        if (cfg->min_frames > 0)
            t->cfg.min_frames = cfg->min_frames;
        if (cfg->min_confidence > 0)
            t->cfg.min_confidence = cfg->min_confidence;
    }
    t->free_image = free_image;
    return t;
}

static void drop_image(lpr_tracker *t, void **img)
{
    if (*img && t->free_image)
        t->free_image(*img);
    *img = NULL;
}

void lpr_tracker_free(lpr_tracker *t)
{
    if (!t)
        return;
    for (int i = 0; i < MAX_TRACKS; i++)
        if (t->tracks[i].used)
            drop_image(t, &t->tracks[i].best_image);
    free(t);
}

int lpr_tracker_count_open(const lpr_tracker *t)
{
    int n = 0;
    for (int i = 0; i < MAX_TRACKS; i++)
        n += t->tracks[i].used;
    return n;
}

/* One observation's vote: its confidence, split at each position over the
 * characters its candidates of the same length put there (weighted by their
 * confidence). A frame torn between O and Q thus votes for both, and the
 * track's other frames decide, instead of the frame's coin flip. */
static void vote(track *k, const lpr_plate *p)
{
    int len = (int)strlen(p->text);
    if (len <= 0 || len >= MAX_LEN)
        return;
    k->len_votes[len] += p->confidence;
    k->len_count[len]++;
    for (int i = 0; i < len; i++) {
        float share[36] = {0}, total = 0;
        int ci = char_index(p->text[i]);
        for (int c = 0; c < p->n_candidates; c++) {
            const lpr_candidate *cd = &p->candidates[c];
            int cc = (int)strlen(cd->text) == len ? char_index(cd->text[i]) : -1;
            if (cc >= 0 && cd->confidence > 0) {
                share[cc] += cd->confidence;
                total += cd->confidence;
            }
        }
        if (total <= 0) { /* no candidates: the text alone */
            if (ci >= 0)
                k->votes[len][i][ci] += p->confidence;
            continue;
        }
        for (int c = 0; c < 36; c++)
            k->votes[len][i][c] += p->confidence * share[c] / total;
    }
}

static void emit_track(lpr_tracker *t, track *k, lpr_track_emit emit, void *ctx)
{
    if (k->frames >= t->cfg.min_frames) {
        lpr_track_read r;
        memset(&r, 0, sizeof r);
        int best_len = 0;
        for (int l = 1; l < MAX_LEN; l++)
            if (k->len_votes[l] > k->len_votes[best_len])
                best_len = l;
        r.plate = k->best;
        if (best_len > 0) {
            float conf = 0;
            for (int i = 0; i < best_len; i++) {
                int bi = 0;
                float total = 0;
                for (int c = 0; c < 36; c++) {
                    total += k->votes[best_len][i][c];
                    if (k->votes[best_len][i][c] > k->votes[best_len][i][bi])
                        bi = c;
                }
                r.plate.text[i] = index_char(bi);
                /* agreement share times the mean confidence of the winners */
                conf += total > 0 ? k->votes[best_len][i][bi] / (float)k->len_count[best_len] : 0;
            }
            r.plate.text[best_len] = '\0';
            r.plate.confidence = conf / (float)best_len;
            /* the voted text leads the candidates; the best frame's others
             * follow on the voted text's scale (their ratios to that frame's
             * best kept), never above it: a read's first candidate is its
             * most confident */
            lpr_candidate c[LPR_MAX_CANDIDATES];
            int n = 0;
            memcpy(c[n].text, r.plate.text, sizeof c[n].text);
            c[n++].confidence = r.plate.confidence;
            float top = k->best.n_candidates > 0 ? k->best.candidates[0].confidence : 0;
            float scale = top > 0 ? r.plate.confidence / top : 0;
            for (int i = 0; i < k->best.n_candidates && n < LPR_MAX_CANDIDATES; i++)
                if (strcmp(k->best.candidates[i].text, r.plate.text)) {
                    c[n] = k->best.candidates[i];
                    c[n].confidence *= scale;
                    if (c[n].confidence > r.plate.confidence - 0.05f)
                        c[n].confidence = r.plate.confidence - 0.05f;
                    if (c[n].confidence < 0)
                        c[n].confidence = 0;
                    n++;
                }
            memcpy(r.plate.candidates, c, sizeof c);
            r.plate.n_candidates = n;
        }
        if (r.plate.confidence < t->cfg.min_confidence) {
            drop_image(t, &k->best_image);
            memset(k, 0, sizeof *k);
            return;
        }
        r.frames = k->frames;
        r.best_ms = k->best_ms;
        r.best_wall_ms = k->best_wall_ms;
        r.first_ms = k->first_ms;
        r.last_ms = k->last_ms;
        r.image = k->best_image;
        k->best_image = NULL;
        emit(ctx, &r);
        drop_image(t, &r.image); /* unless the callback took it (set NULL) */
    } else {
        drop_image(t, &k->best_image);
    }
    memset(k, 0, sizeof *k);
}

/* Emits the tracks ended by now_ms. */
static void emit_ended(lpr_tracker *t, int64_t now_ms, lpr_track_emit emit, void *ctx)
{
    /* oldest first, so reads come out in the order vehicles were seen */
    for (;;) {
        track *oldest = NULL;
        for (int i = 0; i < MAX_TRACKS; i++) {
            track *k = &t->tracks[i];
            if (!k->used)
                continue;
            int ended = now_ms - k->last_ms > t->cfg.timeout_ms ||
                        now_ms - k->first_ms > t->cfg.max_track_ms;
            if (ended && (!oldest || k->first_ms < oldest->first_ms))
                oldest = k;
        }
        if (!oldest)
            return;
        emit_track(t, oldest, emit, ctx);
    }
}

void lpr_tracker_flush(lpr_tracker *t, lpr_track_emit emit, void *ctx)
{
    emit_ended(t, INT64_MAX / 2, emit, ctx);
}

static float box_dist(lpr_box a, lpr_box b)
{
    float ax = (float)a.x + (float)a.w / 2, ay = (float)a.y + (float)a.h / 2;
    float bx = (float)b.x + (float)b.w / 2, by = (float)b.y + (float)b.h / 2;
    float w = (float)(a.w > b.w ? a.w : b.w);
    return sqrtf((ax - bx) * (ax - bx) + (ay - by) * (ay - by)) / (w > 1 ? w : 1);
}

void lpr_tracker_add(lpr_tracker *t, int64_t t_ms, int64_t wall_ms, const lpr_plate *plates,
                     void **images, int n, lpr_track_emit emit, void *ctx)
{
    emit_ended(t, t_ms, emit, ctx);
    int taken[MAX_TRACKS] = {0};
    for (int p = 0; p < n; p++) {
        const lpr_plate *pl = &plates[p];
        void *img = images ? images[p] : NULL;
        int best = -1;
        float best_score = 1e9f;
        for (int i = 0; i < MAX_TRACKS; i++) {
            track *k = &t->tracks[i];
            if (!k->used || taken[i])
                continue;
            float d = box_dist(pl->box, k->last_box);
            int ed = lpr_edit_distance(pl->text, k->last_text);
            int len = (int)strlen(pl->text);
            if (d > 4.0f)
                continue;
            if (ed > (len > 6 ? len / 3 : 2)) {
                /* part of the plate (entering or leaving the frame, a
                 * character lost): its text lies within the track's */
                int shorter = len < (int)strlen(k->last_text) ? len : (int)strlen(k->last_text);
                if (shorter < 3 || lpr_fragment_distance(pl->text, k->last_text) > 1)
                    continue;
                ed = 1 + lpr_fragment_distance(pl->text, k->last_text);
            }
            float score = d + (float)ed;
            if (score < best_score) {
                best_score = score;
                best = i;
            }
        }
        if (best < 0) {
            for (int i = 0; i < MAX_TRACKS && best < 0; i++)
                if (!t->tracks[i].used)
                    best = i;
            if (best < 0) { /* full: end the oldest track to make room */
                int oldest = 0;
                for (int i = 1; i < MAX_TRACKS; i++)
                    if (t->tracks[i].first_ms < t->tracks[oldest].first_ms)
                        oldest = i;
                emit_track(t, &t->tracks[oldest], emit, ctx);
                best = oldest;
            }
            track *k = &t->tracks[best];
            k->used = 1;
            k->first_ms = t_ms;
        }
        track *k = &t->tracks[best];
        taken[best] = 1;
        k->last_ms = t_ms;
        k->last_box = pl->box;
        memcpy(k->last_text, pl->text, sizeof k->last_text);
        k->frames++;
        vote(k, pl);
        if (k->frames == 1 || pl->confidence > k->best.confidence) {
            k->best = *pl;
            k->best_ms = t_ms;
            k->best_wall_ms = wall_ms;
            drop_image(t, &k->best_image);
            k->best_image = img;
        } else if (img && t->free_image) {
            t->free_image(img);
        }
    }
}

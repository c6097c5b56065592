/*
 * fixes.c - the fix history and "position at an instant" (see lpr_gps.h).
 *
 * A ring of fixes in time order. Between two fixes at most MAX_GAP_MS apart
 * the position is interpolated linearly (heading on the circle); beyond the
 * ends it is dead-reckoned from speed and course for at most
 * max_extrapolate_ms; anything further is stale: fix none, no coordinates.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lpr_gps.h"

#define MAX_GAP_MS 5000
#define EARTH_R 6371008.8

struct lpr_fixes {
    lpr_fix *ring;
    int cap, start, count;
};

const char *lpr_fix_mode_name(lpr_fix_mode m)
{
    switch (m) {
    case LPR_FIX_2D: return "2d";
    case LPR_FIX_3D: return "3d";
    case LPR_FIX_FIXED: return "fixed";
    default: return "none";
    }
}

lpr_fixes *lpr_fixes_new(int capacity)
{
    lpr_fixes *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->cap = capacity > 1 ? capacity : 2;
    t->ring = calloc((size_t)t->cap, sizeof *t->ring);
    if (!t->ring) {
        free(t);
        return NULL;
    }
    return t;
}

void lpr_fixes_free(lpr_fixes *t)
{
    if (!t)
        return;
    free(t->ring);
    free(t);
}

static const lpr_fix *at_index(const lpr_fixes *t, int i)
{
    return &t->ring[(t->start + i) % t->cap];
}

void lpr_fixes_add(lpr_fixes *t, const lpr_fix *f)
{
    if (f->mode < LPR_FIX_2D || isnan(f->lat) || isnan(f->lon))
        return;
    if (t->count > 0) {
        const lpr_fix *last = at_index(t, t->count - 1);
        if (f->time_ms < last->time_ms)
            return;
        if (f->time_ms == last->time_ms) { /* same epoch: keep the newer data */
            t->ring[(t->start + t->count - 1) % t->cap] = *f;
            return;
        }
    }
    if (t->count == t->cap) {
        t->ring[t->start] = *f;
        t->start = (t->start + 1) % t->cap;
    } else {
        t->ring[(t->start + t->count) % t->cap] = *f;
        t->count++;
    }
}

int lpr_fixes_count(const lpr_fixes *t)
{
    return t->count;
}
int64_t lpr_fixes_first_ms(const lpr_fixes *t)
{
    return t->count ? at_index(t, 0)->time_ms : 0;
}
int64_t lpr_fixes_last_ms(const lpr_fixes *t)
{
    return t->count ? at_index(t, t->count - 1)->time_ms : 0;
}

static void from_fix(const lpr_fix *f, lpr_position *p)
{
    p->fix = f->mode;
    p->lat = f->lat;
    p->lon = f->lon;
    p->alt_m = f->alt_m;
    p->err_m = f->err_m;
    p->speed_mps = f->speed_mps;
    p->heading_deg = f->heading_deg;
}

static void stale(lpr_position *p, int64_t age)
{
    p->fix = LPR_FIX_NONE;
    p->lat = p->lon = p->alt_m = p->err_m = p->speed_mps = p->heading_deg = NAN;
    p->age_ms = age;
}

int lpr_fix_plausible(lpr_fix *f)
{
    int n = 0;
    if (!isnan(f->speed_mps) && !(f->speed_mps >= 0 && f->speed_mps <= LPR_FIX_MAX_SPEED_MPS))
        f->speed_mps = NAN, n++;
    if (!isnan(f->heading_deg) && !(f->heading_deg >= 0 && f->heading_deg <= 360))
        f->heading_deg = NAN, n++;
    if (!isnan(f->err_m) && !(f->err_m >= 0 && f->err_m <= LPR_FIX_MAX_ERR_M))
        f->err_m = NAN, n++;
    if (!isnan(f->alt_m) && !(f->alt_m >= LPR_FIX_MIN_ALT_M && f->alt_m <= LPR_FIX_MAX_ALT_M))
        f->alt_m = NAN, n++;
    if (f->mode != LPR_FIX_NONE && !(fabs(f->lat) <= 90 && fabs(f->lon) <= 180)) {
        f->mode = LPR_FIX_NONE;
        f->lat = f->lon = NAN;
        n++;
    }
    return n;
}

/* Dead reckoning beyond this is a guess, not a position: stale instead */
#define MAX_RECKON_M 100.0
/* what a vehicle may change its speed by while we guess (m/s^2) */
#define RECKON_ACCEL 3.0

/* Dead reckoning from f by dt_ms (may be negative). 0 if not possible. */
static int extrapolate(const lpr_fix *f, int64_t dt_ms, lpr_position *p)
{
    from_fix(f, p);
    p->age_ms = llabs(dt_ms);
    if (dt_ms == 0)
        return 1;
    if (isnan(f->speed_mps))
        return 0;
    double track = isnan(f->heading_deg) ? 0.0 : f->heading_deg;
    if (f->speed_mps > 0.3 && isnan(f->heading_deg))
        return 0; /* moving, direction unknown */
    double d = f->speed_mps * (double)dt_ms / 1000.0;
    if (fabs(d) > MAX_RECKON_M)
        return 0;
    double rad = track * M_PI / 180.0;
    double lat_r = f->lat * M_PI / 180.0;
    p->lat = f->lat + (d * cos(rad) / EARTH_R) * 180.0 / M_PI;
    p->lon = f->lon + (d * sin(rad) / (EARTH_R * cos(lat_r))) * 180.0 / M_PI;
    /* the error grows with the time we guessed over: a speed change of up
     * to RECKON_ACCEL and ~1 m/s of speed error, and never less than the
     * distance moved on the guess, so the position stays within err_m of
     * the one the receiver reported */
    if (!isnan(p->err_m)) {
        double t = fabs((double)dt_ms) / 1000.0;
        p->err_m += fmax(fabs(d), 0.5 * RECKON_ACCEL * t * t + t);
    }
    return 1;
}

static double lerp(double a, double b, double w)
{
    if (isnan(a))
        return b;
    if (isnan(b))
        return a;
    return a + (b - a) * w;
}

static double lerp_angle(double a, double b, double w)
{
    if (isnan(a) || isnan(b))
        return isnan(a) ? b : a;
    double d = fmod(b - a + 540.0, 360.0) - 180.0;
    double r = fmod(a + d * w + 360.0, 360.0);
    return r;
}

void lpr_fixes_at(const lpr_fixes *t, int64_t instant_ms, int max_extrapolate_ms, lpr_position *out)
{
    memset(out, 0, sizeof *out);
    if (t->count == 0) {
        stale(out, -1);
        return;
    }
    const lpr_fix *first = at_index(t, 0), *last = at_index(t, t->count - 1);
    if (instant_ms >= last->time_ms || instant_ms <= first->time_ms) {
        const lpr_fix *end = instant_ms >= last->time_ms ? last : first;
        int64_t dt = instant_ms - end->time_ms;
        if (llabs(dt) > max_extrapolate_ms || !extrapolate(end, dt, out))
            stale(out, llabs(dt));
        return;
    }
    /* binary search for the last fix at or before instant */
    int lo = 0, hi = t->count - 1;
    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if (at_index(t, mid)->time_ms <= instant_ms)
            lo = mid;
        else
            hi = mid;
    }
    const lpr_fix *a = at_index(t, lo), *b = at_index(t, hi);
    int64_t span = b->time_ms - a->time_ms;
    if (span > MAX_GAP_MS) {
        /* a gap in the fixes: extrapolate from the nearer side if allowed */
        int64_t da = instant_ms - a->time_ms, db = b->time_ms - instant_ms;
        const lpr_fix *near = da <= db ? a : b;
        int64_t dt = da <= db ? da : -db;
        if (llabs(dt) > max_extrapolate_ms || !extrapolate(near, dt, out))
            stale(out, llabs(dt));
        return;
    }
    double w = span > 0 ? (double)(instant_ms - a->time_ms) / (double)span : 0.0;
    out->fix = a->mode < b->mode ? a->mode : b->mode;
    out->lat = a->lat + (b->lat - a->lat) * w;
    out->lon = a->lon + (b->lon - a->lon) * w;
    out->alt_m = lerp(a->alt_m, b->alt_m, w);
    out->err_m =
        isnan(a->err_m) || isnan(b->err_m) ? lerp(a->err_m, b->err_m, w) : fmax(a->err_m, b->err_m);
    out->speed_mps = lerp(a->speed_mps, b->speed_mps, w);
    out->heading_deg = lerp_angle(a->heading_deg, b->heading_deg, w);
    int64_t da = instant_ms - a->time_ms, db = b->time_ms - instant_ms;
    out->age_ms = da < db ? da : db;
}

/*
 * nmea.c - NMEA 0183 reader for recorded logs (see lpr_gps.h).
 *
 * Sentences are checksum-verified, split into fields and gathered into
 * epochs by their UTC time of day: RMC (validity, position, speed, course,
 * date), GGA (quality, position, satellites, HDOP, altitude), VTG (course,
 * speed), GSA (2D/3D), GST (error estimate). An epoch with a valid position
 * and a known date becomes one fix. Anything malformed is skipped and
 * counted; nothing in the input can make it read out of bounds.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lpr_gps.h"

#define MAX_FIELDS 32
#define MAX_LINE 256
#define KNOT_MPS 0.514444444
#define UERE_M 5.0 /* metres of horizontal error per unit of HDOP */

typedef struct epoch {
    int active;
    long tod_ms; /* UTC time of day */
    int valid;   /* RMC A or GGA quality > 0 */
    int invalid; /* RMC V or GGA quality 0 seen */
    int have_pos;
    double lat, lon, alt, speed, track, hdop, gst_err;
    int gsa_mode, sats;
    int date_y, date_m, date_d; /* from this epoch's RMC, 0 if none */
} epoch;

struct lpr_nmea {
    epoch cur;
    int date_y, date_m, date_d; /* last known date */
    long last_tod;
    lpr_nmea_stats st;
};

lpr_nmea *lpr_nmea_new(void)
{
    lpr_nmea *n = calloc(1, sizeof *n);
    if (n)
        n->last_tod = -1;
    return n;
}

void lpr_nmea_free(lpr_nmea *n)
{
    free(n);
}

void lpr_nmea_get_stats(const lpr_nmea *n, lpr_nmea_stats *st)
{
    *st = n->st;
}

static int hexv(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = toupper(c);
    return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Parses a number field; NAN if empty or malformed. */
static double num(const char *s)
{
    char *end;
    if (!s || !*s)
        return NAN;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v))
        return NAN;
    return v;
}

/* ddmm.mmmm / dddmm.mmmm with hemisphere -> degrees; NAN if invalid. */
static double coord(const char *v, const char *hemi, int maxdeg)
{
    double raw = num(v);
    if (isnan(raw) || raw < 0 || !hemi || strlen(hemi) != 1)
        return NAN;
    double deg = floor(raw / 100.0), min = raw - deg * 100.0;
    if (min >= 60.0 || deg > maxdeg)
        return NAN;
    double d = deg + min / 60.0;
    if (d > maxdeg)
        return NAN;
    switch (hemi[0]) {
    case 'N':
    case 'E': return d;
    case 'S':
    case 'W': return -d;
    default: return NAN;
    }
}

/* hhmmss(.sss) -> ms of day, -1 if invalid */
static long tod(const char *s)
{
    if (!s || strlen(s) < 6)
        return -1;
    for (int i = 0; i < 6; i++)
        if (!isdigit((unsigned char)s[i]))
            return -1;
    int h = (s[0] - '0') * 10 + s[1] - '0', m = (s[2] - '0') * 10 + s[3] - '0';
    int sec = (s[4] - '0') * 10 + s[5] - '0';
    double frac = 0;
    if (s[6] == '.') {
        /* fraction digits only: ".5e300" or ".-1" is not a time */
        if (strspn(s + 7, "0123456789") != strlen(s + 7))
            return -1;
        frac = num(s + 6);
        if (isnan(frac) || frac >= 1.0)
            return -1;
    } else if (s[6]) {
        return -1;
    }
    if (h > 23 || m > 59 || sec > 60)
        return -1;
    return ((long)h * 3600 + m * 60 + sec) * 1000 + lround(frac * 1000.0);
}

static int64_t epoch_ms(int y, int mo, int d, long tod_ms)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    time_t days = timegm(&tm);
    return (int64_t)days * 1000 + tod_ms;
}

/* Finishes the current epoch; 1 if it yields a fix. */
static int finish(lpr_nmea *n, lpr_fix *out)
{
    epoch *e = &n->cur;
    int got = 0;
    if (!e->active)
        return 0;
    if (e->date_y) {
        n->date_y = e->date_y;
        n->date_m = e->date_m;
        n->date_d = e->date_d;
    } else if (n->date_y && n->last_tod >= 0 && e->tod_ms < n->last_tod) {
        /* crossed midnight since the last RMC date: next day */
        int64_t t = epoch_ms(n->date_y, n->date_m, n->date_d, 0) + 86400000;
        time_t s = (time_t)(t / 1000);
        struct tm tm;
        gmtime_r(&s, &tm);
        n->date_y = tm.tm_year + 1900;
        n->date_m = tm.tm_mon + 1;
        n->date_d = tm.tm_mday;
    }
    n->last_tod = e->tod_ms;
    if (e->valid && !e->invalid && e->have_pos && n->date_y) {
        memset(out, 0, sizeof *out);
        out->time_ms = epoch_ms(n->date_y, n->date_m, n->date_d, e->tod_ms);
        out->lat = e->lat;
        out->lon = e->lon;
        out->alt_m = e->alt;
        out->speed_mps = e->speed;
        out->heading_deg = e->track;
        out->err_m = !isnan(e->gst_err) ? e->gst_err : e->hdop * UERE_M;
        out->mode = e->gsa_mode == 2                     ? LPR_FIX_2D
                    : e->gsa_mode == 3 || !isnan(e->alt) ? LPR_FIX_3D
                                                         : LPR_FIX_2D;
        out->sats_used = e->sats;
        n->st.implausible += lpr_fix_plausible(out);
        n->st.fixes++;
        got = out->mode != LPR_FIX_NONE;
    } else {
        n->st.no_fix_epochs++;
    }
    memset(e, 0, sizeof *e);
    return got;
}

static void begin(epoch *e, long t)
{
    memset(e, 0, sizeof *e);
    e->active = 1;
    e->tod_ms = t;
    e->lat = e->lon = e->alt = e->speed = e->track = e->hdop = e->gst_err = NAN;
}

/* Starts a new epoch when a timed sentence has a new time; returns whether
 * the previous one produced a fix (into *out). */
static int timed(lpr_nmea *n, long t, lpr_fix *out, int *emitted)
{
    if (n->cur.active && n->cur.tod_ms == t)
        return 0;
    *emitted = finish(n, out);
    begin(&n->cur, t);
    return 1;
}

/* For RMC and GGA (time in field 1, at least 10 fields): the epoch the
 * sentence belongs to, completing the previous one if the time moved on;
 * NULL (counted as unparsed) if the sentence is malformed. */
static epoch *open_epoch(lpr_nmea *n, const char *time_field, int nf, lpr_fix *out, int *emitted)
{
    long t = tod(time_field);
    if (t < 0 || nf < 10) {
        n->st.unparsed++;
        return NULL;
    }
    timed(n, t, out, emitted);
    return &n->cur;
}

static void set_pos(epoch *e, double lat, double lon)
{
    if (isnan(lat) || isnan(lon))
        return;
    e->lat = lat;
    e->lon = lon;
    e->have_pos = 1;
}

int lpr_nmea_feed(lpr_nmea *n, const char *line, lpr_fix *out)
{
    char buf[MAX_LINE];
    char *f[MAX_FIELDS];
    int nf = 0, emitted = 0;

    n->st.lines++;
    while (*line == ' ' || *line == '\t')
        line++;
    if (*line != '$')
        return 0; /* comments, blank lines, binary junk */
    size_t len = strcspn(line, "\r\n");
    if (len >= sizeof buf || len < 7) {
        n->st.unparsed++;
        return 0;
    }
    memcpy(buf, line, len);
    buf[len] = '\0';
    char *star = strrchr(buf, '*');
    if (!star) {
        n->st.no_checksum++;
        return 0;
    }
    unsigned sum = 0;
    for (char *p = buf + 1; p < star; p++)
        sum ^= (unsigned char)*p;
    int h1 = hexv(star[1]), h2 = star[1] ? hexv(star[2]) : -1;
    if (h1 < 0 || h2 < 0 || (star[3] && !isspace((unsigned char)star[3])) ||
        (unsigned)(h1 * 16 + h2) != sum) {
        n->st.bad_checksum++;
        return 0;
    }
    *star = '\0';
    n->st.sentences++;
    for (char *p = buf + 1; nf < MAX_FIELDS;) {
        f[nf++] = p;
        char *c = strchr(p, ',');
        if (!c)
            break;
        *c = '\0';
        p = c + 1;
    }
    if (f[0][0] == 'P')
        return 0; /* proprietary ($PMTK..., $PUBX...): not ours to read */
    if (strlen(f[0]) != 5) {
        n->st.unparsed++;
        return 0;
    }
    const char *type = f[0] + 2;
#define F(i) ((i) < nf ? f[i] : "")
    if (!strcmp(type, "RMC")) {
        epoch *e = open_epoch(n, F(1), nf, out, &emitted);
        if (!e)
            return 0;
        if (!strcmp(F(2), "A"))
            e->valid = 1;
        else
            e->invalid = 1;
        set_pos(e, coord(F(3), F(4), 90), coord(F(5), F(6), 180));
        double kn = num(F(7));
        if (!isnan(kn))
            e->speed = kn * KNOT_MPS;
        double tr = num(F(8));
        if (!isnan(tr) && tr >= 0 && tr <= 360)
            e->track = tr;
        const char *d = F(9);
        if (strlen(d) == 6 && strspn(d, "0123456789") == 6) {
            int dd = (d[0] - '0') * 10 + d[1] - '0', mm = (d[2] - '0') * 10 + d[3] - '0';
            int yy = (d[4] - '0') * 10 + d[5] - '0';
            if (dd >= 1 && dd <= 31 && mm >= 1 && mm <= 12) {
                e->date_d = dd;
                e->date_m = mm;
                e->date_y = yy < 80 ? 2000 + yy : 1900 + yy;
            }
        }
    } else if (!strcmp(type, "GGA")) {
        epoch *e = open_epoch(n, F(1), nf, out, &emitted);
        if (!e)
            return 0;
        double q = num(F(6));
        if (!isnan(q) && q > 0)
            e->valid = 1;
        else if (!isnan(q))
            e->invalid = 1;
        if (!isnan(q) && q > 0) {
            set_pos(e, coord(F(2), F(3), 90), coord(F(4), F(5), 180));
            double sats = num(F(7)), hdop = num(F(8)), alt = num(F(9));
            /* several talkers (GP, GL) may report one epoch: keep the largest */
            /* range-check before the cast: (int)1e300 is undefined */
            if (!isnan(sats) && sats >= 0 && sats <= 255 && (int)sats > e->sats)
                e->sats = (int)sats;
            if (!isnan(hdop))
                e->hdop = hdop;
            if (!isnan(alt) && !strcmp(F(10), "M"))
                e->alt = alt;
        }
    } else if (!strcmp(type, "VTG")) {
        if (n->cur.active) {
            double tr = num(F(1)), kmh = num(F(7));
            if (!isnan(tr) && tr >= 0 && tr <= 360)
                n->cur.track = tr;
            if (!isnan(kmh))
                n->cur.speed = kmh / 3.6;
        }
    } else if (!strcmp(type, "GSA")) {
        double m = num(F(2));
        if (n->cur.active && !isnan(m) && m >= 1 && m <= 3)
            n->cur.gsa_mode = (int)m;
    } else if (!strcmp(type, "GST")) {
        long t = tod(F(1));
        double sl = num(F(6)), so = num(F(7));
        if (t >= 0 && n->cur.active && n->cur.tod_ms == t && !isnan(sl) && !isnan(so))
            n->cur.gst_err = sqrt(sl * sl + so * so);
    }
#undef F
    return emitted;
}

int lpr_nmea_flush(lpr_nmea *n, lpr_fix *out)
{
    return finish(n, out);
}

lpr_err lpr_nmea_load(const char *path, lpr_fixes *track, lpr_nmea_stats *st)
{
    FILE *fp = fopen(path, "r");
    char line[4096];
    lpr_fix fix;
    if (!fp) {
        LPR_ERROR("gps", "%s: %s", path, strerror(errno));
        return LPR_EIO;
    }
    lpr_nmea *n = lpr_nmea_new();
    if (!n) {
        fclose(fp);
        return LPR_ENOMEM;
    }
    while (fgets(line, sizeof line, fp)) {
        if (lpr_nmea_feed(n, line, &fix))
            lpr_fixes_add(track, &fix);
    }
    if (lpr_nmea_flush(n, &fix))
        lpr_fixes_add(track, &fix);
    int bad = ferror(fp);
    fclose(fp);
    lpr_nmea_stats s;
    lpr_nmea_get_stats(n, &s);
    lpr_nmea_free(n);
    if (st)
        *st = s;
    if (bad) {
        LPR_ERROR("gps", "%s: read error", path);
        return LPR_EIO;
    }
    if (s.sentences == 0) {
        LPR_ERROR("gps", "%s: no valid NMEA sentence in %ld lines (%ld bad checksums)", path,
                  s.lines, s.bad_checksum);
        return LPR_EFORMAT;
    }
    if (s.bad_checksum || s.no_checksum || s.unparsed)
        LPR_WARN("gps", "%s: skipped %ld bad-checksum, %ld unchecked, %ld unparsable sentences",
                 path, s.bad_checksum, s.no_checksum, s.unparsed);
    return LPR_OK;
}

/*
 * lpr_gps.h - position and time for reads.
 *
 * A fix history (lpr_fixes) answers "where was the camera at this instant":
 * interpolated between fixes, extrapolated from speed and heading for at
 * most max_extrapolate_ms, otherwise stale (fix none) rather than guessed.
 * Fixes come from gpsd through libgps (lpr_gps, a client thread that
 * reconnects with backoff), from a recorded NMEA log (lpr_nmea, for replay),
 * or from a fixed-site position in the config.
 *
 * Times are epoch milliseconds UTC. Angles are degrees, distances metres,
 * speeds metres per second. Unknown values are NAN, never 0.
 */
#ifndef LPR_GPS_H
#define LPR_GPS_H

#include <stdint.h>

#include "lpr_common.h"

typedef enum lpr_fix_mode {
    LPR_FIX_NONE = 0,
    LPR_FIX_2D,
    LPR_FIX_3D,
    LPR_FIX_FIXED /* surveyed fixed-site position from the config */
} lpr_fix_mode;

typedef struct lpr_fix {
    int64_t time_ms; /* GPS time of the fix (UTC) */
    int64_t recv_ms; /* system realtime when it was received (0: replay) */
    lpr_fix_mode mode;
    double lat, lon;    /* degrees */
    double alt_m;       /* metres above mean sea level, NAN unknown */
    double err_m;       /* horizontal error estimate, NAN unknown */
    double speed_mps;   /* NAN unknown */
    double heading_deg; /* course over ground, NAN unknown */
    int sats_used, sats_seen;
} lpr_fix;

typedef struct lpr_position {
    lpr_fix_mode fix; /* LPR_FIX_NONE: no usable position (lat/lon NAN) */
    double lat, lon, alt_m, err_m, speed_mps, heading_deg;
    int64_t age_ms; /* distance in time to the nearest fix used */
} lpr_position;

const char *lpr_fix_mode_name(lpr_fix_mode m); /* "none" "2d" "3d" "fixed" */

/* Physical bounds of what a receiver may report for a vehicle on the
 * ground; outside them a value is noise or an attack (a negative speed
 * moved a read 300 m; 1e21 knots sent it across the planet). */
#define LPR_FIX_MAX_SPEED_MPS 150.0 /* 540 km/h */
#define LPR_FIX_MAX_ERR_M 10000.0   /* an error estimate beyond: unknown */
#define LPR_FIX_MIN_ALT_M -500.0
/* Clears (NAN) the speed, course, error and altitude of f that lie outside
 * * those bounds, and a position outside the globe (mode none); returns how
 * * many values it cleared. The NMEA reader and the gpsd client both use
 * it. */
#define LPR_FIX_MAX_ALT_M 20000.0
int lpr_fix_plausible(lpr_fix *f);

/* ---- fix history ---- */
typedef struct lpr_fixes lpr_fixes;
lpr_fixes *lpr_fixes_new(int capacity); /* ring of the last 'capacity' fixes */
void lpr_fixes_free(lpr_fixes *t);
/* Adds a fix (mode >= 2D; others are ignored). Fixes must come in time
 * order; one older than the newest is dropped. */
void lpr_fixes_add(lpr_fixes *t, const lpr_fix *f);
int lpr_fixes_count(const lpr_fixes *t);
/* First and last fix times; 0 when empty. */
int64_t lpr_fixes_first_ms(const lpr_fixes *t);
int64_t lpr_fixes_last_ms(const lpr_fixes *t);
/* Position at 'instant_ms' (GPS time). Interpolates between fixes at most
 * 5 s apart (MAX_GAP_MS in fixes.c); extrapolates (dead reckoning) up to max_extrapolate_ms
 * from the nearest end; else out->fix = LPR_FIX_NONE with age_ms set. */
void lpr_fixes_at(const lpr_fixes *t, int64_t instant_ms, int max_extrapolate_ms,
                  lpr_position *out);

/* ---- NMEA 0183 reader (recorded logs; no gpsd needed) ---- */
typedef struct lpr_nmea_stats {
    long lines, sentences, bad_checksum, no_checksum, unparsed, fixes, no_fix_epochs;
    long implausible; /* values of fixes outside physical bounds, ignored */
} lpr_nmea_stats;
typedef struct lpr_nmea lpr_nmea;
lpr_nmea *lpr_nmea_new(void);
void lpr_nmea_free(lpr_nmea *n);
/* Feeds one line (with or without line end). Returns 1 and fills *out when
 * the line completed an epoch that had a fix, else 0. Bad sentences are
 * skipped and counted. */
int lpr_nmea_feed(lpr_nmea *n, const char *line, lpr_fix *out);
/* Completes the last epoch at end of input; same return as feed. */
int lpr_nmea_flush(lpr_nmea *n, lpr_fix *out);
void lpr_nmea_get_stats(const lpr_nmea *n, lpr_nmea_stats *st);
/* Reads a whole log into track. LPR_EIO unreadable; LPR_EFORMAT if it held
 * no valid sentence at all. Counts in *st (may be NULL). */
lpr_err lpr_nmea_load(const char *path, lpr_fixes *track, lpr_nmea_stats *st);

/* ---- gpsd client ---- */
typedef struct lpr_gps_config {
    const char *server;     /* "host:port", default LPR_GPSD_SERVER */
    const char *fixed;      /* "LAT,LON[,ALT]": fixed site, no gpsd */
    int max_extrapolate_ms; /* default 2000 */
} lpr_gps_config;

struct lpr_config;
/* The [gps] section of a loaded lpr.conf as client options (pointers into c). */
lpr_gps_config lpr_gps_config_from(const struct lpr_config *c);

typedef struct lpr_gps_status {
    int connected; /* to gpsd */
    int64_t reconnects;
    int64_t fixes; /* fixes received */
    lpr_fix last;  /* last report (mode may be none) */
    int have_last;
} lpr_gps_status;

typedef struct lpr_gps lpr_gps;
/* Starts the client thread (or fixed mode). LPR_EINVAL on a bad fixed
 * position or server string. Never blocks on gpsd. */
lpr_err lpr_gps_new(const lpr_gps_config *cfg, lpr_gps **out);
void lpr_gps_free(lpr_gps *g);
/* Position at a frame's capture instant (system realtime ms). */
void lpr_gps_at(lpr_gps *g, int64_t instant_ms, lpr_position *out);
void lpr_gps_get_status(lpr_gps *g, lpr_gps_status *st);
/* Waits until a report newer than 'after_fixes' arrives or timeout; returns
 * the new count of fixes. */
int64_t lpr_gps_wait(lpr_gps *g, int64_t after_fixes, int timeout_ms);

/* Parses "LAT,LON[,ALT]" into a fixed-site fix. */
lpr_err lpr_parse_fixed(const char *s, lpr_fix *out);

/* ---- time source ---- */
typedef enum lpr_time_source {
    LPR_TIME_GPS = 0, /* clock disciplined by GPS/PPS, or GPS-derived stamp */
    LPR_TIME_NTP,     /* clock synchronised by network time */
    LPR_TIME_RTC,     /* not synchronised; set from the hardware clock */
    LPR_TIME_UNSYNCED
} lpr_time_source;
const char *lpr_time_source_name(lpr_time_source s);
/* Decides honestly how the system clock is known to be right: adjtimex for
 * sync state, chrony's selected source (refclock = GPS/PPS) when chronyc is
 * present. */
lpr_time_source lpr_time_source_system(void);
/* Stamp for a frame captured at system realtime 'instant_ms': the system
 * time when synchronised; when not, but gpsd has delivered time, the GPS
 * derived time (system time + offset seen at the last fix) with
 * LPR_TIME_GPS. g may be NULL. */
int64_t lpr_time_stamp(lpr_gps *g, int64_t instant_ms, lpr_time_source *src);

#endif

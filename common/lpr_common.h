/*
 * lpr_common.h - error codes, logging and small helpers shared by every
 * lpr-edge component (ocr, gps, uplink, firmware).
 *
 * Every library function that can fail returns an lpr_err; results travel
 * through out-parameters. Libraries never exit(); they log one line naming
 * the operation and the input, and return a code the caller maps to an exit
 * status with lpr_strerror().
 */
#ifndef LPR_COMMON_H
#define LPR_COMMON_H

#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <time.h>

typedef enum lpr_err {
    LPR_OK = 0,
    LPR_EINVAL,   /* bad argument, bad input data or bad config value */
    LPR_EIO,      /* read/write/open failed */
    LPR_ENOMEM,   /* allocation failed */
    LPR_ENOENT,   /* file, device or key not found */
    LPR_ETOOBIG,  /* input exceeds a configured limit */
    LPR_EFORMAT,  /* input is not in the expected format (corrupt image, bad JSON) */
    LPR_EPERM,    /* unsafe permissions (e.g. key readable by others) */
    LPR_ENET,     /* network / broker error */
    LPR_ECRYPTO,  /* signing or verification failed */
    LPR_EDB,      /* spool database error */
    LPR_EFULL,    /* quota or disk full */
    LPR_EEXIST,   /* refusing to overwrite */
    LPR_EINTERNAL /* a library we call failed unexpectedly */
} lpr_err;

/* Static English description of an error code; never NULL. */
const char *lpr_strerror(lpr_err err);

typedef enum lpr_log_level {
    LPR_LOG_DEBUG = 0,
    LPR_LOG_INFO,
    LPR_LOG_WARN,
    LPR_LOG_ERROR
} lpr_log_level;

/* Minimum level printed (default LPR_LOG_INFO, or LPR_LOG_LEVEL=debug|info|
 * warn|error in the environment). Thread-safe: one line per call, to stderr. */
void lpr_log_set_level(lpr_log_level level);
lpr_log_level lpr_log_get_level(void);
void lpr_log(lpr_log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* [ocr] min_confidence, lpr_ocr_config.min_confidence: plates whose
 * calibrated confidence (the probability in percent that the text is
 * exactly the plate's) is below this are not returned. 20: the highest floor
 * that keeps 95% of the right reads on held-out training data
 * (ocr/train/train_confidence.py's report, ocr/models/README.md: 97.8% kept,
 * 86% of the returned plates right, no false read on held-out plate-free
 * scenes); chosen there, never on the benchmark. */
#define LPR_DEFAULT_MIN_CONFIDENCE 20.0

#define LPR_DEBUG(comp, ...) lpr_log(LPR_LOG_DEBUG, comp, __VA_ARGS__)
#define LPR_INFO(comp, ...) lpr_log(LPR_LOG_INFO, comp, __VA_ARGS__)
#define LPR_WARN(comp, ...) lpr_log(LPR_LOG_WARN, comp, __VA_ARGS__)
#define LPR_ERROR(comp, ...) lpr_log(LPR_LOG_ERROR, comp, __VA_ARGS__)

/* The byte offset of the first byte of s that is not valid UTF-8, or -1. */
long lpr_utf8_invalid_at(const char *s);
/* Copies in to out (NUL-terminated, truncated to outlen) with control
 * characters and bytes that are not UTF-8 written as \xNN: text from files
 * and names shown in logs and JSON, never silently dropped. */
void lpr_text_visible(const char *in, char *out, size_t outlen);

/* Monotonic clock in milliseconds (CLOCK_MONOTONIC), as a double. */
double lpr_monotonic_ms(void);

/* The CLOCK_REALTIME instant ms milliseconds from now, the deadline
 * pthread_cond_timedwait takes. */
struct timespec lpr_deadline_in_ms(long ms);

/* Wall clock in milliseconds since the Unix epoch (CLOCK_REALTIME). */
int64_t lpr_realtime_ms(void);

/* Milliseconds since boot (CLOCK_BOOTTIME): no clock step moves it. */
int64_t lpr_boottime_ms(void);

/* 1 when the kernel says the wall clock is synchronised (adjtimex; checked
 * at most every 10 s), unless the time override below says gps|ntp (1) or
 * rtc|unsynced (0). lpr_time_source_system() names the source on top of
 * this. */
int lpr_clock_synced(void);

/* The tests' clock: a time source name (gps, ntp, rtc, unsynced) that
 * lpr_clock_synced and lpr_time_source_system report instead of asking the
 * kernel; NULL clears it. lpr_time_override() returns it, else, in a build
 * with LPR_TEST_HOOKS (the test builds, never the package), the
 * LPR_TIME_SOURCE environment variable (integration tests of the daemons),
 * else NULL: a production binary's clock cannot be faked from its
 * environment. */
void lpr_set_time_override(const char *name);
const char *lpr_time_override(void);

/* Formats epoch milliseconds as "YYYY-MM-DDTHH:MM:SS.mmmZ" into buf (>= 25). */
void lpr_format_utc_ms(int64_t epoch_ms, char *buf, unsigned buflen);

/* Parses "YYYY-MM-DDTHH:MM:SS[.mmm]Z" into epoch ms; LPR_EINVAL if not. */
lpr_err lpr_parse_iso8601(const char *s, int64_t *ms);

/* Catches SIGTERM and SIGINT into a flag that becomes non-zero, for a run
 * loop to watch (lpr replay, lpr-uplink, lpr-ingest stop cleanly on it);
 * returns the flag. */
volatile sig_atomic_t *lpr_stop_on_signals(void);

/* Peak resident set size of this process in kilobytes (getrusage). */
long lpr_peak_rss_kb(void);

/* Sorts v[0..n) ascending (for the medians and percentiles of latencies). */
void lpr_sort_doubles(double *v, size_t n);
/* The same for floats (medians of character heights and positions). */
void lpr_sort_floats(float *v, size_t n);

/* Base64 (standard alphabet, padded): images in reads, signatures in MQTT
 * user properties. LPR_EINVAL on bad input or too small an out. */
lpr_err lpr_base64_encode(const unsigned char *in, size_t len, char *out, size_t outlen);
lpr_err lpr_base64_decode(const char *in, unsigned char *out, size_t outlen, size_t *len);

#endif

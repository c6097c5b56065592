/*
 * common.c - lpr_strerror, the line logger, clock and time-text helpers
 * and base64 (mbedTLS's, the library the signatures use) declared in
 * lpr_common.h. The logger writes whole lines with one write() so lines from
 * threads never interleave.
 */
#include "lpr_common.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/base64.h>

const char *lpr_strerror(lpr_err err)
{
    switch (err) {
    case LPR_OK: return "success";
    case LPR_EINVAL: return "invalid argument or value";
    case LPR_EIO: return "input/output error";
    case LPR_ENOMEM: return "out of memory";
    case LPR_ENOENT: return "not found";
    case LPR_ETOOBIG: return "too big";
    case LPR_EFORMAT: return "bad format";
    case LPR_EPERM: return "unsafe permissions";
    case LPR_ENET: return "network error";
    case LPR_ECRYPTO: return "cryptographic error";
    case LPR_EDB: return "spool database error";
    case LPR_EFULL: return "quota exceeded or disk full";
    case LPR_EEXIST: return "already exists";
    case LPR_EINTERNAL: return "internal error";
    }
    return "unknown error";
}

static int log_level = -1;

static void log_init(void)
{
    const char *env = getenv("LPR_LOG_LEVEL");
    log_level = LPR_LOG_INFO;
    if (!env)
        return;
    if (!strcasecmp(env, "debug"))
        log_level = LPR_LOG_DEBUG;
    else if (!strcasecmp(env, "warn"))
        log_level = LPR_LOG_WARN;
    else if (!strcasecmp(env, "error"))
        log_level = LPR_LOG_ERROR;
}

void lpr_log_set_level(lpr_log_level level)
{
    log_level = (int)level;
}

lpr_log_level lpr_log_get_level(void)
{
    if (log_level < 0)
        log_init();
    return (lpr_log_level)log_level;
}

/* Length of the valid UTF-8 sequence at s (1-4), 0 if there is none. */
static size_t utf8_seq(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    size_t n = s[0] >= 0xc2 && s[0] <= 0xdf   ? 2
               : s[0] >= 0xe0 && s[0] <= 0xef ? 3
               : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4
                                              : 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    /* overlong and surrogate forms */
    if ((n == 3 && s[0] == 0xe0 && s[1] < 0xa0) || (n == 3 && s[0] == 0xed && s[1] >= 0xa0) ||
        (n == 4 && s[0] == 0xf0 && s[1] < 0x90) || (n == 4 && s[0] == 0xf4 && s[1] >= 0x90))
        return 0;
    return n;
}

long lpr_utf8_invalid_at(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; p[i];) {
        size_t n = utf8_seq(p + i);
        if (!n)
            return (long)i;
        i += n;
    }
    return -1;
}

void lpr_text_visible(const char *in, char *out, size_t outlen)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t o = 0;
    if (!outlen)
        return;
    for (size_t i = 0; p[i] && o + 1 < outlen;) {
        size_t n = utf8_seq(p + i);
        if (n && p[i] >= 0x20 && p[i] != 0x7f) {
            if (o + n >= outlen)
                break;
            memcpy(out + o, p + i, n);
            o += n;
            i += n;
        } else {
            if (o + 4 >= outlen)
                break;
            snprintf(out + o, 5, "\\x%02x", p[i]);
            o += 4;
            i++;
        }
    }
    out[o] = 0;
}

void lpr_log(lpr_log_level level, const char *component, const char *fmt, ...)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    char raw[1024], line[1024];
    int n;
    va_list ap;

    if ((int)level < (int)lpr_log_get_level())
        return;
    n = snprintf(line, sizeof line, "%s: %s: ", component ? component : "lpr", names[level]);
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    /* a file name or value with a newline must not forge a log line, and
     * bytes that are not UTF-8 are shown, not passed to the journal */
    lpr_text_visible(raw, line + n, sizeof line - (size_t)n - 1);
    n += (int)strlen(line + n);
    if (n > (int)sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    if (write(STDERR_FILENO, line, (size_t)n) < 0) {
        /* nowhere left to report */
    }
}

double lpr_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

struct timespec lpr_deadline_in_ms(long ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

int64_t lpr_boottime_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char time_override[16];

void lpr_set_time_override(const char *name)
{
    snprintf(time_override, sizeof time_override, "%s", name ? name : "");
}

const char *lpr_time_override(void)
{
    if (time_override[0])
        return time_override;
#ifdef LPR_TEST_HOOKS
    return getenv("LPR_TIME_SOURCE");
#else
    return NULL;
#endif
}

int lpr_clock_synced(void)
{
    const char *env = lpr_time_override();
    if (env && (!strcmp(env, "gps") || !strcmp(env, "ntp")))
        return 1;
    if (env && (!strcmp(env, "rtc") || !strcmp(env, "unsynced")))
        return 0;
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static double checked_at = -1e9;
    static int synced;
    pthread_mutex_lock(&mu);
    if (lpr_monotonic_ms() - checked_at >= 10000.0) {
        struct timex tx;
        memset(&tx, 0, sizeof tx);
        int state = adjtimex(&tx);
        synced = state != TIME_ERROR && state != -1 && !(tx.status & STA_UNSYNC);
        checked_at = lpr_monotonic_ms();
    }
    int s = synced;
    pthread_mutex_unlock(&mu);
    return s;
}

int64_t lpr_realtime_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void lpr_format_utc_ms(int64_t epoch_ms, char *buf, unsigned buflen)
{
    time_t secs = (time_t)(epoch_ms / 1000);
    int ms = (int)(epoch_ms % 1000);
    struct tm tm;
    if (ms < 0) {
        ms += 1000;
        secs -= 1;
    }
    gmtime_r(&secs, &tm);
    snprintf(buf, buflen, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

lpr_err lpr_parse_iso8601(const char *s, int64_t *ms)
{
    struct tm tm;
    int y, mo, d, h, mi, sec, frac = 0, n = 0;
    char tail[8] = "";
    memset(&tm, 0, sizeof tm);
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6)
        return LPR_EINVAL;
    const char *p = s + n;
    if (*p == '.') {
        int digits = 0;
        p++;
        while (*p >= '0' && *p <= '9') {
            if (digits < 3) {
                frac = frac * 10 + (*p - '0');
                digits++;
            }
            p++;
        }
        while (digits++ < 3)
            frac *= 10;
    }
    snprintf(tail, sizeof tail, "%s", p);
    if (strcmp(tail, "Z") || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return LPR_EINVAL;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    *ms = (int64_t)timegm(&tm) * 1000 + frac;
    return LPR_OK;
}

long lpr_peak_rss_kb(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return -1;
    return ru.ru_maxrss;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void lpr_sort_doubles(double *v, size_t n)
{
    qsort(v, n, sizeof v[0], cmp_double);
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

void lpr_sort_floats(float *v, size_t n)
{
    qsort(v, n, sizeof v[0], cmp_float);
}

lpr_err lpr_base64_encode(const unsigned char *in, size_t len, char *out, size_t outlen)
{
    size_t olen;
    return mbedtls_base64_encode((unsigned char *)out, outlen, &olen, in, len) == 0 ? LPR_OK
                                                                                    : LPR_EINVAL;
}

lpr_err lpr_base64_decode(const char *in, unsigned char *out, size_t outlen, size_t *len)
{
    return mbedtls_base64_decode(out, outlen, len, (const unsigned char *)in, strlen(in)) == 0
               ? LPR_OK
               : LPR_EINVAL;
}

static volatile sig_atomic_t stop_signalled;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_signalled = 1;
}

volatile sig_atomic_t *lpr_stop_on_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    return &stop_signalled;
}

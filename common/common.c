/*
 * common.c - lpr_strerror, the line logger and clock helpers declared in
 * lpr_common.h. The logger writes whole lines with one write() so lines from
 * threads never interleave.
 */
#include "lpr_common.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

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

void lpr_log_set_level(lpr_log_level level) { log_level = (int)level; }

lpr_log_level lpr_log_get_level(void)
{
    if (log_level < 0)
        log_init();
    return (lpr_log_level)log_level;
}

void lpr_log(lpr_log_level level, const char *component, const char *fmt, ...)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    char line[1024];
    int n;
    va_list ap;

    if ((int)level < (int)lpr_log_get_level())
        return;
    n = snprintf(line, sizeof line, "%s: %s: ", component ? component : "lpr",
                 names[level]);
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
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

int lpr_clock_synced(void)
{
    const char *env = getenv("LPR_TIME_SOURCE");
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
    snprintf(buf, buflen, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

long lpr_peak_rss_kb(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return -1;
    return ru.ru_maxrss;
}

/*
 * timesrc.c - how the system clock is known to be right (see lpr_gps.h).
 *
 * lpr_clock_synced() (adjtimex) says whether the kernel clock is
 * synchronised at all. If it
 * is and chrony runs, `chronyc -c tracking` names the reference: a refclock
 * (GPS, PPS, SHM from gpsd) means GPS time, anything else network time.
 * Not synchronised: "rtc" when a hardware clock exists (the time came from
 * it at boot), else "unsynced". The tests' override (lpr_time_override:
 * LPR_TIME_SOURCE in test builds only) replaces the check.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lpr_gps.h"

const char *lpr_time_source_name(lpr_time_source s)
{
    switch (s) {
    case LPR_TIME_GPS: return "gps";
    case LPR_TIME_NTP: return "ntp";
    case LPR_TIME_RTC: return "rtc";
    default: return "unsynced";
    }
}

static int chrony_refclock(void)
{
    /* chronyc -c tracking: "ref id hex,name,stratum,..." ; a refclock has
     * stratum 1 and a name such as GPS, PPS, NMEA or SHM0 */
    if (access("/usr/bin/chronyc", X_OK) != 0)
        return -1;
    FILE *p = popen("/usr/bin/chronyc -c -n tracking 2>/dev/null", "r");
    if (!p)
        return -1;
    char line[512];
    int ref = -1;
    if (fgets(line, sizeof line, p)) {
        char *save = NULL, *id = strtok_r(line, ",", &save);
        char *name = strtok_r(NULL, ",", &save);
        char *stratum = strtok_r(NULL, ",", &save);
        if (id && name && stratum)
            ref = atoi(stratum) == 1 && (strstr(name, "GPS") || strstr(name, "PPS") ||
                                         strstr(name, "NMEA") || strstr(name, "SHM"));
    }
    pclose(p);
    return ref;
}

lpr_time_source lpr_time_source_system(void)
{
    static const lpr_time_source all[] = {LPR_TIME_GPS, LPR_TIME_NTP, LPR_TIME_RTC,
                                          LPR_TIME_UNSYNCED};
    const char *env = lpr_time_override();
    if (env)
        for (unsigned i = 0; i < sizeof all / sizeof all[0]; i++)
            if (!strcmp(env, lpr_time_source_name(all[i])))
                return all[i];
    /* cached: chronyc is a process start, and frames ask many times a second */
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static double checked_at = -1e9;
    static lpr_time_source cached = LPR_TIME_UNSYNCED;
    pthread_mutex_lock(&mu);
    if (lpr_monotonic_ms() - checked_at < 10000.0) {
        lpr_time_source s = cached;
        pthread_mutex_unlock(&mu);
        return s;
    }
    if (lpr_clock_synced())
        cached = chrony_refclock() == 1 ? LPR_TIME_GPS : LPR_TIME_NTP;
    else
        cached = access("/dev/rtc0", F_OK) == 0 ? LPR_TIME_RTC : LPR_TIME_UNSYNCED;
    checked_at = lpr_monotonic_ms();
    lpr_time_source s = cached;
    pthread_mutex_unlock(&mu);
    return s;
}

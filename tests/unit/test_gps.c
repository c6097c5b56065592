/*
 * test_gps.c - fix history (interpolation, extrapolation limits, stale),
 * the NMEA reader (checksums, epochs, bad input) and fixed-site parsing.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lpr_gps.h"

static lpr_fix fix_at(int64_t t, double lat, double lon, double speed, double track)
{
    lpr_fix f;
    memset(&f, 0, sizeof f);
    f.time_ms = t;
    f.mode = LPR_FIX_3D;
    f.lat = lat;
    f.lon = lon;
    f.alt_m = 100;
    f.err_m = 3;
    f.speed_mps = speed;
    f.heading_deg = track;
    return f;
}

static void test_interpolation(void **state)
{
    (void)state;
    lpr_fixes *t = lpr_fixes_new(16);
    lpr_fix a = fix_at(1000, 47.0, -122.0, 10, 350), b = fix_at(2000, 47.001, -122.002, 20, 10);
    lpr_fixes_add(t, &a);
    lpr_fixes_add(t, &b);
    lpr_position p;
    lpr_fixes_at(t, 1250, 2000, &p);
    assert_int_equal(p.fix, LPR_FIX_3D);
    assert_float_equal(p.lat, 47.00025, 1e-9);
    assert_float_equal(p.lon, -122.0005, 1e-9);
    assert_float_equal(p.speed_mps, 12.5, 1e-9);
    assert_float_equal(p.heading_deg, 355.0, 1e-9); /* across north, not through south */
    assert_int_equal(p.age_ms, 250);
    lpr_fixes_at(t, 2000, 2000, &p); /* exactly at a fix */
    assert_float_equal(p.lat, 47.001, 1e-12);
    assert_int_equal(p.age_ms, 0);
    lpr_fixes_free(t);
}

static void test_extrapolation_limit(void **state)
{
    (void)state;
    lpr_fixes *t = lpr_fixes_new(16);
    lpr_fix a = fix_at(0, 0.0, 0.0, 10, 90), b = fix_at(1000, 0.0, 0.0001, 10, 90);
    lpr_fixes_add(t, &a);
    lpr_fixes_add(t, &b);
    lpr_position p;
    /* 1 s after the last fix heading east at 10 m/s: ~10 m east */
    lpr_fixes_at(t, 2000, 2000, &p);
    assert_int_equal(p.fix, LPR_FIX_3D);
    assert_float_equal(p.lat, 0.0, 1e-9);
    assert_float_equal((p.lon - 0.0001) * 111194.9, 10.0, 0.05);
    assert_int_equal(p.age_ms, 1000);
    assert_true(p.err_m > 3.0); /* guessing widens the error */
    /* beyond the limit: stale, never a guess and never zeros */
    lpr_fixes_at(t, 3001, 2000, &p);
    assert_int_equal(p.fix, LPR_FIX_NONE);
    assert_true(isnan(p.lat) && isnan(p.lon));
    assert_int_equal(p.age_ms, 2001);
    /* before the first fix, same rule */
    lpr_fixes_at(t, -2500, 2000, &p);
    assert_int_equal(p.fix, LPR_FIX_NONE);
    lpr_fixes_free(t);
}

static void test_gap_and_empty(void **state)
{
    (void)state;
    lpr_fixes *t = lpr_fixes_new(4);
    lpr_position p;
    lpr_fixes_at(t, 5, 2000, &p);
    assert_int_equal(p.fix, LPR_FIX_NONE);
    lpr_fix a = fix_at(0, 1, 1, NAN, NAN), b = fix_at(60000, 2, 2, NAN, NAN);
    lpr_fixes_add(t, &a);
    lpr_fixes_add(t, &b);
    /* a minute without fixes is not interpolated across */
    lpr_fixes_at(t, 30000, 2000, &p);
    assert_int_equal(p.fix, LPR_FIX_NONE);
    /* no speed known: no dead reckoning either, even within the limit */
    lpr_fixes_at(t, 61000, 2000, &p);
    assert_int_equal(p.fix, LPR_FIX_NONE);
    /* fixes without a position are ignored; older ones too */
    lpr_fix nofix = fix_at(70000, 0, 0, 0, 0);
    nofix.mode = LPR_FIX_NONE;
    lpr_fixes_add(t, &nofix);
    lpr_fix old = fix_at(10, 5, 5, 0, 0);
    lpr_fixes_add(t, &old);
    assert_int_equal(lpr_fixes_count(t), 2);
    /* the ring keeps the newest */
    for (int i = 1; i <= 5; i++) {
        lpr_fix f = fix_at(60000 + i * 1000, 2, 2, 0, 0);
        lpr_fixes_add(t, &f);
    }
    assert_int_equal(lpr_fixes_count(t), 4);
    assert_int_equal(lpr_fixes_first_ms(t), 62000);
    lpr_fixes_free(t);
}

/* Appends the NMEA checksum to "$...": writes "$...*HH" into out. */
static void nmea(const char *body, char *out, size_t len)
{
    unsigned sum = 0;
    for (const char *p = body + 1; *p; p++)
        sum ^= (unsigned char)*p;
    snprintf(out, len, "%s*%02X\r\n", body, sum);
}

/* Feeds a sentence body to n with its checksum added. */
static int feed(lpr_nmea *n, const char *body, lpr_fix *f)
{
    char s[200];
    nmea(body, s, sizeof s);
    return lpr_nmea_feed(n, s, f);
}

static void test_nmea_epochs(void **state)
{
    (void)state;
    lpr_nmea *n = lpr_nmea_new();
    lpr_fix f;
    assert_int_equal(
        feed(n, "$GPRMC,120000.00,A,4739.71890,N,12219.58362,W,10.0,90.0,050826,,,A", &f), 0);
    assert_int_equal(
        feed(n, "$GPGGA,120000.00,4739.71890,N,12219.58362,W,1,09,1.2,76.5,M,-21.6,M,,", &f), 0);
    feed(n, "$GPGSA,A,3,02,07,14,15,17,20,22,30,,,,,1.5,0.9,1.2", &f);
    /* the next epoch's first sentence completes the previous one */
    assert_int_equal(
        feed(n, "$GPRMC,120001.00,A,4739.72000,N,12219.58000,W,10.0,90.0,050826,,,A", &f), 1);
    assert_float_equal(f.lat, 47.0 + 39.71890 / 60.0, 1e-9);
    assert_float_equal(f.lon, -(122.0 + 19.58362 / 60.0), 1e-9);
    assert_float_equal(f.alt_m, 76.5, 1e-9);
    assert_float_equal(f.speed_mps, 10.0 * 0.514444444, 1e-6);
    assert_float_equal(f.heading_deg, 90.0, 1e-9);
    assert_int_equal(f.mode, LPR_FIX_3D);
    assert_int_equal(f.sats_used, 9);
    assert_int_equal(f.time_ms, 1785931200000LL); /* 2026-08-05T12:00:00Z */
    assert_int_equal(lpr_nmea_flush(n, &f), 1);
    assert_int_equal(f.time_ms, 1785931201000LL);
    lpr_nmea_free(n);
}

/* Issue 16, 4.: a negative speed moved a read ~300 m; 1e21 knots gave a
 * longitude of 2e15 on a signed "3d" fix claiming 5 m error; HDOP 1e9 gave
 * err_m 5e21. Values outside physical bounds are ignored and counted, and
 * dead reckoning is bounded, its error at least the distance it guessed. */
static void test_implausible_values(void **state)
{
    (void)state;
    lpr_nmea *n = lpr_nmea_new();
    lpr_fix f;
    feed(n, "$GPRMC,120000.00,A,4739.71890,N,12219.58362,W,-600.0,90.0,050826,,,A", &f);
    feed(n, "$GPGGA,120000.00,4739.71890,N,12219.58362,W,1,09,1000000000,99999999,M,-21.6,M,,", &f);
    assert_int_equal(
        feed(n, "$GPRMC,120001.00,A,4739.71890,N,12219.58362,W,1e21,90.0,050826,,,A", &f), 1);
    assert_true(isnan(f.speed_mps)); /* -600 kn */
    assert_true(isnan(f.err_m));     /* HDOP 1e9 */
    assert_true(isnan(f.alt_m));     /* 1e8 m */
    assert_float_equal(f.lat, 47.661982, 1e-6);
    assert_int_equal(lpr_nmea_flush(n, &f), 1);
    assert_true(isnan(f.speed_mps)); /* 1e21 kn */
    lpr_nmea_stats st;
    lpr_nmea_get_stats(n, &st);
    assert_int_equal(st.implausible, 4);
    lpr_nmea_free(n);

    /* no speed: no dead reckoning (stale), never a position moved by noise */
    lpr_fixes *t = lpr_fixes_new(4);
    lpr_fixes_add(t, &f);
    lpr_position p;
    lpr_fixes_at(t, f.time_ms + 500, 2000, &p);
    assert_int_equal(p.fix, LPR_FIX_NONE);
    lpr_fixes_free(t);

    /* a plausible fix: reckoning stays within err_m of it, and stops at 100 m */
    lpr_fix g = fix_at(0, 0.0, 0.0, 60, 90);
    assert_int_equal(lpr_fix_plausible(&g), 0);
    t = lpr_fixes_new(4);
    lpr_fixes_add(t, &g);
    lpr_fixes_at(t, 1500, 2000, &p); /* 90 m east */
    assert_int_equal(p.fix, LPR_FIX_3D);
    double moved = p.lon * 111194.9;
    assert_float_equal(moved, 90.0, 0.1);
    assert_true(p.err_m >= 3.0 + moved);
    lpr_fixes_at(t, 1800, 2000, &p); /* 108 m: too far to guess */
    assert_int_equal(p.fix, LPR_FIX_NONE);
    lpr_fixes_free(t);
    lpr_fix h = fix_at(0, 95.0, 0.0, -1, 400);
    assert_int_equal(lpr_fix_plausible(&h), 3);
    assert_int_equal(h.mode, LPR_FIX_NONE);
}

static void test_nmea_bad_input(void **state)
{
    (void)state;
    lpr_nmea *n = lpr_nmea_new();
    lpr_fix f;
    char s[200];
    nmea("$GPRMC,120000.00,A,4739.71890,N,12219.58362,W,10.0,90.0,050826,,,A", s, sizeof s);
    s[10] = '9'; /* corrupt a digit: checksum no longer matches */
    assert_int_equal(lpr_nmea_feed(n, s, &f), 0);
    assert_int_equal(lpr_nmea_feed(n, "$GPRMC,120000.00,A,4739.7,N*", &f), 0);
    assert_int_equal(lpr_nmea_feed(n, "$GPRMC,no,checksum", &f), 0);
    assert_int_equal(lpr_nmea_feed(n, "garbage \x01\x02\xff", &f), 0);
    assert_int_equal(lpr_nmea_feed(n, "", &f), 0);
    char longline[600];
    memset(longline, 'A', sizeof longline - 1);
    longline[0] = '$';
    longline[sizeof longline - 1] = 0;
    assert_int_equal(lpr_nmea_feed(n, longline, &f), 0);
    /* valid checksum, impossible values: no fix */
    nmea("$GPRMC,250000.00,A,9999.00000,N,12219.58362,W,x,y,991399,,,A", s, sizeof s);
    lpr_nmea_feed(n, s, &f);
    /* a receiver without a fix: epochs, but none with a position */
    nmea("$GPRMC,235946.005,V,8960.000000,N,00000.000000,E,0.000,0.00,050180,,,N", s, sizeof s);
    assert_int_equal(lpr_nmea_feed(n, s, &f), 0);
    nmea("$GPGGA,235947.004,8960.000000,N,00000.000000,E,0,0,,137.000,M,13.000,M,,", s, sizeof s);
    assert_int_equal(lpr_nmea_feed(n, s, &f), 0);
    assert_int_equal(lpr_nmea_flush(n, &f), 0);
    lpr_nmea_stats st;
    lpr_nmea_get_stats(n, &st);
    assert_int_equal(st.fixes, 0);
    assert_true(st.bad_checksum >= 2);
    assert_int_equal(st.no_checksum, 1);
    lpr_nmea_free(n);
}

/* Found by fuzz_nmea: numbers too large for the field's type (satellites
 * 1e300, a time fraction ".5e300") must be ignored, never cast (UBSan). */
static void test_nmea_huge_numbers(void **state)
{
    (void)state;
    lpr_nmea *n = lpr_nmea_new();
    lpr_fix f;
    char s[200];
    nmea("$GPGGA,120000.00,4739.71890,N,12219.58362,W,1,1e300,1.2,76.5,M,-21.6,M,,", s, sizeof s);
    lpr_nmea_feed(n, s, &f);
    nmea("$GPRMC,120000.00,A,4739.71890,N,12219.58362,W,10.0,90.0,050826,,,A", s, sizeof s);
    lpr_nmea_feed(n, s, &f);
    nmea("$GPGGA,120001.00,4739.71890,N,12219.58362,W,1,-7,1.2,76.5,M,-21.6,M,,", s, sizeof s);
    assert_int_equal(lpr_nmea_feed(n, s, &f), 1);
    assert_int_equal(f.sats_used, 0); /* 1e300 satellites is not a count */
    /* a fraction that is not digits makes the whole time invalid */
    nmea("$GPRMC,120002.5e300,A,4739.71890,N,12219.58362,W,10.0,90.0,050826,,,A", s, sizeof s);
    assert_int_equal(lpr_nmea_feed(n, s, &f), 0);
    lpr_nmea_stats st;
    lpr_nmea_get_stats(n, &st);
    assert_int_equal(st.unparsed, 1);
    assert_int_equal(lpr_nmea_flush(n, &f), 1);
    assert_int_equal(f.sats_used, 0); /* -7 neither */
    assert_int_equal(f.time_ms, 1785931201000LL);
    lpr_nmea_free(n);
}

static void test_fixed_site(void **state)
{
    (void)state;
    lpr_fix f;
    assert_int_equal(lpr_parse_fixed("47.61234,-122.33456", &f), LPR_OK);
    assert_int_equal(f.mode, LPR_FIX_FIXED);
    assert_true(isnan(f.alt_m));
    assert_int_equal(lpr_parse_fixed("47.61234, -122.33456, 41.5", &f), LPR_OK);
    assert_float_equal(f.alt_m, 41.5, 1e-9);
    assert_int_equal(lpr_parse_fixed("91,0", &f), LPR_EINVAL);
    assert_int_equal(lpr_parse_fixed("47.6", &f), LPR_EINVAL);
    assert_int_equal(lpr_parse_fixed("a,b", &f), LPR_EINVAL);
    lpr_gps_config cfg = {.fixed = "47.61234,-122.33456", .max_extrapolate_ms = 2000};
    lpr_gps *g;
    assert_int_equal(lpr_gps_new(&cfg, &g), LPR_OK);
    lpr_position p;
    lpr_gps_at(g, 123, &p);
    assert_int_equal(p.fix, LPR_FIX_FIXED);
    assert_float_equal(p.lat, 47.61234, 1e-12);
    lpr_gps_free(g);
    cfg.fixed = "north pole";
    assert_int_equal(lpr_gps_new(&cfg, &g), LPR_EINVAL);
    cfg.fixed = NULL;
    cfg.server = "no-port";
    assert_int_equal(lpr_gps_new(&cfg, &g), LPR_EINVAL);
}

static void test_time_source_names(void **state)
{
    (void)state;
    assert_string_equal(lpr_time_source_name(LPR_TIME_GPS), "gps");
    assert_string_equal(lpr_time_source_name(LPR_TIME_NTP), "ntp");
    assert_string_equal(lpr_time_source_name(LPR_TIME_RTC), "rtc");
    assert_string_equal(lpr_time_source_name(LPR_TIME_UNSYNCED), "unsynced");
    /* without gpsd time the stamp is the system time, with the source the
     * system's clock has (here set by the tests' override) */
    static const struct {
        const char *env;
        lpr_time_source want;
    } cases[] = {{"ntp", LPR_TIME_NTP}, {"rtc", LPR_TIME_RTC}, {"unsynced", LPR_TIME_UNSYNCED}};
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lpr_set_time_override(cases[i].env);
        lpr_time_source s = LPR_TIME_GPS;
        assert_int_equal(lpr_time_stamp(NULL, 1000, &s), 1000);
        assert_int_equal(s, cases[i].want);
    }
    lpr_set_time_override(NULL);
}

int main(void)
{
    lpr_log_set_level(LPR_LOG_ERROR + 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_interpolation),     cmocka_unit_test(test_extrapolation_limit),
        cmocka_unit_test(test_gap_and_empty),     cmocka_unit_test(test_nmea_epochs),
        cmocka_unit_test(test_nmea_bad_input),    cmocka_unit_test(test_implausible_values),
        cmocka_unit_test(test_nmea_huge_numbers), cmocka_unit_test(test_fixed_site),
        cmocka_unit_test(test_time_source_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

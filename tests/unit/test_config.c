/*
 * test_config.c - the INI loader: defaults, every error names file:line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lpr_config.h"

static void test_defaults_and_values(void **state)
{
    (void)state;
    lpr_config c;
    char err[600] = "";
    const char *ini = "[device]\nid = cam-0042\nowner = City\n\n[spool]\nmax_mb = 64\n"
                      "[uplink]\nhost = broker.example\ninsecure = false\ninflight = 8\n";
    assert_int_equal(lpr_config_load_string(ini, "t.conf", &c, err, sizeof err), LPR_OK);
    assert_string_equal(c.device.id, "cam-0042");
    assert_string_equal(c.device.owner, "City");
    assert_float_equal(c.spool.max_mb, 64, 1e-9);
    assert_float_equal(c.spool.max_age_days, 30, 1e-9);
    assert_int_equal(c.uplink.port, 8883);
    assert_int_equal(c.uplink.inflight, 8);
    assert_int_equal(c.uplink.insecure, 0);
    assert_int_equal(c.uplink.health_interval_s, 60);
    assert_string_equal(c.uplink.delete_on, "receipt"); /* kept until the store has it */
    assert_int_equal(c.uplink.receipt_timeout_s, 60);
    assert_string_equal(c.uplink.topic_prefix, "lpr/v1/cam-0042/");
    assert_string_equal(c.gps.server, "127.0.0.1:2947");
    assert_int_equal(c.camera.roi[2], 0); /* whole frame by default */
    assert_int_equal(c.camera.min_frames, 2);
    assert_float_equal(c.ocr.min_confidence, LPR_DEFAULT_MIN_CONFIDENCE, 1e-9);
    assert_string_equal(c.ocr.verifier, ""); /* the shipped one */
    assert_string_equal(c.ocr.reader, "");
    assert_int_equal(lpr_config_load_string("[device]\nid = a\n[camera]\nmin_frames = 3\n[ocr]\n"
                                            "min_confidence = 50\nverifier = none\n"
                                            "calibration = /x/c.nn\nreader = none\n",
                                            "t.conf", &c, err, sizeof err),
                     LPR_OK);
    assert_int_equal(c.camera.min_frames, 3);
    assert_float_equal(c.ocr.min_confidence, 50, 1e-9);
    assert_string_equal(c.ocr.verifier, "none");
    assert_string_equal(c.ocr.calibration, "/x/c.nn");
    assert_string_equal(c.ocr.reader, "none");
    assert_int_equal(lpr_config_load_string("[device]\nid = a\n[camera]\nroi = 10, 20, 640, 360\n",
                                            "t.conf", &c, err, sizeof err),
                     LPR_OK);
    assert_int_equal(c.camera.roi[0], 10);
    assert_int_equal(c.camera.roi[3], 360);
    assert_int_equal(lpr_config_load_string("[device]\nid = a\n[gps]\nfixed = -33.86, 151.21, 58\n",
                                            "t.conf", &c, err, sizeof err),
                     LPR_OK);
    assert_string_equal(c.gps.fixed, "-33.86, 151.21, 58");
    double lat, lon, alt;
    assert_int_equal(lpr_parse_position(c.gps.fixed, &lat, &lon, &alt), LPR_OK);
    assert_float_equal(lat, -33.86, 1e-12);
    assert_float_equal(lon, 151.21, 1e-12);
    assert_float_equal(alt, 58, 1e-12);
    assert_int_equal(lpr_parse_position("47.6,12", &lat, &lon, &alt), LPR_OK);
    assert_true(alt != alt); /* NAN: no altitude given */
    assert_int_equal(lpr_parse_position("47.6,-180.5", &lat, &lon, &alt), LPR_EINVAL);
}

static void expect_error(const char *ini, const char *want)
{
    lpr_config c;
    char err[600] = "";
    assert_int_equal(lpr_config_load_string(ini, "t.conf", &c, err, sizeof err), LPR_EINVAL);
    if (!strstr(err, want))
        print_error("got '%s', want '%s'\n", err, want);
    assert_non_null(strstr(err, want));
}

static void test_errors_name_line(void **state)
{
    (void)state;
    expect_error("[device]\nid = a\n[uplink]\nport = 0\n", "t.conf:4: [uplink] port");
    expect_error("[device]\nid = a\nbogus = 1\n", "t.conf:3: unknown key 'bogus' in [device]");
    expect_error("[device]\nid = a\n[uplink]\ninsecure = maybe\n", "t.conf:4: [uplink] insecure");
    expect_error("[device]\nid = a/b\n", "t.conf:2: [device] id");
    expect_error("[spool]\nmax_mb = lots\n", "t.conf:2: [spool] max_mb");
    expect_error("[spool]\nmax_mb = 5\n", "t.conf: [device] id is required");
    expect_error("[device]\nid = a\n[ocr]\nregion = mars\n", "t.conf:4: [ocr] region: 'mars'");
    expect_error("[device]\nid = a\n[uplink]\ndelete_on = never\n",
                 "t.conf:4: [uplink] delete_on: 'never' is not receipt or puback");
    /* lprd --check passed these, then lprd refused them (issue 14, 5.) */
    expect_error("[device]\nid = a\n[gps]\nfixed = 47.6,abc\n",
                 "t.conf:4: [gps] fixed: '47.6,abc'");
    expect_error("[device]\nid = a\n[gps]\nfixed = 147.6,12\n",
                 "t.conf:4: [gps] fixed: '147.6,12'");
    expect_error("[device]\nid = a\n[gps]\nfixed = 47.6,12,high\n", "t.conf:4: [gps] fixed");
    expect_error("[device]\nid = a\n[spool]\nmax_mb = 5\n\nmax_mb = 50\n",
                 "t.conf:6: [spool] max_mb is set twice");
    expect_error("just words\n", "t.conf:1: syntax error");
    expect_error("[device]\nid = a\n[camera]\nroi = 1,2,3\n", "t.conf:4: [camera] roi");
    expect_error("[device]\nid = a\n[camera]\nroi = 0,0,-5,10\n", "t.conf:4: [camera] roi");
    expect_error("[device]\nid = a\n[ocr]\nmin_confidence = 101\n",
                 "t.conf:4: [ocr] min_confidence");
    expect_error("[device]\nid = a\n[camera]\nmin_frames = 0\n", "t.conf:4: [camera] min_frames");
}

/* Issue 16, 2. and 3.: hostile configs */
static void test_hostile_config(void **state)
{
    (void)state;
    /* a line inih would split: "host = <192 characters>insecure = true"
     * turned plaintext MQTT on */
    char ini[600];
    snprintf(ini, sizeof ini, "[device]\nid = a\n[uplink]\nhost = %0192dinsecure = true\n", 0);
    expect_error(ini, "t.conf:4: line longer than 198 characters (214)");
    expect_error("[device]\nid = a\n[spool]\nmax_mb = nan\n", "t.conf:4: [spool] max_mb: 'nan'");
    expect_error("[device]\nid = a\n[spool]\nmax_age_days = inf\n",
                 "t.conf:4: [spool] max_age_days");
    expect_error("[device]\nid = a\n[camera]\nbearing_deg = -nan\n",
                 "t.conf:4: [camera] bearing_deg");
    expect_error("[device]\nid = a\nid = b\n", "t.conf:3: [device] id is set twice");
    expect_error("[device]\nid = store\n", "t.conf: [device] id 'store' is reserved");
    expect_error("[device]\nid = Fleet\n", "t.conf: [device] id 'Fleet' is reserved");
    expect_error("[device]\nid = a\n[uplink]\ntopic_prefix = lpr/v1/#/\n",
                 "[uplink] topic_prefix 'lpr/v1/#/'");
    expect_error("[device]\nid = a\n[uplink]\ntopic_prefix = $SYS/x/\n", "[uplink] topic_prefix");
    expect_error("[device]\nid = a\n[uplink]\ntopic_prefix = lpr/v1/a\n",
                 "must be a topic path ending in '/'");
    /* a line of 198 characters is fine */
    lpr_config c;
    char err[600] = "";
    snprintf(ini, sizeof ini, "[device]\nid = a\n[uplink]\nhost = %0191d\n", 0);
    assert_int_equal(strlen(strstr(ini, "host = ")), 199);
    assert_int_equal(lpr_config_load_string(ini, "t.conf", &c, err, sizeof err), LPR_OK);
}

/* Issue 16, 6. and 8.: a Latin-1 owner vanished from every read (jansson
 * takes UTF-8 only); a newline in a logged file name forged a log line */
static void test_text_not_utf8(void **state)
{
    (void)state;
    expect_error("[device]\nid = a\nowner = Stadt K\xf6ln\n",
                 "t.conf:3: [device] owner: byte 0xf6 at column 8 is not UTF-8 text");
    lpr_config c;
    char err[600] = "", out[64];
    assert_int_equal(lpr_config_load_string("[device]\nid = a\nowner = Stadt K\xc3\xb6ln\n",
                                            "t.conf", &c, err, sizeof err),
                     LPR_OK);
    assert_int_equal(lpr_utf8_invalid_at("K\xc3\xb6ln"), -1);
    assert_int_equal(lpr_utf8_invalid_at("K\xf6ln"), 1);
    assert_int_equal(lpr_utf8_invalid_at("\xc0\xaf"), 0);     /* overlong '/' */
    assert_int_equal(lpr_utf8_invalid_at("\xed\xa0\x80"), 0); /* a surrogate */
    lpr_text_visible("a.jpg\nspool: error: forged", out, sizeof out);
    assert_string_equal(out, "a.jpg\\x0aspool: error: forged");
    lpr_text_visible("K\xf6ln \xc3\xb6", out, sizeof out);
    assert_string_equal(out, "K\\xf6ln \xc3\xb6");
    lpr_text_visible("abcdefgh", out, 5);
    assert_string_equal(out, "abcd");
}

/* --config /dev/zero read forever and a FIFO hung; a NUL byte is no text */
static void test_config_not_a_file(void **state)
{
    (void)state;
    lpr_config c;
    char err[600] = "", dir[] = "/tmp/lpr-cfg-XXXXXX", path[300];
    assert_int_equal(lpr_config_load("/dev/zero", &c, err, sizeof err), LPR_EINVAL);
    assert_non_null(strstr(err, "/dev/zero: not a regular file"));
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/fifo", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(lpr_config_load(path, &c, err, sizeof err), LPR_EINVAL);
    assert_non_null(strstr(err, "fifo: not a regular file"));
    unlink(path);
    assert_int_equal(lpr_config_load(dir, &c, err, sizeof err), LPR_EINVAL);
    snprintf(path, sizeof path, "%s/nul.conf", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fwrite("[device]\nid = a\0b\n", 1, 19, f);
    fclose(f);
    assert_int_equal(lpr_config_load(path, &c, err, sizeof err), LPR_EINVAL);
    assert_non_null(strstr(err, "nul.conf:2: a NUL byte"));
    f = fopen(path, "w");
    fputs("[device]\nid = cam-ok\n", f);
    fclose(f);
    assert_int_equal(lpr_config_load(path, &c, err, sizeof err), LPR_OK);
    assert_string_equal(c.device.id, "cam-ok");
    unlink(path);
    rmdir(dir);
}

static void test_missing_file(void **state)
{
    (void)state;
    lpr_config c;
    char err[600];
    assert_int_equal(lpr_config_load("/nonexistent/lpr.conf", &c, err, sizeof err), LPR_ENOENT);
    assert_non_null(strstr(err, "/nonexistent/lpr.conf: No such file"));
}

/* What root can tell of a service user's access, by owner, group and mode */
static void test_user_may(void **state)
{
    (void)state;
    char path[] = "/tmp/lpr-may-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(lpr_user_may(path, "root", R_OK | W_OK), 1);
    assert_int_equal(lpr_user_may(path, "no-such-user-lpr", R_OK), -1);
    assert_int_equal(lpr_user_may("/nonexistent/x", "root", R_OK), -1);
    if (geteuid() == 0 && lpr_user_may(path, "nobody", 0) >= 0) {
        /* a 0600 file of root: nobody may not; 0604: read, not write */
        assert_int_equal(lpr_user_may(path, "nobody", R_OK), 0);
        assert_int_equal(chmod(path, 0604), 0);
        assert_int_equal(lpr_user_may(path, "nobody", R_OK), 1);
        assert_int_equal(lpr_user_may(path, "nobody", R_OK | W_OK), 0);
        assert_int_equal(chown(path, 65534, 0), 0); /* nobody's own 0604 file */
        assert_int_equal(lpr_user_may(path, "nobody", R_OK | W_OK), 1);
    }
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_values),
        cmocka_unit_test(test_errors_name_line),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_hostile_config),
        cmocka_unit_test(test_config_not_a_file),
        cmocka_unit_test(test_text_not_utf8),
        cmocka_unit_test(test_user_may),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

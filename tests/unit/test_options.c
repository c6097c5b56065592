/*
 * test_options.c - one mapping from a loaded lpr.conf to each component's
 * options (lpr_pipeline_config_apply, lpr_spool_opts_from_config), the one
 * lprd, lpr replay and lpr doctor all call: every configured value lands in
 * the field of its name (a value moved to a neighbour's field fails), and
 * a configured [ocr] model is honoured without model_dir (lpr replay once
 * replaced it with "eng" where lprd kept it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lpr_config.h"
#include "lpr_spool.h"
#include "models.h"
#include "pipeline.h"

static void load(const char *text, lpr_config *c)
{
    char path[] = "/tmp/lpr-test-options-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    char err[600];
    int rc = lpr_config_load(path, c, err, sizeof err);
    unlink(path);
    if (rc != LPR_OK)
        fail_msg("config refused: %s", err);
}

static void test_every_value_in_its_field(void **state)
{
    (void)state;
    lpr_config c;
    load("[device]\nid = cam-opt\n"
         "[camera]\nsource = file:/dev/null\nmin_frames = 5\nscene_images = true\n"
         "roi = 10,20,300,400\n"
         "[ocr]\nregion = br\nmodel = deu\nmodel_dir = /opt/tess\nchar_model = /m/c.clf\n"
         "verifier = /m/v.nn\nreader = /m/r.nn\ncalibration = /m/k.nn\nmin_confidence = 37.5\n"
         "[spool]\nmax_mb = 77\nmax_age_days = 3.5\n",
         &c);
    lpr_pipeline_config pc;
    lpr_pipeline_config_init(&pc);
    lpr_pipeline_config_apply(&pc, &c);
    assert_int_equal(pc.ocr.region, LPR_REGION_BR);
    assert_string_equal(pc.ocr.model, "deu");
    assert_string_equal(pc.ocr.model_dir, "/opt/tess");
    assert_string_equal(pc.ocr.char_model, "/m/c.clf");
    assert_string_equal(pc.ocr.verifier, "/m/v.nn");
    assert_string_equal(pc.ocr.reader, "/m/r.nn");
    assert_string_equal(pc.ocr.calibration, "/m/k.nn");
    assert_float_equal(pc.ocr.min_confidence, 37.5, 1e-6);
    assert_int_equal(pc.tracker.min_frames, 5);
    /* a vehicle's voted read is held to the same floor as a frame's plate */
    assert_float_equal(pc.tracker.min_confidence, 37.5, 1e-6);
    assert_int_equal(pc.scene_images, 1);
    assert_int_equal(pc.roi.x, 10);
    assert_int_equal(pc.roi.y, 20);
    assert_int_equal(pc.roi.w, 300);
    assert_int_equal(pc.roi.h, 400);

    lpr_spool_opts so = lpr_spool_opts_from_config(&c);
    assert_string_equal(so.device_id, "cam-opt");
    assert_float_equal(so.max_mb, 77.0, 1e-9);
    assert_float_equal(so.max_age_days, 3.5, 1e-9);
    assert_int_equal(so.must_exist, 0);
    assert_int_equal(so.check, 1);
    assert_int_equal(so.read_only, 0);
}

static void test_defaults_and_model_without_dir(void **state)
{
    (void)state;
    lpr_config c;
    /* a Tesseract model named without a folder: looked up as lprd does */
    load("[device]\nid = cam-opt\n[camera]\nsource = file:/dev/null\n[ocr]\nmodel = deu\n", &c);
    lpr_pipeline_config pc;
    lpr_pipeline_config_init(&pc);
    lpr_pipeline_config_apply(&pc, &c);
    assert_string_equal(pc.ocr.model, "deu");
    const char *dir = lpr_default_model_dir("deu");
    if (dir)
        assert_string_equal(pc.ocr.model_dir, dir);
    else
        assert_null(pc.ocr.model_dir);
    /* empty model paths: the shipped models */
    assert_null(pc.ocr.char_model);
    assert_null(pc.ocr.verifier);
    assert_null(pc.ocr.reader);
    assert_null(pc.ocr.calibration);
    assert_int_equal(pc.ocr.region, LPR_REGION_AUTO);
    assert_float_equal(pc.ocr.min_confidence, LPR_DEFAULT_MIN_CONFIDENCE, 1e-6);
    assert_int_equal(pc.tracker.min_frames, 2);
    assert_int_equal(pc.roi.w, 0);
    assert_int_equal(pc.scene_images, 0);

    /* no model at all: Debian's eng */
    load("[device]\nid = cam-opt\n[camera]\nsource = file:/dev/null\n", &c);
    lpr_pipeline_config_init(&pc);
    lpr_pipeline_config_apply(&pc, &c);
    assert_string_equal(pc.ocr.model, "eng");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_value_in_its_field),
        cmocka_unit_test(test_defaults_and_model_without_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

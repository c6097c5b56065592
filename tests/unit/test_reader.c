/*
 * test_reader.c - the whole-plate reader: the C network gives what PyTorch
 * gave for the same crops (vectors recorded by ocr/train/train_reader.py
 * with the shipped model), its columns decode (greedy CTC) into the
 * plate's characters and their alternatives, a network of another shape is refused with its
 * reason, and a rendered plate in a scene is read exactly.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "confidence.h"
#include "reader.h"
#include "render.h"
#include "vectors.h"
#include "verify.h"

#define SHIPPED LPR_MODEL_DIR_SRC "/lpr-read.nn"
#define VECTORS LPR_TEST_DIR "/golden/read-vectors.bin"
#define NPIX (LPR_READ_H_PX * LPR_READ_W_PX)
#define NOUT (LPR_READ_CLASSES * LPR_READ_STEPS)

static void test_matches_the_training_script(void **state)
{
    (void)state;
    lpr_plate_reader *r = NULL;
    assert_int_equal(lpr_plate_reader_load(SHIPPED, &r), LPR_OK);
    unsigned n;
    float worst = lpr_test_vectors_max_diff(r, VECTORS, NPIX, NOUT, &n);
    printf("reader: C vs PyTorch over %u crops, %d logits each: max |difference| %.2e\n", n, NOUT,
           (double)worst);
    assert_true(n >= 2);
    assert_true(worst >= 0.0f && worst < 1e-3f);
    lpr_plate_reader_free(r);
}

/* The confidence model's text model in C gives what PyTorch gave for the
 * same texts (recorded by ocr/train/train_confidence.py), and tells the
 * lettering of a sign from a plate's series. */
static void test_text_model_matches_the_training_script(void **state)
{
    (void)state;
    lpr_confidence *c = NULL;
    assert_int_equal(lpr_confidence_load(LPR_MODEL_DIR_SRC "/lpr-confidence.nn", &c), LPR_OK);
    FILE *f = fopen(LPR_TEST_DIR "/golden/text-vectors.tsv", "r");
    assert_non_null(f);
    char text[64];
    float want, worst = 0.0f;
    int n = 0;
    while (fscanf(f, "%63s %f", text, &want) == 2) {
        float got = lpr_confidence_text_logit(c, text);
        worst = fmaxf(worst, fabsf(got - want));
        n++;
    }
    fclose(f);
    printf("text model: C vs PyTorch over %d texts: max |difference| %.2e\n", n, (double)worst);
    assert_true(n >= 4);
    assert_true(worst < 1e-4f);
    assert_true(lpr_confidence_text_logit(c, "7ABC123") > 0.0f);
    assert_true(lpr_confidence_text_logit(c, "SAVAGES") < 0.0f);
    lpr_confidence_free(c);
}

/* A confidence model of the calibration alone (as written before the text
 * model) is refused, not read with a feature missing. */
static void test_refuses_a_confidence_model_without_text_model(void **state)
{
    (void)state;
    char path[] = "/tmp/lpr-test-conf-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    assert_non_null(f);
    uint32_t hdr[4] = {LPR_CONF_FEATS, 1, 1, 1}, layer[3] = {2, 1, 0};
    float w[LPR_CONF_FEATS + 1] = {0};
    assert_int_equal(fwrite("LPRNN01\n", 1, 8, f), 8);
    assert_int_equal(fwrite(hdr, sizeof hdr, 1, f), 1);
    assert_int_equal(fwrite(layer, sizeof layer, 1, f), 1);
    assert_int_equal(fwrite(w, sizeof w, 1, f), 1);
    assert_int_equal(fclose(f), 0);
    lpr_confidence *c = (lpr_confidence *)1;
    assert_int_equal(lpr_confidence_load(path, &c), LPR_EFORMAT);
    assert_null(c);
    unlink(path);
}

/* logits[class][step] with, in each column, the class of 'cols' far ahead
 * ('-' = the blank) */
static void logits_for(const char *cols, float *l)
{
    static const char alphabet[] = LPR_READ_ALPHABET;
    for (int t = 0; t < LPR_READ_STEPS; t++) {
        char c = t < (int)strlen(cols) ? cols[t] : '-';
        int cls = c == '-' ? LPR_READ_CLASSES - 1 : (int)(strchr(alphabet, c) - alphabet);
        for (int k = 0; k < LPR_READ_CLASSES; k++)
            l[k * LPR_READ_STEPS + t] = k == cls ? 12.0f : 0.0f;
    }
}

static void text_of(const lpr_charpos *pos, int n, char *text)
{
    for (int i = 0; i < n; i++)
        text[i] = pos[i].ch[0];
    text[n] = '\0';
}

static void test_decodes_columns_as_ctc(void **state)
{
    (void)state;
    float l[NOUT];
    lpr_charpos pos[LPR_LINE_MAX_CHARS];
    char text[LPR_LINE_MAX_CHARS + 1];
    /* runs merge, blanks separate, a blank between two runs of one
     * character makes two characters */
    logits_for("--77-AA-B-CC-1-22-3-3---", l);
    /* column 8 (the B): B (class 11) ahead of 8 (class 8), both above the rest */
    l[11 * LPR_READ_STEPS + 8] = 6.0f;
    l[8 * LPR_READ_STEPS + 8] = 5.0f;
    int n = lpr_plate_read_decode(l, pos, LPR_LINE_MAX_CHARS);
    text_of(pos, n, text);
    assert_string_equal(text, "7ABC1233");
    /* the alternatives are listed best first, as probabilities */
    assert_int_equal(pos[2].ch[0], 'B');
    assert_true(pos[2].n >= 2);
    assert_int_equal(pos[2].ch[1], '8');
    assert_true(pos[2].conf[0] > pos[2].conf[1]);
    float sum = 0;
    for (int k = 0; k < pos[2].n; k++)
        sum += pos[2].conf[k];
    assert_true(sum <= 100.0f + 1e-3f);
    /* a sure column has one alternative at nearly 100% */
    assert_true(pos[0].conf[0] > 99.0f);
    assert_int_equal(pos[0].n, 1);
    /* a run's confidence is its best column's */
    logits_for("-KK-", l);
    l[20 * LPR_READ_STEPS + 1] = 2.0f; /* K (class 20) unsure in its first column */
    n = lpr_plate_read_decode(l, pos, LPR_LINE_MAX_CHARS);
    assert_int_equal(n, 1);
    assert_true(pos[0].conf[0] > 99.0f);
    /* all blank: nothing read; max bounds the count */
    logits_for("", l);
    assert_int_equal(lpr_plate_read_decode(l, pos, LPR_LINE_MAX_CHARS), 0);
    logits_for("A-B-C-D-E-F", l);
    assert_int_equal(lpr_plate_read_decode(l, pos, 4), 4);
}

static void test_refuses_a_network_of_another_shape(void **state)
{
    (void)state;
    /* the shipped verifier is a good network, but one logit over 32 x 96 */
    lpr_plate_reader *r = (lpr_plate_reader *)(uintptr_t)1;
    assert_int_equal(lpr_plate_reader_load(LPR_MODEL_DIR_SRC "/lpr-verify.nn", &r), LPR_EFORMAT);
    assert_null(r);
    assert_int_equal(lpr_plate_reader_load("/nonexistent/lpr-read.nn", &r), LPR_ENOENT);
}

static void test_reads_a_rendered_plate(void **state)
{
    (void)state;
    lpr_plate_reader *r = NULL;
    assert_int_equal(lpr_plate_reader_load(SHIPPED, &r), LPR_OK);
    /* level, tilted both ways (the crop follows the line's slope), light
     * on dark */
    static const char *const texts[] = {"7ABC123", "KXR4471", "58TRD902", "MHA0361"};
    static const float angle[] = {0.0f, 4.0f, -4.0f, 2.0f};
    int right = 0;
    for (int t = 0; t < 4; t++) {
        render_plate p = {texts[t], 300, 200, 28, t == 3, angle[t]};
        lpr_box tb;
        PIX *scene = render_scene(1280, 720, &p, 1, NULL, &tb, 7 + t);
        assert_non_null(scene);
        lpr_textline lines[16];
        int n = lpr_locate(scene, lines, 16), best = -1;
        for (int i = 0; i < n && best < 0; i++)
            if (lpr_box_overlap(lines[i].box, tb) > 0.7f)
                best = i;
        assert_true(best >= 0);
        lpr_charpos pos[LPR_LINE_MAX_CHARS];
        int k = lpr_plate_read_line(r, scene, &lines[best], pos, LPR_LINE_MAX_CHARS);
        char text[LPR_MAX_TEXT] = {0};
        for (int i = 0; i < k && i < LPR_MAX_TEXT - 1; i++)
            text[i] = pos[i].ch[0];
        printf("reader: rendered %s read %s\n", texts[t], text);
        right += strcmp(text, texts[t]) == 0;
        pixDestroy(&scene);
    }
    assert_int_equal(right, 4);
    lpr_plate_reader_free(r);
}

/* A confidence model whose calibration is one dense layer: logit = bias +
 * w11 * (second opinion read the line), whatever else the read is; its
 * text model (one dense layer) says 0 for every text. */
static void write_calibration(const char *path, float bias, float w11)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    uint32_t hdr[4] = {LPR_CONF_FEATS, 1, 1, 1}, layer[3] = {2, 1, 0};
    float w[LPR_CONF_FEATS] = {0};
    w[11] = w11;
    assert_int_equal(fwrite("LPRNN01\n", 1, 8, f), 8);
    assert_int_equal(fwrite(hdr, sizeof hdr, 1, f), 1);
    assert_int_equal(fwrite(layer, sizeof layer, 1, f), 1);
    assert_int_equal(fwrite(w, sizeof w, 1, f), 1);
    assert_int_equal(fwrite(&bias, sizeof bias, 1, f), 1);
    uint32_t thdr[4] = {LPR_TEXT_C, 1, LPR_TEXT_W, 1};
    static const float tw[LPR_TEXT_C * LPR_TEXT_W + 1];
    assert_int_equal(fwrite("LPRNN01\n", 1, 8, f), 8);
    assert_int_equal(fwrite(thdr, sizeof thdr, 1, f), 1);
    assert_int_equal(fwrite(layer, sizeof layer, 1, f), 1);
    assert_int_equal(fwrite(tw, sizeof tw, 1, f), 1);
    assert_int_equal(fclose(f), 0);
}

/* Every plate of the scene, read with the given calibration (NULL: the
 * shipped one) and no floor; returns the count. */
static int read_scene(const char *calibration, lpr_ocr_result *r)
{
    lpr_ocr_config cfg;
    lpr_ocr_config_init(&cfg);
    cfg.min_confidence = 0.0f;
    cfg.region = LPR_REGION_US;
    cfg.calibration = calibration;
    lpr_ocr *ocr = NULL;
    assert_int_equal(lpr_ocr_new(&cfg, &ocr), LPR_OK);
    render_plate p[] = {{"7ABC123", 200, 150, 30, 0, 0.0f}, {"KXR4471", 700, 400, 18, 1, 2.0f}};
    PIX *scene = render_scene(1280, 720, p, 2, NULL, NULL, 11);
    assert_non_null(scene);
    static uint8_t grey[720][1280]; /* a camera's Y plane: plain bytes */
    for (int y = 0; y < 720; y++)
        for (int x = 0; x < 1280; x++)
            grey[y][x] = (uint8_t)GET_DATA_BYTE(pixGetData(scene) + y * pixGetWpl(scene), x);
    assert_int_equal(lpr_ocr_read_grey(ocr, &grey[0][0], 1280, 720, 1280, r), LPR_OK);
    for (int i = 0; i < r->n_plates; i++)
        printf("gate (%s): %s %.1f, second opinion %s %s\n", calibration ? calibration : "shipped",
               r->plates[i].text, (double)r->plates[i].confidence,
               r->plates[i].second_opinion ? "read" : "skipped", r->plates[i].second_text);
    pixDestroy(&scene);
    lpr_ocr_free(ocr);
    return r->n_plates;
}

/* The gate of ocr.c: the second opinion reads a line only when the
 * calibration gives the reader's read alone (feature 11 = 0) at least
 * SECOND_OPINION_GATE (10) percent. A calibration that gives every read
 * alone 0.7% stops it everywhere (and the reads keep that confidence); one
 * that gives 99.3% lets it read every line; with the shipped one a clear
 * plate is read by both readers, which agree. */
static void test_second_opinion_only_where_it_counts(void **state)
{
    (void)state;
    char low[] = "/tmp/lpr-test-gate-XXXXXX";
    int fd = mkstemp(low);
    assert_true(fd >= 0);
    close(fd);
    lpr_ocr_result r;
    write_calibration(low, -5.0f, 10.0f);
    assert_true(read_scene(low, &r) >= 2);
    for (int i = 0; i < r.n_plates; i++) {
        assert_false(r.plates[i].second_opinion);
        assert_string_equal(r.plates[i].second_text, "");
        assert_true(fabsf(r.plates[i].confidence - 0.669f) < 0.01f);
    }
    write_calibration(low, 5.0f, -10.0f);
    assert_true(read_scene(low, &r) >= 2);
    for (int i = 0; i < r.n_plates; i++)
        assert_true(r.plates[i].second_opinion);
    unlink(low);
    int clear = 0;
    for (int i = 0, n = read_scene(NULL, &r); i < n; i++)
        if (!strcmp(r.plates[i].text, "7ABC123")) {
            clear = 1;
            assert_true(r.plates[i].second_opinion);
            assert_string_equal(r.plates[i].second_text, "7ABC123");
            assert_true(r.plates[i].confidence >= 90.0f);
        }
    assert_true(clear);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_the_training_script),
        cmocka_unit_test(test_text_model_matches_the_training_script),
        cmocka_unit_test(test_refuses_a_confidence_model_without_text_model),
        cmocka_unit_test(test_decodes_columns_as_ctc),
        cmocka_unit_test(test_refuses_a_network_of_another_shape),
        cmocka_unit_test(test_reads_a_rendered_plate),
        cmocka_unit_test(test_second_opinion_only_where_it_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * bench_ocr.c - plate reading scored as the read store sees it: every plate
 * the reader returns is a read (../shared/notes/trustworthy-reads.md).
 *
 * Labelled set (OpenALPR benchmark layout: NAME.jpg + NAME.txt with the line
 * "NAME x y w h PLATE"): one table row with
 *   first    the first (most confident) plate's text is the label
 *   any      the label is the text of any returned plate (lenient)
 *   atbox    the plate at the labelled box (IoU > 0.2) reads the label
 *   misread  a plate at the labelled box reads something else
 *   phantom  returned plates at no labelled box, per photo
 *   plates   returned plates per photo
 *   locate   localiser recall alone: a line it proposes (up to
 *            LPR_MAX_PROPOSALS) gives a plate box with IoU >= 0.5 to the
 *            label (set's region geometry)
 *   verified the same among the lines the shipped plate verifier passes
 *   med/p95  ms per photo (reading only, as `lpr read` reports), peak RSS
 * and a reliability line: among returned plates with confidence >= 90 / 70
 * / 50, how many are a labelled plate read exactly at its box.
 *
 * Plates below the confidence floor (--min-confidence, default [ocr]
 * min_confidence's LPR_DEFAULT_MIN_CONFIDENCE) are not reads; a second line
 * gives first/any/phantom without the floor, from the same reads.
 *
 * Plate-free set (--negatives DIR, every image): plates per image; each one
 * is a false read.
 *
 * --tsv FILE appends one line per returned plate (set, confidence, right,
 *   image, text)
 * so scripts/bench-ocr can pool the reliability over every set.
 *
 * usage: bench_ocr [--model NAME] [--model-dir DIR] [--reader FILE|none]
 *                  [--no-second-opinion] [--region R] [--misses]
 *                  [--tsv FILE] SETNAME DIR
 *        bench_ocr [--region R] --negatives SETNAME DIR
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocr_internal.h"
#include "verify.h"

#define AT_BOX_IOU 0.2f

static int filter_txt(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    return n > 4 && !strcmp(d->d_name + n - 4, ".txt");
}

static int filter_img(const struct dirent *d)
{
    return lpr_image_name(d->d_name);
}

static double pct(int a, int b)
{
    return b ? 100.0 * a / b : 0.0;
}

static const float conf_levels[] = {90.0f, 70.0f, 50.0f};
#define N_LEVELS 3

int main(int argc, char **argv)
{
    lpr_ocr_config cfg;
    const char *set = NULL, *dir = NULL, *tsv_path = NULL;
    int misses = 0, negatives = 0;
    float floor_conf = (float)LPR_DEFAULT_MIN_CONFIDENCE;

    lpr_ocr_process_init(argv);
    lpr_ocr_config_init(&cfg);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--model") && i + 1 < argc)
            cfg.model = argv[++i];
        else if (!strcmp(argv[i], "--max-lines") && i + 1 < argc)
            cfg.max_lines = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--model-dir") && i + 1 < argc)
            cfg.model_dir = argv[++i];
        else if (!strcmp(argv[i], "--reader") && i + 1 < argc)
            cfg.reader = argv[++i];
        else if (!strcmp(argv[i], "--no-second-opinion"))
            cfg.no_second_opinion = 1;
        else if (!strcmp(argv[i], "--min-confidence") && i + 1 < argc)
            floor_conf = (float)atof(argv[++i]);
        else if (!strcmp(argv[i], "--tsv") && i + 1 < argc)
            tsv_path = argv[++i];
        else if (!strcmp(argv[i], "--region") && i + 1 < argc) {
            if (lpr_region_parse(argv[++i], &cfg.region) != LPR_OK) {
                fprintf(stderr, "bench_ocr: bad region %s\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(argv[i], "--misses"))
            misses = 1;
        else if (!strcmp(argv[i], "--negatives"))
            negatives = 1;
        else if (!set)
            set = argv[i];
        else if (!dir)
            dir = argv[i];
    }
    if (!set || !dir) {
        fprintf(stderr, "usage: bench_ocr [--model NAME] [--model-dir DIR] [--reader FILE|none] "
                        "[--no-second-opinion] [--region R] [--misses] [--tsv FILE] [--negatives] "
                        "SETNAME DIR\n");
        return 2;
    }
    cfg.min_confidence = 0; /* read everything; the floor is applied below */
    lpr_ocr *ocr;
    if (lpr_ocr_new(&cfg, &ocr) != LPR_OK)
        return 1;
    FILE *tsv = NULL;
    if (tsv_path && !(tsv = fopen(tsv_path, "a"))) {
        fprintf(stderr, "bench_ocr: %s: cannot append\n", tsv_path);
        return 1;
    }

    struct dirent **names;
    int n = scandir(dir, &names, negatives ? filter_img : filter_txt, alphasort);
    if (n <= 0) {
        fprintf(stderr, "bench_ocr: %s: no %s\n", dir, negatives ? "images" : "labels");
        return 1;
    }
    double *ms = calloc((size_t)n, sizeof *ms);
    int images = 0, first = 0, any = 0, atbox = 0, misread = 0, phantom = 0;
    int located = 0, verified = 0, plates = 0, all_plates = 0;
    int first0 = 0, any0 = 0, phantom0 = 0;
    lpr_plate_verifier *verifier = NULL;
    const char *vdir = lpr_model_dir_with("lpr-verify.nn");
    if (vdir) {
        char vp[4096];
        snprintf(vp, sizeof vp, "%s/lpr-verify.nn", vdir);
        if (lpr_plate_verifier_load(vp, &verifier) != LPR_OK)
            return 1;
    }
    int conf_n[N_LEVELS] = {0}, conf_right[N_LEVELS] = {0};
    for (int i = 0; i < n; i++) {
        char path[4096], img[1024], label[64] = "";
        int x = 0, y = 0, w = 0, h = 0;
        if (negatives) {
            snprintf(img, sizeof img, "%s", names[i]->d_name);
        } else {
            snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
            FILE *f = fopen(path, "r");
            if (!f || fscanf(f, "%1023s %d %d %d %d %63s", img, &x, &y, &w, &h, label) != 6) {
                fprintf(stderr, "bench_ocr: %s: bad label line\n", path);
                if (f)
                    fclose(f);
                continue;
            }
            fclose(f);
        }
        snprintf(path, sizeof path, "%s/%s", dir, img);
        lpr_ocr_result r;
        if (lpr_ocr_read_file(ocr, path, &r) != LPR_OK)
            continue;
        ms[images++] = r.ms;
        int unfloored = r.n_plates;
        all_plates += r.n_plates;
        while (r.n_plates > 0 && r.plates[r.n_plates - 1].confidence < floor_conf)
            r.n_plates--;
        plates += r.n_plates;
        if (negatives) {
            for (int p = 0; p < r.n_plates; p++) {
                for (int k = 0; k < N_LEVELS; k++)
                    conf_n[k] += r.plates[p].confidence >= conf_levels[k];
                if (tsv)
                    fprintf(tsv, "%s\t%.2f\t0\t%s\t%s\n", set, r.plates[p].confidence, img,
                            r.plates[p].text);
                if (misses)
                    printf("false %s %s %.1f (%d,%d,%d,%d)\n", img, r.plates[p].text,
                           r.plates[p].confidence, r.plates[p].box.x, r.plates[p].box.y,
                           r.plates[p].box.w, r.plates[p].box.h);
            }
            continue;
        }
        char want[LPR_MAX_TEXT];
        lpr_plate_normalise(label, want, sizeof want);
        lpr_box truth = {x, y, w, h};
        int found = 0, passed = 0;
        PIX *pix = pixRead(path), *grey = pix ? pixConvertTo8(pix, 0) : NULL;
        if (grey) {
            lpr_textline lines[LPR_MAX_PROPOSALS];
            lpr_region geo = cfg.region != LPR_REGION_AUTO ? cfg.region
                             : !strcmp(set, "br")          ? LPR_REGION_BR
                             : !strcmp(set, "eu")          ? LPR_REGION_EU
                                                           : LPR_REGION_US;
            int nl = lpr_locate(grey, lines, LPR_MAX_PROPOSALS);
            for (int k = 0; k < nl; k++) {
                int here = lpr_box_iou(lpr_plate_box_from_line(&lines[k], geo, r.width, r.height),
                                       truth) >= 0.5f;
                found |= here;
                passed |= here && (!verifier || lpr_plate_verify_line(verifier, grey, &lines[k]) >=
                                                    LPR_MIN_PLATE_P);
            }
        }
        pixDestroy(&pix);
        pixDestroy(&grey);
        /* the same reads without the floor */
        int any_unfloored = 0;
        for (int p = 0; p < unfloored; p++) {
            phantom0 += lpr_box_iou(r.plates[p].box, truth) <= AT_BOX_IOU;
            any_unfloored |= !strcmp(r.plates[p].text, want);
        }
        first0 += unfloored > 0 && !strcmp(r.plates[0].text, want);
        any0 += any_unfloored;
        int hit_first = r.n_plates > 0 && !strcmp(r.plates[0].text, want);
        int hit_any = 0, hit_box = 0, wrong_box = 0;
        for (int p = 0; p < r.n_plates; p++) {
            const lpr_plate *pl = &r.plates[p];
            int here = lpr_box_iou(pl->box, truth) > AT_BOX_IOU;
            int right = here && !strcmp(pl->text, want);
            hit_any |= !strcmp(pl->text, want);
            hit_box |= right;
            wrong_box |= here && !right;
            phantom += !here;
            for (int k = 0; k < N_LEVELS; k++) {
                conf_n[k] += pl->confidence >= conf_levels[k];
                conf_right[k] += right && pl->confidence >= conf_levels[k];
            }
            if (tsv)
                fprintf(tsv, "%s\t%.2f\t%d\t%s\t%s\n", set, pl->confidence, right, img, pl->text);
        }
        if (misses && !hit_first) {
            printf("miss %s want %s atbox %d got", img, want, hit_box);
            for (int p = 0; p < r.n_plates; p++)
                printf(" %s/%.0f(%d,%d,%d,%d)", r.plates[p].text, r.plates[p].confidence,
                       r.plates[p].box.x, r.plates[p].box.y, r.plates[p].box.w, r.plates[p].box.h);
            printf(" | truth %d,%d,%d,%d\n", x, y, w, h);
        }
        first += hit_first;
        any += hit_any;
        atbox += hit_box;
        misread += wrong_box && !hit_box;
        located += found;
        verified += passed;
    }
    lpr_sort_doubles(ms, (size_t)images);
    double med = images ? ms[images / 2] : 0;
    double p95 = images ? ms[(int)((images - 1) * 0.95 + 0.5)] : 0;
    double rss = (double)lpr_peak_rss_kb() / 1024.0;
    if (negatives) {
        printf("%-9s %6d  plates/image %5.3f (%d false reads; conf>=90: %d, >=70: %d, >=50: %d)"
               "  med %4.0f ms  p95 %4.0f ms  rss %5.1f MB\n",
               set, images, images ? (double)plates / images : 0, plates, conf_n[0], conf_n[1],
               conf_n[2], med, p95, rss);
        printf("          without the confidence floor (%.0f): plates/image %5.3f\n",
               (double)floor_conf, images ? (double)all_plates / images : 0);
    } else {
        printf("%-4s %6d %6.1f%% %6.1f%% %6.1f%% %6.1f%% %7.2f %6.2f %6.1f%% %6.1f%% %6.0f %6.0f "
               "%6.1f\n",
               set, images, pct(first, images), pct(any, images), pct(atbox, images),
               pct(misread, images), images ? (double)phantom / images : 0,
               images ? (double)plates / images : 0, pct(located, images), pct(verified, images),
               med, p95, rss);
        printf("     without the confidence floor (%.0f): first %.1f%%  any %.1f%%  phantom %.2f"
               "  plates %.2f\n",
               (double)floor_conf, pct(first0, images), pct(any0, images),
               images ? (double)phantom0 / images : 0, images ? (double)all_plates / images : 0);
        printf("     reliability:");
        for (int k = 0; k < N_LEVELS; k++)
            printf("  conf>=%.0f %d/%d right (%.1f%%)", conf_levels[k], conf_right[k], conf_n[k],
                   pct(conf_right[k], conf_n[k]));
        printf("\n");
    }
    if (tsv)
        fclose(tsv);
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(ms);
    lpr_plate_verifier_free(verifier);
    lpr_ocr_free(ocr);
    return 0;
}

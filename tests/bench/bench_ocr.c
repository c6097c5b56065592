/*
 * bench_ocr.c - end-to-end plate reading benchmark over one labelled set of
 * the OpenALPR benchmark layout (NAME.jpg + NAME.txt "NAME x y w h PLATE").
 *
 * Prints one table row: images, top-1 (best text of any returned plate equals
 * the label, ignoring case and non-alphanumerics), top-10 (label among the
 * candidates of any plate), localisation recall measured on the localiser
 * alone (labelled box overlapped with IoU >= 0.5 by the plate box estimated
 * from any of the lines it hands to the reader, with the set's region
 * geometry), read recall (same, by a box `lpr read` returns), plates per image, median and p95 ms
 * per image (reading only, as `lpr read` reports), and this process's peak
 * RSS. Run one process per set so peak RSS is per set.
 *
 * usage: bench_ocr [--model NAME] [--model-dir DIR] [--region R] [--misses]
 *                  SETNAME DIR
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocr_internal.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int filter_txt(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    return n > 4 && !strcmp(d->d_name + n - 4, ".txt");
}

int main(int argc, char **argv)
{
    lpr_ocr_config cfg;
    const char *set = NULL, *dir = NULL;
    int misses = 0;

    lpr_ocr_process_init(argv);
    lpr_ocr_config_init(&cfg);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--model") && i + 1 < argc)
            cfg.model = argv[++i];
        else if (!strcmp(argv[i], "--max-lines") && i + 1 < argc)
            cfg.max_lines = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--model-dir") && i + 1 < argc)
            cfg.model_dir = argv[++i];
        else if (!strcmp(argv[i], "--region") && i + 1 < argc) {
            if (lpr_region_parse(argv[++i], &cfg.region) != LPR_OK) {
                fprintf(stderr, "bench_ocr: bad region %s\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(argv[i], "--misses"))
            misses = 1;
        else if (!set)
            set = argv[i];
        else if (!dir)
            dir = argv[i];
    }
    if (!set || !dir) {
        fprintf(stderr, "usage: bench_ocr [--model NAME] [--model-dir DIR] [--region R] "
                        "[--misses] SETNAME DIR\n");
        return 2;
    }
    lpr_ocr *ocr;
    if (lpr_ocr_new(&cfg, &ocr) != LPR_OK)
        return 1;

    struct dirent **names;
    int n = scandir(dir, &names, filter_txt, alphasort);
    if (n <= 0) {
        fprintf(stderr, "bench_ocr: %s: no labels\n", dir);
        return 1;
    }
    double *ms = calloc((size_t)n, sizeof *ms);
    int images = 0, top1 = 0, top10 = 0, located = 0, read_located = 0, plates = 0;
    for (int i = 0; i < n; i++) {
        char path[4096], img[1024], label[64];
        int x, y, w, h;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
        FILE *f = fopen(path, "r");
        if (!f || fscanf(f, "%1023s %d %d %d %d %63s", img, &x, &y, &w, &h, label) != 6) {
            fprintf(stderr, "bench_ocr: %s: bad label line\n", path);
            if (f)
                fclose(f);
            continue;
        }
        fclose(f);
        snprintf(path, sizeof path, "%s/%s", dir, img);
        lpr_ocr_result r;
        if (lpr_ocr_read_file(ocr, path, &r) != LPR_OK)
            continue;
        char want[LPR_MAX_TEXT];
        lpr_plate_normalise(label, want, sizeof want);
        int hit1 = 0, hit10 = 0, loc = 0, found = 0;
        lpr_box truth = {x, y, w, h};
        PIX *pix = pixRead(path), *grey = pix ? pixConvertTo8(pix, 0) : NULL;
        if (grey) {
            lpr_textline lines[LPR_MAX_PLATES];
            lpr_region geo = cfg.region != LPR_REGION_AUTO ? cfg.region
                             : !strcmp(set, "br") ? LPR_REGION_BR
                             : !strcmp(set, "eu") ? LPR_REGION_EU : LPR_REGION_US;
            int nl = lpr_locate(grey, lines, cfg.max_lines);
            for (int k = 0; k < nl; k++)
                found |= lpr_box_iou(lpr_plate_box_from_line(&lines[k], geo, r.width, r.height),
                             truth) >= 0.5f;
        }
        pixDestroy(&pix);
        pixDestroy(&grey);
        for (int p = 0; p < r.n_plates; p++) {
            hit1 |= !strcmp(r.plates[p].text, want);
            for (int c = 0; c < r.plates[p].n_candidates; c++)
                hit10 |= !strcmp(r.plates[p].candidates[c].text, want);
            loc |= lpr_box_iou(r.plates[p].box, truth) >= 0.5f;
        }
        if (misses && !hit1) {
            printf("miss %s want %s loc %d got", img, want, loc);
            for (int p = 0; p < r.n_plates; p++)
                printf(" %s(%d,%d,%d,%d)", r.plates[p].text, r.plates[p].box.x,
                       r.plates[p].box.y, r.plates[p].box.w, r.plates[p].box.h);
            printf(" | truth %d,%d,%d,%d\n", x, y, w, h);
        }
        ms[images++] = r.ms;
        top1 += hit1;
        top10 += hit10;
        located += found;
        read_located += loc;
        plates += r.n_plates;
    }
    qsort(ms, (size_t)images, sizeof *ms, cmp_double);
    double med = images ? ms[images / 2] : 0;
    double p95 = images ? ms[(int)((images - 1) * 0.95 + 0.5)] : 0;
    printf("%-4s %6d %6.1f%% %6.1f%% %7.1f%% %7.1f%% %7.2f %8.0f %7.0f %8.1f\n", set,
           images, images ? 100.0 * top1 / images : 0, images ? 100.0 * top10 / images : 0,
           images ? 100.0 * located / images : 0, images ? 100.0 * read_located / images : 0, images ? (double)plates / images : 0,
           med, p95, (double)lpr_peak_rss_kb() / 1024.0);
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(ms);
    lpr_ocr_free(ocr);
    return 0;
}

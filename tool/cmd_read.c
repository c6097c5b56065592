/*
 * cmd_read.c - `lpr read`: read plates in still images or folders of them,
 * as a table or one JSON line per image (see ARCHITECTURE.md).
 */
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <jansson.h>

#include "lpr_ocr.h"
#include "lpr_read_json.h"
#include "lpr_tool.h"

static void read_usage(FILE *f)
{
    fprintf(f,
            "usage: lpr read [--json] [--region us|eu|br|auto] [--model NAME]\n"
            "                [--model-dir DIR] [--char-model FILE|none] [--verifier FILE|none]\n"
            "                [--reader FILE|none]\n"
            "                [--min-confidence C] [--max-plates N] IMAGE|DIR...\n"
            "Reads licence plates in still images (JPEG, PNG, BMP, TIFF, PNM).\n"
            "Folders are read in sorted order, image files only.\n"
            "  --json         one JSON line per image instead of a table\n"
            "  --region R     plate formats used to rank candidates (default auto)\n"
            "  --model NAME   Tesseract model for the second opinion (default 'eng',\n"
            "                 Debian's tesseract-ocr-eng)\n"
            "  --model-dir D  folder holding NAME.traineddata\n"
            "  --char-model F per-character classifier (default: the shipped\n"
            "                 lpr-chars.clf; 'none' reads with the line model only)\n"
            "  --verifier F   plate verifier network (default: the shipped\n"
            "                 lpr-verify.nn; 'none' reads every located line)\n"
            "  --reader F     whole-plate reader network (default: the shipped\n"
            "                 lpr-read.nn; 'none' reads with the classifier and\n"
            "                 Tesseract)\n"
            "  --min-confidence C  plates below C (0-100, the probability in percent\n"
            "                 that the text is exactly right) are not reported\n"
            "                 (default %.0f, as [ocr] min_confidence)\n"
            "  --max-plates N plates reported per image (1-%d, default %d)\n"
            "Exit status: 0 all read, 1 some input could not be read, 2 usage.\n",
            LPR_DEFAULT_MIN_CONFIDENCE, LPR_MAX_PLATES, LPR_MAX_PLATES);
}

static void print_json(const char *file, const lpr_ocr_result *r)
{
    json_t *root = json_object(), *plates = json_array();
    char shown[1024];
    lpr_text_visible(file, shown, sizeof shown); /* a name that is not UTF-8 stays visible */
    json_object_set_new(root, "file", json_string(shown));
    json_object_set_new(root, "width", json_integer(r->width));
    json_object_set_new(root, "height", json_integer(r->height));
    json_object_set_new(root, "ms", json_real((double)(long)(r->ms * 10 + 0.5) / 10.0));
    for (int i = 0; i < r->n_plates; i++)
        json_array_append_new(plates, lpr_plate_json(&r->plates[i], &r->plates[i].box));
    json_object_set_new(root, "plates", plates);
    char *s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    if (s) {
        puts(s);
        free(s);
    }
    json_decref(root);
}

static void print_row(const char *file, const lpr_ocr_result *r)
{
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    if (r->n_plates == 0) {
        printf("%-40.40s %-10s %5s  %-6s %-20s %6.0f\n", base, "-", "-", "-", "-", r->ms);
        return;
    }
    for (int i = 0; i < r->n_plates; i++) {
        const lpr_plate *p = &r->plates[i];
        char box[64];
        snprintf(box, sizeof box, "%d,%d,%d,%d", p->box.x, p->box.y, p->box.w, p->box.h);
        printf("%-40.40s %-10s %5.1f  %-6s %-20s %6.0f\n", i == 0 ? base : "", p->text,
               (double)p->confidence, lpr_region_name(p->region), box, i == 0 ? r->ms : 0.0);
    }
}

typedef struct read_ctx {
    lpr_ocr *ocr;
    int json;
    int failed;
    int images;
} read_ctx;

static void read_one(read_ctx *ctx, const char *path)
{
    lpr_ocr_result r;
    lpr_err rc = lpr_ocr_read_file(ctx->ocr, path, &r);
    if (rc != LPR_OK) {
        /* the library logged the reason naming the file */
        ctx->failed++;
        return;
    }
    ctx->images++;
    if (ctx->json)
        print_json(path, &r);
    else
        print_row(path, &r);
    fflush(stdout);
}

static void read_dir(read_ctx *ctx, const char *dir)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, alphasort);
    int seen = 0;
    if (n < 0) {
        fprintf(stderr, "lpr read: %s: cannot list folder: %m\n", dir);
        ctx->failed++;
        return;
    }
    for (int i = 0; i < n; i++) {
        if (names[i]->d_name[0] != '.' && lpr_image_name(names[i]->d_name)) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
            read_one(ctx, path);
            seen++;
        }
        free(names[i]);
    }
    free(names);
    if (seen == 0) {
        fprintf(stderr, "lpr read: %s: no images in folder\n", dir);
        ctx->failed++;
    }
}

int lpr_cmd_read(int argc, char **argv)
{
    static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
                                         {"region", required_argument, NULL, 'r'},
                                         {"model", required_argument, NULL, 'm'},
                                         {"model-dir", required_argument, NULL, 'd'},
                                         {"max-plates", required_argument, NULL, 'n'},
                                         {"char-model", required_argument, NULL, 'c'},
                                         {"verifier", required_argument, NULL, 'v'},
                                         {"reader", required_argument, NULL, 'R'},
                                         {"min-confidence", required_argument, NULL, 'f'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    lpr_ocr_config cfg;
    read_ctx ctx = {0};
    const char *model = NULL, *model_dir = NULL;
    int c;

    lpr_ocr_config_init(&cfg);
    optind = 1;
    while ((c = getopt_long(argc, argv, "jr:m:d:c:v:R:f:n:h", opts, NULL)) != -1) {
        switch (c) {
        case 'j': ctx.json = 1; break;
        case 'r':
            if (lpr_region_parse(optarg, &cfg.region) != LPR_OK) {
                fprintf(stderr, "lpr read: --region: '%s' is not us, eu, br or auto\n", optarg);
                return 2;
            }
            break;
        case 'm': model = optarg; break;
        case 'd': model_dir = optarg; break;
        case 'c': cfg.char_model = optarg; break;
        case 'v': cfg.verifier = optarg; break;
        case 'R': cfg.reader = optarg; break;
        case 'f': {
            char *end;
            double v = strtod(optarg, &end);
            if (*end || !(v >= 0 && v <= 100)) {
                fprintf(stderr, "lpr read: --min-confidence: '%s' is not 0-100\n", optarg);
                return 2;
            }
            cfg.min_confidence = (float)v;
            break;
        }
        case 'n': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > LPR_MAX_PLATES) {
                fprintf(stderr, "lpr read: --max-plates: '%s' is not 1-%d\n", optarg,
                        LPR_MAX_PLATES);
                return 2;
            }
            cfg.max_plates = (int)v;
            break;
        }
        case 'h': read_usage(stdout); return 0;
        default: read_usage(stderr); return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "lpr read: no IMAGE or DIR given\n");
        read_usage(stderr);
        return 2;
    }
    if (!model)
        model = "eng";
    if (!model_dir)
        model_dir = lpr_default_model_dir(model);
    cfg.model = model;
    cfg.model_dir = model_dir;
    lpr_err rc = lpr_ocr_new(&cfg, &ctx.ocr);
    if (rc != LPR_OK) {
        /* the reader has logged the file and the reason; only memory
         * exhaustion leaves it silent */
        if (rc == LPR_ENOMEM)
            fprintf(stderr, "lpr read: cannot start the reader: %s\n", lpr_strerror(rc));
        return 1;
    }
    if (!ctx.json)
        printf("%-40s %-10s %5s  %-6s %-20s %6s\n", "FILE", "PLATE", "CONF", "REGION", "BOX", "MS");
    for (int i = optind; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
            read_dir(&ctx, argv[i]);
        else
            read_one(&ctx, argv[i]);
    }
    lpr_ocr_free(ctx.ocr);
    if (ctx.failed)
        fprintf(stderr, "lpr read: %d input(s) failed, %d image(s) read\n", ctx.failed, ctx.images);
    return ctx.failed ? 1 : 0;
}

/*
 * ocr.c - the public lpr_ocr API: engine life cycle, image decoding with
 * limits, and the pipeline locate -> recognise -> candidates per image.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "confidence.h"
#include "lpr_pix.h"
#include "reader.h"
#include "recognize.h"
#include "verify.h"
#include "tuning.h"

#define MAX_FILE_BYTES (256L * 1024 * 1024)
#define WHITELIST "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

#define CHAR_MODEL_FILE "lpr-chars.clf"
#define VERIFIER_FILE "lpr-verify.nn"
#define READER_FILE "lpr-read.nn"
#define CONFIDENCE_FILE "lpr-confidence.nn"

struct lpr_ocr {
    lpr_ocr_config cfg;
    TessBaseAPI *api;
    lpr_charclf *clf;
    lpr_plate_verifier *verifier;
    lpr_plate_reader *reader;
    lpr_confidence *calibration;
};

/* The models installed beside the program: <prefix>/bin/lpr finds
 * <prefix>/share/lpr-edge/models, whatever prefix the package was built
 * for (CPack installs under /usr, a plain build under /usr/local). */
static char exe_model_dir[3072]; /* room left for a file name in 4096 */
static pthread_once_t exe_model_dir_once = PTHREAD_ONCE_INIT;

static void find_exe_model_dir(void)
{
    char exe[2048];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return;
    *slash = '\0'; /* <prefix>/bin or <prefix>/sbin */
    slash = strrchr(exe, '/');
    if (!slash)
        return;
    *slash = '\0';
    if ((size_t)snprintf(exe_model_dir, sizeof exe_model_dir, "%s/share/lpr-edge/models", exe) >=
        sizeof exe_model_dir)
        exe_model_dir[0] = '\0';
}

const char *lpr_model_dir_with(const char *file)
{
    pthread_once(&exe_model_dir_once, find_exe_model_dir);
    /* installed beside the program first, so an installed lpr never reads
     * with a build tree's models; then the source tree (programs run from
     * the build tree), then the configured install prefix */
    const char *const dirs[] = {exe_model_dir, LPR_MODEL_DIR_SRC, LPR_MODEL_DIR_INSTALL};
    char path[4096];
    for (unsigned i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        if (!dirs[i][0])
            continue;
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dirs[i], file) >= sizeof path)
            continue;
        if (access(path, R_OK) == 0)
            return dirs[i];
    }
    return NULL;
}

void lpr_ocr_process_init(char **argv)
{
    /* Tesseract runs its LSTM layers with OpenMP "num_threads(N)" regions;
     * on small line images the hand-off costs more than it gains (measured
     * 3x slower per image on 2 cores), and each worker thread has its own
     * engine. Only OMP_THREAD_LIMIT caps those regions, and libgomp reads it
     * once when it is loaded, so set it and re-execute ourselves. */
    if (getenv("OMP_THREAD_LIMIT") || !argv || !argv[0])
        return;
    if (setenv("OMP_THREAD_LIMIT", "1", 1) != 0)
        return;
    execv("/proc/self/exe", argv);
    /* exec failed: carry on, only slower */
}

void lpr_ocr_config_init(lpr_ocr_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->model = "eng";
    cfg->region = LPR_REGION_AUTO;
    cfg->max_plates = LPR_MAX_PLATES;
    cfg->max_lines = 7;
    cfg->min_confidence = (float)LPR_DEFAULT_MIN_CONFIDENCE;
    cfg->max_pixels = LPR_DEFAULT_MAX_PIXELS;
}

int lpr_image_name(const char *name)
{
    static const char *const exts[] = {".jpg", ".jpeg", ".png", ".bmp",  ".tif", ".tiff",
                                       ".pnm", ".pgm",  ".ppm", ".webp", NULL};
    const char *dot = strrchr(name, '.');
    for (int i = 0; dot && exts[i]; i++)
        if (!strcasecmp(dot, exts[i]))
            return 1;
    return 0;
}

const char *lpr_region_name(lpr_region region)
{
    switch (region) {
    case LPR_REGION_US: return "us";
    case LPR_REGION_EU: return "eu";
    case LPR_REGION_BR: return "br";
    default: return "auto";
    }
}

lpr_err lpr_region_parse(const char *name, lpr_region *out)
{
    static const lpr_region all[] = {LPR_REGION_AUTO, LPR_REGION_US, LPR_REGION_EU, LPR_REGION_BR};
    for (unsigned i = 0; name && i < sizeof all / sizeof all[0]; i++) {
        if (!strcmp(name, lpr_region_name(all[i]))) {
            *out = all[i];
            return LPR_OK;
        }
    }
    return LPR_EINVAL;
}

void lpr_plate_normalise(const char *in, char *out, size_t outlen)
{
    size_t n = 0;
    for (; in && *in && n + 1 < outlen; in++)
        if (isalnum((unsigned char)*in))
            out[n++] = (char)toupper((unsigned char)*in);
    if (outlen)
        out[n] = '\0';
}

/* The model file to load: the configured one, else the shipped 'file' if
 * installed; NULL for "none" (or nothing shipped). */
static const char *model_file(const char *configured, const char *file, char *buf, size_t len)
{
    if (configured)
        return configured[0] && strcmp(configured, "none") != 0 ? configured : NULL;
    const char *dir = lpr_model_dir_with(file);
    if (!dir || (size_t)snprintf(buf, len, "%s/%s", dir, file) >= len)
        return NULL;
    return buf;
}

/* Tesseract's LSTM and the per-character classifier (recognize.c): the
 * second opinion, or the reader when no whole-plate reader is configured. */
static lpr_err load_line_reader(lpr_ocr *ocr)
{
    char *vars[] = {"load_system_dawg", "load_freq_dawg",    "load_punc_dawg",
                    "load_number_dawg", "load_unambig_dawg", "load_bigram_dawg"};
    char *vals[] = {"0", "0", "0", "0", "0", "0"};
    char path[4096];
    if (ocr->cfg.model_dir) {
        snprintf(path, sizeof path, "%s/%s.traineddata", ocr->cfg.model_dir, ocr->cfg.model);
        if (access(path, R_OK) != 0) {
            LPR_ERROR("ocr", "model %s: %s", path, strerror(errno));
            return LPR_ENOENT;
        }
    }
    ocr->api = TessBaseAPICreate();
    if (!ocr->api)
        return LPR_ENOMEM;
    if (TessBaseAPIInit4(ocr->api, ocr->cfg.model_dir, ocr->cfg.model, OEM_LSTM_ONLY, NULL, 0, vars,
                         vals, sizeof vars / sizeof vars[0], 0) != 0) {
        LPR_ERROR("ocr", "model '%s' in %s: Tesseract could not load it", ocr->cfg.model,
                  ocr->cfg.model_dir ? ocr->cfg.model_dir : "the default tessdata");
        return LPR_ENOENT;
    }
    TessBaseAPISetPageSegMode(ocr->api, PSM_SINGLE_LINE);
    TessBaseAPISetVariable(ocr->api, "tessedit_char_whitelist", WHITELIST);
    TessBaseAPISetVariable(ocr->api, "lstm_choice_mode", "2");
    TessBaseAPISetVariable(ocr->api, "debug_file", "/dev/null");
    const char *m = model_file(ocr->cfg.char_model, CHAR_MODEL_FILE, path, sizeof path);
    return m ? lpr_charclf_load(m, &ocr->clf) : LPR_OK;
}

lpr_err lpr_ocr_new(const lpr_ocr_config *cfg, lpr_ocr **out)
{
    static int quiet_leptonica;
    lpr_ocr *ocr;

    *out = NULL;
    if (!quiet_leptonica) {
        /* our own log lines name the file and reason; Leptonica's would be
         * a second, less useful line for the same problem */
        setMsgSeverity(L_SEVERITY_NONE);
        quiet_leptonica = 1;
    }
    ocr = calloc(1, sizeof *ocr);
    if (!ocr)
        return LPR_ENOMEM;
    lpr_ocr_config_init(&ocr->cfg);
    if (cfg) {
        ocr->cfg = *cfg;
        if (!ocr->cfg.model)
            ocr->cfg.model = "eng";
        if (ocr->cfg.max_plates <= 0 || ocr->cfg.max_plates > LPR_MAX_PLATES)
            ocr->cfg.max_plates = LPR_MAX_PLATES;
        if (ocr->cfg.max_lines <= 0)
            ocr->cfg.max_lines = 7;
        if (ocr->cfg.max_pixels <= 0)
            ocr->cfg.max_pixels = LPR_DEFAULT_MAX_PIXELS;
    }
    char path[4096];
    lpr_err rc = LPR_OK;
    const char *m;
    if ((m = model_file(ocr->cfg.verifier, VERIFIER_FILE, path, sizeof path)))
        rc = lpr_plate_verifier_load(m, &ocr->verifier);
    if (rc == LPR_OK && (m = model_file(ocr->cfg.reader, READER_FILE, path, sizeof path)))
        rc = lpr_plate_reader_load(m, &ocr->reader);
    if (rc == LPR_OK && (m = model_file(ocr->cfg.calibration, CONFIDENCE_FILE, path, sizeof path)))
        rc = lpr_confidence_load(m, &ocr->calibration);
    /* Tesseract and the character classifier: the second opinion beside
     * the whole-plate reader, or the reader without it */
    if (rc == LPR_OK && (!ocr->reader || !ocr->cfg.no_second_opinion))
        rc = load_line_reader(ocr);
    if (rc != LPR_OK) {
        lpr_ocr_free(ocr);
        return rc;
    }
    *out = ocr;
    return LPR_OK;
}

void lpr_ocr_free(lpr_ocr *ocr)
{
    if (!ocr)
        return;
    if (ocr->api) {
        TessBaseAPIEnd(ocr->api);
        TessBaseAPIDelete(ocr->api);
    }
    lpr_charclf_free(ocr->clf);
    lpr_plate_verifier_free(ocr->verifier);
    lpr_plate_reader_free(ocr->reader);
    lpr_confidence_free(ocr->calibration);
    free(ocr);
}

static int cmp_plate(const void *a, const void *b)
{
    const lpr_plate *pa = a, *pb = b;
    return (pa->confidence < pb->confidence) - (pa->confidence > pb->confidence);
}

float lpr_box_intersection(lpr_box a, lpr_box b)
{
    int x0 = a.x > b.x ? a.x : b.x, y0 = a.y > b.y ? a.y : b.y;
    int x1 = a.x + a.w < b.x + b.w ? a.x + a.w : b.x + b.w;
    int y1 = a.y + a.h < b.y + b.h ? a.y + a.h : b.y + b.h;
    if (x1 <= x0 || y1 <= y0)
        return 0.0f;
    return (float)(x1 - x0) * (float)(y1 - y0);
}

float lpr_box_iou(lpr_box a, lpr_box b)
{
    float inter = lpr_box_intersection(a, b);
    float uni = (float)a.w * (float)a.h + (float)b.w * (float)b.h - inter;
    return uni > 0 ? inter / uni : 0.0f;
}

lpr_box lpr_box_clip(lpr_box b, int w, int h)
{
    if (b.x < 0) {
        b.w += b.x;
        b.x = 0;
    }
    if (b.y < 0) {
        b.h += b.y;
        b.y = 0;
    }
    if (b.x + b.w > w)
        b.w = w - b.x;
    if (b.y + b.h > h)
        b.h = h - b.y;
    return b;
}

float lpr_box_overlap(lpr_box a, lpr_box b)
{
    float aa = (float)a.w * (float)a.h, ab = (float)b.w * (float)b.h;
    float amin = aa < ab ? aa : ab;
    return amin > 0 ? lpr_box_intersection(a, b) / amin : 0.0f;
}

/* A line's characters with their look-alikes added, ranked as candidate
 * texts under the configured region's formats: the count written to out. */
static int rank_line(const lpr_ocr *ocr, lpr_charpos *pos, int n, float aspect, lpr_candidate *out,
                     lpr_region *region)
{
    for (int k = 0; k < n; k++)
        lpr_add_confusions(&pos[k], 0.6f);
    return lpr_candidates(pos, n, ocr->cfg.region, aspect, out, LPR_MAX_CANDIDATES, region);
}

/* Joins the second opinion's candidates to the plate's (the whole-plate
 * reader's): each candidate learns the second opinion's score of its text;
 * the second opinion's best texts that the reader did not propose take the
 * last places, with no reader score. */
static void join_second_opinion(lpr_plate *p, const lpr_candidate *sec, int ns)
{
    p->second_opinion = 1;
    snprintf(p->second_text, sizeof p->second_text, "%s", ns > 0 ? sec[0].text : "");
    for (int k = 0; k < p->n_candidates; k++)
        for (int j = 0; j < ns; j++)
            if (!strcmp(p->candidates[k].text, sec[j].text))
                p->candidates[k].second = sec[j].confidence;
    int extra[SECOND_ONLY], ne = 0;
    for (int j = 0; j < ns && j < SECOND_ONLY; j++) {
        int known = 0;
        for (int k = 0; k < p->n_candidates && !known; k++)
            known = !strcmp(p->candidates[k].text, sec[j].text);
        if (!known)
            extra[ne++] = j;
    }
    int at = p->n_candidates + ne <= LPR_MAX_CANDIDATES ? p->n_candidates : LPR_MAX_CANDIDATES - ne;
    for (int e = 0; e < ne; e++) {
        lpr_candidate *c = &p->candidates[at + e];
        memcpy(c->text, sec[extra[e]].text, sizeof c->text);
        c->confidence = 0.0f;
        c->second = sec[extra[e]].confidence;
    }
    p->n_candidates = at + ne;
}

/* The pipeline over one 8 bpp grey image. */
static lpr_err read_grey(lpr_ocr *ocr, PIX *grey, lpr_ocr_result *out)
{
    lpr_textline lines[32];
    float plate_p[32];
    int maxl = ocr->cfg.max_lines < 32 ? ocr->cfg.max_lines : 32;
    double t0 = lpr_monotonic_ms();

    memset(out, 0, sizeof *out);
    out->width = pixGetWidth(grey);
    out->height = pixGetHeight(grey);
    int nl = lpr_locate(
        grey, lines, ocr->verifier ? (LPR_MAX_PROPOSALS > maxl ? LPR_MAX_PROPOSALS : maxl) : maxl);
    if (nl < 0) {
        LPR_ERROR("ocr", "plate localisation failed on a %dx%d image", out->width, out->height);
        return LPR_EINTERNAL;
    }
    /* verify before reading: a line that is no plate costs no read and
     * becomes no read; at most max_lines of the plate-like ones are read */
    int nv = 0;
    for (int i = 0; i < nl && nv < maxl; i++) {
        float p = ocr->verifier ? lpr_plate_verify_line(ocr->verifier, grey, &lines[i]) : 1.0f;
        if (p < LPR_MIN_PLATE_P)
            continue;
        lines[nv] = lines[i];
        plate_p[nv++] = p;
    }
    nl = nv;
    for (int i = 0; i < nl && out->n_plates < LPR_MAX_PLATES; i++) {
        lpr_charpos pos[LPR_LINE_MAX_CHARS];
        int n =
            ocr->reader
                ? lpr_plate_read_line(ocr->reader, grey, &lines[i], pos, LPR_LINE_MAX_CHARS)
                : lpr_recognize_line(ocr->api, ocr->clf, grey, &lines[i], pos, LPR_LINE_MAX_CHARS);
        if (n < MIN_PLATE_CHARS)
            continue;
        float aspect = (float)lines[i].box.w / (lines[i].char_h > 0 ? lines[i].char_h : 1);
        /* the line's weakest character: one unsure glyph makes a wrong plate */
        float char_min = 100.0f, char_margin = 100.0f;
        for (int k = 0; k < n; k++) {
            float c0 = pos[k].conf[0], c1 = pos[k].n > 1 ? pos[k].conf[1] : 0.0f;
            char_min = c0 < char_min ? c0 : char_min;
            char_margin = c0 - c1 < char_margin ? c0 - c1 : char_margin;
        }
        lpr_plate *p = &out->plates[out->n_plates];
        memset(p, 0, sizeof *p);
        p->char_min = char_min;
        p->char_margin = char_margin;
        p->n_candidates = rank_line(ocr, pos, n, aspect, p->candidates, &p->region);
        if (p->n_candidates <= 0)
            continue;
        p->plate_p = plate_p[i];
        p->text_box = lines[i].box;
        p->box = lpr_plate_box_from_line(&lines[i], p->region, out->width, out->height);
        memcpy(p->text, p->candidates[0].text, sizeof p->text);
        p->confidence = p->candidates[0].confidence;
        int calibrated = 0;
        if (ocr->reader && ocr->api) {
            /* the second opinion reads the line only where the reader's
             * read alone, calibrated, is at least SECOND_OPINION_GATE
             * likely (tuning.h says why); below it, that is the plate */
            if (ocr->calibration) {
                lpr_plate alone = *p;
                lpr_confidence_apply(ocr->calibration, &alone);
                if (alone.confidence < SECOND_OPINION_GATE) {
                    *p = alone;
                    calibrated = 1;
                }
            }
            if (!calibrated) {
                lpr_charpos pos2[LPR_LINE_MAX_CHARS];
                lpr_candidate sec[LPR_MAX_CANDIDATES];
                lpr_region sreg;
                int m = lpr_recognize_line(ocr->api, ocr->clf, grey, &lines[i], pos2,
                                           LPR_LINE_MAX_CHARS);
                join_second_opinion(
                    p, sec, m >= MIN_PLATE_CHARS ? rank_line(ocr, pos2, m, aspect, sec, &sreg) : 0);
            }
        }
        if (ocr->calibration && !calibrated)
            lpr_confidence_apply(ocr->calibration, p);
        out->n_plates++;
    }
    qsort(out->plates, (size_t)out->n_plates, sizeof out->plates[0], cmp_plate);
    /* a plate cannot sit inside another: drop lines mostly covered by a
     * better plate's characters (a fragment of it, read a second time) */
    int kept = 0;
    for (int i = 0; i < out->n_plates; i++) {
        int inside = 0;
        for (int k = 0; k < kept && !inside; k++) {
            if (lpr_box_overlap(out->plates[i].text_box, out->plates[k].text_box) <= 0.5f)
                continue;
            inside = 1;
            /* a fragment read confidently must not hide the whole plate
             * read nearly as confidently */
            if (strlen(out->plates[i].text) > strlen(out->plates[k].text) &&
                out->plates[i].confidence >= out->plates[k].confidence - FRAGMENT_MARGIN)
                out->plates[k] = out->plates[i];
        }
        if (!inside)
            out->plates[kept++] = out->plates[i];
    }
    qsort(out->plates, (size_t)kept, sizeof out->plates[0], cmp_plate);
    out->n_plates = kept;
    /* sorted: the plates below the floor are the last ones */
    while (out->n_plates > 0 && out->plates[out->n_plates - 1].confidence < ocr->cfg.min_confidence)
        out->n_plates--;
    if (out->n_plates > ocr->cfg.max_plates)
        out->n_plates = ocr->cfg.max_plates;
    out->ms = lpr_monotonic_ms() - t0;
    return LPR_OK;
}

/* A JPEG must end with its EOI marker (FF D9), possibly followed by padding;
 * libjpeg silently fills a truncated one with grey. */
static int jpeg_truncated(const unsigned char *d, size_t len)
{
    if (len < 4 || d[0] != 0xFF || d[1] != 0xD8)
        return 0;
    size_t lo = len > 1024 ? len - 1024 : 2;
    for (size_t i = len - 1; i > lo; i--)
        if (d[i - 1] == 0xFF && d[i] == 0xD9)
            return 0;
    return 1;
}

lpr_err lpr_ocr_read_mem(lpr_ocr *ocr, const void *data, size_t len, const char *name,
                         lpr_ocr_result *out)
{
    l_int32 format, w, h, bps, spp, iscmap;
    PIX *pix = NULL, *grey = NULL;
    lpr_err rc;

    memset(out, 0, sizeof *out);
    if (!name)
        name = "(memory)";
    if (len == 0) {
        LPR_ERROR("ocr", "%s: empty file", name);
        return LPR_EFORMAT;
    }
    if (pixReadHeaderMem(data, len, &format, &w, &h, &bps, &spp, &iscmap) != 0 || w <= 0 ||
        h <= 0) {
        LPR_ERROR("ocr", "%s: not a readable image (unknown or corrupt header)", name);
        return LPR_EFORMAT;
    }
    out->width = w;
    out->height = h;
    if ((long)w * (long)h > ocr->cfg.max_pixels) {
        LPR_ERROR("ocr", "%s: image is %dx%d, over the limit of %ld pixels", name, w, h,
                  ocr->cfg.max_pixels);
        return LPR_ETOOBIG;
    }
    if (jpeg_truncated(data, len)) {
        LPR_ERROR("ocr", "%s: truncated JPEG (no end-of-image marker)", name);
        return LPR_EFORMAT;
    }
    /* a JPEG is decoded to its luminance only: the reader works in grey,
     * and the chroma and the colour conversion were a fifth of the time a
     * large photo took (profile of the br benchmark set). A CMYK JPEG (four
     * components, as print workflows save them) has no luminance channel
     * for libjpeg to give: it is decoded whole, as the video path does. */
    pix = format == IFF_JFIF_JPEG && spp != 4
              ? pixReadMemJpeg(data, len, 0, 1, NULL, L_JPEG_READ_LUMINANCE)
              : pixReadMem(data, len);
    if (!pix) {
        LPR_ERROR("ocr", "%s: corrupt image data (decoder failed)", name);
        return LPR_EFORMAT;
    }
    grey = pixConvertTo8(pix, 0);
    pixDestroy(&pix);
    if (!grey) {
        LPR_ERROR("ocr", "%s: cannot convert %d-bit image to grey", name, bps * spp);
        return LPR_EFORMAT;
    }
    rc = read_grey(ocr, grey, out);
    pixDestroy(&grey);
    return rc;
}

lpr_err lpr_ocr_read_file(lpr_ocr *ocr, const char *path, lpr_ocr_result *out)
{
    struct stat st;
    unsigned char *buf = NULL;
    lpr_err rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    memset(out, 0, sizeof *out);
    if (fd < 0) {
        LPR_ERROR("ocr", "%s: %s", path, strerror(errno));
        return errno == ENOENT ? LPR_ENOENT : LPR_EIO;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        LPR_ERROR("ocr", "%s: not a regular file", path);
        close(fd);
        return LPR_EIO;
    }
    if (st.st_size > MAX_FILE_BYTES) {
        LPR_ERROR("ocr", "%s: file is %lld bytes, over the %ld byte limit", path,
                  (long long)st.st_size, MAX_FILE_BYTES);
        close(fd);
        return LPR_ETOOBIG;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        close(fd);
        return LPR_ENOMEM;
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            LPR_ERROR("ocr", "%s: read failed: %s", path, r < 0 ? strerror(errno) : "short read");
            free(buf);
            close(fd);
            return LPR_EIO;
        }
        got += (size_t)r;
    }
    close(fd);
    rc = lpr_ocr_read_mem(ocr, buf, got, path, out);
    free(buf);
    return rc;
}

lpr_err lpr_ocr_read_grey(lpr_ocr *ocr, const uint8_t *pixels, int width, int height, int stride,
                          lpr_ocr_result *out)
{
    memset(out, 0, sizeof *out);
    if (!pixels || width <= 0 || height <= 0 || stride < width)
        return LPR_EINVAL;
    if ((long)width * height > ocr->cfg.max_pixels)
        return LPR_ETOOBIG;
    PIX *grey = lpr_pix_from_grey(pixels, stride, (lpr_box){0, 0, width, height});
    if (!grey)
        return LPR_ENOMEM;
    lpr_err rc = read_grey(ocr, grey, out);
    pixDestroy(&grey);
    return rc;
}

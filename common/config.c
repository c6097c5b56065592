/*
 * config.c - table-driven INI loader over inih (see lpr_config.h). Each key
 * is one row: section, name, type, where it lands and its allowed range.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "lpr_config.h"

/* T_POS: "LAT,LON[,ALT]" in degrees (and metres); T_REGION: us, eu, br or
 * auto. Both are kept as text (the gps and ocr libraries parse them), but
 * checked here so that the error names the line. */
typedef enum { T_STR, T_INT, T_DBL, T_BOOL, T_ID, T_BOX, T_POS, T_REGION, T_DELETE_ON } key_type;

typedef struct key_def {
    const char *section, *name;
    key_type type;
    size_t offset, size;
    double min, max;
} key_def;

/* clang-format off */
#define K(sec, nm, type, field, lo, hi) \
    {sec, nm, type, offsetof(lpr_config, field), sizeof(((lpr_config *)0)->field), lo, hi}
/* clang-format on */

static const key_def keys[] = {
    K("device", "id", T_ID, device.id, 0, 0),
    K("device", "owner", T_STR, device.owner, 0, 0),
    K("device", "model", T_STR, device.model, 0, 0),
    K("camera", "source", T_STR, camera.source, 0, 0),
    K("camera", "id", T_ID, camera.id, 0, 0),
    K("camera", "bearing_deg", T_DBL, camera.bearing_deg, 0, 360),
    K("camera", "scene_images", T_BOOL, camera.scene_images, 0, 1),
    K("camera", "width", T_INT, camera.width, 0, 16384),
    K("camera", "height", T_INT, camera.height, 0, 16384),
    K("camera", "exposure_us", T_INT, camera.exposure_us, 0, 1000000),
    K("camera", "gain", T_DBL, camera.gain, 0, 64),
    K("camera", "roi", T_BOX, camera.roi, 0, 65535),
    K("camera", "min_frames", T_INT, camera.min_frames, 1, 1000),
    K("ocr", "model", T_STR, ocr.model, 0, 0),
    K("ocr", "model_dir", T_STR, ocr.model_dir, 0, 0),
    K("ocr", "char_model", T_STR, ocr.char_model, 0, 0),
    K("ocr", "verifier", T_STR, ocr.verifier, 0, 0),
    K("ocr", "reader", T_STR, ocr.reader, 0, 0),
    K("ocr", "calibration", T_STR, ocr.calibration, 0, 0),
    K("ocr", "min_confidence", T_DBL, ocr.min_confidence, 0, 100),
    K("ocr", "region", T_REGION, ocr.region, 0, 0),
    K("gps", "server", T_STR, gps.server, 0, 0),
    K("gps", "fixed", T_POS, gps.fixed, 0, 0),
    K("gps", "max_extrapolate_ms", T_INT, gps.max_extrapolate_ms, 0, 60000),
    K("spool", "path", T_STR, spool.path, 0, 0),
    K("spool", "max_mb", T_DBL, spool.max_mb, 0.01, 1e6),
    K("spool", "max_age_days", T_DBL, spool.max_age_days, 1e-6, 3650),
    K("uplink", "host", T_STR, uplink.host, 0, 0),
    K("uplink", "port", T_INT, uplink.port, 1, 65535),
    K("uplink", "ca", T_STR, uplink.ca, 0, 0),
    K("uplink", "cert", T_STR, uplink.cert, 0, 0),
    K("uplink", "key", T_STR, uplink.key, 0, 0),
    K("uplink", "sign_key", T_STR, uplink.sign_key, 0, 0),
    K("uplink", "topic_prefix", T_STR, uplink.topic_prefix, 0, 0),
    K("uplink", "inflight", T_INT, uplink.inflight, 1, 65535),
    K("uplink", "insecure", T_BOOL, uplink.insecure, 0, 1),
    K("uplink", "health_interval_s", T_INT, uplink.health_interval_s, 1, 86400),
    K("uplink", "keepalive_s", T_INT, uplink.keepalive_s, 5, 3600),
    K("uplink", "delete_on", T_DELETE_ON, uplink.delete_on, 0, 0),
    K("uplink", "receipt_timeout_s", T_INT, uplink.receipt_timeout_s, 1, 86400),
};

void lpr_config_defaults(lpr_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->camera.id, sizeof cfg->camera.id, "cam0");
    cfg->camera.bearing_deg = -1;
    snprintf(cfg->ocr.region, sizeof cfg->ocr.region, "auto");
    snprintf(cfg->gps.server, sizeof cfg->gps.server, "%s", LPR_GPSD_SERVER);
    cfg->gps.max_extrapolate_ms = 2000;
    snprintf(cfg->spool.path, sizeof cfg->spool.path, "/var/lib/lpr/spool.db");
    cfg->spool.max_mb = 512;
    cfg->ocr.min_confidence = LPR_DEFAULT_MIN_CONFIDENCE;
    cfg->camera.min_frames = 2;
    cfg->spool.max_age_days = 30;
    cfg->uplink.port = 8883;
    cfg->uplink.inflight = 32;
    cfg->uplink.health_interval_s = 60;
    cfg->uplink.keepalive_s = 30;
    snprintf(cfg->uplink.delete_on, sizeof cfg->uplink.delete_on, "receipt");
    cfg->uplink.receipt_timeout_s = 60;
}

#define NKEYS (sizeof keys / sizeof keys[0])

typedef struct parse_ctx {
    lpr_config *cfg;
    char msg[256];
    unsigned char seen[NKEYS]; /* a key given twice is an error: which one holds? */
} parse_ctx;

/* A finite number at *p, and the spaces after it; 0 if there is none. */
static int number(const char **p, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(*p, &end);
    if (errno || end == *p || !isfinite(*v))
        return 0;
    while (*end == ' ' || *end == '\t')
        end++;
    *p = end;
    return 1;
}

lpr_err lpr_parse_position(const char *s, double *lat, double *lon, double *alt_m)
{
    double la, lo, al = NAN;
    const char *p = s;
    if (!number(&p, &la) || *p++ != ',' || !number(&p, &lo))
        return LPR_EINVAL;
    if (*p == ',' && (p++, !number(&p, &al)))
        return LPR_EINVAL;
    if (*p || fabs(la) > 90 || fabs(lo) > 180)
        return LPR_EINVAL;
    *lat = la;
    *lon = lo;
    *alt_m = al;
    return LPR_OK;
}

static int set_value(parse_ctx *ctx, const key_def *k, const char *value)
{
    char *base = (char *)ctx->cfg + k->offset;
    char *end;
    long bad = lpr_utf8_invalid_at(value);
    if (bad >= 0) {
        /* it would vanish from every JSON read and status (jansson takes
         * UTF-8 only) */
        snprintf(ctx->msg, sizeof ctx->msg,
                 "[%s] %s: byte 0x%02x at column %ld is not UTF-8 text; save the file as UTF-8",
                 k->section, k->name, (unsigned char)value[bad], bad + 1);
        return 0;
    }
    switch (k->type) {
    case T_ID:
        if (!value[0] || strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                       "0123456789_-") != strlen(value)) {
            snprintf(ctx->msg, sizeof ctx->msg, "[%s] %s: '%s' must be letters, digits, '_' or '-'",
                     k->section, k->name, value);
            return 0;
        }
        /* fall through */
    case T_POS:
    case T_REGION:
    case T_DELETE_ON:
        if (k->type == T_DELETE_ON && strcmp(value, "receipt") && strcmp(value, "puback")) {
            snprintf(ctx->msg, sizeof ctx->msg, "[%s] %s: '%s' is not receipt or puback",
                     k->section, k->name, value);
            return 0;
        }
        if (k->type == T_POS && value[0]) {
            double la, lo, al;
            if (lpr_parse_position(value, &la, &lo, &al) != LPR_OK) {
                snprintf(ctx->msg, sizeof ctx->msg,
                         "[%s] %s: '%s' is not LAT,LON[,ALT] (latitude -90..90, longitude "
                         "-180..180 degrees, altitude in metres)",
                         k->section, k->name, value);
                return 0;
            }
        }
        if (k->type == T_REGION && strcmp(value, "us") && strcmp(value, "eu") &&
            strcmp(value, "br") && strcmp(value, "auto")) {
            snprintf(ctx->msg, sizeof ctx->msg, "[%s] %s: '%s' is not us, eu, br or auto",
                     k->section, k->name, value);
            return 0;
        }
        /* fall through */
    case T_STR:
        if (strlen(value) >= k->size) {
            snprintf(ctx->msg, sizeof ctx->msg, "[%s] %s: value longer than %zu characters",
                     k->section, k->name, k->size - 1);
            return 0;
        }
        memcpy(base, value, strlen(value) + 1);
        return 1;
    case T_BOOL:
        if (!strcmp(value, "true") || !strcmp(value, "yes") || !strcmp(value, "1"))
            *(int *)base = 1;
        else if (!strcmp(value, "false") || !strcmp(value, "no") || !strcmp(value, "0"))
            *(int *)base = 0;
        else {
            snprintf(ctx->msg, sizeof ctx->msg, "[%s] %s: '%s' is not true or false", k->section,
                     k->name, value);
            return 0;
        }
        return 1;
    case T_INT: {
        errno = 0;
        long v = strtol(value, &end, 10);
        if (errno || end == value || *end || v < k->min || v > k->max) {
            snprintf(ctx->msg, sizeof ctx->msg, "[%s] %s: '%s' is not an integer in %g..%g",
                     k->section, k->name, value, k->min, k->max);
            return 0;
        }
        *(int *)base = (int)v;
        return 1;
    }
    case T_BOX: {
        int v[4];
        char extra;
        if (sscanf(value, "%d , %d , %d , %d %c", &v[0], &v[1], &v[2], &v[3], &extra) != 4 ||
            v[0] < 0 || v[1] < 0 || v[2] <= 0 || v[3] <= 0 || v[0] > k->max || v[1] > k->max ||
            v[2] > k->max || v[3] > k->max) {
            snprintf(ctx->msg, sizeof ctx->msg, "[%s] %s: '%s' is not X,Y,WIDTH,HEIGHT in pixels",
                     k->section, k->name, value);
            return 0;
        }
        memcpy(base, v, sizeof v);
        return 1;
    }
    case T_DBL: {
        errno = 0;
        double v = strtod(value, &end);
        /* !isfinite: "nan" passes every range comparison (max_mb = nan
         * turned the quota off) */
        if (errno || end == value || *end || !isfinite(v) || v < k->min || v > k->max) {
            snprintf(ctx->msg, sizeof ctx->msg, "[%s] %s: '%s' is not a number in %g..%g",
                     k->section, k->name, value, k->min, k->max);
            return 0;
        }
        *(double *)base = v;
        return 1;
    }
    }
    return 0;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
    parse_ctx *ctx = user;
    int section_known = 0;
    for (size_t i = 0; i < NKEYS; i++) {
        if (strcmp(keys[i].section, section))
            continue;
        section_known = 1;
        if (!strcmp(keys[i].name, name)) {
            if (ctx->seen[i]) {
                snprintf(ctx->msg, sizeof ctx->msg,
                         "[%s] %s is set twice (which one should hold?); keep one", section, name);
                return 0;
            }
            ctx->seen[i] = 1;
            return set_value(ctx, &keys[i], value);
        }
    }
    if (!section_known)
        snprintf(ctx->msg, sizeof ctx->msg, "unknown section [%s]", section);
    else
        snprintf(ctx->msg, sizeof ctx->msg, "unknown key '%s' in [%s]", name, section);
    return 0;
}

int lpr_device_id_reserved(const char *id)
{
    /* ids the broker's ACL gives powers to (board/broker/lpr.acl: "store"
     * reads every device's reads), and names kept for the fleet's services */
    static const char *const reserved[] = {"store", "fleet", "admin", "broker"};
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        if (!strcasecmp(id, reserved[i]))
            return 1;
    return 0;
}

static lpr_err finish(parse_ctx *ctx, int rc, const char *name, char *err, size_t errlen)
{
    lpr_config *cfg = ctx->cfg;
    if (rc > 0) {
        snprintf(err, errlen, "%s:%d: %s", name, rc,
                 ctx->msg[0] ? ctx->msg : "syntax error (expected [section] or key = value)");
        return LPR_EINVAL;
    }
    if (!cfg->device.id[0]) {
        snprintf(err, errlen, "%s: [device] id is required", name);
        return LPR_EINVAL;
    }
    if (lpr_device_id_reserved(cfg->device.id)) {
        snprintf(err, errlen,
                 "%s: [device] id '%s' is reserved for the fleet's own services "
                 "(the broker's ACL gives it powers no camera may have)",
                 name, cfg->device.id);
        return LPR_EINVAL;
    }
    if (!cfg->uplink.topic_prefix[0])
        snprintf(cfg->uplink.topic_prefix, sizeof cfg->uplink.topic_prefix, "lpr/v1/%s/",
                 cfg->device.id);
    const char *tp = cfg->uplink.topic_prefix;
    if (strpbrk(tp, "#+") || tp[0] == '$' || tp[0] == '/' || tp[strlen(tp) - 1] != '/') {
        snprintf(err, errlen,
                 "%s: [uplink] topic_prefix '%s' must be a topic path ending in "
                 "'/', without the wildcards '#' and '+' and not starting with '$' or '/'",
                 name, tp);
        return LPR_EINVAL;
    }
    return LPR_OK;
}

/* inih reads a line into INI_MAX_LINE bytes and parses what is left as a
 * new line: "host = <192 characters>insecure = true" turned plaintext on.
 * Such lines, and NUL bytes, are refused before inih sees the text. */
#define MAX_LINE (INI_MAX_LINE - 2) /* characters, without the newline */

static int check_lines(const char *text, size_t len, const char *name, char *err, size_t errlen)
{
    int line = 1;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && text[i] == 0) {
            snprintf(err, errlen, "%s:%d: a NUL byte: not a text file", name, line);
            return 0;
        }
        if (i == len || text[i] == '\n') {
            size_t n = i - start - (i > start && text[i - 1] == '\r');
            if (n > MAX_LINE) {
                snprintf(err, errlen,
                         "%s:%d: line longer than %d characters (%zu): shorten the "
                         "value",
                         name, line, MAX_LINE, n);
                return 0;
            }
            line++;
            start = i + 1;
        }
    }
    return 1;
}

/* text[len] is 0; a NUL before it is refused by check_lines */
static lpr_err load_text(const char *text, size_t len, const char *name, lpr_config *cfg, char *err,
                         size_t errlen)
{
    parse_ctx ctx = {cfg, "", {0}};
    lpr_config_defaults(cfg);
    if (!check_lines(text, len, name, err, errlen))
        return LPR_EINVAL;
    int rc = ini_parse_string(text, handler, &ctx);
    return finish(&ctx, rc, name, err, errlen);
}

lpr_err lpr_config_load_string(const char *text, const char *name, lpr_config *cfg, char *err,
                               size_t errlen)
{
    return load_text(text, strlen(text), name, cfg, err, errlen);
}

#define MAX_CONFIG_BYTES (1 << 20)

lpr_err lpr_config_load(const char *path, lpr_config *cfg, char *err, size_t errlen)
{
    lpr_config_defaults(cfg);
    /* O_NONBLOCK: a FIFO must not hang the open; only a regular file of a
     * sane size is read (--config /dev/zero read forever) */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        return e == ENOENT ? LPR_ENOENT : LPR_EIO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        close(fd);
        return LPR_EINVAL;
    }
    if (st.st_size > MAX_CONFIG_BYTES) {
        snprintf(err, errlen, "%s: %lld bytes: too large for a configuration file (at most %d)",
                 path, (long long)st.st_size, MAX_CONFIG_BYTES);
        close(fd);
        return LPR_EINVAL;
    }
    char *text = malloc((size_t)st.st_size + 1);
    size_t got = 0;
    ssize_t n = 0;
    while (text && got < (size_t)st.st_size &&
           (n = read(fd, text + got, (size_t)st.st_size - got)) > 0)
        got += (size_t)n;
    int e = errno;
    close(fd);
    if (!text || n < 0) {
        snprintf(err, errlen, "%s: %s", path, text ? strerror(e) : "out of memory");
        free(text);
        return LPR_EIO;
    }
    text[got] = 0;
    lpr_err rc = load_text(text, got, path, cfg, err, errlen);
    free(text);
    return rc;
}

lpr_err lpr_check_secret_file(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (!path || !path[0]) {
        snprintf(err, errlen, "no key file configured");
        return LPR_ENOENT;
    }
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return LPR_ENOENT;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        return LPR_EINVAL;
    }
    if (st.st_mode & 077) {
        snprintf(err, errlen, "%s: mode %04o lets group or others read it; chmod 600 it", path,
                 (unsigned)(st.st_mode & 07777));
        return LPR_EPERM;
    }
    uid_t me = geteuid();
    if (me != 0 && st.st_uid != me) {
        struct passwd *owner = getpwuid(st.st_uid);
        char on[64];
        snprintf(on, sizeof on, "%s", owner ? owner->pw_name : "?");
        struct passwd *self = getpwuid(me);
        char sn[64];
        snprintf(sn, sizeof sn, "%s", self ? self->pw_name : "?");
        snprintf(err, errlen,
                 "%s: owned by %s (uid %u), but this runs as %s (uid %u), which "
                 "cannot read a 0600 key of another user; chown %s it (lpr provision run as root "
                 "does)",
                 path, on, (unsigned)st.st_uid, sn, (unsigned)me, sn);
        return LPR_EPERM;
    }
    /* a folder anyone may write to lets anyone swap the key for their own
     * (rename over it); the sticky bit (as /tmp's) forbids that */
    char copy[1024];
    snprintf(copy, sizeof copy, "%s", path);
    const char *dir = dirname(copy);
    struct stat ds;
    if (stat(dir, &ds) == 0 && (ds.st_mode & S_IWOTH) && !(ds.st_mode & S_ISVTX)) {
        snprintf(err, errlen,
                 "%s: its folder %s is writable by anyone (mode %04o), who could put another "
                 "key in its place; chmod o-w %s",
                 path, dir, (unsigned)(ds.st_mode & 07777), dir);
        return LPR_EPERM;
    }
    if (access(path, R_OK) != 0) { /* e.g. mode 0000: say so, not "not a key" */
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return LPR_EPERM;
    }
    return LPR_OK;
}

int lpr_user_may(const char *path, const char *user, int want)
{
    struct passwd *pw = getpwnam(user);
    struct stat st;
    if (!pw || stat(path, &st) != 0)
        return -1;
    if (pw->pw_uid == 0)
        return 1;
    uid_t uid = pw->pw_uid;
    gid_t gid = pw->pw_gid;
    unsigned bits;
    if (st.st_uid == uid) {
        bits = (st.st_mode >> 6) & 7;
    } else {
        gid_t groups[64];
        int n = 64, member = 0;
        if (getgrouplist(user, gid, groups, &n) < 0)
            n = 64; /* more groups than that: the first 64 are judged */
        for (int i = 0; i < n && !member; i++)
            member = groups[i] == st.st_gid;
        bits = member ? (st.st_mode >> 3) & 7 : st.st_mode & 7;
    }
    return (bits & (unsigned)want) == (unsigned)want;
}

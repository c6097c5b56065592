/*
 * lpr_config.h - the one INI file (/etc/lpr/lpr.conf) read by lprd and
 * lpr-uplink, parsed with inih. Unknown sections or keys and bad values are
 * errors that name file:line; nothing is silently defaulted over a bad value.
 */
#ifndef LPR_CONFIG_H
#define LPR_CONFIG_H

#include <stddef.h>

#include "lpr_common.h"

#define LPR_CFG_STR 512

/* gpsd where a unit runs it: [gps] server's default, and lpr gps's */
#define LPR_GPSD_SERVER "127.0.0.1:2947"

typedef struct lpr_config {
    struct {
        char id[64]; /* required: [A-Za-z0-9_-], used in topics and read ids */
        char owner[128];
        char model[128];
    } device;
    struct {
        char source[LPR_CFG_STR]; /* libcamera[:N] | v4l2:/dev/videoN | gst:... | file:... */
        char id[64];              /* camera id in reads; default "cam0" */
        double bearing_deg;       /* -1 = unknown */
        int scene_images;         /* 0/1: full scene in a separate message */
        int width, height;        /* requested frame size (libcamera); 0: camera's */
        int exposure_us;          /* manual exposure (libcamera); 0: automatic */
        double gain;              /* manual analogue gain (libcamera); 0: automatic */
        int roi[4];               /* region of interest x,y,w,h in pixels; w 0: whole frame */
        int min_frames;           /* a vehicle seen on fewer frames gives no read; default 2 */
    } camera;
    struct {
        char model[128]; /* traineddata name */
        char model_dir[LPR_CFG_STR];
        char char_model[LPR_CFG_STR];  /* character classifier file, "none", or empty: shipped */
        char verifier[LPR_CFG_STR];    /* plate verifier network, "none", or empty: shipped */
        char reader[LPR_CFG_STR];      /* whole-plate reader network, "none", or empty: shipped */
        char calibration[LPR_CFG_STR]; /* confidence model, "none", or empty: shipped */
        double min_confidence; /* plates below are not read; default LPR_DEFAULT_MIN_CONFIDENCE */
        char region[8];        /* us | eu | br | auto */
    } ocr;
    struct {
        char server[256];       /* host:port of gpsd; default LPR_GPSD_SERVER */
        char fixed[128];        /* "LAT,LON[,ALT]" for a fixed site, or empty */
        int max_extrapolate_ms; /* default 2000 */
    } gps;
    struct {
        char path[LPR_CFG_STR]; /* default /var/lib/lpr/spool.db */
        double max_mb;          /* default 512 */
        double max_age_days;    /* default 30 */
    } spool;
    struct {
        char host[256];
        int port; /* default 8883 */
        char ca[LPR_CFG_STR], cert[LPR_CFG_STR], key[LPR_CFG_STR];
        char sign_key[LPR_CFG_STR]; /* device signing key (ECDSA P-256 PEM, 0600) */
        char topic_prefix[256];     /* default lpr/v1/<device id>/ */
        int inflight;               /* default 32 */
        int insecure;               /* default 0: plaintext MQTT only if 1 */
        int health_interval_s;      /* default 60 */
        int keepalive_s;            /* default 30 */
        /* when a sent read leaves the spool: "receipt" (default), once the
         * store's receipt says it has it; "puback", once the broker has it
         * (for a store that sends no receipts: a broker that loses a queued
         * message loses the read) */
        char delete_on[16];
        int receipt_timeout_s; /* acknowledged, no receipt: sent again after; default 60 */
    } uplink;
} lpr_config;

/* Fills cfg with defaults. */
void lpr_config_defaults(lpr_config *cfg);

/* Loads path over the defaults. On error returns LPR_EINVAL/LPR_ENOENT and
 * writes "FILE:LINE: reason" into err (never NULL on error). */
lpr_err lpr_config_load(const char *path, lpr_config *cfg, char *err, size_t errlen);

/* 1 for a device id kept for the fleet's own services (the broker's ACL
 * gives "store" every device's reads): load and `lpr provision` refuse it. */
int lpr_device_id_reserved(const char *id);

/* Same, from a string (tests); 'name' stands for the file in messages. */
lpr_err lpr_config_load_string(const char *text, const char *name, lpr_config *cfg, char *err,
                               size_t errlen);

/* Parses a position "LAT,LON[,ALT]" (degrees, metres; alt_m NAN when not
 * given): LPR_EINVAL unless latitude is in -90..90 and longitude in
 * -180..180. [gps] fixed and `lpr replay --fixed` use it. */
lpr_err lpr_parse_position(const char *s, double *lat, double *lon, double *alt_m);

/* Checks that a secret file exists, is a regular file, is not readable or
 * writable by group or others, and belongs to the user running (root may
 * read any). LPR_ENOENT or LPR_EPERM, reason in err. */
lpr_err lpr_check_secret_file(const char *path, char *err, size_t errlen);

/* The package's service users and their shared group (board/debian/postinst,
 * board/systemd/). */
#define LPR_USER_CAMERA "lpr-camera"
#define LPR_USER_UPLINK "lpr-uplink"
/* Whether user may access path as want (R_OK, W_OK, X_OK ored), judged by *
 * path's owner, group and mode bits against the user's uid and groups (the
 * * folders above are not checked): 1 yes, 0 no, -1 no such user or path. *
 * Lets root (`lpr doctor`, `lpr provision`) say what a service user will *
 * be able to do. */
#define LPR_GROUP "lpr"
int lpr_user_may(const char *path, const char *user, int want);

#endif

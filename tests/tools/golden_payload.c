/*
 * golden_payload.c - prints what leaves the device for one fixed read: the
 * exact lpr.read/1 and lpr.scene/1 payload bytes, as the spool stores and
 * the uplink publishes them, and the signature properties (alg, kid, sig)
 * the uplink sends with each, for a fixed key, a fixed spool epoch and a
 * fixed read. tests/golden/run-golden-payload compares the output with
 * tests/golden/payload/read.chk.
 *
 * Every step is the product's own code: lpr_read_build / lpr_scene_build
 * (read/read_json.c), lpr_spool_append and lpr_spool_fetch (the spool
 * stamps schema, device, seq, epoch and id with read/record.c), lpr_sign (ES256; mbedTLS signs
 * deterministically, RFC 6979, so a fixed key and payload give fixed
 * bytes), and each signature is checked with the public key before it is
 * printed. Only the epoch is set by hand (63 random bits in a real spool).
 *
 * usage: golden_payload KEY PUBKEY WORKDIR
 *   KEY, PUBKEY  a test key pair (tests/golden/payload/golden-test.key, .pub.pem);
 *                the key is copied to WORKDIR with mode 0600 first
 */
#include <fcntl.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lpr_config.h"
#include "lpr_read_json.h"
#include "lpr_sign.h"
#include "lpr_spool.h"
#include "tracker.h"

#define EPOCH "0x0123456789abcdef" /* the spool's epoch, fixed for the golden */

static int die(const char *what)
{
    fprintf(stderr, "golden_payload: %s\n", what);
    return 1;
}

static int copy_private(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb");
    int fd = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (!in || fd < 0) {
        if (in)
            fclose(in);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    char buf[4096];
    size_t n;
    int rc = 0;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (write(fd, buf, n) != (ssize_t)n)
            rc = -1;
    fclose(in);
    return close(fd) == 0 ? rc : -1;
}

/* Sets the fixed epoch in a spool made by lpr_spool_open (closed). */
static int fix_epoch(const char *path)
{
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        return -1;
    int rc =
        sqlite3_exec(db, "UPDATE meta SET value=" EPOCH " WHERE key='epoch'", NULL, NULL, NULL);
    int changed = sqlite3_changes(db);
    sqlite3_close(db);
    return rc == SQLITE_OK && changed == 1 ? 0 : -1;
}

/* Appends obj, fetches it back, signs and prints it; id gets its id. */
static int emit(lpr_spool *sp, lpr_signer *sg, lpr_verifier *vf, json_t *obj, const char *kind,
                char *id, size_t idlen)
{
    char *text = lpr_read_dumps(obj);
    json_decref(obj);
    int64_t seq;
    if (!text || lpr_spool_append(sp, text, strlen(text), &seq, id, idlen) != LPR_OK) {
        free(text);
        return die("append failed");
    }
    free(text);
    lpr_spool_row row;
    int n = 0;
    if (lpr_spool_fetch(sp, seq - 1, 1, &row, &n) != LPR_OK || n != 1 || row.seq != seq)
        return die("fetch failed");
    unsigned char sig[LPR_SIG_MAX];
    size_t sig_len = 0;
    char sig64[128];
    int rc = 0;
    if (lpr_sign(sg, row.payload, row.payload_len, sig, &sig_len) != LPR_OK ||
        lpr_verify(vf, row.payload, row.payload_len, sig, sig_len) != LPR_OK ||
        lpr_base64_encode(sig, sig_len, sig64, sizeof sig64) != LPR_OK) {
        rc = die("signature failed or does not verify");
    } else {
        printf("# %s payload (%zu bytes), then its MQTT user properties\n", kind, row.payload_len);
        fwrite(row.payload, 1, row.payload_len, stdout);
        printf("\nalg=ES256\nkid=%s\nsig=%s\n", lpr_signer_kid(sg), sig64);
    }
    lpr_spool_row_clear(&row);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: golden_payload KEY PUBKEY WORKDIR\n");
        return 2;
    }
    char key[4096], db[4096];
    snprintf(key, sizeof key, "%s/device.key", argv[3]);
    snprintf(db, sizeof db, "%s/spool.db", argv[3]);
    if (copy_private(argv[1], key) != 0)
        return die("cannot copy the key");
    lpr_signer *sg = NULL;
    lpr_verifier *vf = NULL;
    if (lpr_signer_load(key, &sg) != LPR_OK || lpr_verifier_load(argv[2], &vf) != LPR_OK)
        return die("cannot load the key pair");

    lpr_config cfg;
    lpr_config_defaults(&cfg);
    snprintf(cfg.device.id, sizeof cfg.device.id, "cam-golden");
    snprintf(cfg.device.owner, sizeof cfg.device.owner, "City of Example \"Traffic\" \xc3\x86");
    snprintf(cfg.device.model, sizeof cfg.device.model, "Pi 4 + HQ camera");
    snprintf(cfg.camera.id, sizeof cfg.camera.id, "north-1");
    cfg.camera.bearing_deg = 274.5;

    lpr_spool_opts so = lpr_spool_opts_from_config(&cfg);
    lpr_spool *sp = NULL;
    if (lpr_spool_open(db, &so, &sp) != LPR_OK)
        return die("cannot make the spool");
    lpr_spool_close(sp);
    if (fix_epoch(db) != 0 || lpr_spool_open(db, &so, &sp) != LPR_OK)
        return die("cannot set the epoch");

    /* a vehicle read on 7 frames, stamped with a 3D GPS fix */
    lpr_track_read r;
    memset(&r, 0, sizeof r);
    snprintf(r.plate.text, sizeof r.plate.text, "7ABC123");
    r.plate.confidence = 96.04f;
    r.plate.region = LPR_REGION_US;
    r.plate.box = (lpr_box){412, 318, 121, 34};
    r.plate.n_candidates = 3;
    snprintf(r.plate.candidates[0].text, LPR_MAX_TEXT, "7ABC123");
    r.plate.candidates[0].confidence = 96.04f;
    snprintf(r.plate.candidates[1].text, LPR_MAX_TEXT, "7A8C123");
    r.plate.candidates[1].confidence = 2.35f;
    snprintf(r.plate.candidates[2].text, LPR_MAX_TEXT, "7ABC1Z3");
    r.plate.candidates[2].confidence = 0.05f;
    r.frames = 7;
    lpr_read_meta m = {.cfg = &cfg,
                       .observed_ms = 1786427554217, /* 2026-08-11T05:52:34.217Z */
                       .time_source = LPR_TIME_GPS,
                       .pos = {.fix = LPR_FIX_3D,
                               .lat = 47.61234567891,
                               .lon = -122.33456789012,
                               .alt_m = 56.74,
                               .err_m = 4.46,
                               .speed_mps = 13.876,
                               .heading_deg = 271.25,
                               .age_ms = 140}};
    static const uint8_t crop[] = {0xff, 0xd8, 0xff, 0xe0, 'p', 'l', 'a', 't', 'e', 0xff, 0xd9};
    static const uint8_t scene[] = {0xff, 0xd8, 0xff, 0xe0, 's', 'c', 'e', 'n', 'e', 0xff, 0xd9};
    char id[LPR_READ_ID_MAX];
    int rc = emit(sp, sg, vf, lpr_read_build(&r.plate, r.frames, crop, sizeof crop, &m),
                  "lpr.read/1", id, sizeof id);
    if (rc == 0)
        rc = emit(sp, sg, vf, lpr_scene_build(id, scene, sizeof scene, &m), "lpr.scene/1", id,
                  sizeof id);
    /* no position, no crop, no bearing: lat and lon left out, the rest null */
    if (rc == 0) {
        r.frames = 2;
        r.plate.n_candidates = 1;
        m.time_source = LPR_TIME_UNSYNCED;
        m.pos = (lpr_position){.fix = LPR_FIX_NONE,
                               .lat = NAN,
                               .lon = NAN,
                               .alt_m = NAN,
                               .err_m = NAN,
                               .speed_mps = NAN,
                               .heading_deg = NAN,
                               .age_ms = -1};
        cfg.camera.bearing_deg = -1;
        rc = emit(sp, sg, vf, lpr_read_build(&r.plate, r.frames, NULL, 0, &m), "lpr.read/1, no fix",
                  id, sizeof id);
    }
    lpr_spool_close(sp);
    lpr_signer_free(sg);
    lpr_verifier_free(vf);
    return rc;
}

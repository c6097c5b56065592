/*
 * cmd_keys.c - `lpr keygen` (device signing key) and `lpr verify` (checks
 * signed reads as a subscriber received them).
 *
 * verify reads one message per line, either as mosquitto_sub -V 5
 * -F '%P\t%x' prints it ("alg:ES256 kid:... sig:...<TAB>hex payload") or as
 * JSON {"payload":"...","properties":{"alg":...,"kid":...,"sig":...}}.
 */
#include <getopt.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lpr_read.h"
#include "lpr_sign.h"
#include "lpr_tool.h"

int lpr_cmd_keygen(int argc, char **argv)
{
    static const struct option opts[] = {{"out", required_argument, NULL, 'o'},
                                         {"force", no_argument, NULL, 'f'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *dir = NULL;
    int force = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:fh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': dir = optarg; break;
        case 'f': force = 1; break;
        case 'h':
            printf("usage: lpr keygen --out DIR [--force]\n"
                   "Writes DIR/device.key (ECDSA P-256, PEM, mode 0600) and "
                   "DIR/device.pub.pem;\nprints the key id. Never overwrites without --force.\n");
            return 0;
        default: return 2;
        }
    }
    if (!dir) {
        fprintf(stderr, "lpr keygen: --out DIR is required\n");
        return 2;
    }
    char kid[LPR_KID_LEN];
    lpr_err rc = lpr_keygen(dir, force, kid);
    if (rc != LPR_OK) {
        fprintf(stderr, "lpr keygen: %s: %s\n", dir, lpr_strerror(rc));
        return 1;
    }
    printf("%s\n", kid);
    return 0;
}

/* The reads seen so far, by id: a redelivery (same bytes) is one read, a
 * second read with the same id and other bytes is a conflict. */
typedef struct seen_read {
    char *id;
    unsigned char *payload;
    size_t len;
} seen_read;

static int seen_cmp(const void *a, const void *b)
{
    return strcmp(((const seen_read *)a)->id, ((const seen_read *)b)->id);
}

static void seen_free(void *p)
{
    seen_read *r = p;
    free(r->id);
    free(r->payload);
    free(r);
}

typedef enum { READ_INVALID, READ_NEW, READ_REPEAT, READ_CONFLICT } read_kind;

static read_kind verify_one(lpr_verifier *v, const char *device, lpr_read_message *m, long lineno,
                            int quiet, void **seen)
{
    json_t *j = json_loadb(m->payload, m->len, 0, NULL);
    const char *id = j ? json_string_value(json_object_get(j, "id")) : NULL;
    char where[128];
    if (id)
        snprintf(where, sizeof where, "%s", id);
    else
        snprintf(where, sizeof where, "line %ld", lineno);
    const char *why = lpr_verify_message(v, m->payload, m->len, m->alg, m->kid, m->sig);
    const char *dev = j ? json_string_value(json_object_get(j, "device")) : NULL;
    char devwhy[200];
    if (!why && device && (!dev || strcmp(dev, device))) {
        snprintf(devwhy, sizeof devwhy, "signed by %s's key but says device %.64s", device,
                 dev ? dev : "(none)");
        why = devwhy;
    }
    read_kind kind = why ? READ_INVALID : READ_NEW;
    if (!why && id) {
        seen_read key = {(char *)id, NULL, 0}, **found = tfind(&key, seen, seen_cmp);
        if (found) {
            kind = (*found)->len == m->len && !memcmp((*found)->payload, m->payload, m->len)
                       ? READ_REPEAT
                       : READ_CONFLICT;
        } else {
            seen_read *r = calloc(1, sizeof *r);
            if (r && (r->id = strdup(id)) && (r->payload = malloc(m->len + 1))) {
                memcpy(r->payload, m->payload, m->len);
                r->len = m->len;
                tsearch(r, seen, seen_cmp);
            } else if (r) {
                seen_free(r);
            }
        }
    }
    if (why) {
        printf("INVALID %s: %s\n", where, why);
    } else if (kind == READ_CONFLICT) {
        printf("CONFLICT %s: validly signed, but another read came with this id and other "
               "bytes (an id issued twice, or a key in other hands)\n",
               where);
    } else if (kind == READ_REPEAT) {
        if (!quiet)
            printf("repeat  %s: the same signed bytes again (a redelivery)\n", where);
    } else if (!quiet) {
        json_t *plate = json_object_get(j, "plate"), *loc = json_object_get(j, "location");
        const char *text = json_string_value(json_object_get(plate, "text"));
        const char *at = json_string_value(json_object_get(j, "observed_at"));
        printf("valid   %s plate=%s at=%s", where, text ? text : "-", at ? at : "-");
        if (loc && json_object_get(loc, "lat"))
            printf(" pos=%.6f,%.6f fix=%s", json_real_value(json_object_get(loc, "lat")),
                   json_real_value(json_object_get(loc, "lon")),
                   json_string_value(json_object_get(loc, "fix"))
                       ? json_string_value(json_object_get(loc, "fix"))
                       : "-");
        printf("\n");
    }
    json_decref(j);
    fflush(stdout);
    return kind;
}

int lpr_cmd_verify(int argc, char **argv)
{
    static const struct option opts[] = {{"pub", required_argument, NULL, 'p'},
                                         {"device", required_argument, NULL, 'd'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *pub = NULL, *device = NULL;
    int quiet = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "p:d:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'p': pub = optarg; break;
        case 'd': device = optarg; break;
        case 'q': quiet = 1; break;
        case 'h':
            printf("usage: lpr verify --pub device.pub.pem [--device ID] [--quiet] [FILE]\n"
                   "Checks signed reads, one message per line, as printed by\n"
                   "  mosquitto_sub -V 5 -F '%%P\\t%%x' -t 'lpr/v1/+/read'\n"
                   "or JSON {\"payload\":...,\"properties\":{\"alg\",\"kid\",\"sig\"}}.\n"
                   "Prints valid/INVALID per read and a summary; a read delivered again\n"
                   "(same id, same bytes) is a repeat, counted once; the same id with other\n"
                   "bytes is a CONFLICT. With --device, the device the key was issued to:\n"
                   "a read whose \"device\" is another is INVALID (a key signs for one\n"
                   "device only). Signatures must be DER in low-S form, as lpr-uplink\n"
                   "makes them. Exit 1 if any read is invalid or in conflict.\n");
            return 0;
        default: return 2;
        }
    }
    if (!pub) {
        fprintf(stderr, "lpr verify: --pub FILE is required\n");
        return 2;
    }
    FILE *in = stdin;
    if (optind < argc && !(in = fopen(argv[optind], "r"))) {
        fprintf(stderr, "lpr verify: %s: %m\n", argv[optind]);
        return 1;
    }
    lpr_verifier *v;
    if (lpr_verifier_load(pub, &v) != LPR_OK) {
        fprintf(stderr, "lpr verify: %s: cannot load public key\n", pub);
        return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    long lineno = 0, good = 0, bad = 0, repeats = 0;
    void *seen = NULL;
    while (getline(&line, &cap, in) > 0) {
        lpr_read_message m;
        lineno++;
        if (line[0] == '\n')
            continue;
        const char *why = lpr_read_message_parse(line, &m);
        if (why) {
            printf("INVALID line %ld: %s\n", lineno, why);
            bad++;
        } else {
            read_kind k = verify_one(v, device, &m, lineno, quiet, &seen);
            good += k == READ_NEW;
            repeats += k == READ_REPEAT;
            bad += k == READ_INVALID || k == READ_CONFLICT;
        }
        lpr_read_message_clear(&m);
    }
    free(line);
    if (in != stdin)
        fclose(in);
    lpr_verifier_free(v);
    tdestroy(seen, seen_free);
    if (repeats)
        printf("%ld valid, %ld invalid, %ld repeated deliveries\n", good, bad, repeats);
    else
        printf("%ld valid, %ld invalid\n", good, bad);
    return bad ? 1 : 0;
}

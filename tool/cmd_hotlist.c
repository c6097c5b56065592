/*
 * cmd_hotlist.c - `lpr hotlist sign` (the operator signs a list with the
 * fleet's hotlist key) and `lpr hotlist check` (verify a signed list as a
 * unit would, and try a plate against it).
 *
 * A signed list is one line of JSON, the form `lpr verify` reads:
 * {"payload":"<the list's exact text>","properties":{"alg":"ES256",
 * "kid":"...","sig":"..."}}. Published over MQTT, the payload is the
 * message and alg, kid and sig its user properties.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lpr_hotlist.h"
#include "lpr_read.h"
#include "lpr_sign.h"
#include "lpr_tool.h"

/* The whole file (or stdin for "-"), NUL-terminated; NULL with errno. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (n + 1 < cap)
            break;
        char *more = realloc(buf, cap * 2);
        if (!more) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = more;
        cap *= 2;
    }
    int failed = ferror(f);
    if (f != stdin)
        fclose(f);
    if (!buf || failed) {
        free(buf);
        errno = failed ? EIO : ENOMEM;
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

static void summary(FILE *f, const char *verb, const lpr_hotlist *h)
{
    char exp[32] = "never";
    if (lpr_hotlist_about(h)->expires_ms)
        lpr_format_utc_ms(lpr_hotlist_about(h)->expires_ms, exp, sizeof exp);
    fprintf(f, "%s %s version %lld: %zu entries (%zu skipped), priority %d%s, expires %s\n", verb,
            lpr_hotlist_about(h)->name, (long long)lpr_hotlist_about(h)->version,
            lpr_hotlist_about(h)->entries, lpr_hotlist_about(h)->skipped,
            lpr_hotlist_about(h)->priority, lpr_hotlist_about(h)->covert ? ", covert" : "", exp);
}

static int sign(int argc, char **argv)
{
    static const struct option opts[] = {{"key", required_argument, NULL, 'k'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *key = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "k:h", opts, NULL)) != -1) {
        switch (c) {
        case 'k': key = optarg; break;
        case 'h':
            printf("usage: lpr hotlist sign --key HOTLIST.key LIST.json > LIST.signed\n"
                   "Signs a hotlist with the fleet's hotlist key (made with lpr keygen; units\n"
                   "trust its public key). Refuses a file that is no hotlist. Writes one line of\n"
                   "JSON: the list's exact text and its alg, kid and sig.\n");
            return 0;
        default: return 2;
        }
    }
    if (!key || optind != argc - 1) {
        fprintf(stderr, "lpr hotlist sign: --key KEY and one LIST.json are required\n");
        return 2;
    }
    const char *path = argv[optind];
    size_t len;
    char *text = slurp(path, &len), why[400];
    if (!text) {
        fprintf(stderr, "lpr hotlist sign: %s: %s\n", path, strerror(errno));
        return 1;
    }
    lpr_hotlist *h;
    lpr_signer *s = NULL;
    int rc = 1;
    unsigned char der[LPR_SIG_MAX];
    size_t n;
    char sig[160];
    if (lpr_hotlist_parse(text, len, path, &h, why, sizeof why) != LPR_OK) {
        fprintf(stderr, "lpr hotlist sign: %s\n", why);
        free(text);
        return 1;
    }
    lpr_err e = lpr_signer_load(key, &s);
    if (e != LPR_OK) {
        fprintf(stderr, "lpr hotlist sign: %s: %s\n", key, lpr_strerror(e));
    } else if (lpr_sign(s, text, len, der, &n) != LPR_OK ||
               lpr_base64_encode(der, n, sig, sizeof sig) != LPR_OK) {
        fprintf(stderr, "lpr hotlist sign: %s: cannot sign\n", path);
    } else {
        json_t *env = json_pack("{s:s%,s:{s:s,s:s,s:s}}", "payload", text, len, "properties", "alg",
                                "ES256", "kid", lpr_signer_kid(s), "sig", sig);
        if (env && json_dumpf(env, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER) == 0) {
            putchar('\n');
            summary(stderr, "signed", h);
            rc = fflush(stdout) == 0 ? 0 : 1;
        } else {
            fprintf(stderr, "lpr hotlist sign: %s: not UTF-8 text, or out of memory\n", path);
        }
        json_decref(env);
    }
    lpr_signer_free(s);
    lpr_hotlist_free(h);
    free(text);
    return rc;
}

static int check(int argc, char **argv)
{
    static const struct option opts[] = {
        {"pub", required_argument, NULL, 'p'},    {"match", required_argument, NULL, 'm'},
        {"region", required_argument, NULL, 'r'}, {"subs", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    const char *pub = NULL, *text = NULL, *region = NULL;
    int subs = 1, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "p:m:r:s:h", opts, NULL)) != -1) {
        switch (c) {
        case 'p': pub = optarg; break;
        case 'm': text = optarg; break;
        case 'r': region = optarg; break;
        case 's': subs = atoi(optarg); break;
        case 'h':
            printf("usage: lpr hotlist check --pub HOTLIST.pub.pem [--match PLATE [--region R]\n"
                   "                         [--subs 0-2]] LIST.signed\n"
                   "Verifies a signed hotlist as a unit does (the fleet's key, not expired) and\n"
                   "prints what it holds; with --match, the entries PLATE matches (look-alikes\n"
                   "0/O/D/Q 1/I 2/Z 5/S 8/B 6/G, at most --subs of them, default 1).\n");
            return 0;
        default: return 2;
        }
    }
    if (!pub || optind != argc - 1) {
        fprintf(stderr, "lpr hotlist check: --pub FILE and one signed list are required\n");
        return 2;
    }
    const char *path = argv[optind];
    size_t len;
    char *line = slurp(path, &len), why[400];
    if (!line) {
        fprintf(stderr, "lpr hotlist check: %s: %s\n", path, strerror(errno));
        return 1;
    }
    lpr_verifier *v;
    if (lpr_verifier_load(pub, &v) != LPR_OK) {
        fprintf(stderr, "lpr hotlist check: %s: cannot load public key\n", pub);
        free(line);
        return 1;
    }
    lpr_read_message m;
    lpr_hotlist *h = NULL;
    int rc = 1;
    const char *bad = lpr_read_message_parse(line, &m);
    if (bad)
        fprintf(stderr, "lpr hotlist check: %s: %s\n", path, bad);
    else if (lpr_hotlist_load_signed(m.payload, m.len, m.alg, m.kid, m.sig, v, lpr_realtime_ms(),
                                     path, &h, why, sizeof why) != LPR_OK)
        fprintf(stderr, "lpr hotlist check: %s\n", why);
    else {
        summary(stdout, "valid", h);
        rc = 0;
        if (text) {
            lpr_hotlist_match mt[16];
            int n = lpr_hotlist_match_text(h, text, region, subs, lpr_realtime_ms(), mt, 16);
            for (int i = 0; i < n && i < 16; i++)
                printf("match %s: entry %s%s%s, %d look-alike(s)%s%s\n", text, mt[i].plate,
                       mt[i].region[0] ? " region " : "", mt[i].region, mt[i].substitutions,
                       mt[i].reason[0] ? ", reason: " : "", mt[i].reason);
            if (n == 0)
                printf("no match for %s\n", text);
        }
    }
    lpr_read_message_clear(&m);
    lpr_hotlist_free(h);
    lpr_verifier_free(v);
    free(line);
    return rc;
}

int lpr_cmd_hotlist(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "sign"))
        return sign(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "check"))
        return check(argc - 1, argv + 1);
    fprintf(argc >= 2 && !strcmp(argv[1], "--help") ? stdout : stderr,
            "usage: lpr hotlist sign|check ... (lpr hotlist sign --help)\n");
    return argc >= 2 && !strcmp(argv[1], "--help") ? 0 : 2;
}

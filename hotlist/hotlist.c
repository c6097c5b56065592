/*
 * hotlist.c - hotlists and OCR-aware matching (see lpr_hotlist.h).
 *
 * Entries live in one array; their texts (plate, region, reason) in one
 * pool of NUL-terminated strings, so a list of 1 000 000 costs a few tens
 * of MB. Two hash indexes (open addressing, FNV-1a) map a class key (the
 * plate with each character replaced by its look-alike class, '*' kept)
 * to a chain of entries: one for exact plates, one for plates with
 * wildcards.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lpr_hotlist.h"
#include "lpr_sign.h"

#define NONE UINT32_MAX
#define SAY_BAD 10 /* bad entries named one by one; the rest counted */

typedef struct entry {
    uint32_t plate, region, reason; /* offsets into the pool */
    uint32_t next;                  /* the next entry of the same class key */
    int64_t expires_ms;             /* 0: never */
    uint8_t len, wild;
} entry;

typedef struct class_index {
    uint32_t *head; /* per slot: first entry, NONE */
    size_t mask;
} class_index;

struct lpr_hotlist {
    lpr_hotlist_info info;
    entry *e;
    size_t n, nwild; /* entries kept, those with wildcards */
    char *pool;
    size_t pool_len, pool_cap;
    class_index exact, wild;
};

char lpr_hotlist_class(char c)
{
    switch (c) {
    case 'O':
    case 'D':
    case 'Q': return '0';
    case 'I': return '1';
    case 'Z': return '2';
    case 'S': return '5';
    case 'B': return '8';
    case 'G': return '6';
    default: return c;
    }
}

static uint64_t fnv(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

static void class_key(const char *plate, size_t n, char *key)
{
    for (size_t i = 0; i < n; i++)
        key[i] = lpr_hotlist_class(plate[i]);
    key[n] = 0;
}

static uint32_t pool_add(lpr_hotlist *h, const char *s)
{
    size_t n = strlen(s) + 1;
    if (h->pool_len + n > h->pool_cap) {
        size_t cap = h->pool_cap ? h->pool_cap * 2 : 1 << 16;
        while (cap < h->pool_len + n)
            cap *= 2;
        char *p = realloc(h->pool, cap);
        if (!p)
            return NONE;
        h->pool = p;
        h->pool_cap = cap;
    }
    memcpy(h->pool + h->pool_len, s, n);
    uint32_t off = (uint32_t)h->pool_len;
    h->pool_len += n;
    return off;
}

/* A plate as listed: 2-10 of A-Z, 0-9 and '*', at most 2 '*', not all '*'.
 * NULL, or why not. */
static const char *plate_problem(const char *p, int *wild)
{
    size_t n = p ? strlen(p) : 0;
    *wild = 0;
    if (!p)
        return "no plate";
    if (n < 2 || n > LPR_HOTLIST_PLATE_MAX)
        return "plate is not 2-10 characters";
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '*')
            (*wild)++;
        else if (!((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9')))
            return "plate has a character other than A-Z, 0-9 and '*'";
    }
    if (*wild > LPR_HOTLIST_WILDCARDS_MAX)
        return "plate has more than 2 wildcards";
    return NULL;
}

static int index_build(class_index *ix, lpr_hotlist *h, int wild)
{
    size_t want = 16, n = 0;
    for (size_t i = 0; i < h->n; i++)
        n += !!h->e[i].wild == wild;
    while (want < 2 * n)
        want *= 2;
    ix->head = malloc(want * sizeof *ix->head);
    if (!ix->head)
        return -1;
    memset(ix->head, 0xff, want * sizeof *ix->head);
    ix->mask = want - 1;
    char key[LPR_HOTLIST_PLATE_MAX + 1];
    /* backwards, so that each chain lists its entries in the list's order */
    for (size_t i = h->n; i-- > 0;) {
        entry *e = &h->e[i];
        if (!!e->wild != !!wild)
            continue;
        class_key(h->pool + e->plate, e->len, key);
        size_t s = fnv(key, e->len) & ix->mask;
        e->next = ix->head[s];
        ix->head[s] = (uint32_t)i;
    }
    return 0;
}

/* The end of the JSON value at s[i] (i at its first character): strings
 * with their escapes, objects and arrays by depth, other values up to the
 * next delimiter. len when it runs off the end (jansson then says why). */
static size_t skip_ws(const char *s, size_t len, size_t i)
{
    while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

static size_t skip_value(const char *s, size_t len, size_t i)
{
    int depth = 0;
    do {
        if (i >= len)
            return len;
        char c = s[i];
        if (c == '"') {
            for (i++; i < len && s[i] != '"'; i++)
                if (s[i] == '\\')
                    i++;
            i++;
        } else if (c == '{' || c == '[') {
            depth++;
            i++;
        } else if (c == '}' || c == ']') {
            depth--;
            i++;
        } else if (depth > 0) {
            i++;
        } else {
            size_t at = i;
            while (i < len && !strchr(",}] \t\r\n", s[i]))
                i++;
            if (i == at)
                i++; /* a stray delimiter: one character, so every caller moves on */
        }
    } while (depth > 0);
    return i < len ? i : len; /* a string's escape at the very end steps past it */
}

/* Where the top-level object's "entries" value lies: [*a, *b). 0 if the
 * document is no object or has none (jansson's parse then says why). */
static int find_entries(const char *s, size_t len, size_t *a, size_t *b)
{
    size_t i = skip_ws(s, len, 0);
    if (i >= len || s[i] != '{')
        return 0;
    for (i = skip_ws(s, len, i + 1); i < len && s[i] == '"';) {
        size_t k = i, e = skip_value(s, len, i);
        i = skip_ws(s, len, e);
        if (i >= len || s[i] != ':')
            return 0;
        i = skip_ws(s, len, i + 1);
        size_t v = i;
        i = skip_value(s, len, i);
        if (e - k == 9 && !memcmp(s + k, "\"entries\"", 9)) {
            *a = v;
            *b = i;
            return 1;
        }
        i = skip_ws(s, len, i);
        if (i < len && s[i] == ',')
            i = skip_ws(s, len, i + 1);
    }
    return 0;
}

/* lpr_hotlist_parse; with expired_at > 0, a list that expired by then is
 * refused before its entries are read (so their warnings do not bury the
 * one line that says why). */
static lpr_err parse(const char *json, size_t len, const char *what, int64_t expired_at,
                     lpr_hotlist **out, char *why, size_t whylen)
{
    *out = NULL;
    json_error_t err;
    /* a list of a million entries is a million objects: held as one tree
     * by jansson it took 634 MB. So the document is parsed without its
     * entries ([] in their place), and the entries one object at a time */
    size_t ea = 0, eb = 0;
    char *head = NULL;
    if (find_entries(json, len, &ea, &eb) && eb > ea && json[ea] == '[' && json[eb - 1] == ']') {
        head = malloc(len - (eb - ea) + 3);
        if (!head)
            return LPR_ENOMEM;
        memcpy(head, json, ea);
        memcpy(head + ea, "[]", 2);
        memcpy(head + ea + 2, json + eb, len - eb);
    } else {
        ea = eb = 0; /* jansson says what is wrong */
    }
    json_t *doc =
        head ? json_loadb(head, len - (eb - ea) + 2, 0, &err) : json_loadb(json, len, 0, &err);
    free(head);
    const char *name = NULL, *issued = NULL, *expires = NULL;
    json_int_t version = 0, priority = 0;
    int covert = 0;
    json_t *entries = NULL;
    if (!doc) {
        snprintf(why, whylen, "%s: not JSON (line %d: %s)", what, err.line, err.text);
        return LPR_EFORMAT;
    }
    if (json_unpack_ex(doc, &err, 0, "{s:s,s:I,s:s,s?s,s?b,s?I,s:o}", "name", &name, "version",
                       &version, "issued_at", &issued, "expires_at", &expires, "covert", &covert,
                       "priority", &priority, "entries", &entries) != 0 ||
        !json_is_array(entries)) {
        snprintf(why, whylen,
                 "%s: not a hotlist (want name, version, issued_at and an entries array): %s", what,
                 err.text[0] ? err.text : "entries is not an array");
        json_decref(doc);
        return LPR_EFORMAT;
    }
    lpr_hotlist *h = calloc(1, sizeof *h);
    lpr_err rc = LPR_EFORMAT;
    if (!h) {
        json_decref(doc);
        return LPR_ENOMEM;
    }
    snprintf(h->info.name, sizeof h->info.name, "%s", name);
    h->info.version = version;
    h->info.covert = covert;
    h->info.priority = (int)priority;
    if (version < 1 || priority < 0 || priority > 100 || strlen(name) == 0 ||
        strlen(name) >= sizeof h->info.name) {
        snprintf(why, whylen, "%s: version must be >= 1, priority 0-100, name 1-127 characters",
                 what);
        goto fail;
    }
    if (lpr_parse_iso8601(issued, &h->info.issued_ms) != LPR_OK ||
        (expires && lpr_parse_iso8601(expires, &h->info.expires_ms) != LPR_OK)) {
        snprintf(why, whylen, "%s: issued_at or expires_at is not an ISO 8601 UTC time", what);
        goto fail;
    }
    if (expired_at > 0 && h->info.expires_ms && h->info.expires_ms <= expired_at) {
        char at[32];
        lpr_format_utc_ms(h->info.expires_ms, at, sizeof at);
        snprintf(why, whylen, "%s: refused: version %lld expired at %s", what,
                 (long long)h->info.version, at);
        rc = LPR_EINVAL;
        goto fail;
    }
    /* the entries: from the document's text when it was cut out above */
    size_t cap = ea < eb ? 1024 : json_array_size(entries), pos = ea < eb ? ea + 1 : 0;
    h->e = calloc(cap ? cap : 1, sizeof *h->e);
    if (!h->e || pool_add(h, "") == NONE) {
        rc = LPR_ENOMEM;
        goto fail;
    }
    for (size_t i = 0;; i++) {
        json_t *x = NULL;
        if (ea < eb) {
            pos = skip_ws(json, eb, pos);
            if (pos < eb && json[pos] == ',' && i > 0)
                pos = skip_ws(json, eb, pos + 1);
            if (pos >= eb - 1)
                break;
            size_t end = skip_value(json, eb - 1, pos); /* > pos: it always moves on */
            x = json_loadb(json + pos, end - pos, 0, NULL);
            pos = end;
        } else {
            if (i >= json_array_size(entries))
                break;
            x = json_incref(json_array_get(entries, i));
        }
        if (h->n == cap) {
            entry *more = realloc(h->e, 2 * cap * sizeof *h->e);
            if (!more) {
                json_decref(x);
                rc = LPR_ENOMEM;
                goto fail;
            }
            h->e = more;
            cap *= 2;
        }
        const char *plate = NULL, *region = "", *reason = "", *exp = NULL, *bad;
        int wild = 0;
        int64_t exp_ms = 0;
        if (json_unpack(x, "{s:s,s?s,s?s,s?s}", "plate", &plate, "region", &region, "reason",
                        &reason, "expires_at", &exp) != 0)
            bad = "not an object with a plate text";
        else if ((bad = plate_problem(plate, &wild)) != NULL)
            ;
        else if (exp && lpr_parse_iso8601(exp, &exp_ms) != LPR_OK)
            bad = "expires_at is not an ISO 8601 UTC time";
        else if (strlen(region) > 15 || strlen(reason) > 200)
            bad = "region or reason too long";
        if (bad) {
            if (h->info.skipped++ < SAY_BAD)
                LPR_WARN("hotlist", "%s: entry %zu skipped: %s", what, i, bad);
            json_decref(x);
            continue;
        }
        entry *e = &h->e[h->n];
        e->plate = pool_add(h, plate);
        e->region = region[0] ? pool_add(h, region) : 0;
        e->reason = reason[0] ? pool_add(h, reason) : 0;
        if (e->plate == NONE || e->region == NONE || e->reason == NONE) {
            json_decref(x);
            rc = LPR_ENOMEM;
            goto fail;
        }
        e->expires_ms = exp_ms;
        e->len = (uint8_t)strlen(plate);
        json_decref(x); /* plate, region and reason were its */
        e->wild = (uint8_t)wild;
        h->nwild += wild > 0;
        h->n++;
    }
    h->info.entries = h->n;
    if (h->info.skipped > SAY_BAD)
        LPR_WARN("hotlist", "%s: %zu entries skipped in all", what, h->info.skipped);
    if (index_build(&h->exact, h, 0) != 0 || index_build(&h->wild, h, 1) != 0) {
        rc = LPR_ENOMEM;
        goto fail;
    }
    json_decref(doc);
    *out = h;
    return LPR_OK;
fail:
    if (rc == LPR_ENOMEM)
        snprintf(why, whylen, "%s: out of memory", what);
    json_decref(doc);
    lpr_hotlist_free(h);
    return rc;
}

lpr_err lpr_hotlist_load_signed(const void *payload, size_t len, const char *alg, const char *kid,
                                const char *sig, struct lpr_verifier *fleet, int64_t now_ms,
                                const char *what, lpr_hotlist **out, char *why, size_t whylen)
{
    *out = NULL;
    const char *bad = lpr_verify_message(fleet, payload, len, alg, kid, sig);
    if (bad) {
        snprintf(why, whylen, "%s: refused: %s (the fleet's hotlist key did not sign it)", what,
                 bad);
        return LPR_ECRYPTO;
    }
    return parse(payload, len, what, now_ms > 0 ? now_ms : 1, out, why, whylen);
}

lpr_err lpr_hotlist_parse(const char *json, size_t len, const char *what, lpr_hotlist **out,
                          char *why, size_t whylen)
{
    return parse(json, len, what, 0, out, why, whylen);
}

void lpr_hotlist_free(lpr_hotlist *h)
{
    if (!h)
        return;
    free(h->e);
    free(h->pool);
    free(h->exact.head);
    free(h->wild.head);
    free(h);
}

const lpr_hotlist_info *lpr_hotlist_about(const lpr_hotlist *h)
{
    return &h->info;
}

/* Whether entry e matches text (its class key equal): the look-alike
 * positions it takes, or -1. */
static int substitutions(const lpr_hotlist *h, const entry *e, const char *text, size_t n,
                         const char *region, int max_subs, int64_t now_ms)
{
    const char *p = h->pool + e->plate;
    if (e->len != n || (e->expires_ms && e->expires_ms <= now_ms))
        return -1;
    if (region && e->region && strcmp(h->pool + e->region, region))
        return -1;
    int subs = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '*' || p[i] == text[i])
            continue;
        if (lpr_hotlist_class(p[i]) != lpr_hotlist_class(text[i]) || ++subs > max_subs)
            return -1;
    }
    return subs;
}

static int walk(const lpr_hotlist *h, const class_index *ix, const char *key, const char *text,
                size_t n, const char *region, int max_subs, int64_t now_ms, lpr_hotlist_match *m,
                int max, int found)
{
    char k2[LPR_HOTLIST_PLATE_MAX + 1];
    for (uint32_t i = ix->head[fnv(key, n) & ix->mask]; i != NONE; i = h->e[i].next) {
        const entry *e = &h->e[i];
        class_key(h->pool + e->plate, e->len, k2);
        if (e->len != n || memcmp(k2, key, n))
            continue; /* another key in the same slot */
        int s = substitutions(h, e, text, n, region, max_subs, now_ms);
        if (s < 0)
            continue;
        if (found < max)
            m[found] = (lpr_hotlist_match){h->pool + e->plate, h->pool + e->region,
                                           h->pool + e->reason, s, i};
        found++;
    }
    return found;
}

int lpr_hotlist_match_text(const lpr_hotlist *h, const char *text, const char *region,
                           int max_substitutions, int64_t now_ms, lpr_hotlist_match *m, int max)
{
    size_t n = strlen(text);
    int subs = max_substitutions < 0                      ? 0
               : max_substitutions > LPR_HOTLIST_SUBS_MAX ? LPR_HOTLIST_SUBS_MAX
                                                          : max_substitutions;
    if (n < 2 || n > LPR_HOTLIST_PLATE_MAX || strchr(text, '*'))
        return 0;
    char key[LPR_HOTLIST_PLATE_MAX + 1];
    class_key(text, n, key);
    int found = walk(h, &h->exact, key, text, n, region, subs, now_ms, m, max, 0);
    if (h->nwild == 0)
        return found;
    /* wildcard entries: the key with one or two positions as '*' */
    for (size_t a = 0; a < n; a++) {
        char ca = key[a];
        key[a] = '*';
        found = walk(h, &h->wild, key, text, n, region, subs, now_ms, m, max, found);
        for (size_t b = a + 1; b < n; b++) {
            char cb = key[b];
            key[b] = '*';
            found = walk(h, &h->wild, key, text, n, region, subs, now_ms, m, max, found);
            key[b] = cb;
        }
        key[a] = ca;
    }
    return found;
}

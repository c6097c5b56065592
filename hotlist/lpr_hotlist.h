/*
 * lpr_hotlist.h - lists of plates of interest ("hotlists") and matching a
 * read against them, OCR-aware (issue 17; the alerts are not built yet).
 *
 * A list is a JSON document, signed by the fleet's hotlist key (ES256 over
 * the exact bytes, as reads are: alg, kid and sig beside it):
 *   {"name":"stolen","version":42,"issued_at":"2026-12-07T10:00:00Z",
 *    "expires_at":"2026-12-08T10:00:00Z","covert":false,"priority":80,
 *    "entries":[{"plate":"7ABC123","region":"us","reason":"stolen",
 *                "expires_at":"2026-12-07T18:00:00Z"}, ...]}
 * name, version (>= 1), issued_at and entries are required. An entry's
 * plate is 2-10 letters and digits, each '*' standing for exactly one
 * character (at most 2 per entry); region, reason and expires_at are
 * optional. A bad entry is named (its index and why, the first ten) and
 * skipped; it never refuses the list.
 *
 * Matching: a read's text matches an entry of the same length when every
 * position is the same character, a '*' of the entry, or a character of
 * the same look-alike class (Genetec AutoVu's defaults: 0 O D Q, 1 I,
 * 2 Z, 5 S, 8 B, 6 G), with at most max_substitutions (0-2) look-alike
 * positions. An index keyed by the text with each character replaced by
 * its class finds the entries in constant time whatever the list's size:
 * one lookup for exact entries, one per choice of up to two positions for
 * wildcard entries. Expired entries and entries of another region never
 * match.
 */
#ifndef LPR_HOTLIST_H
#define LPR_HOTLIST_H

#include <stddef.h>
#include <stdint.h>

#include "lpr_common.h"

#define LPR_HOTLIST_PLATE_MAX 10
#define LPR_HOTLIST_WILDCARDS_MAX 2
#define LPR_HOTLIST_SUBS_MAX 2

typedef struct lpr_hotlist lpr_hotlist;

/* Parses a list's document (its signature checked by the caller, or by
 * lpr_hotlist_load_signed). what names it in messages. LPR_EFORMAT with why
 * (one line) when it is not a list: not JSON, a required member missing or
 * of the wrong type. Bad entries are skipped and counted. */
lpr_err lpr_hotlist_parse(const char *json, size_t len, const char *what, lpr_hotlist **out,
                          char *why, size_t whylen);

/* A signed list as it arrives (MQTT payload and user properties, or a
 * file lpr hotlist sign wrote): refused (LPR_ECRYPTO / LPR_EFORMAT /
 * LPR_EINVAL, why) when the signature is not the fleet key's over these
 * bytes, when it is no list, or when it expired at now_ms. The verifier is
 * an lpr_verifier (lpr_sign.h). */
struct lpr_verifier;
lpr_err lpr_hotlist_load_signed(const void *payload, size_t len, const char *alg, const char *kid,
                                const char *sig, struct lpr_verifier *fleet, int64_t now_ms,
                                const char *what, lpr_hotlist **out, char *why, size_t whylen);

void lpr_hotlist_free(lpr_hotlist *h);

/* What a list says of itself. */
typedef struct lpr_hotlist_info {
    char name[128];
    int64_t version, issued_ms, expires_ms; /* expires_ms 0: no expiry */
    int covert, priority;
    size_t entries, skipped; /* kept; bad ones skipped */
} lpr_hotlist_info;

const lpr_hotlist_info *lpr_hotlist_about(const lpr_hotlist *h);

typedef struct lpr_hotlist_match {
    const char *plate;  /* the entry as listed */
    const char *region; /* "" when the entry has none */
    const char *reason; /* "" when none */
    int substitutions;  /* look-alike positions */
    size_t entry;       /* its index among the kept entries */
} lpr_hotlist_match;

/* The entries text matches (read in region, which may be NULL: any), at
 * most max of them into m; returns how many matched (may exceed max).
 * max_substitutions is clamped to 0..LPR_HOTLIST_SUBS_MAX. */
int lpr_hotlist_match_text(const lpr_hotlist *h, const char *text, const char *region,
                           int max_substitutions, int64_t now_ms, lpr_hotlist_match *m, int max);

/* The look-alike class of a character (its representative: '0' for O D
 * Q, '1' for I ...; other characters are their own). */
char lpr_hotlist_class(char c);

#endif

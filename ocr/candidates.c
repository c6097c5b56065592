/*
 * candidates.c - turns per-character readings into ranked plate candidates.
 *
 * Each position carries the engine's best character and its alternatives;
 * the usual confusions of plate lettering (O/0/D/Q, I/1, B/8, S/5, Z/2, G/6)
 * are added with a lower confidence. A beam search over positions yields the
 * best strings by mean confidence. Region formats (br LLLNNNN and Mercosul
 * LLLNLNN) constrain the letter/digit class per position, so "ABC1Z34"
 * becomes "ABC1234" only where a br plate must have a digit; eu prefers the
 * commonest European series (LLNNNLL, LLNNLLL, NNNNLLL) where the length
 * fits one; us and other eu plates are ranked by length only. Pure functions: no Leptonica, no
 * Tesseract.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "ocr_internal.h"
#include "tuning.h"

/* Format strings: L = letter, N = digit, A = either. */
static const char *const br_formats[] = {"LLLNNNN", "LLLNLNN", NULL};
/* The commonest European series: Italy, France (SIV) and Slovakia
 * LLNNNLL, the UK LLNNLLL, Spain NNNNLLL. Other countries' plates are
 * not penalised unless they have one of these lengths and fit none. */
static const char *const eu_formats[] = {"LLNNNLL", "LLNNLLL", "NNNNLLL", NULL};

static int fits_class(char fmt, char c)
{
    if (fmt == 'L')
        return c >= 'A' && c <= 'Z';
    if (fmt == 'N')
        return c >= '0' && c <= '9';
    return 1;
}

static int generic_length_ok(lpr_region region, size_t len)
{
    switch (region) {
    case LPR_REGION_US: return len >= 4 && len <= 8;
    case LPR_REGION_EU: return len >= 4 && len <= 9;
    case LPR_REGION_BR: return len == 7;
    default: return len >= 4 && len <= 9;
    }
}

static int fits_format(const char *const *formats, const char *text)
{
    size_t len = strlen(text);
    for (int f = 0; formats[f]; f++) {
        if (strlen(formats[f]) != len)
            continue;
        size_t i;
        for (i = 0; i < len && fits_class(formats[f][i], text[i]); i++)
            ;
        if (i == len)
            return 1;
    }
    return 0;
}

int lpr_region_format_match(lpr_region region, const char *text)
{
    size_t len = strlen(text);
    if (region == LPR_REGION_BR)
        return fits_format(br_formats, text);
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)text[i]))
            return 0;
    return generic_length_ok(region, len);
}

/* Pairs of characters read for each other on plates, both directions. The
 * first TWINS are drawn alike in plate fonts (a letter slot's 0 is an O);
 * the others only look alike when blurred, and count for less. */
static const char *const confusions[] = {"O0", "I1", "B8", "S5", "Z2", "OD", "OQ", "0D", "0Q",
                                         "IT", "1T", "G6", "A4", "E6", "L4", "UV", "MN", "HM",
                                         "KX", "B3", "J1", "Y7", "PR", "CG", "F7", NULL};
#define TWINS 5

void lpr_add_confusions(lpr_charpos *pos, float factor)
{
    const lpr_charpos orig = *pos;
    for (int a = 0; a < orig.n; a++) {
        char c = orig.ch[a];
        for (int k = 0; confusions[k]; k++) {
            char other;
            if (confusions[k][0] == c)
                other = confusions[k][1];
            else if (confusions[k][1] == c)
                other = confusions[k][0];
            else
                continue;
            float conf = orig.conf[a] * factor * (k < TWINS ? 1.0f : LOOKALIKE);
            int at = -1;
            for (int i = 0; i < pos->n; i++)
                if (pos->ch[i] == other)
                    at = i;
            if (at < 0 && pos->n < LPR_MAX_ALTS) {
                at = pos->n++;
            } else if (at < 0) {
                /* full: displace the weakest alternative (never the best
                 * reading) if the look-alike is more plausible */
                at = 1;
                for (int i = 2; i < pos->n; i++)
                    if (pos->conf[i] < pos->conf[at])
                        at = i;
                if (pos->n < 2 || pos->conf[at] >= conf)
                    continue;
            } else if (pos->conf[at] >= conf) {
                continue;
            }
            /* a look-alike is at least as plausible as the confusion says,
             * even where the engine scored it lower */
            pos->ch[at] = other;
            pos->conf[at] = conf;
        }
    }
}

typedef struct beam_item {
    char text[LPR_MAX_TEXT];
    float sum;
} beam_item;

/* Beam search over positions; fmt (may be NULL) restricts each position's
 * class. Returns the number of complete strings written to out (sorted). */
static int beam_search(const lpr_charpos *pos, int n, const char *fmt, beam_item *out, int max)
{
    beam_item cur[BEAM], next[BEAM * LPR_MAX_ALTS];
    int ncur = 1;

    if (n <= 0 || n >= LPR_MAX_TEXT)
        return 0;
    memset(&cur[0], 0, sizeof cur[0]);
    for (int p = 0; p < n; p++) {
        int nnext = 0;
        for (int b = 0; b < ncur; b++) {
            for (int a = 0; a < pos[p].n; a++) {
                char c = pos[p].ch[a];
                if (fmt && !fits_class(fmt[p], c))
                    continue;
                next[nnext] = cur[b];
                next[nnext].text[p] = c;
                next[nnext].text[p + 1] = '\0';
                next[nnext].sum += pos[p].conf[a];
                nnext++;
            }
        }
        if (nnext == 0)
            return 0;
        /* keep the BEAM best: partial selection sort */
        ncur = nnext < BEAM ? nnext : BEAM;
        for (int i = 0; i < ncur; i++) {
            int best = i;
            for (int j = i + 1; j < nnext; j++)
                if (next[j].sum > next[best].sum)
                    best = j;
            beam_item t = next[i];
            next[i] = next[best];
            next[best] = t;
            cur[i] = next[i];
        }
    }
    if (ncur > max)
        ncur = max;
    memcpy(out, cur, (size_t)ncur * sizeof *out);
    return ncur;
}

static int add_candidate(lpr_candidate *out, int count, int max, const char *text, float conf)
{
    for (int i = 0; i < count; i++) {
        if (!strcmp(out[i].text, text)) {
            if (conf > out[i].confidence)
                out[i].confidence = conf;
            return count;
        }
    }
    if (count < max) {
        snprintf(out[count].text, sizeof out[count].text, "%s", text);
        out[count].confidence = conf;
        out[count].second = 0.0f;
        return count + 1;
    }
    /* replace the weakest if better */
    int worst = 0;
    for (int i = 1; i < count; i++)
        if (out[i].confidence < out[worst].confidence)
            worst = i;
    if (conf > out[worst].confidence) {
        snprintf(out[worst].text, sizeof out[worst].text, "%s", text);
        out[worst].confidence = conf;
    }
    return count;
}

void lpr_sort_candidates(lpr_candidate *c, int n)
{
    for (int i = 1; i < n; i++) {
        lpr_candidate t = c[i];
        int j = i - 1;
        while (j >= 0 && c[j].confidence < t.confidence) {
            c[j + 1] = c[j];
            j--;
        }
        c[j + 1] = t;
    }
}

/* How many of the series 'fmts' (NULL: none) are len characters long. */
static int series_of_len(const char *const *fmts, int len)
{
    int k = 0;
    for (int f = 0; fmts && fmts[f]; f++)
        k += (int)strlen(fmts[f]) == len;
    return k;
}

/* Adds the best readings of pos that fit each series of length n, at
 * factor times their mean confidence; keeps at most beam per series.
 * Returns the new candidate count. */
static int add_series_readings(const lpr_charpos *pos, int n, const char *const *fmts, int beam,
                               float factor, lpr_candidate *out, int count, int max)
{
    beam_item items[BEAM];
    for (int f = 0; fmts[f]; f++) {
        if ((int)strlen(fmts[f]) != n)
            continue;
        int k = beam_search(pos, n, fmts[f], items, beam);
        for (int i = 0; i < k; i++)
            count = add_candidate(out, count, max, items[i].text, factor * items[i].sum / (float)n);
    }
    return count;
}

/* Candidates under one region's rules. Returns count, *quality = how well
 * the best candidate fits the region (its confidence, or -1 if none fit). */
static int region_candidates(const lpr_charpos *pos, int n, lpr_region region, lpr_candidate *out,
                             int max, float *quality)
{
    beam_item items[BEAM];
    int count = 0;

    *quality = -1.0f;
    const char *const *fmts = region == LPR_REGION_BR   ? br_formats
                              : region == LPR_REGION_EU ? eu_formats
                                                        : NULL;
    int formats_of_len = series_of_len(fmts, n);
    if (region == LPR_REGION_BR) {
        count = add_series_readings(pos, n, br_formats, BEAM, 1.0f, out, count, max);
    } else {
        int k = beam_search(pos, n, NULL, items, BEAM);
        for (int i = 0; i < k; i++) {
            float conf = items[i].sum / (float)n;
            if (!generic_length_ok(region, (size_t)n))
                conf *= 0.5f; /* implausible length: keep, rank low */
            if (formats_of_len > 0 && !fits_format(eu_formats, items[i].text))
                conf *= OFF_FORMAT;
            count = add_candidate(out, count, max, items[i].text, conf);
        }
        /* the best readings that fit a series, from the alternatives */
        if (formats_of_len > 0)
            count = add_series_readings(pos, n, eu_formats, BEAM, 1.0f, out, count, max);
    }
    /* one or two positions too many for every series (an emblem, a bolt
     * or the frame read as a character): the readings without them that
     * fit a series, ranked a little lower for each position dropped */
    int drop = formats_of_len                                          ? 0
               : series_of_len(fmts, n - 1)                            ? 1
               : region == LPR_REGION_EU && series_of_len(fmts, n - 2) ? 2
                                                                       : 0;
    if (drop > 0 && n <= LPR_MAX_TEXT) {
        lpr_charpos fewer[LPR_MAX_TEXT];
        int m = n - drop;
        if (region == LPR_REGION_EU)
            for (int i = 0; i < count; i++)
                out[i].confidence *= OFF_FORMAT;
        float factor = drop == 1 ? DROPPED_ONE : DROPPED_ONE * DROPPED_ONE;
        for (int a = 0; a < n; a++)
            for (int b = drop == 1 ? a : a + 1; b < n; b++) {
                for (int i = 0, j = 0; i < n; i++)
                    if (i != a && i != b)
                        fewer[j++] = pos[i];
                count = add_series_readings(fewer, m, fmts, 4, factor, out, count, max);
                if (drop == 1)
                    break; /* b == a: one position */
            }
    }
    if (region == LPR_REGION_US) {
        /* US issuers print letter O and digit 0 alike and most serials
         * avoid the letter: rank the 0 reading first, keep the O one */
        int base = count;
        for (int i = 0; i < base; i++) {
            char t[LPR_MAX_TEXT];
            memcpy(t, out[i].text, sizeof t);
            int changed = 0;
            for (char *c = t; *c; c++)
                if (*c == 'O') {
                    *c = '0';
                    changed = 1;
                }
            if (changed) {
                float conf = out[i].confidence;
                out[i].confidence = conf - 0.1f;
                count = add_candidate(out, count, max, t, conf);
            }
        }
    }
    lpr_sort_candidates(out, count);
    if (count > 0 && lpr_region_format_match(region, out[0].text))
        *quality = out[0].confidence;
    return count;
}

int lpr_candidates(const lpr_charpos *pos, int n, lpr_region region, float line_aspect,
                   lpr_candidate *out, int max, lpr_region *region_out)
{
    if (max > LPR_MAX_CANDIDATES)
        max = LPR_MAX_CANDIDATES;
    if (region != LPR_REGION_AUTO) {
        float q;
        *region_out = region;
        return region_candidates(pos, n, region, out, max, &q);
    }

    /* auto: a line that fits a br format nearly as well as it reads
     * unconstrained is br; otherwise wide plates are eu, the rest us. */
    lpr_candidate free_c[LPR_MAX_CANDIDATES], br_c[LPR_MAX_CANDIDATES];
    float qfree, qbr;
    lpr_region generic = line_aspect > 5.0f ? LPR_REGION_EU : LPR_REGION_US;
    int nf = region_candidates(pos, n, generic, free_c, max, &qfree);
    /* eight positions: a br plate whose dash or a bolt was read as a
     * character, if dropping it reads better than the line as it is */
    int nb = n == 7 || n == 8 ? region_candidates(pos, n, LPR_REGION_BR, br_c, max, &qbr) : 0;
    float need = n == 7 ? 0.85f : 1.0f;
    if (nb > 0 && nf > 0 && qbr >= need * free_c[0].confidence) {
        *region_out = LPR_REGION_BR;
        memcpy(out, br_c, (size_t)nb * sizeof *out);
        return nb;
    }
    *region_out = generic;
    memcpy(out, free_c, (size_t)nf * sizeof *out);
    return nf;
}

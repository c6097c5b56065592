/*
 * fuzz_nmea.c - libFuzzer target for the NMEA reader: any bytes, split
 * into lines, must never crash or read out of bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lpr_gps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lpr_nmea *n = lpr_nmea_new();
    lpr_fixes *t = lpr_fixes_new(8);
    char *buf = malloc(size + 1);
    lpr_fix f;
    if (!n || !t || !buf)
        abort();
    memcpy(buf, data, size);
    buf[size] = '\0';
    for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save))
        if (lpr_nmea_feed(n, line, &f))
            lpr_fixes_add(t, &f);
    if (lpr_nmea_flush(n, &f))
        lpr_fixes_add(t, &f);
    lpr_position p;
    lpr_fixes_at(t, lpr_fixes_last_ms(t) + 500, 2000, &p);
    free(buf);
    lpr_fixes_free(t);
    lpr_nmea_free(n);
    return 0;
}

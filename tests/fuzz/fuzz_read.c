/*
 * fuzz_read.c - libFuzzer target for the read JSON parsers: each line as
 * `lpr verify` takes a received message (lpr_read_message_parse, then its
 * payload's members as verify reads them), and each line as `lpr spool
 * push` takes a read (a JSON object, stamped by lpr_read_stamp). Never a
 * crash, a leak or a read out of bounds; a stamped read is a JSON object
 * again, with the stamp's id first.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lpr_read.h"

static void as_message(char *line)
{
    lpr_read_message m;
    if (!lpr_read_message_parse(line, &m)) {
        json_t *j = json_loadb(m.payload, m.len, 0, NULL);
        json_t *plate = json_object_get(j, "plate");
        (void)json_string_value(json_object_get(j, "id"));
        (void)json_string_value(json_object_get(plate, "text"));
        (void)json_real_value(json_object_get(json_object_get(j, "location"), "lat"));
        (void)lpr_read_kind_of(m.payload, m.len);
        json_decref(j);
    }
    lpr_read_message_clear(&m);
}

static void as_push(const char *line, size_t len)
{
    json_t *o = json_loadb(line, len, 0, NULL);
    if (json_is_object(o)) {
        char id[LPR_READ_ID_MAX];
        char *text = lpr_read_stamp(o, "cam-fuzz", "0123456789abcdef", 7, id, sizeof id);
        if (!text)
            abort();
        json_t *back = json_loads(text, 0, NULL);
        if (!json_is_object(back) || strcmp(json_string_value(json_object_get(back, "id")), id))
            abort(); /* the spool stores what lpr_read_stamp made: it must parse */
        json_decref(back);
        free(text);
    }
    json_decref(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    if (!buf)
        abort();
    memcpy(buf, data, size);
    buf[size] = '\0';
    for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        size_t len = strlen(line);
        as_push(line, len);
        as_message(line); /* modifies line: last */
    }
    free(buf);
    return 0;
}

/*
 * record.c - the read record's travelling rules (see lpr_read.h).
 */
#include <stdio.h>
#include <string.h>

#include "lpr_read.h"

lpr_read_kind lpr_read_kind_of(const char *payload, size_t len)
{
    json_t *o = json_loadb(payload, len, 0, NULL);
    lpr_read_kind kind = LPR_READ_KIND_OTHER;
    if (json_is_object(o)) {
        json_t *schema = json_object_get(o, "schema");
        const char *s = json_string_value(schema);
        if (!schema || (s && !strncmp(s, "lpr.read/", 9)))
            kind = LPR_READ_KIND_READ;
        else if (s && !strncmp(s, "lpr.scene/", 10))
            kind = LPR_READ_KIND_SCENE;
    }
    json_decref(o);
    return kind;
}

char *lpr_read_dumps(const json_t *read)
{
    return json_dumps(read, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
}

char *lpr_read_stamp(const json_t *read, const char *device, const char *epoch, int64_t seq,
                     char *id, size_t idlen)
{
    char idbuf[LPR_READ_ID_MAX];
    const char *key;
    json_t *value;
    snprintf(idbuf, sizeof idbuf, "%s-%s-%lld", device, epoch, (long long)seq);
    if (id)
        snprintf(id, idlen, "%s", idbuf);
    json_t *o = json_object();
    json_t *schema = json_object_get(read, "schema");
    json_object_set_new(o, "schema", schema ? json_copy(schema) : json_string(LPR_SCHEMA_READ));
    json_object_set_new(o, "device", json_string(device));
    json_object_set_new(o, "seq", json_integer((json_int_t)seq));
    json_object_set_new(o, "epoch", json_string(epoch));
    json_object_set_new(o, "id", json_string(idbuf));
    json_object_foreach ((json_t *)read, key, value) {
        if (strcmp(key, "schema") && strcmp(key, "device") && strcmp(key, "seq") &&
            strcmp(key, "epoch") && strcmp(key, "id"))
            json_object_set(o, key, value);
    }
    char *text = lpr_read_dumps(o);
    json_decref(o);
    return text;
}

/*
 * record.c - the read record's travelling rules (see lpr_read.h).
 */
#include <stdio.h>
#include <stdlib.h>
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

static int hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

const char *lpr_read_message_parse(char *line, lpr_read_message *m)
{
    memset(m, 0, sizeof *m);
    if (line[0] == '{') {
        json_error_t e;
        json_t *j = json_loads(line, 0, &e);
        const char *p = NULL, *alg = "", *kid = "", *sig = "";
        if (!j || json_unpack(j, "{s:s,s:{s?s,s?s,s?s}}", "payload", &p, "properties", "alg", &alg,
                              "kid", &kid, "sig", &sig) != 0) {
            json_decref(j);
            return "not a message (want payload and properties)";
        }
        m->len = strlen(p);
        m->payload = strdup(p);
        snprintf(m->alg, sizeof m->alg, "%s", alg);
        snprintf(m->kid, sizeof m->kid, "%s", kid);
        snprintf(m->sig, sizeof m->sig, "%s", sig);
        json_decref(j);
        return m->payload ? NULL : "out of memory";
    }
    char *tab = strchr(line, '\t');
    if (!tab)
        return "no TAB between properties and payload";
    *tab = '\0';
    char *hex = tab + 1;
    size_t hl = strcspn(hex, "\r\n");
    if (hl % 2)
        return "payload hex has odd length";
    m->payload = malloc(hl / 2 + 1);
    if (!m->payload)
        return "out of memory";
    for (size_t i = 0; i < hl / 2; i++) {
        int a = hex_digit(hex[2 * i]), b = hex_digit(hex[2 * i + 1]);
        if (a < 0 || b < 0)
            return "payload is not hex";
        m->payload[i] = (char)(a * 16 + b);
    }
    m->len = hl / 2;
    m->payload[m->len] = '\0';
    for (char *save = NULL, *tok = strtok_r(line, " ", &save); tok;
         tok = strtok_r(NULL, " ", &save)) {
        char *colon = strchr(tok, ':');
        if (!colon)
            continue;
        *colon = '\0';
        if (!strcmp(tok, "alg"))
            snprintf(m->alg, sizeof m->alg, "%s", colon + 1);
        else if (!strcmp(tok, "kid"))
            snprintf(m->kid, sizeof m->kid, "%s", colon + 1);
        else if (!strcmp(tok, "sig"))
            snprintf(m->sig, sizeof m->sig, "%s", colon + 1);
    }
    return NULL;
}

void lpr_read_message_clear(lpr_read_message *m)
{
    free(m->payload);
    memset(m, 0, sizeof *m);
}

char *lpr_receipt_make(const char *epoch, const int64_t *seqs, int n)
{
    json_t *o = json_object(), *runs = json_array();
    json_object_set_new(o, "epoch", json_string(epoch));
    for (int i = 0; i < n;) {
        int j = i;
        while (j + 1 < n && seqs[j + 1] == seqs[j] + 1)
            j++;
        json_array_append_new(runs, json_pack("[II]", (json_int_t)seqs[i], (json_int_t)seqs[j]));
        i = j + 1;
    }
    json_object_set_new(o, "seqs", runs);
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return text;
}

const char *lpr_receipt_parse(const char *payload, size_t len, char *epoch, lpr_receipt_range *r,
                              int max, int *n)
{
    *n = 0;
    epoch[0] = 0;
    json_t *o = json_loadb(payload, len, 0, NULL);
    const char *why = NULL;
    const char *e = json_string_value(json_object_get(o, "epoch"));
    json_t *runs = json_object_get(o, "seqs");
    size_t i;
    json_t *run;
    if (!json_is_object(o))
        why = "not a JSON object";
    else if (!e || strlen(e) != 16 || strspn(e, "0123456789abcdef") != 16)
        why = "no epoch of 16 hex digits";
    else if (!json_is_array(runs))
        why = "no seqs array";
    else if ((int)json_array_size(runs) > max)
        why = "too many ranges";
    json_array_foreach (why ? NULL : runs, i, run) {
        json_int_t a, b;
        if (json_unpack(run, "[II!]", &a, &b) || a < 1 || b < a) {
            why = "a range is not [first,last] with 1 <= first <= last";
            break;
        }
        r[i].first = a;
        r[i].last = b;
    }
    if (!why) {
        memcpy(epoch, e, 17);
        *n = (int)json_array_size(runs);
    }
    json_decref(o);
    return why;
}

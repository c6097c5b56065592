/*
 * ingest.c - lpr-ingest, the reference read store (see lpr_ingest.h).
 *
 * Threads: Paho's thread runs on_message, which only copies each message
 * into the inbox (or, when the inbox is full, leaves it unacknowledged for
 * Paho to offer again); the main loop verifies, stores in batches of one
 * transaction, and publishes the receipts once a batch is committed.
 * The store (SQLite or PostgreSQL) and its tables: store.h.
 */
#include <errno.h>
#include <pthread.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <MQTTAsync.h>
#include <jansson.h>

#include "lpr_ingest.h"
#include "lpr_read.h"
#include "lpr_sign.h"
#include "store.h"

#define INBOX_MAX 20000         /* messages taken and not yet stored */
#define BATCH_MAX 2000          /* reads per transaction */
#define RECEIPT_RANGES 1000     /* ranges per receipt message */
#define SESSION_EXPIRY_S 604800 /* the broker keeps reads a week for a stopped store */
#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 30000

typedef struct device_key {
    char device[72];
    lpr_verifier *v;
    struct timespec mtime;
    off_t size;
} device_key;

typedef struct pending {
    char device[72], epoch[17], id[LPR_READ_ID_MAX], kid[48], topic[256];
    int64_t seq;
    unsigned char *payload;
    size_t len;
    unsigned char sig[LPR_SIG_MAX];
    size_t sig_len;
} pending;

typedef struct inbox_msg {
    char *topic;
    char *payload;
    size_t len;
    char alg[16], kid[48], sig[160];
} inbox_msg;

struct lpr_ingest {
    lpr_ingest_options o;
    lpr_store *store;
    void *keys; /* tsearch tree of device_key, by device */
    pending *q;
    int nq;
    lpr_ingest_counters c;
    int store_failing; /* the last commit failed: said once until one works */
    /* drops: each logged with its read's id, but a device's reads dropped
     * for the same reason again within a minute (its resends) only counted */
    char said_drop[480];
    double said_drop_ms;
    int64_t drops_unsaid;

    MQTTAsync client;
    char uri[300];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    inbox_msg *inbox;
    int ninbox;
    int connected, connecting, subscribed;
    double next_connect_ms, backoff_ms;
    char fail_msg[256], last_why[256];
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

void lpr_ingest_options_defaults(lpr_ingest_options *o)
{
    memset(o, 0, sizeof *o);
    o->port = 8883;
    snprintf(o->group, sizeof o->group, "lpr-ingest");
    snprintf(o->topic_root, sizeof o->topic_root, "lpr/v1/");
    o->batch_ms = 50;
}

/* ---- keys ---- */

static int key_cmp(const void *a, const void *b)
{
    return strcmp(((const device_key *)a)->device, ((const device_key *)b)->device);
}

static void key_free(void *p)
{
    device_key *k = p;
    lpr_verifier_free(k->v);
    free(k);
}

/* The device's verifier, loaded again when its file changed; NULL with
 * why when there is none. */
static lpr_verifier *key_of(lpr_ingest *g, const char *device, char *why, size_t whylen)
{
    char path[LPR_INGEST_STR + 100];
    snprintf(path, sizeof path, "%s/%s.pub.pem", g->o.keys_dir, device);
    struct stat st;
    device_key probe, *k = NULL;
    snprintf(probe.device, sizeof probe.device, "%s", device);
    device_key **found = tfind(&probe, &g->keys, key_cmp);
    if (stat(path, &st) != 0) {
        snprintf(why, whylen, "no key registered for device %s (%.300s: %s)", device, path,
                 strerror(errno));
        return NULL;
    }
    if (found) {
        k = *found;
        if (k->size == st.st_size && k->mtime.tv_sec == st.st_mtim.tv_sec &&
            k->mtime.tv_nsec == st.st_mtim.tv_nsec)
            return k->v;
        tdelete(k, &g->keys, key_cmp);
        key_free(k);
    }
    lpr_verifier *v;
    if (lpr_verifier_load(path, &v) != LPR_OK) {
        snprintf(why, whylen, "device %s's key %.300s is not a public key in PEM", device, path);
        return NULL;
    }
    k = calloc(1, sizeof *k);
    if (!k) {
        lpr_verifier_free(v);
        snprintf(why, whylen, "out of memory");
        return NULL;
    }
    snprintf(k->device, sizeof k->device, "%s", device);
    k->v = v;
    k->mtime = st.st_mtim;
    k->size = st.st_size;
    tsearch(k, &g->keys, key_cmp);
    return v;
}

/* ---- taking, committing ---- */

lpr_err lpr_ingest_new(const lpr_ingest_options *o, lpr_ingest **out)
{
    *out = NULL;
    struct stat st;
    if (stat(o->keys_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        LPR_ERROR("ingest", "key folder %s: %s", o->keys_dir,
                  errno ? strerror(errno) : "not a folder");
        return LPR_ENOENT;
    }
    lpr_ingest *g = calloc(1, sizeof *g);
    if (!g)
        return LPR_ENOMEM;
    g->o = *o;
    if (!g->o.client_id[0]) {
        char host[64] = "host";
        gethostname(host, sizeof host - 1);
        snprintf(g->o.client_id, sizeof g->o.client_id, "lpr-ingest-%s", host);
    }
    g->q = calloc(BATCH_MAX, sizeof *g->q);
    g->inbox = calloc(INBOX_MAX, sizeof *g->inbox);
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    lpr_err rc = g->q && g->inbox ? lpr_store_open(o->db, &g->store) : LPR_ENOMEM;
    if (rc != LPR_OK) {
        lpr_ingest_free(g);
        return rc;
    }
    *out = g;
    return LPR_OK;
}

static void pending_clear(pending *p)
{
    free(p->payload);
    memset(p, 0, sizeof *p);
}

static void inbox_clear(inbox_msg *m)
{
    free(m->topic);
    free(m->payload);
    memset(m, 0, sizeof *m);
}

void lpr_ingest_free(lpr_ingest *g)
{
    if (!g)
        return;
    if (g->client)
        MQTTAsync_destroy(&g->client);
    for (int i = 0; i < g->nq; i++)
        pending_clear(&g->q[i]);
    for (int i = 0; i < g->ninbox; i++)
        inbox_clear(&g->inbox[i]);
    lpr_store_close(g->store);
    tdestroy(g->keys, key_free);
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->cv);
    free(g->q);
    free(g->inbox);
    free(g);
}

int lpr_ingest_queued(const lpr_ingest *g)
{
    return g->nq;
}

/* topic = <root><device>/read or /scene; device gets the device. */
static int topic_device(const lpr_ingest *g, const char *topic, char *device, size_t n)
{
    size_t rl = strlen(g->o.topic_root);
    if (strncmp(topic, g->o.topic_root, rl))
        return 0;
    const char *d = topic + rl, *slash = strchr(d, '/');
    if (!slash || (strcmp(slash, "/read") && strcmp(slash, "/scene")))
        return 0;
    size_t len = (size_t)(slash - d);
    if (len == 0 || len >= n ||
        strspn(d, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") != len)
        return 0;
    memcpy(device, d, len);
    device[len] = 0;
    return 1;
}

lpr_ingest_result lpr_ingest_take(lpr_ingest *g, const char *topic, const void *payload, size_t len,
                                  const char *alg, const char *kid, const char *sig, char *why,
                                  size_t whylen)
{
    char device[72] = "", reason[400] = "";
    const char *id = NULL, *dev = NULL, *epoch = NULL;
    json_int_t seq = 0;
    json_t *j = NULL;
    lpr_verifier *v = NULL;
    g->c.received++;
    if (!topic_device(g, topic, device, sizeof device)) {
        snprintf(reason, sizeof reason, "topic is not %s<device>/read or /scene", g->o.topic_root);
    } else if (!(v = key_of(g, device, reason, sizeof reason))) {
        /* reason set */
    } else {
        const char *bad = lpr_verify_message(v, payload, len, alg, kid, sig);
        if (bad)
            snprintf(reason, sizeof reason, "%s", bad);
    }
    if (!reason[0]) {
        j = json_loadb(payload, len, 0, NULL);
        if (json_unpack(j, "{s:s,s:s,s:I,s:s}", "device", &dev, "epoch", &epoch, "seq", &seq, "id",
                        &id) != 0)
            snprintf(reason, sizeof reason, "validly signed, but no device, epoch, seq and id");
        else if (strcmp(dev, device))
            snprintf(reason, sizeof reason, "signed by %s's key but says device %.64s", device,
                     dev);
        else if (strlen(epoch) != 16 || strspn(epoch, "0123456789abcdef") != 16 || seq < 1 ||
                 strlen(id) >= LPR_READ_ID_MAX)
            snprintf(reason, sizeof reason, "epoch, seq or id malformed");
    }
    if (!reason[0] && g->nq >= BATCH_MAX)
        snprintf(reason, sizeof reason, "the batch is full (commit first)");
    if (reason[0]) {
        char what[200];
        if (!id) { /* name it by the id it claims, if any */
            json_decref(j);
            j = json_loadb(payload, len, 0, NULL);
            id = json_string_value(json_object_get(j, "id"));
        }
        lpr_text_visible(id ? id : topic, what, sizeof what);
        char key[sizeof g->said_drop];
        snprintf(key, sizeof key, "%.72s %s", device, reason);
        double t = now_ms();
        if (strcmp(key, g->said_drop) || t - g->said_drop_ms > 60000.0) {
            if (g->drops_unsaid)
                LPR_WARN("ingest", "(%lld more reads dropped for the reason before)",
                         (long long)g->drops_unsaid);
            LPR_WARN("ingest", "read %s dropped: %s", what, reason);
            snprintf(g->said_drop, sizeof g->said_drop, "%s", key);
            g->said_drop_ms = t;
            g->drops_unsaid = 0;
        } else {
            g->drops_unsaid++;
        }
        if (why)
            snprintf(why, whylen, "%s", reason);
        g->c.rejected++;
        json_decref(j);
        return LPR_INGEST_REJECTED;
    }
    pending *p = &g->q[g->nq];
    memset(p, 0, sizeof *p);
    snprintf(p->device, sizeof p->device, "%s", device);
    snprintf(p->epoch, sizeof p->epoch, "%s", epoch);
    snprintf(p->id, sizeof p->id, "%s", id);
    snprintf(p->kid, sizeof p->kid, "%s", kid);
    snprintf(p->topic, sizeof p->topic, "%s", topic);
    p->seq = seq;
    p->payload = malloc(len ? len : 1);
    lpr_base64_decode(sig, p->sig, sizeof p->sig, &p->sig_len); /* checked by lpr_verify_message */
    json_decref(j);
    if (!p->payload) {
        g->c.rejected++;
        return LPR_INGEST_REJECTED;
    }
    memcpy(p->payload, payload, len);
    p->len = len;
    g->nq++;
    return LPR_INGEST_QUEUED;
}

void lpr_ingest_receipts_free(lpr_ingest_receipt *r, int n)
{
    for (int i = 0; i < n; i++) {
        free(r[i].topic);
        free(r[i].payload);
    }
    free(r);
}

static int pending_order(const void *a, const void *b)
{
    const pending *x = *(pending *const *)a, *y = *(pending *const *)b;
    int c = strcmp(x->device, y->device);
    if (!c)
        c = strcmp(x->epoch, y->epoch);
    return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

/* One receipt per device and epoch (several when it has many ranges). */
static lpr_err make_receipts(lpr_ingest *g, lpr_ingest_receipt **out, int *nout)
{
    *out = NULL;
    *nout = 0;
    pending **ord = malloc((size_t)g->nq * sizeof *ord);
    int64_t *seqs = malloc((size_t)g->nq * sizeof *seqs);
    lpr_ingest_receipt *r = calloc((size_t)g->nq, sizeof *r);
    if (!ord || !seqs || !r) {
        free(ord);
        free(seqs);
        free(r);
        return LPR_ENOMEM;
    }
    for (int i = 0; i < g->nq; i++)
        ord[i] = &g->q[i];
    qsort(ord, (size_t)g->nq, sizeof *ord, pending_order);
    int nr = 0;
    for (int i = 0; i < g->nq;) {
        int n = 0, runs = 0, j = i;
        for (; j < g->nq && !strcmp(ord[j]->device, ord[i]->device) &&
               !strcmp(ord[j]->epoch, ord[i]->epoch);
             j++) {
            if (n > 0 && seqs[n - 1] == ord[j]->seq)
                continue;
            if (n > 0 && seqs[n - 1] + 1 != ord[j]->seq && ++runs >= RECEIPT_RANGES)
                break;
            seqs[n++] = ord[j]->seq;
        }
        char topic[512];
        snprintf(topic, sizeof topic, "%s%s/receipt", g->o.topic_root, ord[i]->device);
        r[nr].topic = strdup(topic);
        r[nr].payload = lpr_receipt_make(ord[i]->epoch, seqs, n);
        if (!r[nr].topic || !r[nr].payload) {
            lpr_ingest_receipts_free(r, nr + 1);
            free(ord);
            free(seqs);
            return LPR_ENOMEM;
        }
        nr++;
        i = j;
    }
    free(ord);
    free(seqs);
    *out = r;
    *nout = nr;
    return LPR_OK;
}

/* "stored ID plate=TEXT at=TIME pos=LAT,LON": what the demo shows. */
static void print_read(const pending *p)
{
    json_t *j = json_loadb((const char *)p->payload, p->len, 0, NULL);
    const char *text = json_string_value(json_object_get(json_object_get(j, "plate"), "text"));
    const char *at = json_string_value(json_object_get(j, "observed_at"));
    json_t *loc = json_object_get(j, "location");
    char vis[64];
    lpr_text_visible(text ? text : "-", vis, sizeof vis);
    printf("stored  %s plate=%s at=%s", p->id, vis, at ? at : "-");
    if (json_is_number(json_object_get(loc, "lat")))
        printf(" pos=%.6f,%.6f", json_number_value(json_object_get(loc, "lat")),
               json_number_value(json_object_get(loc, "lon")));
    printf("\n");
    fflush(stdout);
    json_decref(j);
}

lpr_err lpr_ingest_commit(lpr_ingest *g, lpr_ingest_receipt **receipts, int *n,
                          lpr_ingest_result *results)
{
    *receipts = NULL;
    *n = 0;
    if (g->nq == 0)
        return LPR_OK;
    char at[32];
    lpr_format_utc_ms(lpr_realtime_ms(), at, sizeof at);
    int64_t got[5] = {0};
    int ok = lpr_store_begin(g->store) == 0;
    for (int i = 0; ok && i < g->nq; i++) {
        const pending *p = &g->q[i];
        lpr_store_read r = {p->device, p->epoch,   p->id,  p->topic, p->kid,
                            p->seq,    p->payload, p->len, p->sig,   p->sig_len};
        int res = lpr_store_put(g->store, &r, at);
        if (res < 0) {
            ok = 0;
            break;
        }
        lpr_ingest_result k = res == LPR_STORE_NEW      ? LPR_INGEST_STORED
                              : res == LPR_STORE_REPEAT ? LPR_INGEST_REPEAT
                                                        : LPR_INGEST_CONFLICT;
        got[k]++;
        if (results)
            results[i] = k;
        if (k == LPR_INGEST_STORED && g->o.print)
            print_read(p);
    }
    ok = ok && lpr_store_count(g->store, "repeats", got[LPR_INGEST_REPEAT]) == 0 &&
         lpr_store_count(g->store, "conflicts", got[LPR_INGEST_CONFLICT]) == 0 &&
         lpr_store_commit(g->store) == 0;
    if (!ok) {
        if (!g->store_failing)
            LPR_ERROR("ingest",
                      "database %s: cannot store %d reads: %s; they get no receipt, so their "
                      "devices keep them and send them again; retrying",
                      lpr_store_name(g->store), g->nq, lpr_store_error(g->store));
        g->store_failing = 1;
        lpr_store_rollback(g->store);
        return LPR_EDB;
    }
    if (g->store_failing)
        LPR_INFO("ingest", "database %s: storing again", lpr_store_name(g->store));
    g->store_failing = 0;
    g->c.stored += got[LPR_INGEST_STORED];
    g->c.repeats += got[LPR_INGEST_REPEAT];
    g->c.conflicts += got[LPR_INGEST_CONFLICT];
    lpr_err rc = make_receipts(g, receipts, n);
    for (int i = 0; i < g->nq; i++)
        pending_clear(&g->q[i]);
    g->nq = 0;
    return rc;
}

void lpr_ingest_get_counters(lpr_ingest *g, lpr_ingest_counters *c)
{
    *c = g->c;
}

/* ---- MQTT ---- */

static void on_connection_lost(void *ctx, char *cause)
{
    lpr_ingest *g = ctx;
    LPR_WARN("ingest", "connection to %s lost: %s", g->uri, cause ? cause : "unknown cause");
    pthread_mutex_lock(&g->mu);
    g->connected = 0;
    g->subscribed = 0;
    g->next_connect_ms = now_ms() + g->backoff_ms;
    pthread_cond_signal(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

static void copy_prop(const MQTTProperties *p, const char *name, char *out, size_t n)
{
    out[0] = 0;
    for (int i = 0; i < p->count; i++) {
        const MQTTProperty *q = &p->array[i];
        if (q->identifier != MQTTPROPERTY_CODE_USER_PROPERTY ||
            (size_t)q->value.data.len != strlen(name) ||
            memcmp(q->value.data.data, name, strlen(name)))
            continue;
        size_t len = (size_t)q->value.value.len < n - 1 ? (size_t)q->value.value.len : n - 1;
        memcpy(out, q->value.value.data, len);
        out[len] = 0;
        return;
    }
}

static int on_message(void *ctx, char *topic, int topic_len, MQTTAsync_message *m)
{
    lpr_ingest *g = ctx;
    pthread_mutex_lock(&g->mu);
    if (g->ninbox >= INBOX_MAX) {
        /* the store is behind: leave it unacknowledged, Paho offers it again */
        pthread_mutex_unlock(&g->mu);
        return 0;
    }
    inbox_msg *b = &g->inbox[g->ninbox];
    size_t tl = topic_len > 0 ? (size_t)topic_len : strlen(topic);
    b->topic = malloc(tl + 1);
    b->payload = malloc((size_t)m->payloadlen + 1);
    if (!b->topic || !b->payload) {
        inbox_clear(b);
        pthread_mutex_unlock(&g->mu);
        return 0;
    }
    memcpy(b->topic, topic, tl);
    b->topic[tl] = 0;
    memcpy(b->payload, m->payload, (size_t)m->payloadlen);
    b->payload[m->payloadlen] = 0;
    b->len = (size_t)m->payloadlen;
    copy_prop(&m->properties, "alg", b->alg, sizeof b->alg);
    copy_prop(&m->properties, "kid", b->kid, sizeof b->kid);
    copy_prop(&m->properties, "sig", b->sig, sizeof b->sig);
    g->ninbox++;
    pthread_cond_signal(&g->cv);
    pthread_mutex_unlock(&g->mu);
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(topic);
    return 1;
}

static void on_connect_ok(void *ctx, MQTTAsync_successData5 *resp)
{
    lpr_ingest *g = ctx;
    (void)resp;
    pthread_mutex_lock(&g->mu);
    g->connected = 1;
    g->connecting = 0;
    g->backoff_ms = BACKOFF_MIN_MS;
    pthread_cond_signal(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

static void on_connect_fail(void *ctx, MQTTAsync_failureData5 *resp)
{
    lpr_ingest *g = ctx;
    pthread_mutex_lock(&g->mu);
    g->connecting = 0;
    if (resp && resp->reasonCode)
        snprintf(g->fail_msg, sizeof g->fail_msg, "%s (reason %d)",
                 MQTTReasonCode_toString(resp->reasonCode), resp->reasonCode);
    else
        snprintf(g->fail_msg, sizeof g->fail_msg, "%s",
                 resp && resp->message ? resp->message : "no answer (TLS or network)");
    g->next_connect_ms = now_ms() + g->backoff_ms;
    g->backoff_ms = g->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : g->backoff_ms * 2;
    pthread_cond_signal(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

static void on_subscribe_fail(void *ctx, MQTTAsync_failureData5 *resp)
{
    lpr_ingest *g = ctx;
    LPR_ERROR("ingest",
              "broker %s refused the subscription: %s (does the ACL let this "
              "certificate read $share/%s/%s#?)",
              g->uri, resp ? MQTTReasonCode_toString(resp->reasonCode) : "no answer", g->o.group,
              g->o.topic_root);
}

static void on_subscribe_ok(void *ctx, MQTTAsync_successData5 *resp)
{
    lpr_ingest *g = ctx;
    for (int i = 0; resp && i < resp->alt.sub.reasonCodeCount; i++)
        if (resp->alt.sub.reasonCodes[i] >= MQTTREASONCODE_UNSPECIFIED_ERROR) {
            on_subscribe_fail(ctx, NULL);
            return;
        }
    if (resp && resp->reasonCode >= MQTTREASONCODE_UNSPECIFIED_ERROR) {
        on_subscribe_fail(ctx, NULL);
        return;
    }
    LPR_INFO("ingest", "subscribed to $share/%s/%s+/read and /scene", g->o.group, g->o.topic_root);
}

static void start_connect(lpr_ingest *g)
{
    MQTTAsync_connectOptions opts = MQTTAsync_connectOptions_initializer5;
    MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
    MQTTProperties props = MQTTProperties_initializer;
    MQTTProperty expiry = {.identifier = MQTTPROPERTY_CODE_SESSION_EXPIRY_INTERVAL,
                           .value.integer4 = SESSION_EXPIRY_S};
    MQTTProperties_add(&props, &expiry);
    opts.keepAliveInterval = 30;
    opts.cleanstart = 0; /* the broker keeps the reads while no instance runs */
    opts.connectTimeout = 10;
    opts.onSuccess5 = on_connect_ok;
    opts.onFailure5 = on_connect_fail;
    opts.context = g;
    opts.connectProperties = &props;
    if (!g->o.insecure) {
        ssl.trustStore = g->o.ca;
        ssl.keyStore = g->o.cert;
        ssl.privateKey = g->o.key;
        ssl.enableServerCertAuth = 1;
        ssl.verify = 1;
        ssl.sslVersion = MQTT_SSL_VERSION_TLS_1_2;
        opts.ssl = &ssl;
    }
    pthread_mutex_lock(&g->mu);
    g->connecting = 1;
    pthread_mutex_unlock(&g->mu);
    int rc = MQTTAsync_connect(g->client, &opts);
    MQTTProperties_free(&props);
    if (rc != MQTTASYNC_SUCCESS) {
        pthread_mutex_lock(&g->mu);
        g->connecting = 0;
        snprintf(g->fail_msg, sizeof g->fail_msg, "%s", MQTTAsync_strerror(rc));
        g->next_connect_ms = now_ms() + g->backoff_ms;
        pthread_mutex_unlock(&g->mu);
    }
}

static void subscribe(lpr_ingest *g)
{
    char t0[300], t1[300];
    snprintf(t0, sizeof t0, "$share/%s/%s+/read", g->o.group, g->o.topic_root);
    snprintf(t1, sizeof t1, "$share/%s/%s+/scene", g->o.group, g->o.topic_root);
    char *topics[] = {t0, t1};
    int qos[] = {1, 1};
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    ro.onSuccess5 = on_subscribe_ok;
    ro.onFailure5 = on_subscribe_fail;
    ro.context = g;
    int rc = MQTTAsync_subscribeMany(g->client, 2, topics, qos, &ro);
    if (rc != MQTTASYNC_SUCCESS)
        LPR_ERROR("ingest", "cannot subscribe on %s: %s", g->uri, MQTTAsync_strerror(rc));
}

static void publish_receipts(lpr_ingest *g, lpr_ingest_receipt *r, int n)
{
    for (int i = 0; i < n; i++) {
        MQTTAsync_message msg = MQTTAsync_message_initializer;
        msg.payload = r[i].payload;
        msg.payloadlen = (int)strlen(r[i].payload);
        msg.qos = 1;
        MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
        /* a receipt lost here costs a resend by the device, nothing more */
        if (MQTTAsync_sendMessage(g->client, r[i].topic, &msg, &ro) == MQTTASYNC_SUCCESS)
            g->c.receipts++;
    }
}

lpr_err lpr_ingest_run(lpr_ingest *g, volatile sig_atomic_t *stop)
{
    MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer5;
    snprintf(g->uri, sizeof g->uri, "%s://%s:%d", g->o.insecure ? "tcp" : "ssl", g->o.host,
             g->o.port);
    if (MQTTAsync_createWithOptions(&g->client, g->uri, g->o.client_id, MQTTCLIENT_PERSISTENCE_NONE,
                                    NULL, &co) != MQTTASYNC_SUCCESS ||
        MQTTAsync_setCallbacks(g->client, g, on_connection_lost, on_message, NULL) !=
            MQTTASYNC_SUCCESS) {
        LPR_ERROR("ingest", "cannot make an MQTT client for %s", g->uri);
        return LPR_ENET;
    }
    LPR_INFO("ingest", "broker %s, database %s, keys %s, client %s", g->uri,
             lpr_store_name(g->store), g->o.keys_dir, g->o.client_id);
    g->backoff_ms = BACKOFF_MIN_MS;
    static inbox_msg batch[INBOX_MAX];
    int was_connected = 0;
    start_connect(g);
    while (!*stop) {
        pthread_mutex_lock(&g->mu);
        struct timespec ts = lpr_deadline_in_ms(g->o.batch_ms);
        if (g->ninbox < BATCH_MAX)
            pthread_cond_timedwait(&g->cv, &g->mu, &ts);
        int take = g->ninbox < BATCH_MAX - g->nq ? g->ninbox : BATCH_MAX - g->nq;
        memcpy(batch, g->inbox, (size_t)take * sizeof *batch);
        memmove(g->inbox, g->inbox + take, (size_t)(g->ninbox - take) * sizeof *g->inbox);
        g->ninbox -= take;
        int conn = g->connected, connecting = g->connecting;
        double next_connect = g->next_connect_ms;
        char fail[256];
        snprintf(fail, sizeof fail, "%s", g->fail_msg);
        g->fail_msg[0] = 0;
        pthread_mutex_unlock(&g->mu);

        if (fail[0] && strcmp(fail, g->last_why)) {
            LPR_ERROR("ingest", "cannot connect to %s: %s; retrying", g->uri, fail);
            snprintf(g->last_why, sizeof g->last_why, "%s", fail);
        }
        if (conn && !was_connected) {
            LPR_INFO("ingest", "connected to %s", g->uri);
            g->last_why[0] = 0;
            subscribe(g);
        }
        was_connected = conn;
        for (int i = 0; i < take; i++) {
            lpr_ingest_take(g, batch[i].topic, batch[i].payload, batch[i].len, batch[i].alg,
                            batch[i].kid, batch[i].sig, NULL, 0);
            inbox_clear(&batch[i]);
        }
        lpr_ingest_receipt *r;
        int nr;
        if (lpr_ingest_commit(g, &r, &nr, NULL) == LPR_OK) {
            if (conn)
                publish_receipts(g, r, nr);
            lpr_ingest_receipts_free(r, nr);
        }
        if (!conn && !connecting && now_ms() >= next_connect)
            start_connect(g);
    }
    if (MQTTAsync_isConnected(g->client)) {
        MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer5;
        d.timeout = 2000;
        MQTTAsync_disconnect(g->client, &d);
        for (int i = 0; i < 100 && MQTTAsync_isConnected(g->client); i++)
            usleep(20000);
    }
    return LPR_OK;
}

/*
 * uplink.c - the spool-to-broker loop of lpr-uplink (see lpr_uplink.h).
 *
 * Threads: Paho's threads run the callbacks, which only queue what happened
 * (acked seqs, failed seqs, connection up/down) under a mutex and signal a
 * condition variable; the one main-loop thread owns the spool connection
 * and all decisions. The reads come sealed: the camera side signed each
 * one as it spooled it (lpr_spool_set_sealer), so the uplink holds no
 * signing key and sends the bytes and signature it finds. After a
 * reconnect the cursor goes back to the oldest read still spooled, so
 * anything unacknowledged is sent again with the same bytes and signature
 * (a duplicate, never a loss).
 */
#include <errno.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <MQTTAsync.h>
#include <jansson.h>

#include "lpr_gps.h"
#include "lpr_read.h"
#include "lpr_sign.h"
#include "lpr_spool.h"
#include "health.h"
#include "lpr_uplink.h"

#define LAT_RING 4096
#define QUEUE_MAX 65536
#define BACKOFF_MIN_MS 500
/* acknowledged reads waiting for their delete: beyond this, publishing *
 * pauses until the spool deletes again (the spool keeps them either way) */
#define BACKOFF_MAX_MS 60000
#define UNDELETED_MAX 4096
#define DELETE_RETRY_MIN_MS 200.0
#define DELETE_RETRY_MAX_MS 5000.0
/* delete_on = receipt: reads the broker acknowledged and the store has not
 * confirmed yet; publishing pauses when this many wait */
#define AWAIT_MAX 8192
#define RECEIPTS_QUEUED 256 /* receipt messages waiting for the main loop */
#define RECEIPT_RANGES_MAX 4096
#define RESEND_MAX_MS 3600000.0 /* the longest wait before sending unconfirmed reads again */

typedef struct inflight_slot {
    int64_t seq;
    double t_pub;
    int resends; /* times this read went again for want of a receipt */
} inflight_slot;

typedef struct awaiting_read {
    int64_t seq;
    double t_ack; /* when the broker acknowledged it */
    int resends;
} awaiting_read;

struct lpr_uplink {
    lpr_config cfg;
    lpr_spool *spool;
    char kid[LPR_KID_LEN]; /* the device key's id (its public key), for status */
    int64_t unsealed_said; /* the unsealed read last named in the log */
    MQTTAsync client;
    char uri[300];
    char topic_read[300], topic_scene[300], topic_status[300], topic_health[300];
    char topic_receipt[300];
    int by_receipt; /* [uplink] delete_on = receipt */
    char will_payload[256];
    char connected_at[32];              /* UTC time of the CONNECT that armed the will */
    int degraded;                       /* the state the retained status last said */
    int status_send_rc, health_send_rc; /* last MQTTAsync_sendMessage results */

    pthread_mutex_t mu;
    pthread_cond_t cv;
    int connected; /* set by callbacks */
    int connecting;
    int ever_connected;
    int64_t acked[QUEUE_MAX];
    double acked_t[QUEUE_MAX];
    int nacked;
    int64_t failed[QUEUE_MAX];
    int failed_reason[QUEUE_MAX]; /* the broker's reason code, 0 if none came */
    int nfailed;
    char *receipts[RECEIPTS_QUEUED]; /* payloads from on_message */
    size_t receipt_len[RECEIPTS_QUEUED];
    int nreceipts;
    double next_connect_ms;
    double backoff_ms;
    int diagnose; /* a connect failed: say why from the main loop */
    char fail_msg[256];
    char last_why[800]; /* the last reason logged, to log changes only */

    /* main-loop state */
    inflight_slot *slots;
    int nslots;
    int64_t cursor;
    int was_connected;
    double start_ms;
    double lat[LAT_RING];
    int64_t nlat;
    int64_t sent, published, reconnects;
    int64_t progress; /* atomic: main-loop turns that acknowledged reads, had
                       * nothing to send, or waited for the broker */

    /* publishes the broker refused (PUBACK reason >= 0x80, e.g. an ACL):
     * counted, logged once per reason, and paused with the same capped
     * backoff as a lost connection; the reads stay spooled */
    int64_t refused;
    int last_refusal; /* reason code of the last refusal, 0 if none */
    double refusal_backoff_ms;
    double publish_paused_until;
    int logged_refusal;      /* the reason last logged, to log changes only */
    int logged_publish_fail; /* a failure without a reason was logged */
    /* acknowledged reads the spool could not delete yet (locked, full disk,
     * I/O): retried with backoff while publishing goes on */
    int64_t undeleted[UNDELETED_MAX];
    int nundeleted;
    double delete_retry_ms, delete_backoff_ms;

    /* delete_on = receipt: acknowledged, in the order acknowledged, waiting
     * for the store's receipt; each sent again once it has waited
     * receipt_timeout_s << resends (up to RESEND_MAX_MS) */
    awaiting_read *awaiting;
    int nawaiting;
    double next_resend_check; /* no awaiting read is due before this */
    int64_t resent;           /* reads sent again for want of a receipt */
    int64_t confirmed;        /* reads deleted on a receipt */
    int said_no_receipt;      /* the wait for a receipt was logged */
    char said_epoch[17];      /* a receipt for another spool epoch was logged */
};

static lpr_uplink *the_uplink; /* Paho callbacks reach the instance here */

static double now_ms(void)
{
    return lpr_monotonic_ms();
}

static void schedule_reconnect_locked(lpr_uplink *u)
{
    /* capped exponential backoff with +-50% jitter, so a fleet that lost
     * its broker does not come back in lockstep */
    double jitter = 0.5 + (double)(rand() % 1000) / 1000.0;
    u->next_connect_ms = now_ms() + u->backoff_ms * jitter;
    u->backoff_ms *= 2;
    if (u->backoff_ms > BACKOFF_MAX_MS)
        u->backoff_ms = BACKOFF_MAX_MS;
}

static void on_connection_lost(void *ctx, char *cause)
{
    lpr_uplink *u = ctx;
    LPR_WARN("uplink", "connection to %s lost: %s", u->uri, cause ? cause : "unknown cause");
    pthread_mutex_lock(&u->mu);
    u->connected = 0;
    schedule_reconnect_locked(u);
    pthread_cond_signal(&u->cv);
    pthread_mutex_unlock(&u->mu);
}

/* Receipts (the only messages subscribed to) go to the main loop; when
 * it is behind, the message stays unacknowledged and Paho offers it again. */
static int on_message(void *ctx, char *topic, int topic_len, MQTTAsync_message *m)
{
    lpr_uplink *u = ctx;
    (void)topic_len;
    if (!strcmp(topic, u->topic_receipt)) {
        pthread_mutex_lock(&u->mu);
        if (u->nreceipts >= RECEIPTS_QUEUED) {
            pthread_mutex_unlock(&u->mu);
            return 0;
        }
        char *p = malloc((size_t)m->payloadlen + 1);
        if (!p) {
            pthread_mutex_unlock(&u->mu);
            return 0;
        }
        memcpy(p, m->payload, (size_t)m->payloadlen);
        p[m->payloadlen] = 0;
        u->receipt_len[u->nreceipts] = (size_t)m->payloadlen;
        u->receipts[u->nreceipts++] = p;
        pthread_cond_signal(&u->cv);
        pthread_mutex_unlock(&u->mu);
    }
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(topic);
    return 1;
}

static void on_connect_ok(void *ctx, MQTTAsync_successData5 *resp)
{
    lpr_uplink *u = ctx;
    (void)resp;
    pthread_mutex_lock(&u->mu);
    u->connected = 1;
    u->connecting = 0;
    u->backoff_ms = BACKOFF_MIN_MS;
    pthread_cond_signal(&u->cv);
    pthread_mutex_unlock(&u->mu);
}

static void on_connect_fail(void *ctx, MQTTAsync_failureData5 *resp)
{
    lpr_uplink *u = ctx;
    pthread_mutex_lock(&u->mu);
    u->diagnose = !u->cfg.uplink.insecure;
    snprintf(u->fail_msg, sizeof u->fail_msg, "%s (code %d, reason %d)",
             resp && resp->message ? resp->message : "connection refused", resp ? resp->code : 0,
             resp ? (int)resp->reasonCode : 0);
    u->connecting = 0;
    schedule_reconnect_locked(u);
    pthread_mutex_unlock(&u->mu);
}

static void on_publish_ok(void *ctx, MQTTAsync_successData5 *resp)
{
    lpr_uplink *u = the_uplink;
    (void)resp;
    pthread_mutex_lock(&u->mu);
    if (u->nacked < QUEUE_MAX) {
        u->acked[u->nacked] = (int64_t)(intptr_t)ctx;
        u->acked_t[u->nacked] = now_ms();
        u->nacked++;
    }
    pthread_cond_signal(&u->cv);
    pthread_mutex_unlock(&u->mu);
}

static void on_publish_fail(void *ctx, MQTTAsync_failureData5 *resp)
{
    lpr_uplink *u = the_uplink;
    /* logged by the main loop, once per reason: a refused publish comes
     * back within a millisecond, and so would its log line */
    pthread_mutex_lock(&u->mu);
    if (u->nfailed < QUEUE_MAX) {
        u->failed_reason[u->nfailed] = resp ? (int)resp->reasonCode : 0;
        u->failed[u->nfailed++] = (int64_t)(intptr_t)ctx;
    }
    pthread_cond_signal(&u->cv);
    pthread_mutex_unlock(&u->mu);
}

static int on_ssl_error(const char *str, size_t len, void *ctx)
{
    lpr_uplink *u = ctx;
    /* OpenSSL's own text, multi-line; the diagnosis after a failed connect
     * says the same in one line */
    LPR_DEBUG("uplink", "TLS with %s: %.*s", u->uri,
              (int)strcspn(str, "\n") < (int)len ? (int)strcspn(str, "\n") : (int)len, str);
    return 0;
}

static lpr_err check_readable(const char *what, const char *path)
{
    if (!path[0]) {
        LPR_ERROR("uplink", "[uplink] %s is not set", what);
        return LPR_EINVAL;
    }
    if (access(path, R_OK) != 0) {
        LPR_ERROR("uplink", "[uplink] %s %s: %s", what, path, strerror(errno));
        return LPR_ENOENT;
    }
    return LPR_OK;
}

lpr_err lpr_uplink_new(const lpr_config *cfg, lpr_uplink **out)
{
    lpr_err rc;
    char err[600];
    *out = NULL;
    if (the_uplink) {
        LPR_ERROR("uplink", "one lpr_uplink per process");
        return LPR_EINVAL;
    }
    lpr_uplink *u = calloc(1, sizeof *u);
    if (!u)
        return LPR_ENOMEM;
    u->cfg = *cfg;
    pthread_mutex_init(&u->mu, NULL);
    pthread_cond_init(&u->cv, NULL);
    u->backoff_ms = BACKOFF_MIN_MS;
    u->refusal_backoff_ms = BACKOFF_MIN_MS;
    if (!cfg->uplink.host[0]) {
        LPR_ERROR("uplink", "[uplink] host is not set");
        rc = LPR_EINVAL;
        goto fail;
    }
    /* the key id, from the public key lpr keygen wrote beside the device
     * key (which only the camera user reads) */
    char pub[LPR_CFG_STR + 16];
    lpr_verifier *v = NULL;
    lpr_pub_path_of(cfg->uplink.sign_key, pub, sizeof pub);
    if (lpr_verifier_load(pub, &v) == LPR_OK) {
        snprintf(u->kid, sizeof u->kid, "%s", lpr_verifier_kid(v));
        lpr_verifier_free(v);
    } else {
        LPR_WARN("uplink", "%s: no public key: status gives no key id (reads carry their own)",
                 pub);
    }
    if (!cfg->uplink.insecure) {
        if ((rc = check_readable("ca", cfg->uplink.ca)) != LPR_OK ||
            (rc = check_readable("cert", cfg->uplink.cert)) != LPR_OK)
            goto fail;
        if ((rc = lpr_check_secret_file(cfg->uplink.key, err, sizeof err)) != LPR_OK) {
            LPR_ERROR("uplink", "[uplink] key %s", err);
            goto fail;
        }
    }
    lpr_spool_opts so = lpr_spool_opts_from_config(cfg);
    /* the publisher's deletes run in its loop: a locked spool must not stall
     * acks and publishing for 10 s each time; a failed delete is retried */
    so.busy_ms = 500;
    if ((rc = lpr_spool_open(cfg->spool.path, &so, &u->spool)) != LPR_OK)
        goto fail;
    u->nslots = cfg->uplink.inflight;
    u->slots = calloc((size_t)u->nslots, sizeof *u->slots);
    if (!u->slots) {
        rc = LPR_ENOMEM;
        goto fail;
    }
    snprintf(u->uri, sizeof u->uri, "%s://%s:%d", cfg->uplink.insecure ? "tcp" : "ssl",
             cfg->uplink.host, cfg->uplink.port);
    snprintf(u->topic_read, sizeof u->topic_read, "%sread", cfg->uplink.topic_prefix);
    snprintf(u->topic_scene, sizeof u->topic_scene, "%sscene", cfg->uplink.topic_prefix);
    snprintf(u->topic_status, sizeof u->topic_status, "%sstatus", cfg->uplink.topic_prefix);
    snprintf(u->topic_health, sizeof u->topic_health, "%shealth", cfg->uplink.topic_prefix);
    snprintf(u->topic_receipt, sizeof u->topic_receipt, "%sreceipt", cfg->uplink.topic_prefix);
    u->by_receipt = strcmp(cfg->uplink.delete_on, "puback") != 0;
    u->awaiting = calloc(AWAIT_MAX, sizeof *u->awaiting);
    if (!u->awaiting) {
        rc = LPR_ENOMEM;
        goto fail;
    }
    if (cfg->uplink.insecure)
        LPR_WARN("uplink", "insecure = true: reads go to %s in PLAINTEXT, unauthenticated", u->uri);

    MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer5;
    co.sendWhileDisconnected = 0;
    if (MQTTAsync_createWithOptions(&u->client, u->uri, cfg->device.id, MQTTCLIENT_PERSISTENCE_NONE,
                                    NULL, &co) != MQTTASYNC_SUCCESS) {
        LPR_ERROR("uplink", "cannot create MQTT client for %s", u->uri);
        rc = LPR_ENET;
        goto fail;
    }
    MQTTAsync_setCallbacks(u->client, u, on_connection_lost, on_message, NULL);
    the_uplink = u;
    srand((unsigned)getpid() ^ (unsigned)time(NULL));
    u->start_ms = now_ms();
    *out = u;
    return LPR_OK;
fail:
    lpr_uplink_free(u);
    return rc;
}

void lpr_uplink_free(lpr_uplink *u)
{
    if (!u)
        return;
    if (u->client)
        MQTTAsync_destroy(&u->client);
    if (the_uplink == u)
        the_uplink = NULL;
    lpr_spool_close(u->spool);
    free(u->slots);
    free(u->awaiting);
    for (int i = 0; i < u->nreceipts; i++)
        free(u->receipts[i]);
    pthread_mutex_destroy(&u->mu);
    pthread_cond_destroy(&u->cv);
    free(u);
}

/* The retained status that says "offline": the will (ts NULL, clean false:
 * the broker sends it when the session ends without a goodbye) or a clean
 * stop's goodbye at ts. Both carry when the session began. */
static void offline_status(const lpr_uplink *u, const char *ts, char *out, size_t len)
{
    json_t *s = lpr_status_offline(u->cfg.device.id, u->connected_at, ts);
    size_t n = s ? json_dumpb(s, out, len - 1, JSON_COMPACT | JSON_PRESERVE_ORDER) : 0;
    if (n == 0 || n > len - 1) /* no memory, or an id too long for the buffer */
        snprintf(out, len, "{\"state\":\"offline\",\"clean\":%s}", ts ? "true" : "false");
    else
        out[n] = '\0';
    json_decref(s);
}

static void start_connect(lpr_uplink *u)
{
    MQTTAsync_connectOptions opts = MQTTAsync_connectOptions_initializer5;
    MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
    MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;
    MQTTProperties props = MQTTProperties_initializer;

    opts.keepAliveInterval = u->cfg.uplink.keepalive_s;
    opts.cleanstart = 1;
    opts.connectTimeout = 10;
    opts.maxInflight = u->nslots + 16;
    opts.onSuccess5 = on_connect_ok;
    opts.onFailure5 = on_connect_fail;
    opts.context = u;
    /* the will is fixed at CONNECT: it says when this session began, the
     * broker's delivery of it says when it ended */
    lpr_format_utc_ms(lpr_realtime_ms(), u->connected_at, sizeof u->connected_at);
    offline_status(u, NULL, u->will_payload, sizeof u->will_payload);
    will.topicName = u->topic_status;
    will.message = u->will_payload;
    will.retained = 1;
    will.qos = 1;
    opts.will = &will;
    opts.connectProperties = &props;
    if (!u->cfg.uplink.insecure) {
        ssl.trustStore = u->cfg.uplink.ca;
        ssl.keyStore = u->cfg.uplink.cert;
        ssl.privateKey = u->cfg.uplink.key;
        ssl.enableServerCertAuth = 1;
        ssl.verify = 1; /* hostname check */
        ssl.sslVersion = MQTT_SSL_VERSION_TLS_1_2;
        ssl.ssl_error_cb = on_ssl_error;
        ssl.ssl_error_context = u;
        opts.ssl = &ssl;
    }
    pthread_mutex_lock(&u->mu);
    u->connecting = 1;
    pthread_mutex_unlock(&u->mu);
    int rc = MQTTAsync_connect(u->client, &opts);
    if (rc != MQTTASYNC_SUCCESS) {
        LPR_ERROR("uplink", "cannot start connecting to %s: %s", u->uri, MQTTAsync_strerror(rc));
        pthread_mutex_lock(&u->mu);
        u->connecting = 0;
        schedule_reconnect_locked(u);
        pthread_mutex_unlock(&u->mu);
    }
}

/* Status and health (not reads: those are kept until PUBACK). A refused
 * send is logged once per topic and reason until one succeeds again. */
static int publish_simple(lpr_uplink *u, const char *topic, const char *payload, int retained)
{
    MQTTAsync_message msg = MQTTAsync_message_initializer;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    msg.payload = (void *)payload;
    msg.payloadlen = (int)strlen(payload);
    msg.qos = 1;
    msg.retained = retained;
    int rc = MQTTAsync_sendMessage(u->client, topic, &msg, &ro);
    int *last = topic == u->topic_status ? &u->status_send_rc : &u->health_send_rc;
    if (rc != MQTTASYNC_SUCCESS && rc != *last)
        LPR_WARN("uplink", "%s not sent: %s", topic, MQTTAsync_strerror(rc));
    *last = rc;
    return rc;
}

static void on_subscribe_fail(void *ctx, MQTTAsync_failureData5 *resp)
{
    lpr_uplink *u = ctx;
    LPR_ERROR("uplink",
              "broker %s refused the subscription to %s (%s): no receipts arrive, so reads "
              "stay spooled and are sent again (does the broker's ACL let this device read "
              "%sreceipt?)",
              u->uri, u->topic_receipt,
              resp ? MQTTReasonCode_toString(resp->reasonCode) : "no answer",
              u->cfg.uplink.topic_prefix);
}

static void on_subscribe_ok(void *ctx, MQTTAsync_successData5 *resp)
{
    /* one topic: its reason code is resp->reasonCode (alt.sub is for
     * subscribeMany) */
    if (resp && resp->reasonCode >= MQTTREASONCODE_UNSPECIFIED_ERROR)
        on_subscribe_fail(ctx, NULL);
}

static void subscribe_receipts(lpr_uplink *u)
{
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    ro.onSuccess5 = on_subscribe_ok;
    ro.onFailure5 = on_subscribe_fail;
    ro.context = u;
    int rc = MQTTAsync_subscribe(u->client, u->topic_receipt, 1, &ro);
    if (rc != MQTTASYNC_SUCCESS)
        LPR_ERROR("uplink", "cannot subscribe to %s: %s", u->topic_receipt, MQTTAsync_strerror(rc));
}

static void add_user_prop(MQTTProperties *props, const char *k, const char *v)
{
    MQTTProperty p;
    memset(&p, 0, sizeof p);
    p.identifier = MQTTPROPERTY_CODE_USER_PROPERTY;
    p.value.data.data = (char *)k;
    p.value.data.len = (int)strlen(k);
    p.value.value.data = (char *)v;
    p.value.value.len = (int)strlen(v);
    MQTTProperties_add(props, &p);
}

static int64_t disk_free_mb(const char *path)
{
    char copy[LPR_CFG_STR];
    struct statvfs sv;
    snprintf(copy, sizeof copy, "%s", path);
    if (statvfs(dirname(copy), &sv) != 0)
        return -1;
    return (int64_t)((double)sv.f_bavail * (double)sv.f_frsize / 1048576.0);
}

static double cpu_temp_c(void)
{
    FILE *f = fopen("/sys/class/thermal/thermal_zone0/temp", "r");
    long milli;
    if (!f)
        return -1000;
    int ok = fscanf(f, "%ld", &milli) == 1;
    fclose(f);
    return ok ? (double)milli / 1000.0 : -1000;
}

/* The health message (health.c) from the spool and link, and what lprd
 * last left in the spool (camera, GPS, clock). */
static json_t *health_json(lpr_uplink *u)
{
    lpr_health_in in = {.device = u->cfg.device.id, .version = LPR_VERSION};
    in.now_ms = lpr_realtime_ms();
    if (lpr_spool_get_stats(u->spool, in.now_ms, &in.spool) != LPR_OK)
        return NULL;
    lpr_uplink_get_counters(u, &in.link);
    in.uptime_s = (int64_t)((now_ms() - u->start_ms) / 1000);
    in.undeleted = u->nundeleted;
    in.by_receipt = u->by_receipt;
    in.receipt_timeout_s = u->cfg.uplink.receipt_timeout_s;
    in.disk_free_mb = disk_free_mb(u->cfg.spool.path);
    in.cpu_temp_c = cpu_temp_c();
    lpr_health_camera *cam = &in.camera;
    lpr_spool *sp = u->spool;
    cam->present =
        lpr_spool_get_counter(sp, LPR_CTR_CAMERA_UPDATED_MS, &cam->updated_ms) == LPR_OK &&
        lpr_spool_get_counter(sp, LPR_CTR_CAMERA_FRAMES, &cam->frames) == LPR_OK &&
        lpr_spool_get_counter(sp, LPR_CTR_CAMERA_DROPPED, &cam->dropped) == LPR_OK &&
        lpr_spool_get_counter(sp, LPR_CTR_CAMERA_READS, &cam->reads) == LPR_OK &&
        lpr_spool_get_counter(sp, LPR_CTR_CAMERA_FPS_X10, &cam->fps_x10) == LPR_OK;
    lpr_health_gps *gps = &in.gps;
    gps->age_ms = -1;
    if (lpr_spool_get_counter(sp, LPR_CTR_GPS_MODE, &gps->mode) == LPR_OK) {
        gps->present = 1;
        lpr_spool_get_counter(sp, LPR_CTR_GPS_SATS, &gps->sats);
        lpr_spool_get_counter(sp, LPR_CTR_GPS_FIX_AGE_MS, &gps->age_ms);
        lpr_spool_get_counter(sp, LPR_CTR_GPS_CONNECTED, &gps->connected);
    }
    in.have_clock = lpr_spool_get_counter(sp, LPR_CTR_CLOCK_SOURCE, &in.clock_source) == LPR_OK;
    return lpr_health_build(&in);
}

/* The retained status: "online", or "degraded" with the health's problems
 * while connected; the will and a clean stop say "offline". */
static void publish_status(lpr_uplink *u, const json_t *health)
{
    char since[32];
    lpr_format_utc_ms(lpr_realtime_ms(), since, sizeof since);
    json_t *problems = health ? json_object_get(health, "problems") : NULL;
    int degraded = problems && json_array_size(problems) > 0;
    json_t *s = lpr_status_build(u->cfg.device.id, u->kid, since, u->cfg.device.owner,
                                 u->cfg.device.model, LPR_VERSION, problems);
    char *text = s ? json_dumps(s, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    if (text) {
        publish_simple(u, u->topic_status, text, 1);
        free(text);
    }
    json_decref(s);
    u->degraded = degraded;
}

/* Health, and the retained status again when its state changed. At
 * connect (birth) both go at once. */
static void publish_health(lpr_uplink *u, int birth)
{
    json_t *h = health_json(u);
    if (!h) {
        if (birth)
            publish_status(u, NULL);
        return;
    }
    json_t *problems = json_object_get(h, "problems");
    int degraded = json_array_size(problems) > 0;
    if (birth || degraded != u->degraded) {
        if (!birth)
            LPR_WARN("uplink", "status %s%s%s", degraded ? "degraded: " : "online again",
                     degraded ? json_string_value(json_array_get(problems, 0)) : "",
                     json_array_size(problems) > 1 ? " (and more)" : "");
        publish_status(u, h);
    }
    char *s = json_dumps(h, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    if (s) {
        publish_simple(u, u->topic_health, s, 0);
        free(s);
    }
    json_decref(h);
}

static int slot_find(lpr_uplink *u, int64_t seq)
{
    for (int i = 0; i < u->nslots; i++)
        if (u->slots[i].seq == seq)
            return i;
    return -1;
}

static int slots_used(lpr_uplink *u)
{
    int n = 0;
    for (int i = 0; i < u->nslots; i++)
        n += u->slots[i].seq != 0;
    return n;
}

/* Publishes sealed reads after the cursor, in seq order, while there is
 * room in flight; stops at the first read not sealed (spooled by a tool
 * without the key: lprd seals it when it starts), named once in the log. */
/* Publishes one sealed read into a free in-flight slot: 0, or -1 when it
 * cannot go now (no slot, the client refuses, the signature is bad). */
static int publish_row(lpr_uplink *u, const lpr_spool_row *r, int resends)
{
    char sig64[128];
    int slot = slot_find(u, 0);
    if (slot < 0 || lpr_base64_encode(r->sig, r->sig_len, sig64, sizeof sig64) != LPR_OK)
        return -1;
    MQTTProperties props = MQTTProperties_initializer;
    add_user_prop(&props, "alg", "ES256");
    add_user_prop(&props, "kid", r->kid[0] ? r->kid : u->kid);
    add_user_prop(&props, "sig", sig64);
    MQTTAsync_message msg = MQTTAsync_message_initializer;
    msg.payload = r->payload;
    msg.payloadlen = (int)r->payload_len;
    msg.qos = 1;
    msg.properties = props;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    ro.onSuccess5 = on_publish_ok;
    ro.onFailure5 = on_publish_fail;
    ro.context = (void *)(intptr_t)r->seq;
    /* full-scene messages (opt-in) go to their own topic, so a store can
     * keep them apart (and for less long) than the reads */
    const char *topic =
        lpr_read_kind_of((const char *)r->payload, r->payload_len) == LPR_READ_KIND_SCENE
            ? u->topic_scene
            : u->topic_read;
    int prc = MQTTAsync_sendMessage(u->client, topic, &msg, &ro);
    MQTTProperties_free(&props);
    if (prc != MQTTASYNC_SUCCESS)
        return -1;
    u->slots[slot].seq = r->seq;
    u->slots[slot].t_pub = now_ms();
    u->slots[slot].resends = resends;
    u->published++;
    return 0;
}

/* Publishes sealed reads after the cursor, in seq order, while there is
 * room in flight; stops at the first read not sealed (spooled by a tool
 * without the key: lprd seals it when it starts), named once in the log. */
static void fill_inflight(lpr_uplink *u)
{
    lpr_spool_row rows[256];
    int room = u->nslots - slots_used(u);
    if (room > UNDELETED_MAX - u->nundeleted)
        room = UNDELETED_MAX - u->nundeleted; /* acks must find room in the list */
    if (u->by_receipt && room > AWAIT_MAX - u->nawaiting - slots_used(u))
        room = AWAIT_MAX - u->nawaiting - slots_used(u); /* and in the awaiting list */
    if (room <= 0 || now_ms() < u->publish_paused_until)
        return;
    if (room > 256)
        room = 256;
    int n = 0;
    if (lpr_spool_fetch(u->spool, u->cursor, room, rows, &n) != LPR_OK || n == 0)
        return;
    for (int i = 0; i < n; i++) {
        lpr_spool_row *r = &rows[i];
        if (!r->sig) {
            if (u->unsealed_said != r->seq)
                LPR_WARN("uplink",
                         "read %s is not sealed: it waits until lprd (which holds the "
                         "device key) starts and seals it",
                         r->id);
            u->unsealed_said = r->seq;
            break;
        }
        if (publish_row(u, r, 0) != 0)
            break;
        u->cursor = r->seq;
    }
    for (int i = 0; i < n; i++)
        lpr_spool_row_clear(&rows[i]);
}

/* Deletes the acknowledged reads still in the spool. A failure keeps them
 * listed (they stay spooled: after a restart they go again, a duplicate,
 * not a loss) and retries with capped backoff; it never stops publishing,
 * which once froze the uplink for good on one failed delete. */
static void retry_deletes(lpr_uplink *u, double now)
{
    if (u->nundeleted == 0 || now < u->delete_retry_ms)
        return;
    if (lpr_spool_delete(u->spool, u->undeleted, u->nundeleted) == LPR_OK) {
        if (u->delete_backoff_ms > 0)
            LPR_INFO("uplink", "spool %s: %d acknowledged reads deleted after all",
                     u->cfg.spool.path, u->nundeleted);
        u->nundeleted = 0;
        u->delete_backoff_ms = 0;
        return;
    }
    if (u->delete_backoff_ms == 0)
        LPR_ERROR("uplink",
                  "spool %s: cannot delete %d acknowledged reads (reason above); "
                  "they stay spooled, deleting is retried, publishing goes on",
                  u->cfg.spool.path, u->nundeleted);
    /* short and capped: a lock is usually another writer's moment, and the
     * reads waiting here count in the spool's depth */
    u->delete_backoff_ms = u->delete_backoff_ms ? u->delete_backoff_ms * 2 : DELETE_RETRY_MIN_MS;
    if (u->delete_backoff_ms > DELETE_RETRY_MAX_MS)
        u->delete_backoff_ms = DELETE_RETRY_MAX_MS;
    u->delete_retry_ms = now + u->delete_backoff_ms;
}

/* How long a read that went again 'resends' times waits for its receipt
 * before it goes again: receipt_timeout_s, then twice that, and so on up
 * to RESEND_MAX_MS. A store that is behind gets each read a few times at
 * most; one that is away costs a resend an hour, not a flood. */
static double receipt_wait_ms(const lpr_uplink *u, int resends)
{
    double w = 1000.0 * u->cfg.uplink.receipt_timeout_s;
    for (int i = 0; i < resends && w < RESEND_MAX_MS; i++)
        w *= 2;
    return w < RESEND_MAX_MS ? w : RESEND_MAX_MS;
}

/* PUBACKs. delete_on = puback: the reads are deleted. delete_on = receipt:
 * they wait for the store's receipt (the broker may still lose them). */
static void handle_acks(lpr_uplink *u, const int64_t *seqs, const double *ts, int n)
{
    if (n == 0)
        return;
    for (int i = 0; i < n; i++) {
        if (u->by_receipt) {
            int s = slot_find(u, seqs[i]);
            awaiting_read a = {seqs[i], ts[i], s >= 0 ? u->slots[s].resends : 0};
            if (u->nawaiting < AWAIT_MAX) /* (fill_inflight keeps room for it) */
                u->awaiting[u->nawaiting++] = a;
            double due = a.t_ack + receipt_wait_ms(u, a.resends);
            if (due < u->next_resend_check)
                u->next_resend_check = due;
        } else if (u->nundeleted < UNDELETED_MAX) {
            u->undeleted[u->nundeleted++] = seqs[i];
        }
        /* else: stays spooled, goes again after a restart (fill_inflight
         * pauses before this can happen) */
    }
    retry_deletes(u, now_ms());
    u->refusal_backoff_ms = BACKOFF_MIN_MS; /* the broker takes reads again */
    if (u->logged_refusal) {
        LPR_INFO("uplink", "broker accepts reads again");
        u->logged_refusal = 0;
    }
    u->logged_publish_fail = 0;
    for (int i = 0; i < n; i++) {
        int s = slot_find(u, seqs[i]);
        if (s >= 0) {
            u->lat[u->nlat % LAT_RING] = ts[i] - u->slots[s].t_pub;
            u->nlat++;
            u->slots[s].seq = 0;
        }
    }
    u->sent += n;
}

/* Publishes that came back without a PUBACK, or with a refusal: the reads
 * stay spooled and the cursor goes back to the oldest, so they go again.
 * A refusal (reason >= 0x80: not authorised, quota, topic invalid ...)
 * would come back at once if sent again at once, so publishing pauses
 * with the connection's backoff, and one line per reason says why. */
static void handle_failures(lpr_uplink *u, const int64_t *seqs, const int *reasons, int n)
{
    int refusal = 0;
    int64_t refused_seq = 0;
    for (int i = 0; i < n; i++) {
        int s = slot_find(u, seqs[i]);
        if (s >= 0)
            u->slots[s].seq = 0;
        if (seqs[i] - 1 < u->cursor)
            u->cursor = seqs[i] - 1;
        if (reasons[i] >= MQTTREASONCODE_UNSPECIFIED_ERROR) {
            u->refused++;
            if (!refusal)
                refused_seq = seqs[i];
            refusal = reasons[i];
        } else if (!u->logged_publish_fail) {
            LPR_WARN("uplink",
                     "publish of seq %lld got no PUBACK (connection lost?); it stays "
                     "spooled and goes again",
                     (long long)seqs[i]);
            u->logged_publish_fail = 1;
        }
    }
    if (!refusal)
        return;
    u->last_refusal = refusal;
    double jitter = 0.5 + (double)(rand() % 1000) / 1000.0;
    double wait = u->refusal_backoff_ms * jitter;
    u->publish_paused_until = now_ms() + wait;
    u->refusal_backoff_ms *= 2;
    if (u->refusal_backoff_ms > BACKOFF_MAX_MS)
        u->refusal_backoff_ms = BACKOFF_MAX_MS;
    if (refusal != u->logged_refusal) {
        LPR_ERROR("uplink",
                  "broker %s refused read seq %lld on %s: %s (reason %d); reads stay spooled, "
                  "retrying with backoff (does the certificate's CN equal [device] id %s, "
                  "and does the broker's ACL let it write %s#?)",
                  u->uri, (long long)refused_seq, u->topic_read,
                  MQTTReasonCode_toString((enum MQTTReasonCodes)refusal), refusal, u->cfg.device.id,
                  u->cfg.uplink.topic_prefix);
        u->logged_refusal = refusal;
    }
}

static int in_ranges(int64_t seq, const lpr_receipt_range *r, int n)
{
    for (int i = 0; i < n; i++)
        if (seq >= r[i].first && seq <= r[i].last)
            return 1;
    return 0;
}

/* A receipt from the store: the awaiting reads it names are stored, so
 * they are deleted (through the retried delete list). A receipt for
 * another spool's epoch (an older spool, or another device's mistake)
 * deletes nothing. Reads it names that are not awaiting (sent before a
 * reconnect) are sent again and confirmed by a later receipt. */
static void handle_receipt(lpr_uplink *u, const char *payload, size_t len)
{
    static lpr_receipt_range r[RECEIPT_RANGES_MAX];
    char epoch[17];
    int n;
    const char *why = lpr_receipt_parse(payload, len, epoch, r, RECEIPT_RANGES_MAX, &n);
    if (why) {
        LPR_WARN("uplink", "a message on %s is not a receipt (%s); ignored", u->topic_receipt, why);
        return;
    }
    if (strcmp(epoch, lpr_spool_epoch(u->spool))) {
        if (strcmp(epoch, u->said_epoch))
            LPR_WARN("uplink",
                     "a receipt on %s is for spool epoch %s, this spool's is %s: it deletes "
                     "nothing (a receipt for an older spool)",
                     u->topic_receipt, epoch, lpr_spool_epoch(u->spool));
        snprintf(u->said_epoch, sizeof u->said_epoch, "%s", epoch);
        return;
    }
    int kept = 0, got = 0;
    for (int i = 0; i < u->nawaiting; i++) {
        if (in_ranges(u->awaiting[i].seq, r, n) && u->nundeleted < UNDELETED_MAX) {
            u->undeleted[u->nundeleted++] = u->awaiting[i].seq;
            got++;
        } else {
            u->awaiting[kept++] = u->awaiting[i];
        }
    }
    u->nawaiting = kept;
    if (got > 0) {
        u->confirmed += got;
        if (u->said_no_receipt)
            LPR_INFO("uplink", "the store's receipts come again");
        u->said_no_receipt = 0;
        retry_deletes(u, now_ms());
    }
}

/* Sends again, as slots allow, the awaiting reads whose wait is over: the
 * store did not get them (the broker lost them, the store was away) or
 * their receipt was lost. A read no longer spooled leaves the list. The
 * first such wait of a spell without receipts is logged. */
static void resend_unconfirmed(lpr_uplink *u, double now)
{
    if (now < u->next_resend_check || now < u->publish_paused_until)
        return;
    int room = u->nslots - slots_used(u), kept = 0;
    double next = now + RESEND_MAX_MS;
    for (int i = 0; i < u->nawaiting; i++) {
        awaiting_read a = u->awaiting[i];
        double due = a.t_ack + receipt_wait_ms(u, a.resends);
        if (due <= now) {
            if (!u->said_no_receipt)
                LPR_WARN("uplink",
                         "no receipt from the store for read seq %lld for %.0f s (%d reads "
                         "wait): the reads stay spooled and go again (is the store, "
                         "lpr-ingest, running and subscribed?)",
                         (long long)a.seq, (now - a.t_ack) / 1000.0, u->nawaiting);
            u->said_no_receipt = 1;
            lpr_spool_row r;
            int n = -1;
            if (room > 0 && lpr_spool_fetch(u->spool, a.seq - 1, 1, &r, &n) == LPR_OK) {
                int here = n == 1 && r.seq == a.seq;
                int sent = here && r.sig && publish_row(u, &r, a.resends + 1) == 0;
                if (n == 1)
                    lpr_spool_row_clear(&r);
                if (sent) {
                    room--;
                    u->resent++;
                }
                if (sent || !here)
                    continue; /* in flight again, or gone from the spool */
            }
            due = now + 20.0; /* no room yet: next turn */
        }
        if (due < next)
            next = due;
        u->awaiting[kept++] = a;
    }
    u->nawaiting = kept;
    u->next_resend_check = next;
}

int64_t lpr_uplink_progress(const lpr_uplink *u)
{
    return __atomic_load_n(&u->progress, __ATOMIC_RELAXED);
}

void lpr_uplink_get_counters(lpr_uplink *u, lpr_uplink_counters *c)
{
    static double tmp[LAT_RING];
    memset(c, 0, sizeof *c);
    c->sent = u->sent;
    c->published = u->published;
    c->reconnects = u->reconnects;
    c->inflight = slots_used(u);
    c->refused = u->refused;
    c->last_refusal = u->last_refusal;
    c->confirmed = u->confirmed;
    c->awaiting_receipt = u->nawaiting;
    c->oldest_unconfirmed_ms = u->nawaiting ? now_ms() - u->awaiting[0].t_ack : 0;
    int n = u->nlat < LAT_RING ? (int)u->nlat : LAT_RING;
    if (n > 0) {
        memcpy(tmp, u->lat, (size_t)n * sizeof tmp[0]);
        lpr_sort_doubles(tmp, (size_t)n);
        c->ack_ms_p50 = tmp[n / 2];
        c->ack_ms_p99 = tmp[(int)((n - 1) * 0.99)];
    }
}

lpr_err lpr_uplink_run(lpr_uplink *u, volatile sig_atomic_t *stop, int exit_when_empty,
                       int drain_ms)
{
    static int64_t acked[QUEUE_MAX], failed[QUEUE_MAX];
    static int failed_reason[QUEUE_MAX];
    static char *receipts[RECEIPTS_QUEUED];
    static size_t receipt_len[RECEIPTS_QUEUED];
    static double acked_t[QUEUE_MAX];
    double next_health = now_ms() + 1000.0 * u->cfg.uplink.health_interval_s;
    double next_enforce = now_ms() + 60000.0;
    double stop_deadline = 0;

    LPR_INFO("uplink", "device %s, key id %s, broker %s, spool %s", u->cfg.device.id,
             u->kid[0] ? u->kid : "unknown", u->uri, u->cfg.spool.path);
    start_connect(u);
    for (;;) {
        int na, nf, conn, connecting;
        pthread_mutex_lock(&u->mu);
        struct timespec ts = lpr_deadline_in_ms(20);
        if (u->nacked == 0 && u->nfailed == 0 && u->nreceipts == 0)
            pthread_cond_timedwait(&u->cv, &u->mu, &ts);
        int nr = u->nreceipts;
        memcpy(receipts, u->receipts, (size_t)nr * sizeof receipts[0]);
        memcpy(receipt_len, u->receipt_len, (size_t)nr * sizeof receipt_len[0]);
        u->nreceipts = 0;
        na = u->nacked;
        memcpy(acked, u->acked, (size_t)na * sizeof acked[0]);
        memcpy(acked_t, u->acked_t, (size_t)na * sizeof acked_t[0]);
        u->nacked = 0;
        nf = u->nfailed;
        memcpy(failed, u->failed, (size_t)nf * sizeof failed[0]);
        memcpy(failed_reason, u->failed_reason, (size_t)nf * sizeof failed_reason[0]);
        u->nfailed = 0;
        conn = u->connected;
        connecting = u->connecting;
        double next_connect = u->next_connect_ms;
        int diagnose = u->diagnose;
        char fail_msg[256];
        snprintf(fail_msg, sizeof fail_msg, "%s", u->fail_msg);
        u->diagnose = 0;
        u->fail_msg[0] = 0;
        pthread_mutex_unlock(&u->mu);

        if (fail_msg[0]) {
            char why[512] = "";
            if (diagnose)
                lpr_tls_diagnose(&u->cfg, why, sizeof why);
            char line[800];
            snprintf(line, sizeof line, "%s%s%s", fail_msg, why[0] ? ": " : "", why);
            /* one line per distinct reason, not one per retry */
            if (strcmp(line, u->last_why))
                LPR_ERROR("uplink", "cannot connect to %s: %s; reads stay spooled", u->uri, line);
            snprintf(u->last_why, sizeof u->last_why, "%s", line);
        }

        handle_acks(u, acked, acked_t, na);
        handle_failures(u, failed, failed_reason, nf);
        for (int i = 0; i < nr; i++) {
            handle_receipt(u, receipts[i], receipt_len[i]);
            free(receipts[i]);
        }
        double now = now_ms();
        retry_deletes(u, now);
        if (conn && !u->was_connected) {
            /* (re)connected: everything unacknowledged goes again */
            u->was_connected = 1;
            if (u->ever_connected)
                u->reconnects++;
            u->ever_connected = 1;
            memset(u->slots, 0, (size_t)u->nslots * sizeof *u->slots);
            u->cursor = 0;
            u->nawaiting = 0; /* everything spooled goes again */
            LPR_INFO("uplink", "connected to %s", u->uri);
            if (u->by_receipt)
                subscribe_receipts(u);
            u->last_why[0] = 0;
            publish_health(u, 1); /* status (birth) and a health message at once */
            next_health = now + 1000.0 * u->cfg.uplink.health_interval_s;
        } else if (!conn && u->was_connected) {
            u->was_connected = 0;
            memset(u->slots, 0, (size_t)u->nslots * sizeof *u->slots);
            u->cursor = 0;
        }
        /* alive for the watchdog: reads acknowledged, nothing in flight, or
         * waiting for the broker (a restart helps none of those); not when
         * connected with reads in flight and none acknowledged */
        if (na > 0 || nr > 0 || !conn || slots_used(u) == 0)
            __atomic_add_fetch(&u->progress, 1, __ATOMIC_RELAXED);
        if (*stop) {
            if (stop_deadline == 0)
                stop_deadline = now + drain_ms;
            if (!conn || slots_used(u) == 0 || now >= stop_deadline)
                break;
            continue; /* only collect acks while draining */
        }
        if (conn) {
            if (u->by_receipt)
                resend_unconfirmed(u, now);
            fill_inflight(u);
            if (now >= next_health) {
                publish_health(u, 0);
                next_health = now + 1000.0 * u->cfg.uplink.health_interval_s;
            }
            if (exit_when_empty && slots_used(u) == 0) {
                lpr_spool_stats st;
                if (lpr_spool_get_stats(u->spool, 0, &st) == LPR_OK && st.depth == 0)
                    break;
            }
        } else if (!connecting && now >= next_connect) {
            start_connect(u);
        }
        if (now >= next_enforce) {
            lpr_spool_clock clk = lpr_spool_clock_now();
            lpr_spool_enforce(u->spool, &clk, NULL);
            next_enforce = now + 60000.0;
        }
    }
    if (u->was_connected) {
        /* a clean goodbye: the retained status says offline, as the will would */
        MQTTAsync_disconnectOptions dopts = MQTTAsync_disconnectOptions_initializer5;
        dopts.timeout = 2000;
        char ts[32], bye[sizeof u->will_payload];
        lpr_format_utc_ms(lpr_realtime_ms(), ts, sizeof ts);
        offline_status(u, ts, bye, sizeof bye);
        publish_simple(u, u->topic_status, bye, 1);
        usleep(200000);
        MQTTAsync_disconnect(u->client, &dopts);
        for (int i = 0; i < 100 && MQTTAsync_isConnected(u->client); i++)
            usleep(20000);
    }
    LPR_INFO("uplink",
             "stopped: %lld sent, %lld confirmed by the store (%lld sent again for want of a "
             "receipt); %d in flight and %d awaiting a receipt stay spooled",
             (long long)u->sent, (long long)u->confirmed, (long long)u->resent, slots_used(u),
             u->nawaiting);
    return LPR_OK;
}

/* ---- lpr doctor's probe: one CONNECT and one test publish ---- */

typedef struct probe_state {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;   /* 1 success, -1 failure */
    int reason; /* MQTT v5 reason code of a failure */
    int code;   /* Paho's return code of a failure */
    char msg[160];
} probe_state;

static void probe_finish(probe_state *p, int done, MQTTAsync_failureData5 *resp)
{
    pthread_mutex_lock(&p->mu);
    p->done = done;
    if (resp) {
        p->reason = (int)resp->reasonCode;
        p->code = resp->code;
        snprintf(p->msg, sizeof p->msg, "%s", resp->message ? resp->message : "");
    }
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}
static void probe_ok(void *ctx, MQTTAsync_successData5 *resp)
{
    (void)resp;
    probe_finish(ctx, 1, NULL);
}
static void probe_fail(void *ctx, MQTTAsync_failureData5 *resp)
{
    probe_finish(ctx, -1, resp);
}

static int probe_wait(probe_state *p, int timeout_ms)
{
    struct timespec ts = lpr_deadline_in_ms(timeout_ms);
    pthread_mutex_lock(&p->mu);
    while (!p->done)
        if (pthread_cond_timedwait(&p->cv, &p->mu, &ts) != 0)
            break;
    int d = p->done;
    p->done = 0;
    pthread_mutex_unlock(&p->mu);
    return d;
}

static void probe_reason(const probe_state *p, char *out, size_t len)
{
    if (p->reason)
        snprintf(out, len, "%s (reason %d)",
                 MQTTReasonCode_toString((enum MQTTReasonCodes)p->reason), p->reason);
    else
        snprintf(out, len, "%s (code %d)", p->msg[0] ? p->msg : "no answer", p->code);
}

int lpr_uplink_probe(const lpr_config *cfg, char *why, size_t len)
{
    char uri[300], id[LPR_CFG_STR + 16], topic[300], payload[300], ts[32], r[200];
    MQTTAsync client = NULL;
    probe_state p = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    int ok = 0;
    snprintf(uri, sizeof uri, "%s://%s:%d", cfg->uplink.insecure ? "tcp" : "ssl", cfg->uplink.host,
             cfg->uplink.port);
    /* its own client id: the running lpr-uplink's session is not taken over */
    snprintf(id, sizeof id, "%s-doctor", cfg->device.id);
    MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer5;
    if (MQTTAsync_createWithOptions(&client, uri, id, MQTTCLIENT_PERSISTENCE_NONE, NULL, &co) !=
        MQTTASYNC_SUCCESS) {
        snprintf(why, len, "cannot create an MQTT client for %s", uri);
        return 0;
    }
    MQTTAsync_connectOptions opts = MQTTAsync_connectOptions_initializer5;
    MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
    opts.keepAliveInterval = 10;
    opts.cleanstart = 1;
    opts.connectTimeout = 5;
    opts.onSuccess5 = probe_ok;
    opts.onFailure5 = probe_fail;
    opts.context = &p;
    if (!cfg->uplink.insecure) {
        ssl.trustStore = cfg->uplink.ca;
        ssl.keyStore = cfg->uplink.cert;
        ssl.privateKey = cfg->uplink.key;
        ssl.enableServerCertAuth = 1;
        ssl.verify = 1;
        ssl.sslVersion = MQTT_SSL_VERSION_TLS_1_2;
        opts.ssl = &ssl;
    }
    if (MQTTAsync_connect(client, &opts) != MQTTASYNC_SUCCESS || probe_wait(&p, 8000) != 1) {
        probe_reason(&p, r, sizeof r);
        snprintf(why, len, "MQTT CONNECT to %s refused: %s", uri, r);
        goto out;
    }
    /* the test publish goes where health goes: a dashboard may show it, the
     * read store never takes it for a read */
    snprintf(topic, sizeof topic, "%shealth", cfg->uplink.topic_prefix);
    lpr_format_utc_ms(lpr_realtime_ms(), ts, sizeof ts);
    snprintf(payload, sizeof payload, "{\"device\":\"%s\",\"ts\":\"%s\",\"doctor\":true}",
             cfg->device.id, ts);
    MQTTAsync_message msg = MQTTAsync_message_initializer;
    msg.payload = payload;
    msg.payloadlen = (int)strlen(payload);
    msg.qos = 1;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    ro.onSuccess5 = probe_ok;
    ro.onFailure5 = probe_fail;
    ro.context = &p;
    if (MQTTAsync_sendMessage(client, topic, &msg, &ro) != MQTTASYNC_SUCCESS ||
        probe_wait(&p, 5000) != 1) {
        probe_reason(&p, r, sizeof r);
        snprintf(why, len,
                 "connected, but a test publish on %s was refused: %s; the broker "
                 "would refuse every read",
                 topic, r);
        goto out;
    }
    snprintf(why, len, "MQTT v5 CONNECT and a test publish on %s accepted", topic);
    ok = 1;
out:
    if (MQTTAsync_isConnected(client)) {
        MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer5;
        d.timeout = 1000;
        MQTTAsync_disconnect(client, &d);
        for (int i = 0; i < 50 && MQTTAsync_isConnected(client); i++)
            usleep(20000);
    }
    MQTTAsync_destroy(&client);
    return ok;
}

/*
 * tlscheck.c - names why a TLS connection to the broker fails.
 *
 * Paho reports only "TCP/TLS connect failure". After such a failure the
 * uplink (and `lpr doctor`) repeat the handshake here with OpenSSL and the
 * same CA, client certificate, key and hostname check, and turn the result
 * into one line a field tech can act on: untrusted server certificate,
 * hostname mismatch, our certificate rejected (expired, unknown CA), or no
 * route/refused.
 */
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "lpr_uplink.h"

static int tcp_connect(const char *host, int port, char *why, size_t len)
{
    struct addrinfo hints, *res = NULL;
    char ports[16];
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    snprintf(ports, sizeof ports, "%d", port);
    int rc = getaddrinfo(host, ports, &hints, &res);
    if (rc != 0) {
        snprintf(why, len, "cannot resolve %s: %s", host, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd < 0)
            continue;
        struct timeval tv = {5, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
            break;
        snprintf(why, len, "TCP connect to %s:%d failed: %m", host, port);
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

int lpr_tls_diagnose(const lpr_config *cfg, char *why, size_t len)
{
    const char *host = cfg->uplink.host;
    int port = cfg->uplink.port;
    SSL_CTX *ctx = NULL;
    SSL *ssl = NULL;
    int ok = 0;

    snprintf(why, len, "unknown TLS failure");
    int fd = tcp_connect(host, port, why, len);
    if (fd < 0)
        return 0;
    ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx)
        goto out;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (SSL_CTX_load_verify_locations(ctx, cfg->uplink.ca, NULL) != 1) {
        snprintf(why, len, "cannot load CA file %s", cfg->uplink.ca);
        goto out;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, cfg->uplink.cert) != 1) {
        snprintf(why, len, "cannot load client certificate %s", cfg->uplink.cert);
        goto out;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, cfg->uplink.key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        snprintf(why, len, "client key %s does not match certificate %s", cfg->uplink.key,
                 cfg->uplink.cert);
        goto out;
    }
    /* our own certificate's validity is checked locally first */
    X509 *mine = SSL_CTX_get0_certificate(ctx);
    if (mine && X509_cmp_current_time(X509_get0_notAfter(mine)) < 0) {
        snprintf(why, len, "our client certificate %s has expired", cfg->uplink.cert);
        goto out;
    }
    if (mine && X509_cmp_current_time(X509_get0_notBefore(mine)) > 0) {
        snprintf(why, len, "our client certificate %s is not valid yet (check the clock)",
                 cfg->uplink.cert);
        goto out;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    ssl = SSL_new(ctx);
    if (!ssl)
        goto out;
    SSL_set_tlsext_host_name(ssl, host);
    SSL_set1_host(ssl, host);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) != 1) {
        long vr = SSL_get_verify_result(ssl);
        unsigned long e = ERR_peek_last_error();
        if (vr == X509_V_ERR_HOSTNAME_MISMATCH || vr == X509_V_ERR_IP_ADDRESS_MISMATCH)
            snprintf(why, len, "server certificate does not match host name '%s'", host);
        else if (vr != X509_V_OK)
            snprintf(why, len, "server certificate not trusted with CA %s: %s", cfg->uplink.ca,
                     X509_verify_cert_error_string(vr));
        else if (e)
            snprintf(why, len, "broker refused the TLS handshake: %s",
                     ERR_reason_error_string(e) ? ERR_reason_error_string(e) : "unknown");
        else
            snprintf(why, len, "TLS handshake failed (connection closed by the broker)");
        goto out;
    }
    /* TLS 1.3 sends the client-certificate verdict after the handshake */
    char b;
    int r = SSL_read(ssl, &b, 1);
    if (r <= 0 && SSL_get_error(ssl, r) == SSL_ERROR_SSL) {
        unsigned long e = ERR_peek_last_error();
        snprintf(why, len, "broker rejected our client certificate: %s",
                 e && ERR_reason_error_string(e) ? ERR_reason_error_string(e) : "alert");
        goto out;
    }
    snprintf(why, len, "TLS handshake succeeds; the broker refused at the MQTT level");
    ok = 1;
out:
    ERR_clear_error();
    if (ssl)
        SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
    return ok;
}

int lpr_cert_check(const lpr_config *cfg, int min_days, char *why, size_t len)
{
    FILE *f = fopen(cfg->uplink.cert, "r");
    if (!f) {
        snprintf(why, len, "certificate %s: %m", cfg->uplink.cert);
        return 0;
    }
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    if (!x) {
        snprintf(why, len, "certificate %s: not a PEM X.509 certificate", cfg->uplink.cert);
        ERR_clear_error();
        return 0;
    }
    char cn[256] = "";
    int ok = 0, days = 0, secs = 0;
    X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof cn);
    /* the broker's ACL names a device by its certificate's CN
     * (use_identity_as_username), so a CN other than the id is refused */
    if (strcmp(cn, cfg->device.id) != 0)
        snprintf(why, len,
                 "certificate %s is for CN '%s', but [device] id is '%s': the broker "
                 "will refuse every read",
                 cfg->uplink.cert, cn, cfg->device.id);
    else if (!ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x)))
        snprintf(why, len, "certificate %s: unreadable expiry date", cfg->uplink.cert);
    else if (days < 0 || (days == 0 && secs <= 0))
        snprintf(why, len, "certificate %s (CN %s) has expired", cfg->uplink.cert, cn);
    else if (days < min_days)
        snprintf(why, len, "certificate %s (CN %s) expires in %d days: renew it (less than %d)",
                 cfg->uplink.cert, cn, days, min_days);
    else {
        snprintf(why, len, "certificate CN %s equals [device] id, expires in %d days", cn, days);
        ok = 1;
    }
    X509_free(x);
    ERR_clear_error();
    return ok;
}

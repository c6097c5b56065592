/*
 * sign.c - ES256 device keys and signatures over mbedTLS 2.28 (see
 * lpr_sign.h). The private key never leaves this file's structs; key files
 * are created 0600 with O_EXCL unless --force.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/random.h>
#include <unistd.h>

#include <mbedtls/asn1.h>
#include <mbedtls/asn1write.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509_csr.h>

#include "lpr_config.h"
#include "lpr_sign.h"
#include "lpr_spool.h"

struct lpr_signer {
    mbedtls_pk_context pk;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    char kid[LPR_KID_LEN];
};

struct lpr_verifier {
    mbedtls_pk_context pk;
    char kid[LPR_KID_LEN];
};

static lpr_err compute_kid(mbedtls_pk_context *pk, char kid[LPR_KID_LEN])
{
    unsigned char der[256], hash[32];
    /* mbedtls writes DER at the end of the buffer */
    int n = mbedtls_pk_write_pubkey_der(pk, der, sizeof der);
    if (n <= 0)
        return LPR_ECRYPTO;
    if (mbedtls_sha256_ret(der + sizeof der - n, (size_t)n, hash, 0) != 0)
        return LPR_ECRYPTO;
    for (int i = 0; i < 16; i++)
        snprintf(kid + 2 * i, 3, "%02x", hash[i]);
    return LPR_OK;
}

/* Writes data to path with mode, whole or not at all: into a new file
 * beside it (O_EXCL, never following a link), fsynced, then moved into
 * place. With force, rename() replaces what is at path, a symlink itself
 * rather than the file it points to (a planted device.key -> victim was
 * overwritten with a private key); without, link() refuses anything there. */
static int write_file(const char *path, const unsigned char *data, size_t len, mode_t mode,
                      int force)
{
    char tmp[1100];
    unsigned r = 0;
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
        r = (unsigned)getpid();
    snprintf(tmp, sizeof tmp, "%s.new-%08x", path, r);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0)
        return -1;
    if (fchmod(fd, mode) != 0 || write(fd, data, len) != (ssize_t)len || fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        errno = e;
        return -1;
    }
    close(fd);
    int rc = force ? rename(tmp, path) : link(tmp, path);
    int e = errno;
    unlink(tmp);
    errno = e;
    return rc;
}

/* A fresh ECDSA P-256 key in pk from a seeded DRBG (all three contexts
 * initialised by the caller, who frees them). 0 on success. */
static int new_p256_key(mbedtls_pk_context *pk, mbedtls_entropy_context *entropy,
                        mbedtls_ctr_drbg_context *drbg, const char *pers)
{
    return mbedtls_ctr_drbg_seed(drbg, mbedtls_entropy_func, entropy, (const unsigned char *)pers,
                                 strlen(pers)) != 0 ||
           mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0 ||
           mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*pk),
                               mbedtls_ctr_drbg_random, drbg) != 0;
}

lpr_err lpr_keygen(const char *dir, int force, char kid[LPR_KID_LEN])
{
    char key_path[1024], pub_path[1024];
    unsigned char pem[1024];
    mbedtls_pk_context pk;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    lpr_err rc = LPR_ECRYPTO;
    const char *pers = "lpr-keygen";

    snprintf(key_path, sizeof key_path, "%s/device.key", dir);
    snprintf(pub_path, sizeof pub_path, "%s/device.pub.pem", dir);
    if (!force && (access(key_path, F_OK) == 0 || access(pub_path, F_OK) == 0)) {
        LPR_ERROR("keygen", "%s: key exists; use --force to replace it", key_path);
        return LPR_EEXIST;
    }
    mbedtls_pk_init(&pk);
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    if (new_p256_key(&pk, &entropy, &drbg, pers) != 0) {
        LPR_ERROR("keygen", "ECDSA P-256 key generation failed");
        goto out;
    }
    if (mbedtls_pk_write_key_pem(&pk, pem, sizeof pem) != 0 ||
        write_file(key_path, pem, strlen((char *)pem), 0600, force) != 0) {
        LPR_ERROR("keygen", "%s: cannot write: %s", key_path, strerror(errno));
        rc = LPR_EIO;
        goto out;
    }
    if (mbedtls_pk_write_pubkey_pem(&pk, pem, sizeof pem) != 0 ||
        write_file(pub_path, pem, strlen((char *)pem), 0644, force) != 0) {
        LPR_ERROR("keygen", "%s: cannot write: %s", pub_path, strerror(errno));
        rc = LPR_EIO;
        goto out;
    }
    rc = compute_kid(&pk, kid);
out:
    mbedtls_platform_zeroize(pem, sizeof pem);
    mbedtls_pk_free(&pk);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
    return rc;
}

lpr_err lpr_make_tls_csr(const char *dir, const char *device_id, int force)
{
    char key_path[1024], csr_path[1024], subject[160];
    unsigned char pem[4096];
    mbedtls_pk_context pk;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_x509write_csr csr;
    lpr_err rc = LPR_ECRYPTO;
    const char *pers = "lpr-provision";

    snprintf(key_path, sizeof key_path, "%s/device-tls.key", dir);
    snprintf(csr_path, sizeof csr_path, "%s/device.csr", dir);
    snprintf(subject, sizeof subject, "CN=%s", device_id);
    if (!force && (access(key_path, F_OK) == 0 || access(csr_path, F_OK) == 0)) {
        LPR_ERROR("provision", "%s: exists; use --force to replace it", key_path);
        return LPR_EEXIST;
    }
    mbedtls_pk_init(&pk);
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    mbedtls_x509write_csr_init(&csr);
    if (new_p256_key(&pk, &entropy, &drbg, pers) != 0) {
        LPR_ERROR("provision", "TLS key generation failed");
        goto out;
    }
    mbedtls_x509write_csr_set_md_alg(&csr, MBEDTLS_MD_SHA256);
    mbedtls_x509write_csr_set_key(&csr, &pk);
    if (mbedtls_x509write_csr_set_subject_name(&csr, subject) != 0 ||
        mbedtls_x509write_csr_pem(&csr, pem, sizeof pem, mbedtls_ctr_drbg_random, &drbg) != 0) {
        LPR_ERROR("provision", "cannot build the CSR for %s", subject);
        goto out;
    }
    if (write_file(csr_path, pem, strlen((char *)pem), 0644, force) != 0) {
        LPR_ERROR("provision", "%s: cannot write: %s", csr_path, strerror(errno));
        rc = LPR_EIO;
        goto out;
    }
    if (mbedtls_pk_write_key_pem(&pk, pem, sizeof pem) != 0 ||
        write_file(key_path, pem, strlen((char *)pem), 0600, force) != 0) {
        LPR_ERROR("provision", "%s: cannot write: %s", key_path, strerror(errno));
        rc = LPR_EIO;
        goto out;
    }
    rc = LPR_OK;
out:
    mbedtls_platform_zeroize(pem, sizeof pem);
    mbedtls_x509write_csr_free(&csr);
    mbedtls_pk_free(&pk);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
    return rc;
}

lpr_err lpr_signer_load(const char *key_path, lpr_signer **out)
{
    char err[600];
    const char *pers = "lpr-sign";
    lpr_err rc = lpr_check_secret_file(key_path, err, sizeof err);
    *out = NULL;
    if (rc != LPR_OK) {
        LPR_ERROR("sign", "signing key %s", err);
        return rc;
    }
    lpr_signer *s = calloc(1, sizeof *s);
    if (!s)
        return LPR_ENOMEM;
    mbedtls_pk_init(&s->pk);
    mbedtls_entropy_init(&s->entropy);
    mbedtls_ctr_drbg_init(&s->drbg);
    int mrc = mbedtls_pk_parse_keyfile(&s->pk, key_path, NULL);
    if (mrc != 0 || !mbedtls_pk_can_do(&s->pk, MBEDTLS_PK_ECDSA) ||
        mbedtls_pk_ec(s->pk)->grp.id != MBEDTLS_ECP_DP_SECP256R1) {
        LPR_ERROR("sign", "signing key %s: not an ECDSA P-256 private key in PEM/DER", key_path);
        lpr_signer_free(s);
        return LPR_EFORMAT;
    }
    if (mbedtls_ctr_drbg_seed(&s->drbg, mbedtls_entropy_func, &s->entropy,
                              (const unsigned char *)pers, strlen(pers)) != 0 ||
        compute_kid(&s->pk, s->kid) != LPR_OK) {
        lpr_signer_free(s);
        return LPR_ECRYPTO;
    }
    *out = s;
    return LPR_OK;
}

void lpr_signer_free(lpr_signer *s)
{
    if (!s)
        return;
    mbedtls_pk_free(&s->pk);
    mbedtls_ctr_drbg_free(&s->drbg);
    mbedtls_entropy_free(&s->entropy);
    free(s);
}

const char *lpr_signer_kid(const lpr_signer *s)
{
    return s->kid;
}

/* An ECDSA signature (r, s) has a twin (r, n - s) that verifies as well:
 * anyone can make it from a signed read without the key, so one read could
 * reach the store as two signed byte strings. The signer emits the low-S
 * form (s <= n/2, as Bitcoin's BIP 62 and libsecp256k1 do) and the
 * verifier refuses the other. mbedTLS 2.28 does neither, so the DER is
 * parsed and rewritten here with its ASN.1 functions. */
static int der_to_rs(const unsigned char *sig, size_t len, mbedtls_mpi *r, mbedtls_mpi *s)
{
    unsigned char *p = (unsigned char *)sig;
    const unsigned char *end = sig + len;
    size_t seq;
    if (mbedtls_asn1_get_tag(&p, end, &seq, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) ||
        p + seq != end || mbedtls_asn1_get_mpi(&p, end, r) || mbedtls_asn1_get_mpi(&p, end, s) ||
        p != end)
        return -1;
    return 0;
}

static int rs_to_der(const mbedtls_mpi *r, const mbedtls_mpi *s, unsigned char *sig, size_t *len)
{
    unsigned char buf[LPR_SIG_MAX];
    unsigned char *p = buf + sizeof buf;
    size_t n = 0;
    int ret;
    MBEDTLS_ASN1_CHK_ADD(n, mbedtls_asn1_write_mpi(&p, buf, s));
    MBEDTLS_ASN1_CHK_ADD(n, mbedtls_asn1_write_mpi(&p, buf, r));
    MBEDTLS_ASN1_CHK_ADD(n, mbedtls_asn1_write_len(&p, buf, n));
    MBEDTLS_ASN1_CHK_ADD(
        n, mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    memcpy(sig, p, n);
    *len = n;
    return 0;
}

/* 1 if s > n/2 for the key's curve order n, 0 if not, -1 if sig is no DER
 * ECDSA signature. With fix, a high s is replaced by n - s in sig. */
static int high_s(mbedtls_pk_context *pk, unsigned char *sig, size_t *len, int fix)
{
    mbedtls_mpi r, s, half;
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    mbedtls_mpi_init(&half);
    const mbedtls_mpi *n = &mbedtls_pk_ec(*pk)->grp.N;
    int rc = -1;
    if (der_to_rs(sig, *len, &r, &s) == 0 && mbedtls_mpi_copy(&half, n) == 0 &&
        mbedtls_mpi_shift_r(&half, 1) == 0) {
        rc = mbedtls_mpi_cmp_mpi(&s, &half) > 0;
        if (rc == 1 && fix &&
            (mbedtls_mpi_sub_mpi(&s, n, &s) != 0 || rs_to_der(&r, &s, sig, len) != 0))
            rc = -1;
    }
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&s);
    mbedtls_mpi_free(&half);
    return rc;
}

lpr_err lpr_sign(lpr_signer *s, const void *data, size_t len, unsigned char *sig, size_t *sig_len)
{
    unsigned char hash[32];
    if (mbedtls_sha256_ret(data, len, hash, 0) != 0)
        return LPR_ECRYPTO;
    if (mbedtls_pk_sign(&s->pk, MBEDTLS_MD_SHA256, hash, sizeof hash, sig, sig_len,
                        mbedtls_ctr_drbg_random, &s->drbg) != 0 ||
        *sig_len > LPR_SIG_MAX || high_s(&s->pk, sig, sig_len, 1) < 0) {
        LPR_ERROR("sign", "ECDSA signing failed");
        return LPR_ECRYPTO;
    }
    return LPR_OK;
}

lpr_err lpr_sign_sealer(void *signer, const void *data, size_t len, unsigned char *sig,
                        size_t *sig_len)
{
    return lpr_sign(signer, data, len, sig, sig_len);
}

lpr_err lpr_seal_spool(lpr_spool *spool, const char *key_path, lpr_signer **out)
{
    lpr_signer *s = NULL;
    lpr_err rc = lpr_signer_load(key_path, &s);
    *out = NULL;
    if (rc != LPR_OK)
        return rc; /* logged, naming the key */
    lpr_spool_set_sealer(spool, lpr_sign_sealer, s, lpr_signer_kid(s));
    int64_t n = 0;
    rc = lpr_spool_seal_unsigned(spool, &n);
    if (n > 0)
        LPR_INFO("sign", "sealed %lld read(s) the spool held unsigned, with key %s", (long long)n,
                 lpr_signer_kid(s));
    if (rc != LPR_OK) {
        lpr_spool_set_sealer(spool, NULL, NULL, NULL);
        lpr_signer_free(s);
        return rc;
    }
    *out = s;
    return LPR_OK;
}

void lpr_pub_path_of(const char *key_path, char *out, size_t n)
{
    size_t len = strlen(key_path);
    if (len >= 4 && strcmp(key_path + len - 4, ".key") == 0)
        snprintf(out, n, "%.*s.pub.pem", (int)(len - 4), key_path);
    else
        snprintf(out, n, "%s.pub.pem", key_path);
}

lpr_err lpr_verifier_load(const char *pub_path, lpr_verifier **out)
{
    *out = NULL;
    lpr_verifier *v = calloc(1, sizeof *v);
    if (!v)
        return LPR_ENOMEM;
    mbedtls_pk_init(&v->pk);
    if (mbedtls_pk_parse_public_keyfile(&v->pk, pub_path) != 0 ||
        !mbedtls_pk_can_do(&v->pk, MBEDTLS_PK_ECDSA)) {
        LPR_ERROR("verify", "%s: not an ECDSA public key (PEM)", pub_path);
        lpr_verifier_free(v);
        return LPR_EFORMAT;
    }
    if (compute_kid(&v->pk, v->kid) != LPR_OK) {
        lpr_verifier_free(v);
        return LPR_ECRYPTO;
    }
    *out = v;
    return LPR_OK;
}

void lpr_verifier_free(lpr_verifier *v)
{
    if (!v)
        return;
    mbedtls_pk_free(&v->pk);
    free(v);
}

const char *lpr_verifier_kid(const lpr_verifier *v)
{
    return v->kid;
}

lpr_err lpr_verify(lpr_verifier *v, const void *data, size_t len, const unsigned char *sig,
                   size_t sig_len)
{
    unsigned char hash[32], der[LPR_SIG_MAX];
    size_t der_len = sig_len;
    if (sig_len > sizeof der)
        return LPR_EFORMAT;
    memcpy(der, sig, sig_len);
    if (high_s(&v->pk, der, &der_len, 0) != 0)
        return LPR_EFORMAT; /* not DER, or the high-S twin of a signature */
    if (mbedtls_sha256_ret(data, len, hash, 0) != 0)
        return LPR_ECRYPTO;
    return mbedtls_pk_verify(&v->pk, MBEDTLS_MD_SHA256, hash, sizeof hash, sig, sig_len) == 0
               ? LPR_OK
               : LPR_ECRYPTO;
}

const char *lpr_verify_message(lpr_verifier *v, const void *payload, size_t len, const char *alg,
                               const char *kid, const char *sig)
{
    unsigned char der[LPR_SIG_MAX];
    size_t n;
    if (!sig || !sig[0])
        return "no sig property (unsigned)";
    if (!alg || strcmp(alg, "ES256"))
        return "alg is not ES256";
    if (!kid || strcmp(kid, lpr_verifier_kid(v)))
        return "kid does not match this public key";
    if (lpr_base64_decode(sig, der, sizeof der, &n) != LPR_OK)
        return "sig is not base64";
    lpr_err rc = lpr_verify(v, payload, len, der, n);
    if (rc == LPR_EFORMAT)
        return "sig is not the signer's form (DER, low-S): a malformed signature or the "
               "high-S twin of one, made without the key";
    if (rc != LPR_OK)
        return "BAD SIGNATURE: payload altered or signed by another key";
    return NULL;
}

/*
 * test_sign.c - keygen, key permissions, sign/verify, tamper detection,
 * key id agreement, base64, low-S signatures only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <mbedtls/asn1.h>
#include <mbedtls/asn1write.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ecp.h>

#include "lpr_config.h"
#include "lpr_sign.h"

static char dir[64];
static char key[128], pub[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/lpr-sign-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(key, sizeof key, "%s/device.key", dir);
    snprintf(pub, sizeof pub, "%s/device.pub.pem", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_keygen_sign_verify(void **state)
{
    (void)state;
    char kid[LPR_KID_LEN], kid2[LPR_KID_LEN];
    struct stat st;
    assert_int_equal(lpr_keygen(dir, 0, kid), LPR_OK);
    assert_int_equal(strlen(kid), 32);
    assert_int_equal(stat(key, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* never overwrite without force */
    assert_int_equal(lpr_keygen(dir, 0, kid2), LPR_EEXIST);
    lpr_signer *s;
    lpr_verifier *v;
    assert_int_equal(lpr_signer_load(key, &s), LPR_OK);
    assert_int_equal(lpr_verifier_load(pub, &v), LPR_OK);
    assert_string_equal(lpr_signer_kid(s), kid);
    assert_string_equal(lpr_verifier_kid(v), kid);
    const char *msg = "{\"plate\":{\"text\":\"ABC123\"}}";
    unsigned char sig[LPR_SIG_MAX];
    size_t sl;
    assert_int_equal(lpr_sign(s, msg, strlen(msg), sig, &sl), LPR_OK);
    assert_true(sl >= 64 && sl <= 72);
    assert_int_equal(lpr_verify(v, msg, strlen(msg), sig, sl), LPR_OK);
    const char *tampered = "{\"plate\":{\"text\":\"ABC124\"}}";
    assert_int_equal(lpr_verify(v, tampered, strlen(tampered), sig, sl), LPR_ECRYPTO);
    sig[10] ^= 1;
    assert_int_equal(lpr_verify(v, msg, strlen(msg), sig, sl), LPR_ECRYPTO);
    /* force replaces the key: a new kid, and the old signature no longer verifies */
    assert_int_equal(lpr_keygen(dir, 1, kid2), LPR_OK);
    assert_string_not_equal(kid, kid2);
    lpr_signer_free(s);
    lpr_verifier_free(v);
}

static void test_key_permissions_refused(void **state)
{
    (void)state;
    char kid[LPR_KID_LEN];
    lpr_signer *s;
    assert_int_equal(lpr_keygen(dir, 0, kid), LPR_OK);
    assert_int_equal(chmod(key, 0644), 0);
    assert_int_equal(lpr_signer_load(key, &s), LPR_EPERM);
    assert_null(s);
    assert_int_equal(chmod(key, 0640), 0);
    assert_int_equal(lpr_signer_load(key, &s), LPR_EPERM);
    assert_int_equal(lpr_signer_load("/nonexistent.key", &s), LPR_ENOENT);
    /* a key in a folder anyone may write to could be swapped */
    assert_int_equal(chmod(key, 0600), 0);
    assert_int_equal(chmod(dir, 0777), 0);
    assert_int_equal(lpr_signer_load(key, &s), LPR_EPERM);
    assert_int_equal(chmod(dir, 01777), 0); /* sticky: no one may rename over it */
    assert_int_equal(lpr_signer_load(key, &s), LPR_OK);
    lpr_signer_free(s);
    assert_int_equal(chmod(dir, 0700), 0);
    /* an unreadable key is reported as such (checked as an unprivileged
     * user, since root reads any file): permission denied, not "not a key" */
    if (geteuid() == 0) {
        assert_int_equal(chown(dir, 65534, 65534), 0);
        assert_int_equal(chown(key, 65534, 65534), 0);
        assert_int_equal(chmod(key, 0000), 0);
        pid_t pid = fork();
        if (pid == 0) {
            char err[600];
            int ok = setgid(65534) == 0 && setuid(65534) == 0 &&
                     lpr_check_secret_file(key, err, sizeof err) == LPR_EPERM &&
                     strstr(err, "Permission denied") != NULL;
            if (!ok)
                fprintf(stderr, "unreadable key: %s\n", err);
            _exit(ok ? 0 : 1);
        }
        int st = 0;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        assert_int_equal(chown(key, 0, 0), 0);
        assert_int_equal(chown(dir, 0, 0), 0);
        assert_int_equal(chmod(key, 0600), 0);
    }
    /* a public key is not a private key */
    char bad[160];
    snprintf(bad, sizeof bad, "%s/copy.key", dir);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "install -m 600 %s %s", pub, bad);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(lpr_signer_load(bad, &s), LPR_EFORMAT);
}

static void test_base64(void **state)
{
    (void)state;
    const unsigned char in[] = {0xfb, 0xff, 0x00, 0x41};
    char out[16];
    unsigned char back[8];
    size_t n;
    assert_int_equal(lpr_base64_encode(in, 4, out, sizeof out), LPR_OK);
    assert_string_equal(out, "+/8AQQ==");
    assert_int_equal(lpr_base64_decode(out, back, sizeof back, &n), LPR_OK);
    assert_int_equal(n, 4);
    assert_memory_equal(back, in, 4);
    assert_int_equal(lpr_base64_decode("***", back, sizeof back, &n), LPR_EINVAL);
}

/* The twin (r, n - s) of a DER signature, built with mbedTLS directly. */
static size_t twin_of(const unsigned char *sig, size_t len, unsigned char *out, int *was_high)
{
    mbedtls_mpi r, s, half;
    mbedtls_ecp_group g;
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    mbedtls_mpi_init(&half);
    mbedtls_ecp_group_init(&g);
    assert_int_equal(mbedtls_ecp_group_load(&g, MBEDTLS_ECP_DP_SECP256R1), 0);
    unsigned char *p = (unsigned char *)sig;
    size_t seq;
    assert_int_equal(
        mbedtls_asn1_get_tag(&p, sig + len, &seq, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE),
        0);
    assert_int_equal(mbedtls_asn1_get_mpi(&p, sig + len, &r), 0);
    assert_int_equal(mbedtls_asn1_get_mpi(&p, sig + len, &s), 0);
    assert_int_equal(mbedtls_mpi_copy(&half, &g.N), 0);
    assert_int_equal(mbedtls_mpi_shift_r(&half, 1), 0);
    *was_high = mbedtls_mpi_cmp_mpi(&s, &half) > 0;
    assert_int_equal(mbedtls_mpi_sub_mpi(&s, &g.N, &s), 0);
    unsigned char buf[80], *q = buf + sizeof buf;
    size_t n = 0;
    n += (size_t)mbedtls_asn1_write_mpi(&q, buf, &s);
    n += (size_t)mbedtls_asn1_write_mpi(&q, buf, &r);
    n += (size_t)mbedtls_asn1_write_len(&q, buf, n);
    n += (size_t)mbedtls_asn1_write_tag(&q, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE);
    memcpy(out, q, n);
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&s);
    mbedtls_mpi_free(&half);
    mbedtls_ecp_group_free(&g);
    return n;
}

/* Every signature lpr_sign makes is low-S; its high-S twin is a valid
 * ECDSA signature (openssl would take it) that lpr_verify refuses as not
 * the signer's form, so a read has exactly one signature. */
static void test_low_s_only(void **state)
{
    (void)state;
    char kid[LPR_KID_LEN];
    lpr_signer *s = NULL;
    lpr_verifier *v = NULL;
    assert_int_equal(lpr_keygen(dir, 1, kid), LPR_OK);
    assert_int_equal(lpr_signer_load(key, &s), LPR_OK);
    assert_int_equal(lpr_verifier_load(pub, &v), LPR_OK);
    for (int i = 0; i < 64; i++) {
        char msg[32];
        snprintf(msg, sizeof msg, "{\"seq\":%d}", i);
        unsigned char sig[LPR_SIG_MAX], twin[LPR_SIG_MAX];
        size_t sl, tl;
        int was_high;
        assert_int_equal(lpr_sign(s, msg, strlen(msg), sig, &sl), LPR_OK);
        assert_int_equal(lpr_verify(v, msg, strlen(msg), sig, sl), LPR_OK);
        tl = twin_of(sig, sl, twin, &was_high);
        assert_false(was_high); /* the signer's own is never high-S */
        assert_int_equal(lpr_verify(v, msg, strlen(msg), twin, tl), LPR_EFORMAT);
    }
    /* not DER at all */
    static const unsigned char junk[] = {0x30, 0x03, 0x02, 0x01};
    assert_int_equal(lpr_verify(v, "x", 1, junk, sizeof junk), LPR_EFORMAT);
    lpr_signer_free(s);
    lpr_verifier_free(v);
}

int main(void)
{
    lpr_log_set_level(LPR_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_keygen_sign_verify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_permissions_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_low_s_only, setup, teardown),
        cmocka_unit_test(test_base64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

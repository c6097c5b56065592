/*
 * test_sign.c - keygen, key permissions, sign/verify, tamper detection,
 * key id agreement, base64.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

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

int main(void)
{
    lpr_log_set_level(LPR_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_keygen_sign_verify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_permissions_refused, setup, teardown),
        cmocka_unit_test(test_base64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

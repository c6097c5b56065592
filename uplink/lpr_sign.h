/*
 * lpr_sign.h - device signing keys and read signatures (mbedTLS).
 *
 * ES256: ECDSA P-256 over SHA-256 of the exact payload bytes, DER signature.
 * The key id (kid) is the hex of the first 16 bytes of SHA-256 of the public
 * key's DER SubjectPublicKeyInfo. Anyone holding device.pub.pem checks a
 * read with: openssl dgst -sha256 -verify device.pub.pem -signature sig.der
 */
#ifndef LPR_SIGN_H
#define LPR_SIGN_H

#include <stddef.h>

#include "lpr_common.h"

#define LPR_SIG_MAX 80 /* DER ECDSA P-256 signature, at most 72 bytes */
#define LPR_KID_LEN 33 /* 32 hex digits + NUL */

typedef struct lpr_signer lpr_signer;
typedef struct lpr_verifier lpr_verifier;

/* Writes DIR/device.key (PEM, mode 0600) and DIR/device.pub.pem; kid gets the
 * key id. LPR_EEXIST if either file exists and !force. */
lpr_err lpr_keygen(const char *dir, int force, char kid[LPR_KID_LEN]);

/* Writes DIR/device-tls.key (ECDSA P-256, PEM, 0600) and DIR/device.csr, a
 * certificate signing request with CN=device_id for the fleet CA to sign
 * (the broker takes the CN as the device's MQTT identity). LPR_EEXIST if
 * either exists and !force. */
lpr_err lpr_make_tls_csr(const char *dir, const char *device_id, int force);

/* Loads a private key; refuses (LPR_EPERM) a file group/others can read. */
lpr_err lpr_signer_load(const char *key_path, lpr_signer **out);
void lpr_signer_free(lpr_signer *s);
const char *lpr_signer_kid(const lpr_signer *s);
/* Signs data; sig gets the DER signature in low-S form (LPR_SIG_MAX bytes
 * room). */
lpr_err lpr_sign(lpr_signer *s, const void *data, size_t len, unsigned char *sig, size_t *sig_len);
/* lpr_sign with the signer as ctx: the spool's sealer (lpr_spool_set_sealer),
 * so the camera side seals each read as it spools it. */
lpr_err lpr_sign_sealer(void *signer, const void *data, size_t len, unsigned char *sig,
                        size_t *sig_len);

/* The camera side's start: loads the device key at key_path, has spool seal
 * every read it appends from now on (lpr_spool_set_sealer, with the key's
 * kid), and seals the reads already there without a signature (logged with
 * their count). *out gets the signer: free it after closing the spool.
 * Errors name the key and the reason. */
struct lpr_spool;
lpr_err lpr_seal_spool(struct lpr_spool *spool, const char *key_path, lpr_signer **out);

/* Where lpr_keygen put the public key of the private key at key_path:
 * ".../device.key" -> ".../device.pub.pem" (else key_path + ".pub.pem"). */
void lpr_pub_path_of(const char *key_path, char *out, size_t n);

lpr_err lpr_verifier_load(const char *pub_path, lpr_verifier **out);
void lpr_verifier_free(lpr_verifier *v);
const char *lpr_verifier_kid(const lpr_verifier *v);
/* LPR_OK if sig is a valid signature of data by this key; LPR_EFORMAT if
 * sig is not a DER ECDSA signature in low-S form (the form lpr_sign
 * makes: s <= n/2; the high-S twin of a valid signature is refused, so
 * one read has one signature); else LPR_ECRYPTO. */
lpr_err lpr_verify(lpr_verifier *v, const void *data, size_t len, const unsigned char *sig,
                   size_t sig_len);

/* A message as a store receives it: payload and the user properties alg,
 * kid and sig (base64; NULL or "" when absent). NULL if it is validly
 * signed by this key, else why not, in words for a log line (unsigned,
 * another alg or key, a malformed or high-S signature, an altered
 * payload). lpr verify and lpr-ingest judge with it. */
const char *lpr_verify_message(lpr_verifier *v, const void *payload, size_t len, const char *alg,
                               const char *kid, const char *sig);

#endif

// The SRTP crypto shared by Tertulia's native modules (srtp-core.c): see there.
#ifndef TERTULIA_SRTP_CORE_H
#define TERTULIA_SRTP_CORE_H
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stddef.h>
#include <stdint.h>
#include "srtp-streams.h"

#define CM_TAG 10
#define GCM_TAG 16

/** One session key's contexts (RTP's keys or RTCP's), not shared between threads. */
typedef struct {
  int gcm;
  EVP_CIPHER_CTX* cipher;
  /** GCM only: the decrypting context (AES-CM's keystream is the same both ways). */
  EVP_CIPHER_CTX* decipher;
  /** AES-CM only: SHA-1 after the auth key's inner pad block, and after its outer pad block (HMAC's two starts). */
  SHA_CTX inner;
  SHA_CTX outer;
  uint8_t salt[14];
  /** The streams this context protected (RTP) and unprotected (RTP, or SRTCP with the RTCP keys). */
  SrtpStreams sent;
  SrtpStreams received;
} SrtpCtx;

/**
 * The layout of SrtpCtx, in the type tag of its JavaScript handles (srtp.c tags them, srtp-peers.c in the other
 * module checks): a context of another build is refused, never read with this one's layout. Raise the version
 * when the struct changes in a way its size does not show.
 */
#define SRTP_CTX_TAG_LOWER 0x5465727475534354ull
#define SRTP_CTX_TAG_UPPER (((uint64_t)1 << 32) | (uint64_t)sizeof(SrtpCtx))

/** AES_CM_128_HMAC_SHA1_80 (RFC 3711) with a 16-byte key, 14-byte salt, 20-byte auth key; NULL if OpenSSL refused. */
SrtpCtx* srtp_ctx_cm(const uint8_t key[16], const uint8_t salt[14], const uint8_t auth[20]);
/** AEAD_AES_128_GCM / AEAD_AES_256_GCM (RFC 7714) with a 16- or 32-byte key and 12-byte salt; NULL if refused. */
SrtpCtx* srtp_ctx_gcm(const uint8_t* key, size_t keyLength, const uint8_t salt[12]);
/** Frees a context (its keys wiped). NULL is fine. */
void srtp_ctx_free(SrtpCtx* c);

/**
 * Protects the RTP packet p[0..len) in place (cap: bytes p holds) with its stream's ROC (RFC 3711 §3.3.1, the
 * sender's side; a packet sent again keeps the ROC it had): the new length, or -1 (not RTP, no room for the tag, a
 * ROC that would go below 0, a crypto failure).
 */
int srtp_protect_rtp(SrtpCtx* c, uint8_t* p, int len, size_t cap);
/**
 * Unprotects the SRTP packet p[0..len) in place: its stream's ROC guess, the 64-packet replay window, the tag; then
 * the window moves. The plaintext length, or -1 (a bad tag, a replay or too old, not RTP).
 */
int srtp_unprotect_rtp(SrtpCtx* c, uint8_t* p, int len, size_t cap);
/** With a context of the RTCP keys: encrypts p[8..len) with SRTCP index `index` and appends E|index and the tag. */
int srtp_protect_rtcp(SrtpCtx* c, uint8_t* p, int len, size_t cap, uint32_t index);
/** With a context of the RTCP keys: the sender's replay window, the tag, E=1 decrypts; the RTCP length or -1. */
int srtp_unprotect_rtcp(SrtpCtx* c, uint8_t* p, int len, size_t cap);

#endif

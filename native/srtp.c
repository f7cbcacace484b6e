// Tertulia's optional native SRTP crypto (Node-API): the cipher and authentication work of protecting one RTP
// packet, done once per receiver of every packet the bridge forwards, and of unprotecting one as it arrives. Each context also keeps its streams' rollover
// counters and replay windows (srtp-streams.c): one call per packet. src/bridge/packet/srtp.ts keeps the rest of
// the SRTP logic (key derivation, SRTCP indexes) and, without this module, all of it and
// the crypto itself through Node's crypto API, which costs two Node objects and their buffers per packet: most
// of the bridge's CPU per forwarded packet (docs/BENCHMARKS.md). Here the same OpenSSL that Node carries (its
// exported libcrypto, through Node's own headers: nothing else to install) does it in place, with contexts made
// once per session key. Debian's libsrtp2 was tried first: it is built on NSS, and its per-packet PK11 calls
// cost more than the TypeScript path (docs/BENCHMARKS.md).
//
//   createCm(rtpKey16, rtpSalt14, rtpAuthKey20) -> ctx   AES_CM_128_HMAC_SHA1_80 (RFC 3711)
//   createGcm(rtpKey16|32, rtpSalt12) -> ctx             AEAD_AES_128_GCM / AEAD_AES_256_GCM (RFC 7714)
//   protectRtp(ctx, buf, len) -> n
//       encrypts the RTP packet buf[0..len)'s payload in place and writes the tag at buf[len..): the new length,
//       or -1 (not RTP, no room for the tag, a ROC that would go below 0, a crypto failure). The rollover counter
//       is the context's for the packet's SSRC (RFC 3711 §3.3.1); a packet sent again gets the ROC it had.
//   unprotectRtp(ctx, buf, len) -> n
//       checks the tag at the end of buf[0..len) and decrypts the payload in place: the plaintext length, or -1
//       (authentication failure, a replay or a packet older than the 64-packet window, not RTP).
//   rtpRoc(ctx, ssrc, sending) -> roc                    the ROC of ssrc's stream sent or received, -1: none yet
//   forgetSsrc(ctx, ssrc)                                drops ssrc's streams (a source that went away)
//   protectRtcp(ctx, buf, len, index) -> n                (a context made with the RTCP session keys)
//       encrypts the compound RTCP packet's buf[8..len) in place with SRTCP index `index` (31 bits, E=1) and
//       appends E|index and the tag (AES-CM: E|index then the 10-byte tag, RFC 3711 §3.4; GCM: the 16-byte tag
//       then E|index, RFC 7714 §9): the new length, or -1 (bad arguments, no room, a crypto failure).
//   unprotectRtcp(ctx, buf, len) -> n
//       reads E|index from the packet, checks the tag and, with E=1, decrypts buf[8..) in place: the RTCP
//       length, or -1 (authentication failure, a replay or an index older than the 64-packet window, too short,
//       bad arguments). The replay windows are the context's, per sender SSRC.
// A context is freed when JavaScript drops it (its finalizer); contexts are not shared between threads.
// HMAC-SHA1 is made here from SHA-1 states keyed once per context (RFC 2104: the inner and outer pads' blocks are
// hashed when the context is made, each tag then starts from copies of them): OpenSSL's EVP_MAC does the same, but
// through its provider layer (per tag: a parameter looked up by name, the digest contexts duplicated on the heap).
// SHA1_* are deprecated in OpenSSL 3, not removed: every Node exports them (bundled OpenSSL), as libcrypto 3 does.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <node_api.h>
#include <openssl/evp.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "napi-typed.h"
#include "srtp-streams.h"

#define CM_TAG 10
#define GCM_TAG 16

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

static void free_ctx(SrtpCtx* c) {
  if (c == NULL) return;
  if (c->cipher != NULL) EVP_CIPHER_CTX_free(c->cipher);
  if (c->decipher != NULL) EVP_CIPHER_CTX_free(c->decipher);
  srtp_streams_free(&c->sent);
  srtp_streams_free(&c->received);
  OPENSSL_cleanse(c, sizeof *c);  // the keyed SHA-1 states and the salt
  free(c);
}

static void finalize_ctx(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  free_ctx((SrtpCtx*)data);
}

static napi_value wrap(napi_env env, SrtpCtx* c) {
  napi_value ext;
  if (napi_create_external(env, c, finalize_ctx, NULL, &ext) != napi_ok) {
    free_ctx(c);
    napi_throw_error(env, NULL, "could not wrap the SRTP context");
    return NULL;
  }
  return ext;
}

static napi_value CreateCm(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value a[3];
  uint8_t *key, *salt, *auth;
  size_t kl, sl, al;
  if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 3 ||
      !typed(env, a[0], napi_uint8_array, (void**)&key, &kl) || !typed(env, a[1], napi_uint8_array, (void**)&salt, &sl) ||
      !typed(env, a[2], napi_uint8_array, (void**)&auth, &al) || kl != 16 || sl != 14 || al != 20) {
    napi_throw_type_error(env, NULL, "createCm(rtpKey: 16 bytes, rtpSalt: 14 bytes, rtpAuthKey: 20 bytes)");
    return NULL;
  }
  SrtpCtx* c = calloc(1, sizeof *c);
  if (c == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  memcpy(c->salt, salt, 14);
  // the key (20 bytes) zero-padded to SHA-1's block, XORed with each pad
  uint8_t pad[SHA_CBLOCK];
  int keyed = 1;
  for (int k = 0; k < 2; k++) {
    SHA_CTX* h = k == 0 ? &c->inner : &c->outer;
    memset(pad, k == 0 ? 0x36 : 0x5c, sizeof pad);
    for (size_t i = 0; i < al; i++) pad[i] ^= auth[i];
    keyed = keyed && SHA1_Init(h) == 1 && SHA1_Update(h, pad, sizeof pad) == 1;
  }
  OPENSSL_cleanse(pad, sizeof pad);
  if (!keyed || (c->cipher = EVP_CIPHER_CTX_new()) == NULL || EVP_EncryptInit_ex(c->cipher, EVP_aes_128_ctr(), NULL, key, NULL) != 1) {
    free_ctx(c);
    napi_throw_error(env, NULL, "OpenSSL could not make the AES-CM/HMAC-SHA1 contexts");
    return NULL;
  }
  return wrap(env, c);
}

static napi_value CreateGcm(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value a[2];
  uint8_t *key, *salt;
  size_t kl, sl;
  if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 2 ||
      !typed(env, a[0], napi_uint8_array, (void**)&key, &kl) || !typed(env, a[1], napi_uint8_array, (void**)&salt, &sl) ||
      (kl != 16 && kl != 32) || sl != 12) {
    napi_throw_type_error(env, NULL, "createGcm(rtpKey: 16 or 32 bytes, rtpSalt: 12 bytes)");
    return NULL;
  }
  SrtpCtx* c = calloc(1, sizeof *c);
  if (c == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  c->gcm = 1;
  memcpy(c->salt, salt, 12);
  const EVP_CIPHER* alg = kl == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm();
  if ((c->cipher = EVP_CIPHER_CTX_new()) == NULL || EVP_EncryptInit_ex(c->cipher, alg, NULL, key, NULL) != 1 ||
      (c->decipher = EVP_CIPHER_CTX_new()) == NULL || EVP_DecryptInit_ex(c->decipher, alg, NULL, key, NULL) != 1) {
    free_ctx(c);
    napi_throw_error(env, NULL, "OpenSSL could not make the AES-GCM context");
    return NULL;
  }
  return wrap(env, c);
}

static void put_u32(uint8_t* o, uint32_t v) {
  o[0] = v >> 24;
  o[1] = v >> 16;
  o[2] = v >> 8;
  o[3] = v;
}

static uint32_t get_u32(const uint8_t* o) {
  return ((uint32_t)o[0] << 24) | ((uint32_t)o[1] << 16) | ((uint32_t)o[2] << 8) | o[3];
}

static napi_value int_value(napi_env env, int32_t v) {
  napi_value r;
  napi_create_int32(env, v, &r);
  return r;
}

/**
 * The shape of every SRTP and SRTCP IV: salt ^ SSRC ^ the 48-bit packet index (`hi` its upper 32 bits, `lo16` the
 * lower 16). AES-CM (RFC 3711 §4.1.1): 16 bytes, the SSRC at byte 4, the index in bytes 8..14; AES-GCM (RFC 7714
 * §8.1, §9.1): 12 bytes, the SSRC at byte 2, the index in bytes 6..12. SRTCP's 31-bit index is such an index too.
 */
static void salted_iv(const SrtpCtx* c, const uint8_t ssrc[4], uint32_t hi, uint32_t lo16, int gcm, uint8_t* iv) {
  const int at = gcm ? 2 : 4, end = gcm ? 12 : 14;
  memcpy(iv, c->salt, end);
  if (!gcm) iv[14] = iv[15] = 0;
  for (int i = 0; i < 4; i++) iv[at + i] ^= ssrc[i];
  iv[end - 6] ^= hi >> 24;
  iv[end - 5] ^= hi >> 16;
  iv[end - 4] ^= hi >> 8;
  iv[end - 3] ^= hi;
  iv[end - 2] ^= lo16 >> 8;
  iv[end - 1] ^= lo16;
}

/** AES-CM's IV of an RTP packet: its SSRC, ROC and sequence number. */
static void cm_iv(const SrtpCtx* c, const uint8_t* p, uint32_t roc, uint8_t iv[16]) {
  salted_iv(c, p + 8, roc, ((uint32_t)p[2] << 8) | p[3], 0, iv);
}

/** XORs the AES-CM keystream of counter block iv into p[from..end). */
static int cm_xor_iv(SrtpCtx* c, uint8_t* p, int from, int end, const uint8_t iv[16]) {
  int outl = 0;
  if (EVP_EncryptInit_ex(c->cipher, NULL, NULL, NULL, iv) != 1) return -1;
  if (end > from && EVP_EncryptUpdate(c->cipher, p + from, &outl, p + from, end - from) != 1) return -1;
  return 0;
}

/** XORs the AES-CM keystream of an RTP packet into p[hl..end). */
static int cm_xor(SrtpCtx* c, uint8_t* p, int hl, int end, uint32_t roc) {
  uint8_t iv[16];
  cm_iv(c, p, roc, iv);
  return cm_xor_iv(c, p, hl, end, iv);
}

/** HMAC-SHA1(p[0..end) || extra[0..el)) into tag (20 bytes): SHA1(outer pad || SHA1(inner pad || message)). */
static int cm_tag(const SrtpCtx* c, const uint8_t* p, int end, const uint8_t* extra, size_t el, uint8_t tag[SHA_DIGEST_LENGTH]) {
  SHA_CTX h = c->inner;
  uint8_t inner[SHA_DIGEST_LENGTH];
  if (SHA1_Update(&h, p, (size_t)end) != 1 || (el > 0 && SHA1_Update(&h, extra, el) != 1) || SHA1_Final(inner, &h) != 1) return -1;
  h = c->outer;
  return SHA1_Update(&h, inner, sizeof inner) == 1 && SHA1_Final(tag, &h) == 1 ? 0 : -1;
}

/** AES-CM: payload XOR keystream, then tag = HMAC-SHA1(packet || ROC)[0..10) after it. */
static int protect_cm(SrtpCtx* c, uint8_t* p, int hl, int len, uint32_t roc) {
  uint8_t tag[SHA_DIGEST_LENGTH];
  uint8_t rocBytes[4] = {roc >> 24, roc >> 16, roc >> 8, roc};
  if (cm_xor(c, p, hl, len, roc) != 0 || cm_tag(c, p, len, rocBytes, 4, tag) != 0) return -1;
  memcpy(p + len, tag, CM_TAG);
  return len + CM_TAG;
}

static int unprotect_cm(SrtpCtx* c, uint8_t* p, int hl, int len, uint32_t roc) {
  int end = len - CM_TAG;
  uint8_t tag[SHA_DIGEST_LENGTH];
  uint8_t rocBytes[4] = {roc >> 24, roc >> 16, roc >> 8, roc};
  if (end < hl || cm_tag(c, p, end, rocBytes, 4, tag) != 0 || CRYPTO_memcmp(tag, p + end, CM_TAG) != 0) return -1;
  return cm_xor(c, p, hl, end, roc) == 0 ? end : -1;
}

/** AES-GCM's IV: salt ^ (0 0 SSRC ROC SEQ) (RFC 7714 §8.1). */
static void gcm_iv(const SrtpCtx* c, const uint8_t* p, uint32_t roc, uint8_t iv[12]) {
  salted_iv(c, p + 8, roc, ((uint32_t)p[2] << 8) | p[3], 1, iv);
}

/** AES-GCM: the header as AAD, the tag after the payload. */
static int protect_gcm(SrtpCtx* c, uint8_t* p, int hl, int len, uint32_t roc) {
  uint8_t iv[12];
  gcm_iv(c, p, roc, iv);
  int outl = 0;
  if (EVP_EncryptInit_ex(c->cipher, NULL, NULL, NULL, iv) != 1 || EVP_EncryptUpdate(c->cipher, NULL, &outl, p, hl) != 1)
    return -1;
  if (len > hl && EVP_EncryptUpdate(c->cipher, p + hl, &outl, p + hl, len - hl) != 1) return -1;
  if (EVP_EncryptFinal_ex(c->cipher, p + len, &outl) != 1 ||
      EVP_CIPHER_CTX_ctrl(c->cipher, EVP_CTRL_GCM_GET_TAG, GCM_TAG, p + len) != 1)
    return -1;
  return len + GCM_TAG;
}

static int unprotect_gcm(SrtpCtx* c, uint8_t* p, int hl, int len, uint32_t roc) {
  int end = len - GCM_TAG;
  if (end < hl) return -1;
  uint8_t iv[12];
  gcm_iv(c, p, roc, iv);
  int outl = 0;
  if (EVP_DecryptInit_ex(c->decipher, NULL, NULL, NULL, iv) != 1 || EVP_DecryptUpdate(c->decipher, NULL, &outl, p, hl) != 1)
    return -1;
  if (end > hl && EVP_DecryptUpdate(c->decipher, p + hl, &outl, p + hl, end - hl) != 1) return -1;
  if (EVP_CIPHER_CTX_ctrl(c->decipher, EVP_CTRL_GCM_SET_TAG, GCM_TAG, p + end) != 1) return -1;
  uint8_t tail[16];
  return EVP_DecryptFinal_ex(c->decipher, tail, &outl) == 1 ? end : -1;  // 0: the tag does not match
}

/** The context and the packet of a (ctx, buf, len) call; NULL after throwing `usage`. */
static SrtpCtx* packet_args(napi_env env, napi_callback_info info, const char* usage, uint8_t** buf, size_t* cap, int32_t* len) {
  size_t argc = 3;
  napi_value a[3];
  void* data = NULL;
  if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 3 ||
      napi_get_value_external(env, a[0], &data) != napi_ok || data == NULL ||
      !typed(env, a[1], napi_uint8_array, (void**)buf, cap) || napi_get_value_int32(env, a[2], len) != napi_ok) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  return data;
}

/** An RTP header's length in p[0..len) (version 2, CSRCs, the extension), or -1 when it does not fit. */
static int rtp_header_length(const uint8_t* p, int len) {
  if (len < 12 || (p[0] & 0xc0) != 0x80) return -1;
  int hl = 12 + 4 * (p[0] & 0x0f);
  if (p[0] & 0x10) {
    if (hl + 4 > len) return -1;
    hl += 4 + 4 * (((int)p[hl + 2] << 8) | p[hl + 3]);
  }
  return hl <= len ? hl : -1;
}

/** Protects one RTP packet with its stream's ROC (RFC 3711 §3.3.1, the sender's side). */
static int protect_rtp(SrtpCtx* c, uint8_t* p, int len, size_t cap) {
  if (len < 0 || (size_t)len + (c->gcm ? GCM_TAG : CM_TAG) > cap) return -1;
  int hl = rtp_header_length(p, len);
  if (hl < 0) return -1;
  uint32_t ssrc = get_u32(p + 8);
  uint16_t seq = ((uint16_t)p[2] << 8) | p[3];
  SrtpStream* s = srtp_stream_find(&c->sent, ssrc);
  int64_t roc = srtp_estimate_roc(s, seq);
  if (roc < 0 || (s == NULL && (s = srtp_stream_get(&c->sent, ssrc, 0)) == NULL)) return -1;
  uint64_t index = ((uint64_t)roc << 16) | seq;
  // a packet sent again (a retransmission) keeps the ROC it had and moves nothing
  if (!s->init || index > s->highest) {
    s->init = 1;
    s->sl = seq;
    s->roc = (uint32_t)roc;
    s->highest = index;
  }
  return c->gcm ? protect_gcm(c, p, hl, len, (uint32_t)roc) : protect_cm(c, p, hl, len, (uint32_t)roc);
}

/** Unprotects one SRTP packet: its stream's ROC guess, the replay window, the tag, then the window moves. */
static int unprotect_rtp(SrtpCtx* c, uint8_t* p, int len, size_t cap) {
  if (len < 0 || (size_t)len > cap) return -1;
  int end = len - (c->gcm ? GCM_TAG : CM_TAG);
  int hl = rtp_header_length(p, end);
  if (hl < 0) return -1;
  uint32_t ssrc = get_u32(p + 8);
  uint16_t seq = ((uint16_t)p[2] << 8) | p[3];
  SrtpStream* s = srtp_stream_find(&c->received, ssrc);
  int64_t roc = srtp_estimate_roc(s, seq);
  if (roc < 0) return -1;
  uint64_t index = ((uint64_t)roc << 16) | seq;
  if (!srtp_replay_ok(s, index)) return -1;
  int n = c->gcm ? unprotect_gcm(c, p, hl, len, (uint32_t)roc) : unprotect_cm(c, p, hl, len, (uint32_t)roc);
  if (n != end || (s == NULL && (s = srtp_stream_get(&c->received, ssrc, 1)) == NULL)) return -1;
  if (!s->init || index > s->highest) {
    s->sl = seq;
    s->roc = (uint32_t)roc;
  }
  srtp_replay_commit(s, index);
  return end;
}

static napi_value ProtectRtp(napi_env env, napi_callback_info info) {
  uint8_t* buf = NULL;
  size_t cap = 0;
  int32_t len = 0;
  SrtpCtx* c = packet_args(env, info, "protectRtp(ctx, buf: Uint8Array, len: number)", &buf, &cap, &len);
  return c == NULL ? NULL : int_value(env, protect_rtp(c, buf, len, cap));
}

static napi_value UnprotectRtp(napi_env env, napi_callback_info info) {
  uint8_t* buf = NULL;
  size_t cap = 0;
  int32_t len = 0;
  SrtpCtx* c = packet_args(env, info, "unprotectRtp(ctx, buf: Uint8Array, len: number)", &buf, &cap, &len);
  return c == NULL ? NULL : int_value(env, unprotect_rtp(c, buf, len, cap));
}

/** The context and an SSRC of a (ctx, ssrc[, flag]) call; NULL after throwing `usage`. */
static SrtpCtx* ssrc_args(napi_env env, napi_callback_info info, const char* usage, uint32_t* ssrc, bool* flag) {
  size_t argc = 3;
  napi_value a[3];
  void* data = NULL;
  if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_external(env, a[0], &data) != napi_ok || data == NULL || napi_get_value_uint32(env, a[1], ssrc) != napi_ok ||
      (flag != NULL && (argc < 3 || napi_get_value_bool(env, a[2], flag) != napi_ok))) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  return data;
}

static napi_value RtpRoc(napi_env env, napi_callback_info info) {
  uint32_t ssrc = 0;
  bool sending = false;
  SrtpCtx* c = ssrc_args(env, info, "rtpRoc(ctx, ssrc: number, sending: boolean)", &ssrc, &sending);
  if (c == NULL) return NULL;
  const SrtpStream* s = srtp_stream_find(sending ? &c->sent : &c->received, ssrc);
  napi_value v;
  if (napi_create_double(env, s != NULL && s->init ? (double)s->roc : -1, &v) != napi_ok) return NULL;
  return v;
}

static napi_value ForgetSsrc(napi_env env, napi_callback_info info) {
  uint32_t ssrc = 0;
  SrtpCtx* c = ssrc_args(env, info, "forgetSsrc(ctx, ssrc: number)", &ssrc, NULL);
  if (c == NULL) return NULL;
  srtp_stream_forget(&c->sent, ssrc);
  srtp_stream_forget(&c->received, ssrc);
  return NULL;
}

// ------------------------------------------------------------------------------------------------------------
// SRTCP: the 8-byte first header (V P RC PT length, sender SSRC) stays clear; index is the 31-bit SRTCP index.

/** SRTCP's AES-CM IV: the sender SSRC (bytes 4..8 of the packet) and the SRTCP index (RFC 3711 §4.1.1). */
static void rtcp_cm_iv(const SrtpCtx* c, const uint8_t* p, uint32_t index, uint8_t iv[16]) {
  salted_iv(c, p + 4, index >> 16, index & 0xffff, 0, iv);
}

/** SRTCP's AES-GCM IV: salt ^ (0 0 SSRC 0 0 index) (RFC 7714 §9.1). */
static void rtcp_gcm_iv(const SrtpCtx* c, const uint8_t* p, uint32_t index, uint8_t iv[12]) {
  salted_iv(c, p + 4, index >> 16, index & 0xffff, 1, iv);
}

/** AES-CM: buf[8..len) XOR keystream, then E|index, then HMAC-SHA1(buf[0..len+4))[0..10). */
static int protect_rtcp_cm(SrtpCtx* c, uint8_t* p, int len, uint32_t index) {
  uint8_t iv[16], tag[SHA_DIGEST_LENGTH];
  rtcp_cm_iv(c, p, index, iv);
  if (cm_xor_iv(c, p, 8, len, iv) != 0) return -1;
  put_u32(p + len, 0x80000000u | index);
  if (cm_tag(c, p, len + 4, NULL, 0, tag) != 0) return -1;
  memcpy(p + len + 4, tag, CM_TAG);
  return len + 4 + CM_TAG;
}

static int unprotect_rtcp_cm(SrtpCtx* c, uint8_t* p, int len) {
  int tagAt = len - CM_TAG, end = tagAt - 4;
  uint8_t iv[16], tag[SHA_DIGEST_LENGTH];
  if (end < 8 || cm_tag(c, p, tagAt, NULL, 0, tag) != 0 || CRYPTO_memcmp(tag, p + tagAt, CM_TAG) != 0) return -1;
  uint32_t eIndex = get_u32(p + end);
  if ((eIndex & 0x80000000u) == 0) return end;  // authenticated, not encrypted
  rtcp_cm_iv(c, p, eIndex & 0x7fffffffu, iv);
  return cm_xor_iv(c, p, 8, end, iv) == 0 ? end : -1;
}

/** AES-GCM: AAD = first header || E|index, buf[8..len) encrypted, then the tag, then E|index. */
static int protect_rtcp_gcm(SrtpCtx* c, uint8_t* p, int len, uint32_t index) {
  uint8_t iv[12], eIndex[4];
  rtcp_gcm_iv(c, p, index, iv);
  put_u32(eIndex, 0x80000000u | index);
  int outl = 0;
  if (EVP_EncryptInit_ex(c->cipher, NULL, NULL, NULL, iv) != 1 || EVP_EncryptUpdate(c->cipher, NULL, &outl, p, 8) != 1 ||
      EVP_EncryptUpdate(c->cipher, NULL, &outl, eIndex, 4) != 1)
    return -1;
  if (len > 8 && EVP_EncryptUpdate(c->cipher, p + 8, &outl, p + 8, len - 8) != 1) return -1;
  if (EVP_EncryptFinal_ex(c->cipher, p + len, &outl) != 1 ||
      EVP_CIPHER_CTX_ctrl(c->cipher, EVP_CTRL_GCM_GET_TAG, GCM_TAG, p + len) != 1)
    return -1;
  memcpy(p + len + GCM_TAG, eIndex, 4);
  return len + GCM_TAG + 4;
}

/** With E=0 the whole RTCP packet is AAD (authentication only, RFC 7714 §9.3). */
static int unprotect_rtcp_gcm(SrtpCtx* c, uint8_t* p, int len) {
  int end = len - GCM_TAG - 4;
  if (end < 8) return -1;
  const uint8_t* eIndex = p + len - 4;
  uint32_t e = get_u32(eIndex);
  int encrypted = (e & 0x80000000u) != 0;
  uint8_t iv[12];
  rtcp_gcm_iv(c, p, e & 0x7fffffffu, iv);
  int outl = 0;
  int aad = encrypted ? 8 : end;
  if (EVP_DecryptInit_ex(c->decipher, NULL, NULL, NULL, iv) != 1 || EVP_DecryptUpdate(c->decipher, NULL, &outl, p, aad) != 1 ||
      EVP_DecryptUpdate(c->decipher, NULL, &outl, eIndex, 4) != 1)
    return -1;
  if (encrypted && end > 8 && EVP_DecryptUpdate(c->decipher, p + 8, &outl, p + 8, end - 8) != 1) return -1;
  if (EVP_CIPHER_CTX_ctrl(c->decipher, EVP_CTRL_GCM_SET_TAG, GCM_TAG, p + end) != 1) return -1;
  uint8_t tail[16];
  return EVP_DecryptFinal_ex(c->decipher, tail, &outl) == 1 ? end : -1;  // 0: the tag does not match
}

static napi_value ProtectRtcp(napi_env env, napi_callback_info info) {
  size_t argc = 4, cap = 0;
  napi_value a[4];
  void* data = NULL;
  uint8_t* buf = NULL;
  int32_t len = 0;
  uint32_t index = 0;
  if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 4 ||
      napi_get_value_external(env, a[0], &data) != napi_ok || data == NULL ||
      !typed(env, a[1], napi_uint8_array, (void**)&buf, &cap) || napi_get_value_int32(env, a[2], &len) != napi_ok ||
      napi_get_value_uint32(env, a[3], &index) != napi_ok) {
    napi_throw_type_error(env, NULL, "protectRtcp(ctx, buf: Uint8Array, len: number, index: number)");
    return NULL;
  }
  SrtpCtx* c = data;
  if (len < 8 || index > 0x7fffffffu || (size_t)len + (c->gcm ? GCM_TAG : CM_TAG) + 4 > cap) return int_value(env, -1);
  return int_value(env, c->gcm ? protect_rtcp_gcm(c, buf, len, index) : protect_rtcp_cm(c, buf, len, index));
}

/** Unprotects one SRTCP packet: the sender's replay window, the tag, then the window moves. */
static int unprotect_rtcp(SrtpCtx* c, uint8_t* p, int len, size_t cap) {
  if (len < 0 || (size_t)len > cap) return -1;
  int end = len - (c->gcm ? GCM_TAG : CM_TAG) - 4;
  if (end < 8 || (p[0] & 0xc0) != 0x80) return -1;
  uint32_t ssrc = get_u32(p + 4);
  uint32_t index = get_u32(p + (c->gcm ? len - 4 : end)) & 0x7fffffffu;
  SrtpStream* s = srtp_stream_find(&c->received, ssrc);
  if (!srtp_replay_ok(s, index)) return -1;
  int n = c->gcm ? unprotect_rtcp_gcm(c, p, len) : unprotect_rtcp_cm(c, p, len);
  if (n != end || (s == NULL && (s = srtp_stream_get(&c->received, ssrc, 1)) == NULL)) return -1;
  srtp_replay_commit(s, index);
  return end;
}

static napi_value UnprotectRtcp(napi_env env, napi_callback_info info) {
  uint8_t* buf = NULL;
  size_t cap = 0;
  int32_t len = 0;
  SrtpCtx* c = packet_args(env, info, "unprotectRtcp(ctx, buf: Uint8Array, len: number)", &buf, &cap, &len);
  return c == NULL ? NULL : int_value(env, unprotect_rtcp(c, buf, len, cap));
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"createCm", NULL, CreateCm, NULL, NULL, NULL, napi_default, NULL},
      {"createGcm", NULL, CreateGcm, NULL, NULL, NULL, napi_default, NULL},
      {"protectRtp", NULL, ProtectRtp, NULL, NULL, NULL, napi_default, NULL},
      {"unprotectRtp", NULL, UnprotectRtp, NULL, NULL, NULL, napi_default, NULL},
      {"protectRtcp", NULL, ProtectRtcp, NULL, NULL, NULL, napi_default, NULL},
      {"unprotectRtcp", NULL, UnprotectRtcp, NULL, NULL, NULL, napi_default, NULL},
      {"rtpRoc", NULL, RtpRoc, NULL, NULL, NULL, napi_default, NULL},
      {"forgetSsrc", NULL, ForgetSsrc, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

// The SRTP crypto of Tertulia's native modules, without Node-API: contexts (a session key's cipher and keyed HMAC
// states, and its streams' state: srtp-streams.c) and protecting and unprotecting RTP and SRTCP packets in place.
// Built into srtp.node (native/srtp.c: SrtpSession's calls) and into udp-batch.node (its receive batch unprotects the
// datagrams of peers whose contexts it was given), both from the OpenSSL that Node exports.
// HMAC-SHA1 is made here from SHA-1 states keyed once per context (RFC 2104: the inner and outer pads' blocks are
// hashed when the context is made, each tag then starts from copies of them): OpenSSL's EVP_MAC does the same, but
// through its provider layer (per tag: a parameter looked up by name, the digest contexts duplicated on the heap).
// SHA1_* are deprecated in OpenSSL 3, not removed: every Node exports them (bundled OpenSSL), as libcrypto 3 does.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "srtp-core.h"
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

void srtp_ctx_free(SrtpCtx* c) {
  if (c == NULL) return;
  if (c->cipher != NULL) EVP_CIPHER_CTX_free(c->cipher);
  if (c->decipher != NULL) EVP_CIPHER_CTX_free(c->decipher);
  srtp_streams_free(&c->sent);
  srtp_streams_free(&c->received);
  OPENSSL_cleanse(c, sizeof *c);  // the keyed SHA-1 states and the salt
  free(c);
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


SrtpCtx* srtp_ctx_cm(const uint8_t key[16], const uint8_t salt[14], const uint8_t auth[20]) {
  SrtpCtx* c = calloc(1, sizeof *c);
  if (c == NULL) return NULL;
  memcpy(c->salt, salt, 14);
  // the key (20 bytes) zero-padded to SHA-1's block, XORed with each pad
  uint8_t pad[SHA_CBLOCK];
  int keyed = 1;
  for (int k = 0; k < 2; k++) {
    SHA_CTX* h = k == 0 ? &c->inner : &c->outer;
    memset(pad, k == 0 ? 0x36 : 0x5c, sizeof pad);
    for (size_t i = 0; i < 20; i++) pad[i] ^= auth[i];
    keyed = keyed && SHA1_Init(h) == 1 && SHA1_Update(h, pad, sizeof pad) == 1;
  }
  OPENSSL_cleanse(pad, sizeof pad);
  if (!keyed || (c->cipher = EVP_CIPHER_CTX_new()) == NULL || EVP_EncryptInit_ex(c->cipher, EVP_aes_128_ctr(), NULL, key, NULL) != 1) {
    srtp_ctx_free(c);
    return NULL;
  }
  return c;
}

SrtpCtx* srtp_ctx_gcm(const uint8_t* key, size_t keyLength, const uint8_t salt[12]) {
  if (keyLength != 16 && keyLength != 32) return NULL;
  SrtpCtx* c = calloc(1, sizeof *c);
  if (c == NULL) return NULL;
  c->gcm = 1;
  memcpy(c->salt, salt, 12);
  const EVP_CIPHER* alg = keyLength == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm();
  if ((c->cipher = EVP_CIPHER_CTX_new()) == NULL || EVP_EncryptInit_ex(c->cipher, alg, NULL, key, NULL) != 1 ||
      (c->decipher = EVP_CIPHER_CTX_new()) == NULL || EVP_DecryptInit_ex(c->decipher, alg, NULL, key, NULL) != 1) {
    srtp_ctx_free(c);
    return NULL;
  }
  return c;
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

int srtp_protect_rtp(SrtpCtx* c, uint8_t* p, int len, size_t cap) {
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

int srtp_unprotect_rtp(SrtpCtx* c, uint8_t* p, int len, size_t cap) {
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

int srtp_unprotect_rtcp(SrtpCtx* c, uint8_t* p, int len, size_t cap) {
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

int srtp_protect_rtcp(SrtpCtx* c, uint8_t* p, int len, size_t cap, uint32_t index) {
  if (len < 8 || index > 0x7fffffffu || (size_t)len + (c->gcm ? GCM_TAG : CM_TAG) + 4 > cap) return -1;
  return c->gcm ? protect_rtcp_gcm(c, p, len, index) : protect_rtcp_cm(c, p, len, index);
}

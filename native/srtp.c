// Tertulia's optional native SRTP crypto (Node-API): the cipher and authentication work of protecting one RTP
// packet, done once per receiver of every packet the bridge forwards, and of unprotecting one as it arrives. Each
// context also keeps its streams' rollover counters and replay windows (srtp-streams.c): one call per packet.
// src/bridge/packet/srtp.ts keeps the rest of the SRTP logic (key derivation, SRTCP indexes) and, without this
// module, all of it and the crypto itself through Node's crypto API, which costs two Node objects and their buffers per packet: most
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
// A context is freed when JavaScript drops it (its finalizer); contexts are not shared between threads. The
// crypto and the streams' state are native/srtp-core.c's (also built into udp-batch.node, whose receive batch uses
// these contexts).
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include "napi-typed.h"
#include "srtp-core.h"

/** The version of this module's functions and their arguments: raise it with src/bridge/native/srtp.ts's. */
#define SRTP_MODULE_API 2

static void finalize_ctx(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  srtp_ctx_free((SrtpCtx*)data);
}

static napi_value wrap(napi_env env, SrtpCtx* c, const char* failed) {
  napi_value ext;
  if (c == NULL) {
    napi_throw_error(env, NULL, failed);
    return NULL;
  }
  if (napi_create_external(env, c, finalize_ctx, NULL, &ext) != napi_ok) {
    srtp_ctx_free(c);
    napi_throw_error(env, NULL, "could not wrap the SRTP context");
    return NULL;
  }
  const napi_type_tag tag = {SRTP_CTX_TAG_LOWER, SRTP_CTX_TAG_UPPER};
  if (napi_type_tag_object(env, ext, &tag) != napi_ok) {
    napi_throw_error(env, NULL, "could not tag the SRTP context");
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
  return wrap(env, srtp_ctx_cm(key, salt, auth), "OpenSSL could not make the AES-CM/HMAC-SHA1 contexts");
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
  return wrap(env, srtp_ctx_gcm(key, kl, salt), "OpenSSL could not make the AES-GCM context");
}

static napi_value int_value(napi_env env, int32_t v) {
  napi_value r;
  napi_create_int32(env, v, &r);
  return r;
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

static napi_value ProtectRtp(napi_env env, napi_callback_info info) {
  uint8_t* buf = NULL;
  size_t cap = 0;
  int32_t len = 0;
  SrtpCtx* c = packet_args(env, info, "protectRtp(ctx, buf: Uint8Array, len: number)", &buf, &cap, &len);
  return c == NULL ? NULL : int_value(env, srtp_protect_rtp(c, buf, len, cap));
}

static napi_value UnprotectRtp(napi_env env, napi_callback_info info) {
  uint8_t* buf = NULL;
  size_t cap = 0;
  int32_t len = 0;
  SrtpCtx* c = packet_args(env, info, "unprotectRtp(ctx, buf: Uint8Array, len: number)", &buf, &cap, &len);
  return c == NULL ? NULL : int_value(env, srtp_unprotect_rtp(c, buf, len, cap));
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
  return int_value(env, srtp_protect_rtcp(data, buf, len, cap, index));
}

static napi_value UnprotectRtcp(napi_env env, napi_callback_info info) {
  uint8_t* buf = NULL;
  size_t cap = 0;
  int32_t len = 0;
  SrtpCtx* c = packet_args(env, info, "unprotectRtcp(ctx, buf: Uint8Array, len: number)", &buf, &cap, &len);
  return c == NULL ? NULL : int_value(env, srtp_unprotect_rtcp(c, buf, len, cap));
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
  // the calls' shape (src/bridge/native/srtp.ts checks it): a module built from other sources is not used
  napi_value api;
  napi_create_int32(env, SRTP_MODULE_API, &api);
  napi_set_named_property(env, exports, "api", api);
  return exports;
}

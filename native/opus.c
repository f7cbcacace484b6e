// Tertulia's optional native Opus module (Node-API, Linux): libopus from Debian (libopus-dev) for the SIP
// gateway's transcoding, where one encoder runs per call. Without it, src/sip/media/opus-codec.ts uses a
// WebAssembly build of libopus (opusscript); both are tested. scripts/build-native.sh builds it.
//
//   encoderCreate(sampleRate, channels, bitrate[, maxBandwidth[, complexity]]) -> handle  (VOIP; maxBandwidth:
//                                                 an OPUS_BANDWIDTH_* value, e.g. 1103 wideband for phone audio;
//                                                 complexity 0-10, default 5)
//   encode(handle, pcm: Int16Array, out: Uint8Array) -> bytes     (one frame: 2.5 ... 60 ms of samples)
//   decoderCreate(sampleRate, channels) -> handle
//   decode(handle, packet: Uint8Array | null, pcm: Int16Array) -> samples per channel  (null: conceal a loss)
// Errors (a bad frame size, a corrupt packet) are thrown with libopus's message; handles are freed by the GC.
#include <node_api.h>
#include "napi-typed.h"
#include <opus/opus.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
  OpusEncoder* enc;
  OpusDecoder* dec;
  int channels;
} Codec;

static napi_value fail(napi_env env, const char* what, int err) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s", what, opus_strerror(err));
  napi_throw_error(env, "EOPUS", msg);
  return NULL;
}

static void free_codec(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  Codec* c = (Codec*)data;
  if (c->enc) opus_encoder_destroy(c->enc);
  if (c->dec) opus_decoder_destroy(c->dec);
  free(c);
}

static napi_value wrap(napi_env env, OpusEncoder* enc, OpusDecoder* dec, int channels) {
  Codec* c = calloc(1, sizeof *c);
  c->enc = enc;
  c->dec = dec;
  c->channels = channels;
  napi_value out;
  napi_create_external(env, c, free_codec, NULL, &out);
  return out;
}

static bool int_args(napi_env env, napi_callback_info info, size_t n, int32_t* out) {
  size_t argc = n;
  napi_value a[5];
  if (n > 5 || napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < n) return false;
  for (size_t i = 0; i < n; i++)
    if (napi_get_value_int32(env, a[i], &out[i]) != napi_ok) return false;
  return true;
}

static napi_value EncoderCreate(napi_env env, napi_callback_info info) {
  int32_t v[5] = {0, 0, 0, OPUS_BANDWIDTH_FULLBAND, 5};
  if (!int_args(env, info, 5, v) && !int_args(env, info, 4, v) && !int_args(env, info, 3, v)) {
    napi_throw_type_error(env, NULL, "encoderCreate(sampleRate, channels, bitrate[, maxBandwidth[, complexity]])");
    return NULL;
  }
  if (v[4] < 0 || v[4] > 10) {
    napi_throw_range_error(env, NULL, "encoderCreate: complexity is 0-10");
    return NULL;
  }
  if (v[3] < OPUS_BANDWIDTH_NARROWBAND || v[3] > OPUS_BANDWIDTH_FULLBAND) {
    napi_throw_range_error(env, NULL, "encoderCreate: maxBandwidth is an OPUS_BANDWIDTH_* value (1101-1105)");
    return NULL;
  }
  int err = 0;
  OpusEncoder* enc = opus_encoder_create(v[0], v[1], OPUS_APPLICATION_VOIP, &err);
  if (err != OPUS_OK || enc == NULL) return fail(env, "opus_encoder_create", err);
  opus_encoder_ctl(enc, OPUS_SET_BITRATE(v[2]));
  opus_encoder_ctl(enc, OPUS_SET_COMPLEXITY(v[4]));
  opus_encoder_ctl(enc, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
  opus_encoder_ctl(enc, OPUS_SET_MAX_BANDWIDTH(v[3]));
  return wrap(env, enc, NULL, v[1]);
}

static napi_value DecoderCreate(napi_env env, napi_callback_info info) {
  int32_t v[2];
  if (!int_args(env, info, 2, v)) {
    napi_throw_type_error(env, NULL, "decoderCreate(sampleRate, channels)");
    return NULL;
  }
  int err = 0;
  OpusDecoder* dec = opus_decoder_create(v[0], v[1], &err);
  if (err != OPUS_OK || dec == NULL) return fail(env, "opus_decoder_create", err);
  return wrap(env, NULL, dec, v[1]);
}


static napi_value Encode(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value a[3];
  void* handle = NULL;
  int16_t* pcm;
  uint8_t* out;
  size_t samples = 0, room = 0;
  napi_valuetype t;
  if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 3 || napi_typeof(env, a[0], &t) != napi_ok || t != napi_external ||
      napi_get_value_external(env, a[0], &handle) != napi_ok || !typed(env, a[1], napi_int16_array, (void**)&pcm, &samples) ||
      !typed(env, a[2], napi_uint8_array, (void**)&out, &room)) {
    napi_throw_type_error(env, NULL, "encode(encoder, Int16Array, Uint8Array)");
    return NULL;
  }
  Codec* c = (Codec*)handle;
  if (c->enc == NULL) {
    napi_throw_type_error(env, NULL, "encode: not an encoder");
    return NULL;
  }
  int n = opus_encode(c->enc, pcm, (int)(samples / (size_t)c->channels), out, (opus_int32)room);
  if (n < 0) return fail(env, "opus_encode", n);
  napi_value r;
  napi_create_int32(env, n, &r);
  return r;
}

static napi_value Decode(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value a[3];
  void* handle = NULL;
  uint8_t* packet = NULL;
  int16_t* pcm;
  size_t plen = 0, samples = 0;
  napi_valuetype t, pt;
  if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 3 || napi_typeof(env, a[0], &t) != napi_ok || t != napi_external ||
      napi_get_value_external(env, a[0], &handle) != napi_ok || napi_typeof(env, a[1], &pt) != napi_ok ||
      (pt != napi_null && !typed(env, a[1], napi_uint8_array, (void**)&packet, &plen)) || !typed(env, a[2], napi_int16_array, (void**)&pcm, &samples)) {
    napi_throw_type_error(env, NULL, "decode(decoder, Uint8Array | null, Int16Array)");
    return NULL;
  }
  Codec* c = (Codec*)handle;
  if (c->dec == NULL) {
    napi_throw_type_error(env, NULL, "decode: not a decoder");
    return NULL;
  }
  int n = opus_decode(c->dec, pt == napi_null ? NULL : packet, pt == napi_null ? 0 : (opus_int32)plen, pcm, (int)(samples / (size_t)c->channels), 0);
  if (n < 0) return fail(env, "opus_decode", n);
  napi_value r;
  napi_create_int32(env, n, &r);
  return r;
}

NAPI_MODULE_INIT() {
  napi_value f;
  napi_create_function(env, "encoderCreate", NAPI_AUTO_LENGTH, EncoderCreate, NULL, &f);
  napi_set_named_property(env, exports, "encoderCreate", f);
  napi_create_function(env, "encode", NAPI_AUTO_LENGTH, Encode, NULL, &f);
  napi_set_named_property(env, exports, "encode", f);
  napi_create_function(env, "decoderCreate", NAPI_AUTO_LENGTH, DecoderCreate, NULL, &f);
  napi_set_named_property(env, exports, "decoderCreate", f);
  napi_create_function(env, "decode", NAPI_AUTO_LENGTH, Decode, NULL, &f);
  napi_set_named_property(env, exports, "decode", f);
  return exports;
}

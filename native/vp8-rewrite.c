// The VP8 rewrite of the native data plane (see vp8-rewrite.h): src/bridge/simulcast/vp8-rewriter.ts's
// rewriteParsed() and switchTo() on the same state. Change both together; the cross-path test runs both.
#include "vp8-rewrite.h"
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <node_api.h>
#include "napi-typed.h"

static inline int seq_diff(int a, int b) {
  return (int16_t)(uint16_t)(a - b);
}

static inline int pic_diff(int a, int b) {
  return (((a - b) & 0x7fff) ^ 0x4000) - 0x4000;
}

static inline void put_u32(uint8_t* p, uint32_t v) {
  p[0] = v >> 24;
  p[1] = v >> 16;
  p[2] = v >> 8;
  p[3] = v;
}

static inline double* last_ms(Vp8Rewriter* rw) {
  return (double*)((uint8_t*)rw->s + RW_LAST_MS_OFFSET);
}

int rtp_layout(const uint8_t* p, int len, RtpLayout* out) {
  if (len < 12 || (p[0] & 0xc0) != 0x80) return 0;
  int hl = 12 + 4 * (p[0] & 0x0f);
  if (hl > len) return 0;
  if (p[0] & 0x10) {
    if (hl + 4 > len) return 0;
    hl += 4 + 4 * (((int)p[hl + 2] << 8) | p[hl + 3]);
    if (hl > len) return 0;
  }
  int end = len;
  if (p[0] & 0x20) {
    int padding = p[len - 1];
    if (padding == 0 || len - padding < hl) return 0;
    end = len - padding;
  }
  out->headerLength = hl;
  out->payloadEnd = end;
  out->marker = (p[1] & 0x80) != 0;
  out->payloadType = p[1] & 0x7f;
  out->seq = ((uint16_t)p[2] << 8) | p[3];
  out->ts = ((uint32_t)p[4] << 24) | ((uint32_t)p[5] << 16) | ((uint32_t)p[6] << 8) | p[7];
  return 1;
}

int vp8_descriptor(const uint8_t* b, int from, int end, Vp8Desc* d) {
  memset(d, 0, sizeof *d);
  d->pictureId = d->tl0PicIdx = d->tid = -1;
  if (from < 0 || from >= end) return 0;
  int p = from;
  uint8_t b0 = b[p++];
  d->start = (b0 & 0x10) != 0;
  d->partitionId = b0 & 0x07;
  if (b0 & 0x80) {
    if (p >= end) return 0;
    uint8_t x = b[p++];
    if (x & 0x80) {
      if (p >= end) return 0;
      uint8_t m = b[p++];
      if (m & 0x80) {
        if (p >= end) return 0;
        d->pictureId = ((m & 0x7f) << 8) | b[p++];
      } else {
        d->pictureId = m;
      }
    }
    if (x & 0x40) {
      if (p >= end) return 0;
      d->tl0PicIdx = b[p++];
    }
    if (x & 0x30) {
      if (p >= end) return 0;
      uint8_t t = b[p++];
      if (x & 0x20) {
        d->tid = t >> 6;
        d->layerSync = (t & 0x20) != 0;
      }
    }
  }
  d->headerLength = p - from;
  if (d->start && d->partitionId == 0) {
    // the VP8 payload header starts partition 0: its P bit is 0 on a keyframe
    if (p >= end) return 0;
    d->keyframe = (b[p] & 0x01) == 0;
  }
  return 1;
}

/** The layer switch at a keyframe of `layer` (input seq, ts): numbering continues from the last packet sent. */
static void switch_to(Vp8Rewriter* rw, int seq, uint32_t ts, int layer, const Vp8Desc* d, double nowMs) {
  int32_t* s = rw->s;
  if (s[RW_STARTED]) {
    // another layer played up to here (a held switch): one frame; the stream stood still: the pause itself
    double idleTicks = 0;
    if (s[RW_CURRENT_LAYER] < 0) {
      double idle = nowMs - *last_ms(rw);
      if (idle > RW_MAX_IDLE_STEP_MS) idle = RW_MAX_IDLE_STEP_MS;
      idleTicks = floor(idle * RW_TICKS_PER_MS + 0.5);  // Math.round
    }
    double step = s[RW_FRAME_TICKS] > idleTicks ? s[RW_FRAME_TICKS] : idleTicks;
    s[RW_SEQ_OFFSET] = (seq - s[RW_LAST_SEQ] - 1) & 0xffff;
    s[RW_TS_OFFSET] = (int32_t)(ts - (uint32_t)s[RW_LAST_TS] - (uint32_t)(int64_t)step);
    if (d->pictureId >= 0 && s[RW_LAST_PIC] >= 0) s[RW_PIC_OFFSET] = (d->pictureId - s[RW_LAST_PIC] - 1) & 0x7fff;
    if (d->tl0PicIdx >= 0 && s[RW_LAST_TL0] >= 0) s[RW_TL0_OFFSET] = (d->tl0PicIdx - s[RW_LAST_TL0] - 1) & 0xff;
  }
  s[RW_CURRENT_LAYER] = layer;
  s[RW_CURRENT_TEMPORAL] = s[RW_TARGET_TEMPORAL];
  s[RW_SWITCH_SEQ] = seq;
  s[RW_AFTER_SWITCH] = 1;
  s[RW_IN_SEQ] = (seq - 1) & 0xffff;
  s[RW_IN_PIC] = d->pictureId >= 0 ? (d->pictureId - 1) & 0x7fff : -1;
}

int vp8_rewrite(Vp8Rewriter* rw, uint8_t* p, const RtpLayout* r, const Vp8Desc* d, int layer, double nowMs) {
  int32_t* s = rw->s;
  const int hl = r->headerLength, end = r->payloadEnd, seq = r->seq;
  const uint32_t ts = r->ts;
  if (layer != s[RW_CURRENT_LAYER]) {
    if (layer != s[RW_TARGET_LAYER] || end == hl || !d->keyframe) return 0;
    switch_to(rw, seq, ts, layer, d, nowMs);
  }
  if (s[RW_AFTER_SWITCH]) {
    int since = seq_diff(seq, s[RW_SWITCH_SEQ]);
    // older than the switch point: their output numbers belong to the previous layer
    if (since < 0) return 0;
    if (since > 1000) s[RW_AFTER_SWITCH] = 0;
  }
  const int ahead = seq_diff(seq, s[RW_IN_SEQ]);
  if (ahead > 0) s[RW_IN_SEQ] = seq;
  if (end == hl) {
    if (ahead > 0) s[RW_SEQ_OFFSET] = (s[RW_SEQ_OFFSET] + 1) & 0xffff;  // padding only
    return 0;
  }
  const int newPic = d->pictureId >= 0 && pic_diff(d->pictureId, s[RW_IN_PIC]) > 0;
  const int tid = d->tid;
  // temporal layers: change the forwarded set at frame starts only
  if (d->start && d->partitionId == 0 && tid >= 0) {
    const int target = s[RW_TARGET_TEMPORAL], current = s[RW_CURRENT_TEMPORAL];
    if (target < current) s[RW_CURRENT_TEMPORAL] = target;
    else if (target > current && tid > current && tid <= target && d->layerSync) s[RW_CURRENT_TEMPORAL] = tid;
  }
  if (newPic) s[RW_IN_PIC] = d->pictureId;
  if (tid > s[RW_CURRENT_TEMPORAL]) {
    if (ahead > 0) s[RW_SEQ_OFFSET] = (s[RW_SEQ_OFFSET] + 1) & 0xffff;
    if (newPic) s[RW_PIC_OFFSET] = (s[RW_PIC_OFFSET] + 1) & 0x7fff;
    return 0;
  }
  const int32_t tsOffset = s[RW_TS_OFFSET], picOffset = s[RW_PIC_OFFSET], tl0Offset = s[RW_TL0_OFFSET];
  const int outSeq = (seq - s[RW_SEQ_OFFSET]) & 0xffff;
  const uint32_t outTs = ts - (uint32_t)tsOffset;
  put_u32(p + 8, (uint32_t)s[RW_OUT_SSRC]);
  p[2] = outSeq >> 8;
  p[3] = outSeq;
  put_u32(p + 4, outTs);
  // the descriptor's optional bytes, as parsed: I (picture id, 7 or 15 bits by its M bit), then L (TL0PICIDX)
  int at = hl + 2;
  int outPic = -1, outTl0 = -1;
  if (d->pictureId >= 0) {
    outPic = (d->pictureId - picOffset) & 0x7fff;
    if (p[at] & 0x80) {
      p[at] = 0x80 | ((outPic >> 8) & 0x7f);
      p[at + 1] = outPic;
      at += 2;
    } else {
      p[at] = outPic & 0x7f;
      at += 1;
    }
  }
  if (d->tl0PicIdx >= 0) {
    outTl0 = (d->tl0PicIdx - tl0Offset) & 0xff;
    p[at] = outTl0;
  }
  uint8_t* h = rw->history;
  const int i = outSeq & (RW_HISTORY - 1);
  ((int32_t*)(h + RW_H_OUT))[i] = outSeq;
  ((int8_t*)(h + RW_H_LAYER))[i] = layer;
  ((uint16_t*)(h + RW_H_IN))[i] = seq;
  ((uint32_t*)(h + RW_H_TS))[i] = (uint32_t)tsOffset;
  ((uint16_t*)(h + RW_H_PIC))[i] = picOffset;
  ((uint8_t*)(h + RW_H_TL0))[i] = tl0Offset;
  if (!s[RW_STARTED] || seq_diff(outSeq, s[RW_LAST_SEQ]) > 0) {
    s[RW_STARTED] = 1;
    s[RW_LAST_SEQ] = outSeq;
    s[RW_LAST_TS] = (int32_t)outTs;
    *last_ms(rw) = nowMs;
    if (outPic >= 0) s[RW_LAST_PIC] = outPic;
    if (outTl0 >= 0) s[RW_LAST_TL0] = outTl0;
  }
  return 1;
}

/**
 * vp8Rewrite(state, history, packet, len, layer, nowMs, vp8PayloadType): rewrites packet[0..len) in place with the
 * rewriter whose state and history those ArrayBuffers are (Vp8Rewriter.state, .allocateHistory()). 1: send it;
 * 0: not; -1: not an RTP packet of that payload type with a valid VP8 descriptor (a padding-only one is valid).
 */
static napi_value Vp8Rewrite(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value a[7], result;
  void* data = NULL;
  size_t size = 0;
  int32_t len = 0, layer = 0, pt = 0;
  double nowMs = 0;
  if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 7) goto usage;
  Vp8Rewriter rw = {(int32_t*)aligned_buffer(env, a[0], RW_STATE_BYTES), aligned_buffer(env, a[1], RW_HISTORY_BYTES)};
  if (rw.s == NULL || rw.history == NULL || !typed(env, a[2], napi_uint8_array, &data, &size) ||
      napi_get_value_int32(env, a[3], &len) != napi_ok || napi_get_value_int32(env, a[4], &layer) != napi_ok ||
      napi_get_value_double(env, a[5], &nowMs) != napi_ok || napi_get_value_int32(env, a[6], &pt) != napi_ok ||
      len < 0 || (size_t)len > size)
    goto usage;
  RtpLayout r;
  Vp8Desc d;
  int out = -1;
  if (rtp_layout(data, len, &r) && r.payloadType == pt) {
    if (r.payloadEnd == r.headerLength) {
      memset(&d, 0, sizeof d);
      out = vp8_rewrite(&rw, data, &r, &d, layer, nowMs);
    } else if (vp8_descriptor(data, r.headerLength, r.payloadEnd, &d)) {
      out = vp8_rewrite(&rw, data, &r, &d, layer, nowMs);
    }
  }
  napi_create_int32(env, out, &result);
  return result;
usage:
  napi_throw_type_error(env, NULL, "vp8Rewrite(state: ArrayBuffer, history: ArrayBuffer, packet: Uint8Array, len, layer, nowMs, vp8PayloadType)");
  return NULL;
}

void vp8_rewrite_init(napi_env env, napi_value exports) {
  napi_value f, v;
  napi_create_function(env, "vp8Rewrite", NAPI_AUTO_LENGTH, Vp8Rewrite, NULL, &f);
  napi_set_named_property(env, exports, "vp8Rewrite", f);
  // the layout this build shares with vp8-rewriter.ts
  const int32_t layout[] = {RW_FIELDS, RW_STATE_BYTES, RW_LAST_MS_OFFSET, RW_HISTORY, RW_H_OUT, RW_H_TS, RW_H_IN, RW_H_PIC, RW_H_LAYER, RW_H_TL0, RW_HISTORY_BYTES};
  napi_create_array_with_length(env, sizeof layout / sizeof layout[0], &v);
  for (uint32_t i = 0; i < sizeof layout / sizeof layout[0]; i++) {
    napi_value n;
    napi_create_int32(env, layout[i], &n);
    napi_set_element(env, v, i, n);
  }
  napi_set_named_property(env, exports, "VP8_REWRITER_LAYOUT", v);
}

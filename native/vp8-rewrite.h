// The per-receiver VP8 rewriter of the native data plane: the same state, in the same memory, as
// src/bridge/simulcast/vp8-rewriter.ts (its `state` and `history` ArrayBuffers), and the same rewrite. The
// layout below mirrors that file's RW, REWRITER_* constants; test/unit/vp8-rewrite-native.test.ts checks both
// against each other and runs both rewrites on the same streams.
#ifndef TERTULIA_VP8_REWRITE_H
#define TERTULIA_VP8_REWRITE_H
#include <stdint.h>

enum {
  RW_STARTED = 0,
  RW_IN_SEQ,
  RW_IN_PIC,
  RW_SEQ_OFFSET,
  RW_TS_OFFSET,
  RW_PIC_OFFSET,
  RW_TL0_OFFSET,
  RW_LAST_SEQ,
  RW_LAST_TS,
  RW_LAST_PIC,
  RW_LAST_TL0,
  RW_SWITCH_SEQ,
  RW_AFTER_SWITCH,
  RW_HELD_SEQ,
  RW_HELD_TS,
  RW_TARGET_LAYER,
  RW_TARGET_TEMPORAL,
  RW_CURRENT_LAYER,
  RW_CURRENT_TEMPORAL,
  RW_OUT_SSRC,
  RW_FRAME_TICKS,
  RW_FIELDS
};
#define RW_STATE_BYTES 128
#define RW_LAST_MS_OFFSET 96
/** Entries of the history (REWRITE_HISTORY: a power of two) and its arrays' byte offsets. */
#define RW_HISTORY 512
#define RW_H_OUT 0
#define RW_H_TS (4 * RW_HISTORY)
#define RW_H_IN (8 * RW_HISTORY)
#define RW_H_PIC (10 * RW_HISTORY)
#define RW_H_LAYER (12 * RW_HISTORY)
#define RW_H_TL0 (13 * RW_HISTORY)
#define RW_HISTORY_BYTES (14 * RW_HISTORY)
/** The 90 kHz clock's ticks per ms, and the longest pause a timestamp step stands for (MAX_IDLE_STEP_MS). */
#define RW_TICKS_PER_MS 90
#define RW_MAX_IDLE_STEP_MS 60000

/** One rewriter: its header (RW_STATE_BYTES) and history (RW_HISTORY_BYTES), both 8-byte aligned. */
typedef struct {
  int32_t* s;
  uint8_t* history;
} Vp8Rewriter;

/** A VP8 payload descriptor (RFC 7741 §4.2), as src/bridge/packet/vp8.ts parses it. */
typedef struct {
  int start;
  int partitionId;
  int pictureId;  // -1: absent
  int tl0PicIdx;  // -1: absent
  int tid;        // -1: absent
  int layerSync;
  int keyframe;
  int headerLength;
} Vp8Desc;

/** An RTP packet's layout: header length (CSRCs, extension), payload end (padding off), seq, timestamp. */
typedef struct {
  int headerLength;
  int payloadEnd;
  uint16_t seq;
  uint32_t ts;
  int marker;
  int payloadType;
} RtpLayout;

/** Parses p[0..len)'s RTP header; 0 when malformed (as RtpView.parse). */
int rtp_layout(const uint8_t* p, int len, RtpLayout* out);
/** Parses the VP8 descriptor of p[from..end); 0 when truncated (as vp8Descriptor). */
int vp8_descriptor(const uint8_t* p, int from, int end, Vp8Desc* d);
/**
 * Rewrites p (plaintext RTP of simulcast layer `layer`, laid out as `r`, its descriptor `d`; padding only when
 * r->payloadEnd == r->headerLength, then d is not read) for this receiver at `nowMs`: 1 to send it, 0 not to.
 */
int vp8_rewrite(Vp8Rewriter* rw, uint8_t* p, const RtpLayout* r, const Vp8Desc* d, int layer, double nowMs);

#include <node_api.h>
/** Exports vp8Rewrite (the rewrite on a rewriter's ArrayBuffers, for the cross-path test) and VP8_REWRITER_LAYOUT. */
void vp8_rewrite_init(napi_env env, napi_value exports);

#endif

/**
 * VP8 RTP payload descriptor (RFC 7741 §4.2).
 *
 *        0 1 2 3 4 5 6 7
 *       +-+-+-+-+-+-+-+-+
 *       |X|R|N|S|R| PID | (REQUIRED)
 *       +-+-+-+-+-+-+-+-+
 *  X:   |I|L|T|K| RSV   | (OPTIONAL)
 *       +-+-+-+-+-+-+-+-+
 *  I:   |M| PictureID   | (OPTIONAL, M=1: 15 bits over two bytes)
 *       +-+-+-+-+-+-+-+-+
 *  L:   |   TL0PICIDX   | (OPTIONAL)
 *       +-+-+-+-+-+-+-+-+
 *  T/K: |TID|Y| KEYIDX  | (OPTIONAL)
 *       +-+-+-+-+-+-+-+-+
 *
 * Followed, at the start of a partition, by the VP8 payload header whose first byte's low bit is
 * the inverse key frame flag P (0 = key frame).
 */

export interface Vp8Info {
  /** S bit: first packet of a VP8 partition. */
  start: boolean;
  /** PID: partition index. */
  partitionId: number;
  /** Picture ID, -1 if absent. */
  pictureId: number;
  /** 0 when absent, else 7 or 15. */
  pictureIdLength: 0 | 7 | 15;
  /** TL0PICIDX, -1 if absent. */
  tl0PicIdx: number;
  /** Temporal layer index, -1 if absent. */
  tid: number;
  /** Y bit. */
  layerSync: boolean;
  /** KEYIDX, -1 if absent. */
  keyIdx: number;
  /** Start of partition 0 of a key frame (P bit of the payload header is 0). */
  keyframe: boolean;
  /** Length of the payload descriptor in bytes (the VP8 payload starts at payloadOffset + headerLength). */
  headerLength: number;
  /** N bit: non-reference frame. */
  nonReference: boolean;
}

export function createVp8Info(): Vp8Info {
  return {
    start: false,
    partitionId: 0,
    pictureId: -1,
    pictureIdLength: 0,
    tl0PicIdx: -1,
    tid: -1,
    layerSync: false,
    keyIdx: -1,
    keyframe: false,
    headerLength: 0,
    nonReference: false,
  };
}

/**
 * Parses the descriptor of the VP8 payload in buf[payloadOffset..payloadEnd) into `out`.
 * Returns false (out then holds partial data) when the descriptor is truncated.
 */
export function vp8Descriptor(buf: Buffer, payloadOffset: number, payloadEnd: number, out: Vp8Info): boolean {
  if (payloadEnd > buf.length) payloadEnd = buf.length;
  out.pictureId = -1;
  out.pictureIdLength = 0;
  out.tl0PicIdx = -1;
  out.tid = -1;
  out.layerSync = false;
  out.keyIdx = -1;
  out.keyframe = false;
  out.headerLength = 0;
  if (payloadOffset < 0 || payloadOffset >= payloadEnd) {
    out.start = false;
    out.partitionId = 0;
    out.nonReference = false;
    return false;
  }
  let p = payloadOffset;
  const b0 = buf[p++];
  out.start = (b0 & 0x10) !== 0;
  out.partitionId = b0 & 0x07;
  out.nonReference = (b0 & 0x20) !== 0;
  if ((b0 & 0x80) !== 0) {
    if (p >= payloadEnd) return false;
    const x = buf[p++];
    if ((x & 0x80) !== 0) {
      if (p >= payloadEnd) return false;
      const m = buf[p++];
      if ((m & 0x80) !== 0) {
        if (p >= payloadEnd) return false;
        out.pictureId = ((m & 0x7f) << 8) | buf[p++];
        out.pictureIdLength = 15;
      } else {
        out.pictureId = m;
        out.pictureIdLength = 7;
      }
    }
    if ((x & 0x40) !== 0) {
      if (p >= payloadEnd) return false;
      out.tl0PicIdx = buf[p++];
    }
    if ((x & 0x30) !== 0) {
      if (p >= payloadEnd) return false;
      const t = buf[p++];
      if ((x & 0x20) !== 0) {
        out.tid = t >> 6;
        out.layerSync = (t & 0x20) !== 0;
      }
      if ((x & 0x10) !== 0) out.keyIdx = t & 0x1f;
    }
  }
  out.headerLength = p - payloadOffset;
  if (out.start && out.partitionId === 0) {
    // The VP8 payload header must be present at the start of partition 0.
    if (p >= payloadEnd) return false;
    out.keyframe = (buf[p] & 0x01) === 0;
  }
  return true;
}

// Offset of the picture id byte (or -1), its width in pictureIdWidth.
let pictureIdWidth = 0;
function pictureIdOffset(buf: Buffer, payloadOffset: number): number {
  const len = buf.length;
  if (payloadOffset < 0 || payloadOffset + 2 >= len) return -1;
  if ((buf[payloadOffset] & 0x80) === 0) return -1;
  if ((buf[payloadOffset + 1] & 0x80) === 0) return -1;
  const p = payloadOffset + 2;
  if ((buf[p] & 0x80) !== 0) {
    if (p + 1 >= len) return -1;
    pictureIdWidth = 15;
  } else {
    pictureIdWidth = 7;
  }
  return p;
}

/**
 * Rewrites the picture id in place, keeping its 7/15-bit width (the value is taken mod 2^width).
 * Returns false when the packet has no picture id.
 */
export function setVp8PictureId(buf: Buffer, payloadOffset: number, pictureId: number): boolean {
  const p = pictureIdOffset(buf, payloadOffset);
  if (p < 0) return false;
  if (pictureIdWidth === 15) {
    buf[p] = 0x80 | ((pictureId >>> 8) & 0x7f);
    buf[p + 1] = pictureId;
  } else {
    buf[p] = pictureId & 0x7f;
  }
  return true;
}

/** Rewrites TL0PICIDX in place. Returns false when absent. */
export function setVp8Tl0PicIdx(buf: Buffer, payloadOffset: number, v: number): boolean {
  const len = buf.length;
  if (payloadOffset < 0 || payloadOffset + 1 >= len) return false;
  if ((buf[payloadOffset] & 0x80) === 0) return false;
  const x = buf[payloadOffset + 1];
  if ((x & 0x40) === 0) return false;
  let p = payloadOffset + 2;
  if ((x & 0x80) !== 0) {
    if (p >= len) return false;
    p += (buf[p] & 0x80) !== 0 ? 2 : 1;
  }
  if (p >= len) return false;
  buf[p] = v;
  return true;
}

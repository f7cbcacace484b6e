/**
 * RTP header access (RFC 3550), header extensions (RFC 8285), audio level (RFC 6464),
 * and RTP/RTCP demultiplexing (RFC 5761 / RFC 7983).
 *
 * Hot path: every function reads/writes the Buffer in place and allocates nothing.
 * Readers use plain indexing (out-of-range reads give undefined -> 0 under bitwise ops, never throw);
 * callers validate lengths first with `rtpHeaderLength`.
 */

/** RTP or RTCP per RFC 7983: first byte 128..191, at least 12 bytes for RTP or 8 for RTCP. */
export function isRtpOrRtcp(buf: Buffer, len: number = buf.length): boolean {
  if (len > buf.length) len = buf.length;
  if (len < 8) return false;
  const b0 = buf[0];
  if (b0 < 128 || b0 > 191) return false;
  const b1 = buf[1];
  if (b1 >= 192 && b1 <= 223) return true; // RTCP, >= 8 bytes
  return len >= 12;
}

/** RFC 5761 demux: the second byte (RTCP packet type) is in 192..223. */
export function isRtcp(buf: Buffer): boolean {
  if (buf.length < 2) return false;
  const b1 = buf[1];
  return b1 >= 192 && b1 <= 223;
}

/**
 * Length of the RTP header: 12 + 4*CC, plus the extension (4 + 4*words) when X is set.
 * -1 when the packet is not version 2 or is truncated.
 */
export function rtpHeaderLength(buf: Buffer, len: number): number {
  if (len > buf.length) len = buf.length;
  if (len < 12) return -1;
  const b0 = buf[0];
  if ((b0 & 0xc0) !== 0x80) return -1;
  let hl = 12 + ((b0 & 0x0f) << 2);
  if ((b0 & 0x10) !== 0) {
    if (hl + 4 > len) return -1;
    hl += 4 + (((buf[hl + 2] << 8) | buf[hl + 3]) << 2);
  }
  return hl > len ? -1 : hl;
}

/** End of the payload (exclusive): len minus the padding count when P is set; -1 if invalid. */
export function rtpPayloadEnd(buf: Buffer, len: number): number {
  if (len > buf.length) len = buf.length;
  const hl = rtpHeaderLength(buf, len);
  if (hl < 0) return -1;
  if ((buf[0] & 0x20) === 0) return len;
  const pad = buf[len - 1];
  if (pad === 0 || len - pad < hl) return -1;
  return len - pad;
}

export function rtpSsrc(buf: Buffer): number {
  return ((buf[8] << 24) | (buf[9] << 16) | (buf[10] << 8) | buf[11]) >>> 0;
}
export function rtpSeq(buf: Buffer): number {
  return (buf[2] << 8) | buf[3];
}
export function rtpTimestamp(buf: Buffer): number {
  return ((buf[4] << 24) | (buf[5] << 16) | (buf[6] << 8) | buf[7]) >>> 0;
}
export function rtpPayloadType(buf: Buffer): number {
  return buf[1] & 0x7f;
}
export function rtpMarker(buf: Buffer): boolean {
  return (buf[1] & 0x80) !== 0;
}
export function rtpCsrcCount(buf: Buffer): number {
  return buf[0] & 0x0f;
}
export function rtpHasExtension(buf: Buffer): boolean {
  return (buf[0] & 0x10) !== 0;
}
export function rtpHasPadding(buf: Buffer): boolean {
  return (buf[0] & 0x20) !== 0;
}

export function setRtpSsrc(buf: Buffer, v: number): void {
  if (buf.length < 12) return;
  buf[8] = v >>> 24;
  buf[9] = v >>> 16;
  buf[10] = v >>> 8;
  buf[11] = v;
}
export function setRtpSeq(buf: Buffer, v: number): void {
  if (buf.length < 4) return;
  buf[2] = v >>> 8;
  buf[3] = v;
}
export function setRtpTimestamp(buf: Buffer, v: number): void {
  if (buf.length < 8) return;
  buf[4] = v >>> 24;
  buf[5] = v >>> 16;
  buf[6] = v >>> 8;
  buf[7] = v;
}
/** Sets the payload type, keeping the marker bit. */
export function setRtpPayloadType(buf: Buffer, pt: number): void {
  if (buf.length < 2) return;
  buf[1] = (buf[1] & 0x80) | (pt & 0x7f);
}
export function setRtpMarker(buf: Buffer, marker: boolean): void {
  if (buf.length < 2) return;
  buf[1] = marker ? buf[1] | 0x80 : buf[1] & 0x7f;
}

// Result slot of the last successful extension lookup (avoids returning an object).
let foundExtLength = -1;

/**
 * Offset of the data of header extension element `id` (RFC 8285 one-byte 0xBEDE or two-byte 0x100X
 * profile), -1 if absent or malformed. The element's data length is available via `headerExtensionLength`.
 */
export function findHeaderExtension(buf: Buffer, len: number, id: number): number {
  foundExtLength = -1;
  if (len > buf.length) len = buf.length;
  if (len < 12) return -1;
  const b0 = buf[0];
  if ((b0 & 0xc0) !== 0x80 || (b0 & 0x10) === 0) return -1;
  const extHdr = 12 + ((b0 & 0x0f) << 2);
  if (extHdr + 4 > len) return -1;
  const profile = (buf[extHdr] << 8) | buf[extHdr + 1];
  let p = extHdr + 4;
  const end = p + (((buf[extHdr + 2] << 8) | buf[extHdr + 3]) << 2);
  if (end > len) return -1;
  if (profile === 0xbede) {
    if (id < 1 || id > 14) return -1;
    while (p < end) {
      const b = buf[p];
      const eid = b >> 4;
      if (eid === 0) {
        p++; // padding byte (its length nibble must be 0)
        continue;
      }
      if (eid === 15) return -1; // stop processing
      const l = (b & 0x0f) + 1;
      if (p + 1 + l > end) return -1;
      if (eid === id) {
        foundExtLength = l;
        return p + 1;
      }
      p += 1 + l;
    }
    return -1;
  }
  if ((profile & 0xfff0) === 0x1000) {
    if (id < 1 || id > 255) return -1;
    while (p < end) {
      const eid = buf[p];
      if (eid === 0) {
        p++;
        continue;
      }
      if (p + 2 > end) return -1;
      const l = buf[p + 1];
      if (p + 2 + l > end) return -1;
      if (eid === id) {
        foundExtLength = l;
        return p + 2;
      }
      p += 2 + l;
    }
  }
  return -1;
}

/** Data length of header extension element `id`, -1 if absent. */
export function headerExtensionLength(buf: Buffer, len: number, id: number): number {
  return findHeaderExtension(buf, len, id) < 0 ? -1 : foundExtLength;
}

/** RFC 6464 audio level: 0..127 (-dBov, 127 = silence), -1 if the extension is absent. */
export function audioLevel(buf: Buffer, len: number, id: number): number {
  const off = findHeaderExtension(buf, len, id);
  if (off < 0 || foundExtLength < 1) return -1;
  return buf[off] & 0x7f;
}

/** RFC 6464 V bit (voice activity): 1, 0, or -1 if the extension is absent. */
export function audioLevelVoice(buf: Buffer, len: number, id: number): number {
  const off = findHeaderExtension(buf, len, id);
  if (off < 0 || foundExtLength < 1) return -1;
  return buf[off] >> 7;
}

/** true when sequence number a is newer than b (RFC 1982 serial arithmetic, mod 2^16). */
export function seqNewer(a: number, b: number): boolean {
  const d = (a - b) & 0xffff;
  return d !== 0 && d < 0x8000;
}

/** Signed distance a - b mod 2^16, in -32768..32767 (positive when a is newer). */
export function seqDiff(a: number, b: number): number {
  return (((a - b) & 0xffff) ^ 0x8000) - 0x8000;
}

/** Whether header extension element `id` holds exactly the ASCII text `text` (e.g. a rid). */
export function headerExtensionEquals(buf: Buffer, len: number, id: number, text: string): boolean {
  const off = findHeaderExtension(buf, len, id);
  if (off < 0 || foundExtLength !== text.length) return false;
  for (let i = 0; i < text.length; i++) if (buf[off + i] !== text.charCodeAt(i)) return false;
  return true;
}

/**
 * Renames the one-byte header extension elements with ids in [fromId, toId] to `newId` (in place): hides
 * extensions from a receiver that negotiated those ids for something else. Two-byte headers are left as is.
 */
export function renameHeaderExtensions(buf: Buffer, len: number, fromId: number, toId: number, newId: number): void {
  if (len > buf.length) len = buf.length;
  if (len < 12) return;
  const b0 = buf[0];
  if ((b0 & 0x10) === 0) return;
  const extHdr = 12 + ((b0 & 0x0f) << 2);
  if (extHdr + 4 > len || buf[extHdr] !== 0xbe || buf[extHdr + 1] !== 0xde) return;
  let p = extHdr + 4;
  let end = p + (((buf[extHdr + 2] << 8) | buf[extHdr + 3]) << 2);
  if (end > len) end = len;
  while (p < end) {
    const b = buf[p];
    const eid = b >> 4;
    if (eid === 0) {
      p++;
      continue;
    }
    if (eid === 15) return;
    if (eid >= fromId && eid <= toId) buf[p] = (newId << 4) | (b & 0x0f);
    p += 2 + (b & 0x0f);
  }
}

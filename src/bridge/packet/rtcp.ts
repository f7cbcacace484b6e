/**
 * RTCP (RFC 3550), feedback (RFC 4585: NACK, PLI), RFC 5104 (FIR) and REMB (draft-alvestrand-rmcat-remb).
 *
 * Hot path: iteration is callback based, readers index the Buffer directly (never throw),
 * writers write into a caller-owned buffer and return the number of bytes written (0 when it does not fit).
 */

export const RTCP_SR = 200;
export const RTCP_RR = 201;
export const RTCP_SDES = 202;
export const RTCP_BYE = 203;
export const RTCP_APP = 204;
export const RTCP_RTPFB = 205;
export const RTCP_PSFB = 206;

/** RTPFB fmt: Generic NACK. */
export const FMT_NACK = 1;
/** RTPFB fmt: transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc). */
export const FMT_TWCC = 15;
/** PSFB fmt: Picture Loss Indication. */
export const FMT_PLI = 1;
/** PSFB fmt: Full Intra Request. */
export const FMT_FIR = 4;
/** PSFB fmt: application layer feedback (REMB). */
export const FMT_REMB = 15;

function u32(buf: Buffer, o: number): number {
  return ((buf[o] << 24) | (buf[o + 1] << 16) | (buf[o + 2] << 8) | buf[o + 3]) >>> 0;
}
function w32(buf: Buffer, o: number, v: number): void {
  buf[o] = v >>> 24;
  buf[o + 1] = v >>> 16;
  buf[o + 2] = v >>> 8;
  buf[o + 3] = v;
}

/**
 * Iterates the packets of a compound RTCP packet. `length` is the packet's byte length (header
 * included), `pt` the packet type, `fmt` the 5-bit count/format field.
 * Returns false (and stops) on malformation: wrong version, truncated, zero-length input.
 * Packets before the malformed one have already been passed to cb.
 */
export function forEachRtcp(
  buf: Buffer,
  len: number,
  cb: (offset: number, length: number, pt: number, fmt: number) => void,
): boolean {
  if (len > buf.length) len = buf.length;
  if (len < 4) return false;
  let off = 0;
  while (off < len) {
    if (off + 4 > len) return false;
    const b0 = buf[off];
    if ((b0 & 0xc0) !== 0x80) return false;
    const plen = (((buf[off + 2] << 8) | buf[off + 3]) + 1) << 2;
    if (off + plen > len) return false;
    cb(off, plen, buf[off + 1], b0 & 0x1f);
    off += plen;
  }
  return true;
}

/** SSRC of the packet sender (SR, RR, RTPFB, PSFB; for SDES/BYE the first chunk/source). */
export function rtcpSenderSsrc(buf: Buffer, offset: number): number {
  return u32(buf, offset + 4);
}
/** Media source SSRC of a feedback packet (RTPFB/PSFB). */
export function fbMediaSsrc(buf: Buffer, offset: number): number {
  return u32(buf, offset + 8);
}
/** Sender SSRC of a sender report. */
export function srSsrc(buf: Buffer, offset: number): number {
  return u32(buf, offset + 4);
}
/** NTP timestamp, most significant word, of an SR. */
export function srNtpSec(buf: Buffer, offset: number): number {
  return u32(buf, offset + 8);
}
/** NTP timestamp, least significant word (fraction), of an SR. */
export function srNtpFrac(buf: Buffer, offset: number): number {
  return u32(buf, offset + 12);
}
/** RTP timestamp of an SR. */
export function srRtpTimestamp(buf: Buffer, offset: number): number {
  return u32(buf, offset + 16);
}

/**
 * Expands the Generic NACK FCI entries (PID + BLP) of an RTPFB fmt=1 packet into sequence numbers.
 */
export function forEachNack(buf: Buffer, offset: number, length: number, cb: (seq: number) => void): void {
  let end = offset + length;
  if (end > buf.length) end = buf.length;
  for (let p = offset + 12; p + 4 <= end; p += 4) {
    const pid = (buf[p] << 8) | buf[p + 1];
    let blp = (buf[p + 2] << 8) | buf[p + 3];
    cb(pid);
    for (let i = 1; blp !== 0; i++, blp >>>= 1) {
      if ((blp & 1) !== 0) cb((pid + i) & 0xffff);
    }
  }
}

/** Calls cb(ssrc, seqNr) for each FIR entry (RFC 5104 §4.3.1) of a PSFB fmt=4 packet. */
export function forEachFir(
  buf: Buffer,
  offset: number,
  length: number,
  cb: (ssrc: number, seqNr: number) => void,
): void {
  let end = offset + length;
  if (end > buf.length) end = buf.length;
  for (let p = offset + 12; p + 8 <= end; p += 8) cb(u32(buf, p), buf[p + 4]);
}

/** The SSRCs named by the FIR entries (allocates; use forEachFir on the hot path). */
export function firSsrcs(buf: Buffer, offset: number, length: number): number[] {
  const out: number[] = [];
  forEachFir(buf, offset, length, (s) => out.push(s));
  return out;
}

/** Writes a PLI (12 bytes). */
export function writePli(out: Buffer, offset: number, senderSsrc: number, mediaSsrc: number): number {
  if (offset < 0 || offset + 12 > out.length) return 0;
  out[offset] = 0x80 | FMT_PLI;
  out[offset + 1] = RTCP_PSFB;
  out[offset + 2] = 0;
  out[offset + 3] = 2;
  w32(out, offset + 4, senderSsrc);
  w32(out, offset + 8, mediaSsrc);
  return 12;
}

/** Writes a FIR (20 bytes) with one FCI entry for mediaSsrc (the header's media source field is 0). */
export function writeFir(
  out: Buffer,
  offset: number,
  senderSsrc: number,
  mediaSsrc: number,
  seqNr: number,
): number {
  if (offset < 0 || offset + 20 > out.length) return 0;
  out[offset] = 0x80 | FMT_FIR;
  out[offset + 1] = RTCP_PSFB;
  out[offset + 2] = 0;
  out[offset + 3] = 4;
  w32(out, offset + 4, senderSsrc);
  w32(out, offset + 8, 0);
  w32(out, offset + 12, mediaSsrc);
  out[offset + 16] = seqNr;
  out[offset + 17] = 0;
  out[offset + 18] = 0;
  out[offset + 19] = 0;
  return 20;
}

/**
 * Writes a Generic NACK for seqs[0..count), packed into PID/BLP pairs (best packing when seqs are
 * ascending mod 2^16; any order is still correct). Returns 12 + 4*pairs, or 0 if it does not fit.
 */
export function writeNack(
  out: Buffer,
  offset: number,
  senderSsrc: number,
  mediaSsrc: number,
  seqs: ArrayLike<number>,
  count: number,
): number {
  if (count > seqs.length) count = seqs.length;
  if (count <= 0 || offset < 0 || offset + 16 > out.length) return 0;
  let p = offset + 12;
  let pid = seqs[0] & 0xffff;
  let blp = 0;
  for (let i = 1; i < count; i++) {
    const s = seqs[i] & 0xffff;
    const d = (s - pid) & 0xffff;
    if (d === 0) continue;
    if (d <= 16) {
      blp |= 1 << (d - 1);
      continue;
    }
    if (p + 8 > out.length) return 0;
    out[p] = pid >>> 8;
    out[p + 1] = pid;
    out[p + 2] = blp >>> 8;
    out[p + 3] = blp;
    p += 4;
    pid = s;
    blp = 0;
  }
  out[p] = pid >>> 8;
  out[p + 1] = pid;
  out[p + 2] = blp >>> 8;
  out[p + 3] = blp;
  p += 4;
  const n = p - offset;
  out[offset] = 0x80 | FMT_NACK;
  out[offset + 1] = RTCP_RTPFB;
  out[offset + 2] = ((n >> 2) - 1) >>> 8;
  out[offset + 3] = (n >> 2) - 1;
  w32(out, offset + 4, senderSsrc);
  w32(out, offset + 8, mediaSsrc);
  return n;
}

/** Writes a REMB (20 + 4*ssrcs bytes; at most 255 SSRCs). */
export function writeRemb(
  out: Buffer,
  offset: number,
  senderSsrc: number,
  bitrateBps: number,
  ssrcs: ArrayLike<number>,
): number {
  const n = ssrcs.length > 255 ? 255 : ssrcs.length;
  const size = 20 + 4 * n;
  if (offset < 0 || offset + size > out.length) return 0;
  let mantissa = bitrateBps > 0 ? Math.floor(bitrateBps) : 0;
  let exp = 0;
  while (mantissa > 0x3ffff) {
    mantissa = Math.floor(mantissa / 2);
    exp++;
  }
  if (exp > 63) {
    exp = 63;
    mantissa = 0x3ffff;
  }
  out[offset] = 0x80 | FMT_REMB;
  out[offset + 1] = RTCP_PSFB;
  out[offset + 2] = ((size >> 2) - 1) >>> 8;
  out[offset + 3] = (size >> 2) - 1;
  w32(out, offset + 4, senderSsrc);
  w32(out, offset + 8, 0);
  out[offset + 12] = 0x52; // 'R'
  out[offset + 13] = 0x45; // 'E'
  out[offset + 14] = 0x4d; // 'M'
  out[offset + 15] = 0x42; // 'B'
  out[offset + 16] = n;
  out[offset + 17] = (exp << 2) | (mantissa >>> 16);
  out[offset + 18] = mantissa >>> 8;
  out[offset + 19] = mantissa;
  for (let i = 0; i < n; i++) w32(out, offset + 20 + 4 * i, ssrcs[i]);
  return size;
}

/** true when the PSFB fmt=15 packet at offset carries the 'REMB' identifier. */
export function isRemb(buf: Buffer, offset: number, length: number): boolean {
  return (
    length >= 20 &&
    offset + 20 <= buf.length &&
    buf[offset + 12] === 0x52 &&
    buf[offset + 13] === 0x45 &&
    buf[offset + 14] === 0x4d &&
    buf[offset + 15] === 0x42
  );
}

/** REMB bitrate in bps, -1 if the packet is not a valid REMB. */
export function rembBitrate(buf: Buffer, offset: number, length: number): number {
  if (!isRemb(buf, offset, length)) return -1;
  const exp = buf[offset + 17] >> 2;
  const mantissa = ((buf[offset + 17] & 3) << 16) | (buf[offset + 18] << 8) | buf[offset + 19];
  return mantissa * 2 ** exp;
}

/** Parses a REMB (allocates; tests and slow paths). */
export function parseRemb(buf: Buffer, offset: number, length: number): { bitrate: number; ssrcs: number[] } | null {
  const bitrate = rembBitrate(buf, offset, length);
  if (bitrate < 0) return null;
  const n = buf[offset + 16];
  if (20 + 4 * n > length || offset + 20 + 4 * n > buf.length) return null;
  const ssrcs: number[] = [];
  for (let i = 0; i < n; i++) ssrcs.push(u32(buf, offset + 20 + 4 * i));
  return { bitrate, ssrcs };
}

/** Writes an empty receiver report (8 bytes), useful as the first packet of a compound. */
export function writeRr(out: Buffer, offset: number, senderSsrc: number): number {
  if (offset < 0 || offset + 8 > out.length) return 0;
  out[offset] = 0x80;
  out[offset + 1] = RTCP_RR;
  out[offset + 2] = 0;
  out[offset + 3] = 1;
  w32(out, offset + 4, senderSsrc);
  return 8;
}

/**
 * Calls cb(ssrc) for each source of a BYE packet.
 */
export function forEachByeSsrc(buf: Buffer, offset: number, length: number, cb: (ssrc: number) => void): void {
  let end = offset + length;
  if (end > buf.length) end = buf.length;
  const sc = buf[offset] & 0x1f;
  for (let i = 0, p = offset + 4; i < sc && p + 4 <= end; i++, p += 4) cb(u32(buf, p));
}

/**
 * Calls cb(blockOffset) for each report block (24 bytes) of an SR or RR packet.
 * Block layout: ssrc(0), fraction lost(4), cumulative lost(5..7), highest seq(8), jitter(12), LSR(16), DLSR(20).
 */
export function forEachReportBlock(
  buf: Buffer,
  offset: number,
  length: number,
  cb: (blockOffset: number) => void,
): void {
  let end = offset + length;
  if (end > buf.length) end = buf.length;
  const pt = buf[offset + 1];
  const rc = buf[offset] & 0x1f;
  let p = offset + (pt === RTCP_SR ? 28 : pt === RTCP_RR ? 8 : end);
  for (let i = 0; i < rc && p + 24 <= end; i++, p += 24) cb(p);
}

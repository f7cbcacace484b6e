// RTX (RFC 4588): retransmissions in a stream of their own (own SSRC, payload type and sequence numbers),
// the original sequence number (OSN) in the first two payload bytes. Also the padding-only RTX packets the
// bridge probes a receiver's bandwidth with. Everything works on caller-owned buffers and allocates nothing.
import { rtpHeaderLength, rtpPayloadEnd, setRtpPayloadType, setRtpSeq, setRtpSsrc, setRtpTimestamp } from './rtp.ts';

/**
 * Turns an RTX packet buf[0..len) back into the original (in place): sequence number = OSN, SSRC and
 * payload type the primary's, padding dropped. Returns the new length, or -1 for padding-only / malformed.
 */
export function unwrapRtx(buf: Buffer, len: number, primarySsrc: number, primaryPt: number): number {
  const hl = rtpHeaderLength(buf, len);
  const end = rtpPayloadEnd(buf, len);
  if (hl < 0 || end < 0 || end - hl < 2) return -1;
  const osn = (buf[hl] << 8) | buf[hl + 1];
  buf.copyWithin(hl, hl + 2, end);
  buf[0] &= ~0x20; // no padding any more
  setRtpSeq(buf, osn);
  setRtpSsrc(buf, primarySsrc);
  setRtpPayloadType(buf, primaryPt);
  return end - 2;
}

/**
 * Writes the RTX packet for src[0..len) into out: src's header (extensions included, padding dropped) with
 * `pt`, `ssrc`, `seq`, then the OSN and src's payload. Returns its length, or -1 when it does not fit.
 */
export function writeRtx(src: Buffer, len: number, out: Buffer, pt: number, ssrc: number, seq: number): number {
  const hl = rtpHeaderLength(src, len);
  const end = rtpPayloadEnd(src, len);
  if (hl < 0 || end < 0 || end + 2 > out.length) return -1;
  src.copy(out, 0, 0, hl);
  out[0] &= ~0x20;
  out[hl] = src[2];
  out[hl + 1] = src[3];
  src.copy(out, hl + 2, hl, end);
  setRtpPayloadType(out, pt);
  setRtpSsrc(out, ssrc);
  setRtpSeq(out, seq);
  return end + 2;
}

/** Header of a probe packet: 12 bytes + a one-byte extension block with the transport-wide sequence number. */
const PROBE_HEADER = 20;
/** The largest probe packet (RTP padding counts at most 255 bytes). */
export const MAX_PROBE_PACKET = PROBE_HEADER + 255;
/** Where a probe packet's transport-wide sequence number is. */
export const PROBE_TW_OFFSET = 17;

/**
 * Writes a padding-only RTX packet of `size` bytes (PROBE_HEADER + 1 ..MAX_PROBE_PACKET) carrying a transport
 * sequence number element `twExtId` (its value is written later, like any forwarded packet's). Returns size.
 */
export function writeProbePadding(out: Buffer, pt: number, ssrc: number, seq: number, timestamp: number, twExtId: number, size: number): number {
  if (size > MAX_PROBE_PACKET) size = MAX_PROBE_PACKET;
  if (size <= PROBE_HEADER) size = PROBE_HEADER + 1;
  out[0] = 0x80 | 0x20 | 0x10; // V=2, padding, extension
  out[1] = pt & 0x7f;
  setRtpSeq(out, seq);
  setRtpTimestamp(out, timestamp);
  setRtpSsrc(out, ssrc);
  out[12] = 0xbe;
  out[13] = 0xde;
  out[14] = 0;
  out[15] = 1; // one 32-bit word
  out[16] = (twExtId << 4) | 1; // two data bytes
  out[17] = 0;
  out[18] = 0;
  out[19] = 0; // padding byte of the extension block
  out.fill(0, PROBE_HEADER, size - 1);
  out[size - 1] = size - PROBE_HEADER;
  return size;
}

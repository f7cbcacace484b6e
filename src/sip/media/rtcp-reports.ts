// RTCP of a call (RFC 3550 §6.4): every few seconds, what the gateway knows of the phone's stream (one report
// block: the fraction and number lost, the highest sequence number, the interarrival jitter, the phone's last
// sender report and how long ago it came), in a sender report when the gateway sent RTP since the last one
// (packets, octets, its NTP and RTP time), else a receiver report; with an SDES CNAME, as every compound must
// carry (§6.1). Phones and trunks show a call's quality from it; the media does not depend on it.
// Written into the caller's buffer; an incoming compound is read for the phone's SR only.
import { forEachRtcp, RTCP_RR, RTCP_SDES, RTCP_SR, srNtpFrac, srNtpSec, srSsrc } from '../../bridge/packet/rtcp.ts';

/** Seconds from 1900 (NTP) to 1970 (Unix). */
const NTP_UNIX_OFFSET = 2_208_988_800;
/** Bytes of a report compound at most: SR with one block (52), SDES with a CNAME of up to 64 bytes. */
export const MAX_REPORT = 52 + 12 + 64;

/** What the gateway received of the phone's stream (one SSRC: a new one starts the count afresh). */
export class ReceptionStats {
  ssrc = -1;
  received = 0;
  private baseSeq = 0;
  private maxSeq = 0;
  private cycles = 0;
  private expectedPrior = 0;
  private receivedPrior = 0;
  /** Interarrival jitter in timestamp units (RFC 3550 A.8). */
  private jitter = 0;
  private lastArrivalMs = NaN;
  private lastTimestamp = 0;
  /** The middle 32 bits of the NTP time of the phone's last SR, and when it came (performance.now()). */
  private lsr = 0;
  private lsrAt = NaN;

  /** One audio packet of the phone (`clockRate`: its codec's). */
  packet(ssrc: number, seq: number, timestamp: number, arrivalMs: number, clockRate: number): void {
    if (ssrc !== this.ssrc) {
      this.ssrc = ssrc;
      this.baseSeq = seq;
      this.maxSeq = seq;
      this.cycles = 0;
      this.received = 0;
      this.expectedPrior = 0;
      this.receivedPrior = 0;
      this.jitter = 0;
      this.lastArrivalMs = NaN;
      this.lsrAt = NaN;
    }
    const ahead = (seq - this.maxSeq) & 0xffff;
    if (ahead !== 0 && ahead < 0x8000) {
      if (seq < this.maxSeq) this.cycles += 0x10000;
      this.maxSeq = seq;
    }
    this.received++;
    if (!Number.isFinite(arrivalMs)) return;
    if (this.lastArrivalMs === this.lastArrivalMs) {
      const d = ((arrivalMs - this.lastArrivalMs) * clockRate) / 1000 - ((timestamp - this.lastTimestamp) | 0);
      this.jitter += (Math.abs(d) - this.jitter) / 16;
    }
    this.lastArrivalMs = arrivalMs;
    this.lastTimestamp = timestamp;
  }

  /** An RTCP compound from the phone: its sender report, if any, is remembered for LSR/DLSR. */
  rtcp(buf: Buffer, len: number, arrivalMs: number): void {
    forEachRtcp(buf, len, (offset, length, pt) => {
      if (pt !== RTCP_SR || length < 28 || srSsrc(buf, offset) !== this.ssrc) return;
      this.lsr = (((srNtpSec(buf, offset) & 0xffff) << 16) | (srNtpFrac(buf, offset) >>> 16)) >>> 0;
      this.lsrAt = arrivalMs;
    });
  }

  /** Writes the report block (24 bytes) at out[o]; `nowMs`: performance.now(). */
  writeBlock(out: Buffer, o: number, nowMs: number): number {
    const extendedMax = this.cycles + this.maxSeq;
    const expected = extendedMax - this.baseSeq + 1;
    const lost = Math.max(-0x800000, Math.min(0x7fffff, expected - this.received));
    const expectedInterval = expected - this.expectedPrior;
    const lostInterval = expectedInterval - (this.received - this.receivedPrior);
    this.expectedPrior = expected;
    this.receivedPrior = this.received;
    out.writeUInt32BE(this.ssrc >>> 0, o);
    out[o + 4] = expectedInterval <= 0 || lostInterval <= 0 ? 0 : Math.min(255, Math.floor((lostInterval * 256) / expectedInterval));
    out.writeIntBE(lost, o + 5, 3);
    out.writeUInt32BE(extendedMax >>> 0, o + 8);
    out.writeUInt32BE(Math.min(0xffffffff, Math.floor(this.jitter)), o + 12);
    out.writeUInt32BE(this.lsr, o + 16);
    // the delay since that SR, in 1/65536 s
    out.writeUInt32BE(this.lsrAt === this.lsrAt ? Math.min(0xffffffff, Math.round((nowMs - this.lsrAt) * 65.536)) : 0, o + 20);
    return 24;
  }
}

/** What the gateway sent since the call began, for a sender report. */
export interface SenderInfo {
  ssrc: number;
  packets: number;
  octets: number;
  /** The RTP timestamp that corresponds to now. */
  rtpTimestamp: number;
}

/**
 * Writes one compound into `out` (at least MAX_REPORT bytes): an SR when `sent` says RTP went out since the last
 * report (else an RR from `ssrc`), with a block about the phone's stream when it sent any, then SDES CNAME.
 * `unixMs`: the wall clock (Date.now()) for the NTP time; `nowMs`: performance.now(). Returns the length.
 */
export function writeReport(out: Buffer, ssrc: number, sent: SenderInfo | null, reception: ReceptionStats | null, cname: string, unixMs: number, nowMs: number): number {
  const blocks = reception !== null && reception.ssrc !== -1 ? 1 : 0;
  let n: number;
  if (sent !== null) {
    out[0] = 0x80 | blocks;
    out[1] = RTCP_SR;
    out.writeUInt16BE(6 + 6 * blocks, 2);
    out.writeUInt32BE(ssrc >>> 0, 4);
    const seconds = Math.floor(unixMs / 1000);
    out.writeUInt32BE((seconds + NTP_UNIX_OFFSET) >>> 0, 8);
    out.writeUInt32BE(Math.floor(((unixMs - seconds * 1000) / 1000) * 2 ** 32) >>> 0, 12);
    out.writeUInt32BE(sent.rtpTimestamp >>> 0, 16);
    out.writeUInt32BE(sent.packets >>> 0, 20);
    out.writeUInt32BE(sent.octets >>> 0, 24);
    n = 28;
  } else {
    out[0] = 0x80 | blocks;
    out[1] = RTCP_RR;
    out.writeUInt16BE(1 + 6 * blocks, 2);
    out.writeUInt32BE(ssrc >>> 0, 4);
    n = 8;
  }
  if (blocks === 1) n += reception!.writeBlock(out, n, nowMs);
  // SDES: one chunk, CNAME, the end item, padded to 32 bits
  const text = Buffer.from(cname.slice(0, 64), 'ascii');
  const chunk = 4 + 2 + text.length + 1;
  const padded = (chunk + 3) & ~3;
  out[n] = 0x81;
  out[n + 1] = RTCP_SDES;
  out.writeUInt16BE(padded / 4, n + 2);
  out.writeUInt32BE(ssrc >>> 0, n + 4);
  out[n + 8] = 1;
  out[n + 9] = text.length;
  text.copy(out, n + 10);
  out.fill(0, n + 10 + text.length, n + 4 + padded);
  return n + 4 + padded;
}

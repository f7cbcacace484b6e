/**
 * Transport-wide congestion control (draft-holmer-rmcat-transport-wide-cc-extensions-01).
 *
 * - The RTP header extension `http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01`
 *   carries a 16-bit transport-wide sequence number (one-byte element, L=1).
 * - `TwccRecorder` (receive side) records arrival times in a preallocated ring and writes RTPFB FMT=15
 *   feedback into a caller-owned buffer.
 * - `forEachTwccStatus` (send side) walks a feedback packet: one callback per reported packet.
 *
 * Feedback layout after the 12-byte RTPFB header: base seq (16), packet status count (16),
 * reference time (24, signed, 64 ms units), fb pkt count (8), packet chunks (16 bits each), recv deltas
 * (1 byte unsigned or 2 bytes signed, 250 µs units). Status symbols: 00 not received, 01 received with a
 * small delta, 10 received with a large or negative delta, 11 reserved (reported as received, no time).
 *
 * Hot path: nothing allocates; readers never throw and never read past `len`.
 */
import { findHeaderExtension, headerExtensionLength, seqDiff } from './rtp.ts';
import { FMT_TWCC, RTCP_RTPFB } from './rtcp.ts';

export const TWCC_EXTENSION_URI = 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01';

/** Transport-wide sequence number of an RTP packet, -1 when the extension `id` is absent or short. */
export function readTransportSeq(buf: Buffer, len: number, id: number): number {
  const off = findHeaderExtension(buf, len, id);
  if (off < 0 || headerExtensionLength(buf, len, id) < 2) return -1;
  return (buf[off] << 8) | buf[off + 1];
}

/** Overwrites the transport-wide sequence number in place; false when the packet has no such element. */
export function writeTransportSeq(buf: Buffer, len: number, id: number, seq: number): boolean {
  const off = findHeaderExtension(buf, len, id);
  if (off < 0 || headerExtensionLength(buf, len, id) < 2) return false;
  buf[off] = seq >>> 8;
  buf[off + 1] = seq;
  return true;
}

/** Fixed part of a feedback packet: RTPFB header (12) + base seq, count, reference time, fb count (8). */
const FB_HEADER = 20;
/** 64 ms reference time unit in µs, and in 250 µs delta ticks. */
const REF_UNIT_US = 64000;
const TICKS_PER_REF = 256;
const TICK_US = 250;

/** Reference time (signed 24-bit, 64 ms units) of the feedback packet at `off`. */
export function twccReferenceTime(buf: Buffer, off: number): number {
  const v = (buf[off + 16] << 16) | (buf[off + 17] << 8) | buf[off + 18];
  return v & 0x800000 ? v - 0x1000000 : v;
}
export function twccBaseSeq(buf: Buffer, off: number): number {
  return (buf[off + 12] << 8) | buf[off + 13];
}
export function twccStatusCount(buf: Buffer, off: number): number {
  return (buf[off + 14] << 8) | buf[off + 15];
}
export function twccFbCount(buf: Buffer, off: number): number {
  return buf[off + 19] | 0;
}

/**
 * Calls cb(seq, received, arrivalUs) for each packet reported by the feedback packet buf[off..off+len),
 * in sequence order. arrivalUs is reference time × 64 ms + accumulated deltas, in the feedback sender's
 * clock (µs, may be negative; NaN for the reserved "received without delta" symbol; 0 when not received).
 * The whole packet is validated first: on malformation nothing is reported and -1 is returned, else the
 * number of statuses reported.
 */
export function forEachTwccStatus(
  buf: Buffer,
  off: number,
  len: number,
  cb: (seq: number, received: boolean, arrivalUs: number) => void,
): number {
  if (off < 0 || len < FB_HEADER || off + len > buf.length) return -1;
  if ((buf[off] & 0xc0) !== 0x80 || buf[off + 1] !== RTCP_RTPFB || (buf[off] & 0x1f) !== FMT_TWCC) return -1;
  let end = off + len;
  if ((buf[off] & 0x20) !== 0) {
    const pad = buf[end - 1];
    if (pad === 0 || pad > len - FB_HEADER) return -1;
    end -= pad;
  }
  const base = twccBaseSeq(buf, off);
  const count = twccStatusCount(buf, off);
  // Pass 1: where the chunks end and whether the deltas fit.
  let p = off + FB_HEADER;
  let n = 0;
  let deltaBytes = 0;
  while (n < count) {
    if (p + 2 > end) return -1;
    const c = (buf[p] << 8) | buf[p + 1];
    p += 2;
    if ((c & 0x8000) === 0) {
      const sym = (c >> 13) & 3;
      let run = c & 0x1fff;
      if (run > count - n) run = count - n;
      if (sym === 1) deltaBytes += run;
      else if (sym === 2) deltaBytes += 2 * run;
      n += run;
    } else if ((c & 0x4000) === 0) {
      for (let i = 0; i < 14 && n < count; i++, n++) if ((c >> (13 - i)) & 1) deltaBytes++;
    } else {
      for (let i = 0; i < 7 && n < count; i++, n++) {
        const sym = (c >> (12 - 2 * i)) & 3;
        if (sym === 1) deltaBytes++;
        else if (sym === 2) deltaBytes += 2;
      }
    }
  }
  if (p + deltaBytes > end) return -1;
  // Pass 2: report.
  let d = p;
  p = off + FB_HEADER;
  let t = twccReferenceTime(buf, off) * REF_UNIT_US;
  let seq = base;
  n = 0;
  while (n < count) {
    const c = (buf[p] << 8) | buf[p + 1];
    p += 2;
    if ((c & 0x8000) === 0) {
      const sym = (c >> 13) & 3;
      let run = c & 0x1fff;
      if (run > count - n) run = count - n;
      for (let i = 0; i < run; i++) {
        if (sym === 1) t += buf[d++] * TICK_US;
        else if (sym === 2) {
          t += ((((buf[d] << 8) | buf[d + 1]) << 16) >> 16) * TICK_US;
          d += 2;
        }
        cb(seq, sym !== 0, sym === 0 ? 0 : sym === 3 ? NaN : t);
        seq = (seq + 1) & 0xffff;
      }
      n += run;
    } else if ((c & 0x4000) === 0) {
      for (let i = 0; i < 14 && n < count; i++, n++) {
        const r = (c >> (13 - i)) & 1;
        if (r) t += buf[d++] * TICK_US;
        cb(seq, r === 1, r ? t : 0);
        seq = (seq + 1) & 0xffff;
      }
    } else {
      for (let i = 0; i < 7 && n < count; i++, n++) {
        const sym = (c >> (12 - 2 * i)) & 3;
        if (sym === 1) t += buf[d++] * TICK_US;
        else if (sym === 2) {
          t += ((((buf[d] << 8) | buf[d + 1]) << 16) >> 16) * TICK_US;
          d += 2;
        }
        cb(seq, sym !== 0, sym === 0 ? 0 : sym === 3 ? NaN : t);
        seq = (seq + 1) & 0xffff;
      }
    }
  }
  return count;
}

/** Slots a recorder's ring starts with. */
export const TWCC_RING_START_SIZE = 512;

// Slot states of the recorder ring.
const EMPTY = 0;
const RECEIVED = 1;
const REPORTED = 2;

/**
 * Receive side of one transport: record(seq, arrivalUs) per incoming packet that carries the extension,
 * writeFeedback(...) every 50-100 ms (and while hasPending()). Feedback covers the packets from the first
 * not yet reported one to the highest received one; a packet arriving after its sequence number was
 * reported missing moves the window back (already reported packets are then marked not received, as the
 * draft requires). A feedback ends early when a receive delta does not fit 16 bits (gaps > 8191.75 ms)
 * or the output buffer is full; the rest follows in the next feedback with a new reference time.
 */
export class TwccRecorder {
  private mask: number;
  private readonly maxMask: number;
  private seqOf: Float64Array;
  private arrival: Float64Array;
  private state: Uint8Array;
  private symbols: Uint8Array;
  private deltas: Int32Array;
  /** Extended (unwrapped) highest sequence number received; -1 before the first packet. */
  private highest = -1;
  /** Extended sequence number of the first packet not yet reported. */
  private reportFrom = 0;
  private fbCount = 0;

  /**
   * capacity: the most the ring grows to (power of two, at least 64); also the most statuses one feedback
   * carries. The ring starts at TWCC_RING_START_SIZE slots and doubles while the packets not yet reported
   * would not fit (feedback every 50 ms needs a few dozen at everyday rates).
   */
  constructor(capacity = 4096) {
    let max = 64;
    while (max < capacity && max < 32768) max <<= 1;
    this.maxMask = max - 1;
    const size = max < TWCC_RING_START_SIZE ? max : TWCC_RING_START_SIZE;
    this.mask = size - 1;
    this.seqOf = new Float64Array(size).fill(-1);
    this.arrival = new Float64Array(size);
    this.state = new Uint8Array(size);
    this.symbols = new Uint8Array(size);
    this.deltas = new Int32Array(size);
  }

  /** Records the arrival (µs, any monotonic clock) of the packet with transport-wide sequence number seq. */
  record(seq: number, arrivalUs: number): void {
    seq &= 0xffff;
    if (!(arrivalUs === arrivalUs)) return; // NaN
    let size = this.mask + 1;
    let ext: number;
    if (this.highest < 0) {
      ext = 0x10000 + seq;
      this.highest = ext;
      this.reportFrom = ext;
    } else {
      ext = this.highest + seqDiff(seq, this.highest & 0xffff);
      if (ext > this.highest) {
        if (ext - this.highest > this.maxMask) this.reportFrom = ext; // a jump: everything in between is lost
        else if (ext - this.reportFrom >= size && this.mask < this.maxMask) size = this.grow(ext - this.reportFrom + 1);
        this.highest = ext;
        if (ext - this.reportFrom >= size) this.reportFrom = ext - size + 1;
      } else {
        if (this.highest - ext >= size >> 1) return; // far too old (its slot may hold a newer packet)
        if (ext < this.reportFrom) this.reportFrom = ext; // late: report it again
      }
    }
    const i = ext & this.mask;
    if (this.seqOf[i] === ext && this.state[i] !== EMPTY) return; // duplicate
    this.seqOf[i] = ext;
    this.arrival[i] = arrivalUs;
    this.state[i] = RECEIVED;
  }

  /** Slots in the ring now (it grows on need). */
  get slots(): number {
    return this.mask + 1;
  }

  /** At least `need` slots (doubling, up to the most): every packet held moves to its slot in the new ring. Returns the new size. */
  private grow(need: number): number {
    let n = this.mask + 1;
    while (n < need && n <= this.maxMask) n <<= 1;
    if (n > this.maxMask + 1) n = this.maxMask + 1;
    const mask = n - 1;
    const seqOf = new Float64Array(n).fill(-1);
    const arrival = new Float64Array(n);
    const state = new Uint8Array(n);
    for (let i = 0; i <= this.mask; i++) {
      const ext = this.seqOf[i];
      if (ext < 0 || this.state[i] === EMPTY) continue;
      const j = ext & mask;
      // of two packets for one new slot, the newer one stays (the older one was already overwritten before)
      if (seqOf[j] > ext) continue;
      seqOf[j] = ext;
      arrival[j] = this.arrival[i];
      state[j] = this.state[i];
    }
    this.mask = mask;
    this.seqOf = seqOf;
    this.arrival = arrival;
    this.state = state;
    this.symbols = new Uint8Array(n);
    this.deltas = new Int32Array(n);
    return n;
  }

  /** true when received packets are waiting to be reported. */
  hasPending(): boolean {
    return this.highest >= 0 && this.reportFrom <= this.highest;
  }

  /**
   * Writes one feedback packet at out[offset..] (at most maxBytes, default what fits in out) and returns
   * its length, 0 when nothing is pending or it does not fit.
   */
  writeFeedback(out: Buffer, offset: number, senderSsrc: number, mediaSsrc: number, maxBytes = -1): number {
    if (!this.hasPending() || offset < 0) return 0;
    let budget = out.length - offset;
    if (maxBytes >= 0 && maxBytes < budget) budget = maxBytes;
    if (budget < FB_HEADER + 8) return 0;
    const mask = this.mask;
    const start = this.reportFrom;
    // Find the first packet to report with a time: it fixes the reference time.
    let first = -1;
    for (let e = start; e <= this.highest; e++) {
      const i = e & mask;
      if (this.seqOf[i] === e && this.state[i] === RECEIVED) {
        first = e;
        break;
      }
    }
    if (first < 0) {
      this.reportFrom = this.highest + 1;
      return 0;
    }
    const refTime = Math.floor(this.arrival[first & mask] / REF_UNIT_US);
    let prevTick = refTime * TICKS_PER_REF;
    // Statuses and deltas, while the worst-case size fits the budget.
    let n = 0;
    let deltaBytes = 0;
    const limit = this.symbols.length < 0xffff ? this.symbols.length : 0xffff;
    for (let e = start; e <= this.highest && n < limit; e++) {
      const i = e & mask;
      let sym = 0;
      let delta = 0;
      if (this.seqOf[i] === e && this.state[i] === RECEIVED) {
        const tick = Math.round(this.arrival[i] / TICK_US);
        delta = tick - prevTick;
        if (delta >= 0 && delta <= 255) sym = 1;
        else if (delta >= -32768 && delta <= 32767) sym = 2;
        else break; // needs a new reference time
      }
      const bytes = sym === 1 ? 1 : sym === 2 ? 2 : 0;
      if (FB_HEADER + 2 * Math.ceil((n + 1) / 7) + deltaBytes + bytes + 3 > budget) break;
      if (sym !== 0) prevTick += delta;
      this.symbols[n] = sym;
      this.deltas[n] = delta;
      deltaBytes += bytes;
      n++;
    }
    if (n === 0) return 0;
    // Packet chunks.
    const sy = this.symbols;
    let p = offset + FB_HEADER;
    let k = 0;
    while (k < n) {
      let run = 1;
      while (k + run < n && run < 0x1fff && sy[k + run] === sy[k]) run++;
      if (run >= 14) {
        p = put16(out, p, (sy[k] << 13) | run);
        k += run;
        continue;
      }
      let small = true;
      for (let j = k; j < k + 14 && j < n; j++) if (sy[j] > 1) small = false;
      if (small) {
        let c = 0x8000;
        for (let j = 0; j < 14 && k + j < n; j++) c |= sy[k + j] << (13 - j);
        p = put16(out, p, c);
        k += 14;
      } else if (run >= 7) {
        p = put16(out, p, (sy[k] << 13) | run);
        k += run;
      } else {
        let c = 0xc000;
        for (let j = 0; j < 7 && k + j < n; j++) c |= sy[k + j] << (12 - 2 * j);
        p = put16(out, p, c);
        k += 7;
      }
    }
    // Receive deltas.
    for (let j = 0; j < n; j++) {
      if (sy[j] === 1) out[p++] = this.deltas[j];
      else if (sy[j] === 2) p = put16(out, p, this.deltas[j] & 0xffff);
    }
    let size = p - offset;
    const pad = (4 - (size & 3)) & 3;
    for (let j = 0; j < pad; j++) out[p++] = 0;
    if (pad > 0) out[p - 1] = pad;
    size += pad;
    // Header.
    out[offset] = 0x80 | (pad > 0 ? 0x20 : 0) | FMT_TWCC;
    out[offset + 1] = RTCP_RTPFB;
    put16(out, offset + 2, (size >> 2) - 1);
    put32(out, offset + 4, senderSsrc);
    put32(out, offset + 8, mediaSsrc);
    put16(out, offset + 12, start & 0xffff);
    put16(out, offset + 14, n);
    const ref24 = ((refTime % 0x1000000) + 0x1000000) % 0x1000000;
    out[offset + 16] = ref24 >>> 16;
    out[offset + 17] = ref24 >>> 8;
    out[offset + 18] = ref24;
    out[offset + 19] = this.fbCount;
    this.fbCount = (this.fbCount + 1) & 0xff;
    for (let e = start; e < start + n; e++) {
      const i = e & mask;
      if (this.seqOf[i] === e && this.state[i] === RECEIVED) this.state[i] = REPORTED;
    }
    this.reportFrom = start + n;
    return size;
  }
}

function put16(out: Buffer, p: number, v: number): number {
  out[p] = v >>> 8;
  out[p + 1] = v;
  return p + 2;
}
function put32(out: Buffer, p: number, v: number): void {
  out[p] = v >>> 24;
  out[p + 1] = v >>> 16;
  out[p + 2] = v >>> 8;
  out[p + 3] = v;
}

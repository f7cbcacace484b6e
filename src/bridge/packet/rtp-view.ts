/**
 * One RTP packet parsed once (RFC 3550 header, RFC 8285 header extensions, RFC 7741 VP8 descriptor) into a
 * preallocated, reusable view: every reader on the media path (routing, layer learning, audio levels,
 * transport-wide numbers, the simulcast rewriters of every downtrack) reads offsets from it instead of
 * walking the header again.
 *
 * Invariants:
 * - parse() allocates nothing and never throws; it returns false (and the view is then not `valid`) for
 *   anything that is not a well-formed version-2 RTP packet: truncated header, CSRCs or extension block past
 *   the end, a padding count of 0 or one that eats into the header.
 * - Extension elements are recorded by id up to the first malformed element or the one-byte "stop" id 15
 *   (what RFC 8285 says a reader does); the packet stays valid, later elements are simply absent.
 * - The view describes buf[0..len) as it was when parsed: a caller that changes the header's layout (RTX
 *   unwrapping) parses again. Copies of the packet (ring slots) have the same layout, so offsets apply to them.
 */
import { createVp8Info, vp8Descriptor, type Vp8Info } from './vp8.ts';

const EMPTY = Buffer.alloc(0);
/** Ids of a two-byte header are 1..255; one-byte ones 1..14. */
const MAX_EXT_ID = 255;
/** Elements remembered per packet at most (a header extension block of a real packet has a handful). */
const MAX_ELEMENTS = 32;

export class RtpView {
  /** The packet: buf[0..len). */
  buf: Buffer = EMPTY;
  len = 0;
  /** Whether the last parse() succeeded. */
  valid = false;
  /** Header length = payload offset (12 + 4 * CSRCs + extension block). */
  headerLength = 0;
  /** End of the payload (exclusive): len minus the padding. */
  payloadEnd = 0;
  ssrc = 0;
  seq = 0;
  timestamp = 0;
  marker = false;
  payloadType = 0;
  csrcCount = 0;
  /** Padding bytes at the end (0 without the P bit). */
  padding = 0;
  /** The extension block's profile (0xBEDE one-byte, 0x100X two-byte; 0: none or another profile). */
  extProfile = 0;
  /** Number of extension elements recorded. */
  extCount = 0;

  /** The VP8 payload descriptor; `vp8Valid` when the packet is VP8 (the payload type given to the constructor) and it parsed. */
  readonly vp8: Vp8Info = createVp8Info();
  vp8Valid = false;
  /**
   * Where the transport-wide sequence number is (the data of the element with the id given to the
   * constructor, at least 2 bytes); -1: none. Every copy sent to a receiver is numbered there.
   */
  twccOffset = -1;
  /**
   * When the packet is being handled: the router's clock (performance.now(), ms) read once per packet, set by
   * whoever parsed it (parse() leaves it alone). The slot rewriters measure a stream's idle time with it.
   */
  atMs = 0;

  private readonly vp8Pt: number;
  private readonly twccId: number;
  /** Data offset of each element by id (-1: absent) and its data length. */
  private readonly extOffsets = new Int16Array(MAX_EXT_ID + 1).fill(-1);
  private readonly extLengths = new Uint8Array(MAX_EXT_ID + 1);
  /** The ids recorded (to reset only those at the next parse). */
  private readonly extIds = new Uint8Array(MAX_ELEMENTS);
  /** Offset of each recorded element's id byte (one-byte headers: renamed in place). */
  private readonly extIdAt = new Int16Array(MAX_ELEMENTS);

  /**
   * `vp8PayloadType`: packets of this payload type get their VP8 descriptor parsed (-1: never);
   * `twccExtId`: the transport-wide sequence number's extension id (-1: none).
   */
  constructor(vp8PayloadType = -1, twccExtId = -1) {
    this.vp8Pt = vp8PayloadType;
    this.twccId = twccExtId;
  }

  /** Parses buf[0..len); false when malformed (nothing is thrown, the view is then invalid). */
  parse(buf: Buffer, len: number): boolean {
    for (let i = 0; i < this.extCount; i++) this.extOffsets[this.extIds[i]] = -1;
    this.extCount = 0;
    this.extProfile = 0;
    this.vp8Valid = false;
    this.valid = false;
    this.twccOffset = -1;
    this.buf = buf;
    if (len > buf.length) len = buf.length;
    this.len = len;
    if (len < 12) return false;
    const b0 = buf[0];
    if ((b0 & 0xc0) !== 0x80) return false;
    const cc = b0 & 0x0f;
    let hl = 12 + (cc << 2);
    if (hl > len) return false;
    if ((b0 & 0x10) !== 0) {
      if (hl + 4 > len) return false;
      const profile = (buf[hl] << 8) | buf[hl + 1];
      const end = hl + 4 + (((buf[hl + 2] << 8) | buf[hl + 3]) << 2);
      if (end > len) return false;
      this.extProfile = profile;
      if (profile === 0xbede) this.readOneByte(buf, hl + 4, end);
      else if ((profile & 0xfff0) === 0x1000) this.readTwoByte(buf, hl + 4, end);
      hl = end;
    }
    let payloadEnd = len;
    let padding = 0;
    if ((b0 & 0x20) !== 0) {
      padding = buf[len - 1];
      if (padding === 0 || len - padding < hl) return false;
      payloadEnd = len - padding;
    }
    const b1 = buf[1];
    this.csrcCount = cc;
    this.headerLength = hl;
    this.payloadEnd = payloadEnd;
    this.padding = padding;
    this.marker = (b1 & 0x80) !== 0;
    this.payloadType = b1 & 0x7f;
    this.seq = (buf[2] << 8) | buf[3];
    this.timestamp = ((buf[4] << 24) | (buf[5] << 16) | (buf[6] << 8) | buf[7]) >>> 0;
    this.ssrc = ((buf[8] << 24) | (buf[9] << 16) | (buf[10] << 8) | buf[11]) >>> 0;
    this.valid = true;
    if (this.twccId > 0) this.twccOffset = this.extU16Offset(this.twccId);
    if (this.payloadType === this.vp8Pt && payloadEnd > hl) this.vp8Valid = vp8Descriptor(buf, hl, payloadEnd, this.vp8);
    else this.vp8.keyframe = false;
    return true;
  }

  private readOneByte(buf: Buffer, p: number, end: number): void {
    while (p < end) {
      const b = buf[p];
      const id = b >> 4;
      if (id === 0) {
        p++; // padding byte
        continue;
      }
      if (id === 15) return; // stop processing
      const l = (b & 0x0f) + 1;
      if (p + 1 + l > end) return;
      this.record(id, p, p + 1, l);
      p += 1 + l;
    }
  }

  private readTwoByte(buf: Buffer, p: number, end: number): void {
    while (p < end) {
      const id = buf[p];
      if (id === 0) {
        p++;
        continue;
      }
      if (p + 2 > end) return;
      const l = buf[p + 1];
      if (p + 2 + l > end) return;
      this.record(id, p, p + 2, l);
      p += 2 + l;
    }
  }

  private record(id: number, idAt: number, offset: number, length: number): void {
    if (this.extCount === MAX_ELEMENTS) return;
    // the first element of an id counts (as findHeaderExtension does); later ones are only renamed
    if (this.extOffsets[id] < 0) {
      this.extOffsets[id] = offset;
      this.extLengths[id] = length;
    }
    this.extIds[this.extCount] = id;
    this.extIdAt[this.extCount] = idAt;
    this.extCount++;
  }

  /** Offset of the data of extension element `id`, -1 when absent. */
  extOffset(id: number): number {
    return id > 0 && id <= MAX_EXT_ID ? this.extOffsets[id] : -1;
  }

  /** Data length of extension element `id`, -1 when absent. */
  extLength(id: number): number {
    return this.extOffset(id) < 0 ? -1 : this.extLengths[id];
  }

  /** The 16-bit value at the start of element `id` (transport-wide sequence number), -1 when absent or short. */
  extU16(id: number): number {
    const o = this.extOffset(id);
    if (o < 0 || this.extLengths[id] < 2) return -1;
    return (this.buf[o] << 8) | this.buf[o + 1];
  }

  /** Offset of a 16-bit element `id` (where a transport-wide number is written in a copy), -1 when absent or short. */
  extU16Offset(id: number): number {
    const o = this.extOffset(id);
    return o < 0 || this.extLengths[id] < 2 ? -1 : o;
  }

  /** RFC 6464 audio level of element `id`: 0..127, -1 when absent. */
  audioLevel(id: number): number {
    const o = this.extOffset(id);
    return o < 0 ? -1 : this.buf[o] & 0x7f;
  }

  /** Whether element `id` holds exactly the ASCII text `text` (a rid, a mid). */
  extEquals(id: number, text: string): boolean {
    const o = this.extOffset(id);
    if (o < 0 || this.extLengths[id] !== text.length) return false;
    for (let i = 0; i < text.length; i++) if (this.buf[o + i] !== text.charCodeAt(i)) return false;
    return true;
  }

  /**
   * Renames, in buf itself, the one-byte elements with ids in [fromId, toId] to `newId` (hides mid/rid from
   * receivers that negotiated those ids for something else). Two-byte headers are left as they are. The view
   * keeps describing them under their old ids.
   */
  renameExtensions(fromId: number, toId: number, newId: number): void {
    if (this.extProfile !== 0xbede) return;
    const buf = this.buf;
    for (let i = 0; i < this.extCount; i++) {
      const id = this.extIds[i];
      if (id < fromId || id > toId) continue;
      const at = this.extIdAt[i];
      buf[at] = (newId << 4) | (buf[at] & 0x0f);
    }
  }
}

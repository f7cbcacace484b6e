// Well-formed RTP and RTCP packets for the fuzz targets, described as plain JSON (a spec) and built by code of
// the test's own (not the bridge's parsers), so a target can compare what a parser reads with what was built.
import fc from 'fast-check';
import { TwccRecorder } from '../../src/bridge/packet/twcc.ts';
import { writeNack, writePli, writeRemb } from '../../src/bridge/packet/rtcp.ts';
import { AUDIO_LEVEL_EXT_ID, AUDIO_PT, MID_EXT_ID, RID_EXT_ID, RTX_PT, TWCC_EXT_ID, VIDEO_PT } from '../../src/protocol/media-profile.ts';
import { bytes, hexBytes, hexBytesMostlyShort, u16, u32, u8 } from './bytes.ts';

// ---- RTP ----

export interface RtpExtensionElement {
  id: number;
  /** Element data. One-byte profile: 1..16 bytes; two-byte: 0..255. */
  hex: string;
  /** Zero padding bytes before the element (allowed between elements). */
  padBefore: number;
}

export interface RtpSpec {
  /** Padding bytes at the end (P bit), 0 for none. */
  padding: number;
  marker: boolean;
  pt: number;
  seq: number;
  timestamp: number;
  ssrc: number;
  csrcs: number[];
  /** Header extension block (X bit): RFC 8285 one-byte (0xBEDE) or two-byte (0x100X) elements. */
  extension: { twoByte: boolean; appBits: number; elements: RtpExtensionElement[] } | null;
  payload: string;
}

/** Where the builder put each element's data (the first element of each id is the one a lookup finds). */
export interface BuiltRtp {
  buf: Buffer;
  headerLength: number;
  payloadEnd: number;
  /** id -> [data offset, data length] of the first element with that id. */
  elements: Map<number, [number, number]>;
}

export function buildRtp(s: RtpSpec): BuiltRtp {
  const parts: Buffer[] = [];
  const h = Buffer.alloc(12 + 4 * s.csrcs.length);
  h[0] = 0x80 | (s.padding > 0 ? 0x20 : 0) | (s.extension ? 0x10 : 0) | s.csrcs.length;
  h[1] = (s.marker ? 0x80 : 0) | s.pt;
  h.writeUInt16BE(s.seq, 2);
  h.writeUInt32BE(s.timestamp, 4);
  h.writeUInt32BE(s.ssrc, 8);
  s.csrcs.forEach((c, i) => h.writeUInt32BE(c, 12 + 4 * i));
  parts.push(h);
  const elements = new Map<number, [number, number]>();
  let headerLength = h.length;
  if (s.extension) {
    const body: Buffer[] = [];
    let p = headerLength + 4;
    for (const e of s.extension.elements) {
      const data = bytes(e.hex);
      body.push(Buffer.alloc(e.padBefore));
      p += e.padBefore;
      const head = s.extension.twoByte ? Buffer.from([e.id, data.length]) : Buffer.from([(e.id << 4) | (data.length - 1)]);
      body.push(head, data);
      if (!elements.has(e.id)) elements.set(e.id, [p + head.length, data.length]);
      p += head.length + data.length;
    }
    let block = Buffer.concat(body);
    block = Buffer.concat([block, Buffer.alloc((4 - (block.length % 4)) % 4)]);
    const eh = Buffer.alloc(4);
    eh.writeUInt16BE(s.extension.twoByte ? 0x1000 | s.extension.appBits : 0xbede, 0);
    eh.writeUInt16BE(block.length / 4, 2);
    parts.push(eh, block);
    headerLength += 4 + block.length;
  }
  parts.push(bytes(s.payload));
  const payloadEnd = headerLength + bytes(s.payload).length;
  if (s.padding > 0) {
    const pad = Buffer.alloc(s.padding);
    pad[s.padding - 1] = s.padding;
    parts.push(pad);
  }
  return { buf: Buffer.concat(parts), headerLength, payloadEnd, elements };
}

const oneByteElement = fc.record({
  id: fc.oneof(fc.constantFrom(AUDIO_LEVEL_EXT_ID, TWCC_EXT_ID, MID_EXT_ID, RID_EXT_ID), fc.integer({ min: 1, max: 14 })),
  hex: hexBytes(1, 16),
  padBefore: fc.oneof({ arbitrary: fc.constant(0), weight: 4 }, { arbitrary: fc.integer({ min: 1, max: 3 }), weight: 1 }),
});
const twoByteElement = fc.record({
  id: fc.oneof(fc.constantFrom(AUDIO_LEVEL_EXT_ID, TWCC_EXT_ID), fc.integer({ min: 1, max: 255 })),
  hex: hexBytesMostlyShort(255),
  padBefore: fc.oneof({ arbitrary: fc.constant(0), weight: 4 }, { arbitrary: fc.integer({ min: 1, max: 3 }), weight: 1 }),
});

export const rtpPayloadTypes = fc.oneof(fc.constantFrom(AUDIO_PT, VIDEO_PT, RTX_PT), fc.nat({ max: 127 }));

/** RTP packets: any SSRC (or one of `ssrcs`), the profile's payload types likely, extensions often. */
export function rtpSpec(ssrcs?: fc.Arbitrary<number>): fc.Arbitrary<RtpSpec> {
  return fc.record({
    padding: fc.oneof({ arbitrary: fc.constant(0), weight: 3 }, { arbitrary: fc.integer({ min: 1, max: 255 }), weight: 1 }),
    marker: fc.boolean(),
    pt: rtpPayloadTypes,
    seq: u16,
    timestamp: u32,
    ssrc: ssrcs ?? u32,
    csrcs: fc.array(u32, { maxLength: 15 }),
    extension: fc.option(
      fc.oneof(
        fc.record({ twoByte: fc.constant(false), appBits: fc.constant(0), elements: fc.array(oneByteElement, { maxLength: 8 }) }),
        fc.record({ twoByte: fc.constant(true), appBits: fc.nat({ max: 15 }), elements: fc.array(twoByteElement, { maxLength: 6 }) }),
      ),
    ),
    payload: hexBytesMostlyShort(1200),
  });
}

// ---- RTCP ----

export interface ReportBlockSpec {
  ssrc: number;
  fractionLost: number;
  cumulativeLost: number;
  highestSeq: number;
  jitter: number;
  lsr: number;
  dlsr: number;
}

export type RtcpPacketSpec =
  | { type: 'sr'; ssrc: number; ntpSec: number; ntpFrac: number; rtpTimestamp: number; packets: number; octets: number; blocks: ReportBlockSpec[] }
  | { type: 'rr'; ssrc: number; blocks: ReportBlockSpec[] }
  | { type: 'sdes'; chunks: { ssrc: number; items: { kind: number; hex: string }[] }[] }
  | { type: 'bye'; ssrcs: number[]; reason: string | null }
  | { type: 'app'; subtype: number; ssrc: number; name: string; data: string }
  | { type: 'nack'; sender: number; media: number; seqs: number[] }
  | { type: 'pli'; sender: number; media: number }
  | { type: 'fir'; sender: number; entries: { ssrc: number; seqNr: number }[] }
  | { type: 'remb'; sender: number; bitrate: number; ssrcs: number[] }
  | { type: 'twcc'; sender: number; media: number; firstSeq: number; arrivals: { gap: number; deltaUs: number }[]; budget: number }
  | { type: 'other'; pt: number; count: number; words: string };

/** One built RTCP packet (a twcc spec may give several feedback packets). */
export interface BuiltRtcp {
  spec: RtcpPacketSpec;
  offset: number;
  length: number;
  pt: number;
  fmt: number;
}

function header(count: number, pt: number, bodyBytes: number, padded = false): Buffer {
  const h = Buffer.alloc(4);
  h[0] = 0x80 | (padded ? 0x20 : 0) | count;
  h[1] = pt;
  h.writeUInt16BE((4 + bodyBytes) / 4 - 1, 2);
  return h;
}

function reportBlocks(blocks: ReportBlockSpec[]): Buffer {
  const b = Buffer.alloc(24 * blocks.length);
  blocks.forEach((r, i) => {
    const o = 24 * i;
    b.writeUInt32BE(r.ssrc, o);
    b[o + 4] = r.fractionLost;
    b.writeUIntBE(r.cumulativeLost, o + 5, 3);
    b.writeUInt32BE(r.highestSeq, o + 8);
    b.writeUInt32BE(r.jitter, o + 12);
    b.writeUInt32BE(r.lsr, o + 16);
    b.writeUInt32BE(r.dlsr, o + 20);
  });
  return b;
}

const pad4 = (b: Buffer): Buffer => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);

/** The packets of one spec (one, or for twcc every feedback packet until nothing is pending). */
export function buildRtcpPacket(s: RtcpPacketSpec): Buffer[] {
  switch (s.type) {
    case 'sr': {
      const body = Buffer.alloc(24);
      body.writeUInt32BE(s.ssrc, 0);
      body.writeUInt32BE(s.ntpSec, 4);
      body.writeUInt32BE(s.ntpFrac, 8);
      body.writeUInt32BE(s.rtpTimestamp, 12);
      body.writeUInt32BE(s.packets, 16);
      body.writeUInt32BE(s.octets, 20);
      const blocks = reportBlocks(s.blocks);
      return [Buffer.concat([header(s.blocks.length, 200, 24 + blocks.length), body, blocks])];
    }
    case 'rr': {
      const ssrc = Buffer.alloc(4);
      ssrc.writeUInt32BE(s.ssrc, 0);
      const blocks = reportBlocks(s.blocks);
      return [Buffer.concat([header(s.blocks.length, 201, 4 + blocks.length), ssrc, blocks])];
    }
    case 'sdes': {
      const chunks = s.chunks.map((c) => {
        const ssrc = Buffer.alloc(4);
        ssrc.writeUInt32BE(c.ssrc, 0);
        const items = c.items.map((it) => Buffer.concat([Buffer.from([it.kind, it.hex.length / 2]), bytes(it.hex)]));
        // the item list ends with a zero byte, then zeros to the next 32-bit boundary
        return pad4(Buffer.concat([ssrc, ...items, Buffer.from([0])]));
      });
      const body = Buffer.concat(chunks);
      return [Buffer.concat([header(s.chunks.length, 202, body.length), body])];
    }
    case 'bye': {
      const ssrcs = Buffer.alloc(4 * s.ssrcs.length);
      s.ssrcs.forEach((x, i) => ssrcs.writeUInt32BE(x, 4 * i));
      const reason = s.reason === null ? Buffer.alloc(0) : pad4(Buffer.concat([Buffer.from([s.reason.length / 2]), bytes(s.reason)]));
      return [Buffer.concat([header(s.ssrcs.length, 203, ssrcs.length + reason.length), ssrcs, reason])];
    }
    case 'app': {
      const head = Buffer.alloc(8);
      head.writeUInt32BE(s.ssrc, 0);
      bytes(s.name).copy(head, 4);
      const data = pad4(bytes(s.data));
      return [Buffer.concat([header(s.subtype, 204, 8 + data.length), head, data])];
    }
    case 'nack': {
      const out = Buffer.alloc(12 + 4 * s.seqs.length);
      return [out.subarray(0, writeNack(out, 0, s.sender, s.media, s.seqs, s.seqs.length))];
    }
    case 'pli': {
      const out = Buffer.alloc(12);
      writePli(out, 0, s.sender, s.media);
      return [out];
    }
    case 'fir': {
      const body = Buffer.alloc(8 + 8 * s.entries.length);
      body.writeUInt32BE(s.sender, 0);
      s.entries.forEach((e, i) => {
        body.writeUInt32BE(e.ssrc, 8 + 8 * i);
        body[12 + 8 * i] = e.seqNr;
      });
      return [Buffer.concat([header(4, 206, body.length), body])];
    }
    case 'remb': {
      const out = Buffer.alloc(20 + 4 * s.ssrcs.length);
      return [out.subarray(0, writeRemb(out, 0, s.sender, s.bitrate, s.ssrcs))];
    }
    case 'twcc': {
      const rec = new TwccRecorder();
      for (const [seq, t] of twccArrivals(s)) rec.record(seq, t);
      const packets: Buffer[] = [];
      const out = Buffer.alloc(1500);
      for (let i = 0; i < 1000 && rec.hasPending(); i++) {
        const n = rec.writeFeedback(out, 0, s.sender, s.media, s.budget);
        if (n > 0) packets.push(Buffer.from(out.subarray(0, n)));
      }
      return packets;
    }
    case 'other': {
      const body = bytes(s.words);
      return [Buffer.concat([header(s.count, s.pt, body.length), body])];
    }
  }
}

/** The (transport-wide sequence number, arrival µs) pairs a twcc spec records, in order. */
export function twccArrivals(s: Extract<RtcpPacketSpec, { type: 'twcc' }>): [number, number][] {
  const out: [number, number][] = [];
  let seq = s.firstSeq;
  let t = 1_000_000;
  for (const a of s.arrivals) {
    seq = (seq + a.gap) & 0xffff;
    t += a.deltaUs;
    out.push([seq, t]);
  }
  return out;
}

/** A compound packet and where each of its packets is. */
export function buildRtcp(specs: RtcpPacketSpec[]): { buf: Buffer; packets: BuiltRtcp[] } {
  const parts: Buffer[] = [];
  const packets: BuiltRtcp[] = [];
  let offset = 0;
  for (const spec of specs) {
    for (const p of buildRtcpPacket(spec)) {
      packets.push({ spec, offset, length: p.length, pt: p[1]!, fmt: p[0]! & 0x1f });
      parts.push(p);
      offset += p.length;
    }
  }
  return { buf: Buffer.concat(parts), packets };
}

const block: fc.Arbitrary<ReportBlockSpec> = fc.record({
  ssrc: u32,
  fractionLost: u8,
  cumulativeLost: fc.nat({ max: 0xffffff }),
  highestSeq: u32,
  jitter: u32,
  lsr: u32,
  dlsr: u32,
});

/** One packet of each type the bridge reads, and a few it does not. */
export const rtcpPacketSpec: fc.Arbitrary<RtcpPacketSpec> = fc.oneof(
  fc.record({
    type: fc.constant('sr' as const),
    ssrc: u32,
    ntpSec: u32,
    ntpFrac: u32,
    rtpTimestamp: u32,
    packets: u32,
    octets: u32,
    blocks: fc.array(block, { maxLength: 31 }),
  }),
  fc.record({ type: fc.constant('rr' as const), ssrc: u32, blocks: fc.array(block, { maxLength: 31 }) }),
  fc.record({
    type: fc.constant('sdes' as const),
    chunks: fc.array(fc.record({ ssrc: u32, items: fc.array(fc.record({ kind: fc.integer({ min: 1, max: 8 }), hex: hexBytesMostlyShort(255) }), { maxLength: 4 }) }), {
      maxLength: 4,
    }),
  }),
  fc.record({ type: fc.constant('bye' as const), ssrcs: fc.array(u32, { maxLength: 31 }), reason: fc.option(hexBytesMostlyShort(255)) }),
  fc.record({ type: fc.constant('app' as const), subtype: fc.nat({ max: 31 }), ssrc: u32, name: hexBytes(4, 4), data: hexBytesMostlyShort(64) }),
  fc.record({ type: fc.constant('nack' as const), sender: u32, media: u32, seqs: fc.array(u16, { minLength: 1, maxLength: 40 }) }),
  fc.record({ type: fc.constant('pli' as const), sender: u32, media: u32 }),
  fc.record({ type: fc.constant('fir' as const), sender: u32, entries: fc.array(fc.record({ ssrc: u32, seqNr: u8 }), { maxLength: 8 }) }),
  fc.record({
    type: fc.constant('remb' as const),
    sender: u32,
    bitrate: fc.oneof(fc.nat({ max: 0x3ffff }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })),
    ssrcs: fc.array(u32, { maxLength: 8 }),
  }),
  fc.record({
    type: fc.constant('twcc' as const),
    sender: u32,
    media: u32,
    firstSeq: u16,
    arrivals: fc.array(
      fc.record({
        // at most 60 * 30 sequence numbers: within the recorder's window (no jump drops what is not yet reported)
        gap: fc.oneof({ arbitrary: fc.constant(1), weight: 4 }, { arbitrary: fc.integer({ min: 1, max: 30 }), weight: 1 }),
        deltaUs: fc.oneof({ arbitrary: fc.nat({ max: 70_000 }), weight: 6 }, { arbitrary: fc.nat({ max: 20_000_000 }), weight: 1 }),
      }),
      { minLength: 1, maxLength: 60 },
    ),
    budget: fc.oneof(fc.constant(1200), fc.integer({ min: 28, max: 1200 })),
  }),
  fc.record({
    type: fc.constant('other' as const),
    pt: fc.oneof(fc.constantFrom(200, 201, 205, 206, 207), fc.integer({ min: 192, max: 223 })),
    count: fc.nat({ max: 31 }),
    words: fc.nat({ max: 16 }).chain((n) => hexBytes(4 * n, 4 * n)),
  }),
);

/** A compound RTCP packet (what one SRTCP datagram carries). */
export const rtcpCompoundSpec: fc.Arbitrary<RtcpPacketSpec[]> = fc.array(rtcpPacketSpec, { minLength: 1, maxLength: 4 });

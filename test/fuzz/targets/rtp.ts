// RTP header access (src/bridge/packet/rtp.ts), header extensions (RFC 8285 one- and two-byte), audio level,
// transport-wide sequence numbers and RTX (rtx.ts): packets built by the test, then mutated, and raw bytes.
// Checked: built fields read back (header length, payload end, every getter, each extension element where the
// builder put it), setters and RTX wrap/unwrap round-trip, the extension renaming touches only ids it renames;
// on any bytes offsets and lengths stay inside the packet and nothing past `len` is read or written.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as rtp from '../../../src/bridge/packet/rtp.ts';
import { unwrapRtx, writeRtx } from '../../../src/bridge/packet/rtx.ts';
import { readTransportSeq } from '../../../src/bridge/packet/twcc.ts';
import { AUDIO_LEVEL_EXT_ID, HIDDEN_EXT_ID, MID_EXT_ID, REPAIRED_RID_EXT_ID, TWCC_EXT_ID } from '../../../src/protocol/media-profile.ts';
import { bytes, hexBytesMostlyShort, mutate, mutations, withTails, type Mutation } from '../bytes.ts';
import { pureTarget } from '../harness.ts';
import { buildRtp, rtpSpec, type BuiltRtp, type RtpSpec } from '../packets.ts';

export interface RtpInput {
  packet: { spec: RtpSpec } | { raw: string };
  ops: Mutation[];
}

/** Extension ids every check looks up: the profile's, the edges of both profiles, and out of range. */
const LOOKUP_IDS = [0, 1, 2, 3, 4, 5, 6, 13, 14, 15, 16, 200, 255, 256];

function checkBuilt(s: RtpSpec, p: BuiltRtp): void {
  const b = p.buf;
  const len = b.length;
  assert.equal(rtp.isRtpOrRtcp(b, len), true);
  assert.equal(rtp.rtpHeaderLength(b, len), p.headerLength);
  assert.equal(rtp.rtpPayloadEnd(b, len), p.payloadEnd);
  assert.equal(rtp.rtpSsrc(b), s.ssrc);
  assert.equal(rtp.rtpSeq(b), s.seq);
  assert.equal(rtp.rtpTimestamp(b), s.timestamp);
  assert.equal(rtp.rtpPayloadType(b), s.pt);
  assert.equal(rtp.rtpMarker(b), s.marker);
  assert.equal(rtp.rtpCsrcCount(b), s.csrcs.length);
  assert.equal(rtp.rtpHasExtension(b), s.extension !== null);
  assert.equal(rtp.rtpHasPadding(b), s.padding > 0);
  const ids = new Set([...LOOKUP_IDS, ...p.elements.keys()]);
  for (const id of ids) {
    const inRange = s.extension !== null && id >= 1 && id <= (s.extension.twoByte ? 255 : 14);
    const [off, l] = (inRange && p.elements.get(id)) || [-1, -1];
    assert.equal(rtp.findHeaderExtension(b, len, id), off, `extension ${id}`);
    assert.equal(rtp.headerExtensionLength(b, len, id), l, `extension ${id} length`);
    if (off >= 0) {
      const data = b.subarray(off, off + l);
      assert.equal(rtp.headerExtensionEquals(b, len, id, data.toString('latin1')), true);
      assert.equal(rtp.headerExtensionEquals(b, len, id, data.toString('latin1') + 'x'), false);
      if (id === AUDIO_LEVEL_EXT_ID && l >= 1) {
        assert.equal(rtp.audioLevel(b, len, id), data[0]! & 0x7f);
        assert.equal(rtp.audioLevelVoice(b, len, id), data[0]! >> 7);
      }
      if (id === TWCC_EXT_ID) assert.equal(readTransportSeq(b, len, id), l >= 2 ? data.readUInt16BE(0) : -1);
    }
  }
  // setters
  const c = Buffer.from(b);
  rtp.setRtpSeq(c, s.seq ^ 0x5a5a);
  rtp.setRtpSsrc(c, ~s.ssrc >>> 0);
  rtp.setRtpTimestamp(c, (s.timestamp + 90000) >>> 0);
  rtp.setRtpPayloadType(c, s.pt ^ 0x40);
  assert.equal(rtp.rtpSeq(c), s.seq ^ 0x5a5a);
  assert.equal(rtp.rtpSsrc(c), ~s.ssrc >>> 0);
  assert.equal(rtp.rtpTimestamp(c), (s.timestamp + 90000) >>> 0);
  assert.equal(rtp.rtpPayloadType(c), s.pt ^ 0x40);
  assert.equal(rtp.rtpMarker(c), s.marker, 'setting the payload type changed the marker');
  assert.equal(c.subarray(12).equals(b.subarray(12)), true, 'a header setter wrote past the fixed header');
  // RTX: wrap into another stream, unwrap: the original without its padding
  const out = Buffer.alloc(len + 2);
  const n = writeRtx(b, len, out, 97, 0x12345678, 7);
  assert.equal(n, p.payloadEnd + 2);
  assert.equal(rtp.rtpPayloadType(out), 97);
  assert.equal(rtp.rtpSsrc(out), 0x12345678);
  assert.equal(rtp.rtpSeq(out), 7);
  const back = unwrapRtx(out, n, s.ssrc, s.pt);
  const want = Buffer.from(b.subarray(0, p.payloadEnd));
  want[0]! &= ~0x20;
  assert.equal(back, want.length);
  assert.equal(out.subarray(0, back).toString('hex'), want.toString('hex'), 'RTX unwrap did not give back the original');
  // renaming mid/rid elements (one-byte only) hides exactly those ids
  const r = Buffer.from(b);
  rtp.renameHeaderExtensions(r, len, MID_EXT_ID, REPAIRED_RID_EXT_ID, HIDDEN_EXT_ID);
  if (s.extension === null || s.extension.twoByte) assert.equal(r.equals(b), true);
  else {
    for (const id of [MID_EXT_ID, REPAIRED_RID_EXT_ID]) assert.equal(rtp.findHeaderExtension(r, len, id), -1);
    for (const id of [1, 2, 3, 7, 13]) assert.equal(rtp.findHeaderExtension(r, len, id), rtp.findHeaderExtension(b, len, id));
  }
}

function checkAny(b: Buffer): void {
  const len = b.length;
  assert.equal(rtp.isRtpOrRtcp(b, len + 10), rtp.isRtpOrRtcp(b, len));
  const hl = rtp.rtpHeaderLength(b, len);
  assert.ok(hl === -1 || (hl >= 12 && hl <= len), `header length ${hl} of ${len}`);
  assert.equal(rtp.rtpHeaderLength(b, len + 100), hl);
  const pe = rtp.rtpPayloadEnd(b, len);
  assert.ok(pe === -1 || (hl >= 0 && pe >= hl && pe <= len), `payload end ${pe}`);
  // RFC 8285: every element lies inside the extension block (after its 4-byte header, within its length)
  const extStart = 16 + 4 * (b[0]! & 0x0f);
  const extEnd = len >= extStart ? extStart + 4 * b.readUInt16BE(extStart - 2) : -1;
  const found = LOOKUP_IDS.map((id) => {
    const o = rtp.findHeaderExtension(b, len, id);
    const l = rtp.headerExtensionLength(b, len, id);
    assert.ok(o === -1 || (o >= extStart && l >= 0 && o + l <= extEnd && extEnd <= len), `extension ${id} at ${o}+${l}, block ${extStart}..${extEnd} of ${len}`);
    const lvl = rtp.audioLevel(b, len, id);
    assert.ok(lvl >= -1 && lvl <= 127);
    assert.ok([-1, 0, 1].includes(rtp.audioLevelVoice(b, len, id)));
    const tw = readTransportSeq(b, len, id);
    assert.ok(tw >= -1 && tw <= 0xffff);
    return [o, l, lvl];
  });
  // the same answers when garbage follows `len` in the buffer
  for (const t of withTails(b)) {
    assert.equal(rtp.isRtpOrRtcp(t, len), rtp.isRtpOrRtcp(b, len));
    assert.equal(rtp.rtpHeaderLength(t, len), hl);
    assert.equal(rtp.rtpPayloadEnd(t, len), pe);
    assert.deepEqual(
      LOOKUP_IDS.map((id) => [rtp.findHeaderExtension(t, len, id), rtp.headerExtensionLength(t, len, id), rtp.audioLevel(t, len, id)]),
      found,
      'an extension lookup read past len',
    );
    const r = Buffer.from(t);
    rtp.renameHeaderExtensions(r, len, MID_EXT_ID, REPAIRED_RID_EXT_ID, HIDDEN_EXT_ID);
    assert.equal(r.subarray(len).equals(t.subarray(len)), true, 'renaming wrote past len');
    const fixed = Math.min(len, 16 + 4 * (b[0]! & 0x0f));
    assert.equal(r.subarray(0, fixed).equals(t.subarray(0, fixed)), true, 'renaming wrote into the fixed header');
  }
  const u = Buffer.from(b);
  const n = unwrapRtx(u, len, 1, 96);
  assert.ok(n === -1 || (n >= 12 && n <= len - 2), `unwrapped RTX of ${n} bytes from ${len}`);
  const out = Buffer.alloc(len + 2);
  const w = writeRtx(b, len, out, 97, 1, 2);
  assert.ok(w === -1 || (w >= 14 && w <= len + 2));
}

export const rtpTarget = pureTarget<RtpInput>({
  name: 'rtp',
  about: 'RTP header, RFC 8285 extensions, audio level, transport seq, RTX: fields read back, round trips, bounds',
  input: fc.record({
    packet: fc.oneof({ arbitrary: fc.record({ spec: rtpSpec() }), weight: 4 }, { arbitrary: fc.record({ raw: hexBytesMostlyShort(300) }), weight: 1 }),
    ops: mutations,
  }),
  ciRuns: 600,
  check({ packet, ops }) {
    let b: Buffer;
    if ('spec' in packet) {
      const p = buildRtp(packet.spec);
      checkBuilt(packet.spec, p);
      b = p.buf;
    } else b = bytes(packet.raw);
    checkAny(b);
    if (ops.length > 0) checkAny(mutate(b, ops));
  },
});

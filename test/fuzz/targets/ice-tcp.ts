// ICE-TCP framing (src/bridge/ice-tcp.ts, RFC 4571: a 2-byte length before each datagram): a stream of frames
// built by the test (empty ones, ones at and past MAX_FRAME) or raw bytes, cut into chunks at random places and
// fed to a FramedConnection the way its socket's 'data' events do. Checked: nothing throws; the datagrams
// delivered are exactly the stream's non-empty frames, in order, up to the first oversized one (which closes
// the connection); every datagram is handed over in the connection's one fixed buffer (nothing grows past
// MAX_FRAME); how the stream is cut never changes what is delivered.
import assert from 'node:assert/strict';
import net from 'node:net';
import fc from 'fast-check';
import { FramedConnection, MAX_FRAME } from '../../../src/bridge/ice-tcp.ts';
import { bytes, hexBytesMostlyShort } from '../bytes.ts';
import { pureTarget } from '../harness.ts';

export interface IceTcpInput {
  stream: { frames: { length: number; fill: number }[]; tail: string } | { raw: string };
  /** Where the stream is cut into chunks (fractions of its length, 0..0xffff). */
  cuts: number[];
}

function buildStream(s: IceTcpInput['stream']): Buffer {
  if ('raw' in s) return bytes(s.raw);
  const parts: Buffer[] = [];
  s.frames.forEach((f, i) => {
    const h = Buffer.alloc(2);
    h.writeUInt16BE(f.length, 0);
    // a payload of its own per frame, so a mix-up between frames shows
    const data = Buffer.alloc(f.length);
    for (let j = 0; j < f.length; j++) data[j] = (f.fill + i * 7 + j) & 0xff;
    parts.push(h, data);
  });
  parts.push(bytes(s.tail));
  return Buffer.concat(parts);
}

/** What RFC 4571 de-framing with the bridge's cap gives: non-empty frames up to the first oversized one. */
function expectedDatagrams(stream: Buffer): { datagrams: string[]; closes: boolean } {
  const datagrams: string[] = [];
  for (let p = 0; p + 2 <= stream.length; ) {
    const l = stream.readUInt16BE(p);
    if (l > MAX_FRAME) return { datagrams, closes: true };
    if (p + 2 + l > stream.length) break;
    if (l > 0) datagrams.push(stream.subarray(p + 2, p + 2 + l).toString('hex'));
    p += 2 + l;
  }
  return { datagrams, closes: false };
}

function chunks(stream: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => Math.floor((c * (stream.length + 1)) / 0x10000)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of [...at, stream.length]) {
    if (c < prev) continue;
    out.push(Buffer.from(stream.subarray(prev, c)));
    prev = c;
  }
  return out;
}

/** Feeds the chunks to a connection (its socket never connected: closing it only destroys it). */
function feed(parts: Buffer[]): { datagrams: string[]; closing: boolean } {
  const conn = new FramedConnection(1, new net.Socket(), 1 << 20);
  const datagrams: string[] = [];
  let frame: Buffer | null = null;
  conn.onDatagram = (buf, len) => {
    assert.ok(len >= 1 && len <= MAX_FRAME, `a datagram of ${len} bytes`);
    assert.equal(buf.length, MAX_FRAME, 'the reassembly buffer is not the fixed MAX_FRAME one');
    frame ??= buf;
    assert.equal(buf, frame, 'a datagram came in another buffer');
    datagrams.push(buf.subarray(0, len).toString('hex'));
    // a receiver may change the datagram in place (SRTP decryption does)
    buf.fill(0xee, 0, len);
  };
  for (const c of parts) conn.onData(c);
  assert.equal(conn.datagramsIn, datagrams.length);
  assert.equal(conn.callbackErrors, 0);
  const closing = conn.closing;
  conn.close();
  return { datagrams, closing };
}

const frame = fc.record({
  length: fc.oneof(
    { arbitrary: fc.nat({ max: 200 }), weight: 6 },
    { arbitrary: fc.constantFrom(0, 1, MAX_FRAME - 1, MAX_FRAME, MAX_FRAME + 1, 0xffff), weight: 2 },
    { arbitrary: fc.nat({ max: MAX_FRAME }), weight: 1 },
  ),
  fill: fc.nat({ max: 255 }),
});

export const iceTcpTarget = pureTarget<IceTcpInput>({
  name: 'ice-tcp',
  about: 'RFC 4571 de-framing of ICE-TCP with random chunk splits: exact frames in order, fixed buffer, cap closes',
  input: fc.record({
    stream: fc.oneof(
      { arbitrary: fc.record({ frames: fc.array(frame, { maxLength: 12 }), tail: hexBytesMostlyShort(8) }), weight: 4 },
      { arbitrary: fc.record({ raw: hexBytesMostlyShort(4000) }), weight: 1 },
    ),
    cuts: fc.array(fc.nat({ max: 0xffff }), { maxLength: 40 }),
  }),
  ciRuns: 200,
  check({ stream, cuts }) {
    const s = buildStream(stream);
    const want = expectedDatagrams(s);
    const got = feed(chunks(s, cuts));
    assert.deepEqual(got.datagrams, want.datagrams, 'the de-framed datagrams are not the frames sent');
    assert.equal(got.closing, want.closes, want.closes ? 'an oversized frame did not close the connection' : 'the connection closed');
    assert.deepEqual(feed([s]), got, 'one chunk and many chunks de-frame differently');
    assert.deepEqual(feed([...s].map((x) => Buffer.from([x]))), got, 'byte-by-byte de-framing differs');
  },
});

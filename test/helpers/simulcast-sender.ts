// A simulcast sender and receiver for bridge tests without browsers: SimulcastBrowser (a FakeBrowser that keeps
// what it receives, decrypted: RTP, the PLIs' media SSRCs, sender reports) and Camera (an encoder sending VP8 as
// three rid layers, one or two packets a frame, keyframes when told), as Chrome sends them.
import { FMT_PLI, RTCP_PSFB, RTCP_SR, fbMediaSsrc, forEachRtcp } from '../../src/bridge/packet/rtcp.ts';
import { FakeBrowser } from './fake-browser.ts';

/** Keeps what it receives decrypted: RTP in arrival order, the PLIs' media SSRCs, sender reports. */
export class SimulcastBrowser extends FakeBrowser {
  /** Decrypted RTP received, in arrival order. */
  readonly rtp: Buffer[] = [];
  /** PLIs received: their media SSRCs. */
  readonly plis: number[] = [];
  /** Sender reports received (plain, 28 bytes each). */
  readonly srs: Buffer[] = [];

  protected override onRtp(m: Buffer): void {
    if (this.srtpIn === null) return;
    const len = this.srtpIn.unprotectRtp(m, m.length);
    if (len >= 0) this.rtp.push(Buffer.from(m.subarray(0, len)));
  }

  protected override onRtcp(m: Buffer): void {
    if (this.srtpIn === null) return;
    const len = this.srtpIn.unprotectRtcp(m, m.length);
    if (len < 0) return;
    forEachRtcp(m, len, (off, _length, pt, fmt) => {
      if (pt === RTCP_PSFB && fmt === FMT_PLI) this.plis.push(fbMediaSsrc(m, off));
      if (pt === RTCP_SR) this.srs.push(Buffer.from(m.subarray(off, off + 28)));
    });
  }
}

export const V = 0x0a0a0a01; // the camera as receivers see it (focus makes it up)
export const VR = 0x0a0a0a02; // its RTX SSRC towards receivers
export const L = [0x0b0b0b00, 0x0b0b0b01, 0x0b0b0b02]; // the layers' SSRCs: only the rid extension names them
export const LR2 = 0x0c0c0c02; // the top layer's RTX stream
export const RIDS = ['q', 'h', 'f'];
export const SIZES = [
  [320, 180],
  [640, 360],
  [1280, 720],
];

/**
 * One-byte extensions as Chrome sends a simulcast layer: mid (id 4, "1"), rid (5) or repaired rid (6),
 * transport-wide seq (3), padded to a 32-bit word.
 */
export function extensions(rid: string, repaired: boolean, tw: number): Buffer {
  const ridBytes = Buffer.from(rid, 'ascii');
  const elems = Buffer.concat([
    Buffer.from([0x40, 0x31]),
    Buffer.from([((repaired ? 6 : 5) << 4) | (ridBytes.length - 1)]),
    ridBytes,
    Buffer.from([0x31, tw >> 8, tw & 0xff]),
  ]);
  const words = Math.ceil(elems.length / 4);
  const block = Buffer.alloc(4 + words * 4);
  block.writeUInt16BE(0xbede, 0);
  block.writeUInt16BE(words, 2);
  elems.copy(block, 4);
  return block;
}

export function rtpPacket(pt: number, seq: number, ts: number, ssrc: number, marker: boolean, ext: Buffer, payload: Buffer, padding = 0): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x90 | (padding > 0 ? 0x20 : 0);
  h[1] = (marker ? 0x80 : 0) | pt;
  h.writeUInt16BE(seq & 0xffff, 2);
  h.writeUInt32BE(ts >>> 0, 4);
  h.writeUInt32BE(ssrc >>> 0, 8);
  const pad = Buffer.alloc(padding);
  if (padding > 0) pad[padding - 1] = padding;
  return Buffer.concat([h, ext, payload, pad]);
}

/** Alice's encoder: per layer its own seq, timestamp, picture id and TL0PICIDX; one packet a frame (two for the top layer). */
export class Camera {
  seq = [100, 20000, 65530];
  ts = [1000, 5_000_000, 0xffff0000];
  pic = [10, 2000, 32765];
  tl0 = [5, 100, 254];
  tw = 1;
  /** Every packet sent, by layer and input seq. */
  readonly sent = new Map<string, Buffer>();

  private readonly browser: SimulcastBrowser;

  constructor(browser: SimulcastBrowser) {
    this.browser = browser;
  }

  /** One frame on every layer; `keyframes` lists the layers that send a keyframe now. */
  frame(keyframes: number[] = []): void {
    for (let l = 0; l < 3; l++) for (const p of this.layerFrame(l, keyframes.includes(l))) this.browser.send(p);
  }

  /** The packets of one frame of layer `l` (not sent: the caller sends them, in any order it likes). */
  layerFrame(l: number, key: boolean): Buffer[] {
    const packets: Buffer[] = [];
    this.tl0[l] = (this.tl0[l] + 1) & 0xff;
    const count = l === 2 ? 2 : 1;
    for (let i = 0; i < count; i++) {
      const start = i === 0;
      const desc = Buffer.from([
        0x80 | (start ? 0x10 : 0), // X, S, PID 0
        0xe0, // I L T
        0x80 | (this.pic[l] >> 8),
        this.pic[l] & 0xff,
        this.tl0[l],
        0x00, // tid 0
      ]);
      let vp8: Buffer;
      if (start && key) {
        vp8 = Buffer.alloc(40, 0xa0 + l);
        vp8[0] = 0x10; // P = 0: key frame
        vp8[1] = 0x02;
        vp8[2] = 0x00;
        vp8[3] = 0x9d;
        vp8[4] = 0x01;
        vp8[5] = 0x2a;
        vp8.writeUInt16LE(SIZES[l][0], 6);
        vp8.writeUInt16LE(SIZES[l][1], 8);
      } else {
        vp8 = Buffer.alloc(60, 0xa0 + l);
        if (start) vp8[0] = 0x11; // P = 1: inter frame
      }
      const p = rtpPacket(96, this.seq[l], this.ts[l], L[l], i === count - 1, extensions(RIDS[l], false, this.tw++), Buffer.concat([desc, vp8]));
      this.sent.set(`${l}:${this.seq[l]}`, p);
      packets.push(p);
      this.seq[l] = (this.seq[l] + 1) & 0xffff;
    }
    this.ts[l] = (this.ts[l] + 3000) >>> 0;
    this.pic[l] = (this.pic[l] + 1) & 0x7fff;
    return packets;
  }
}


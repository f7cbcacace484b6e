// What the caller hears, into RTP for the phone: one 20 ms frame of mono in, one RTP packet out. G.711 takes
// 8 kHz frames as they are (48 kHz ones, a prompt's, are brought down to 8 kHz first); Opus takes 48 kHz frames
// (8 kHz ones are brought up first). One stream per call: a steady SSRC, the sequence number +1 a packet, the timestamp
// +160 (8 kHz) or +960 (48 kHz) a frame; after a pause in the frames (a prompt's end, a hold) the timestamp moves
// on by the pause and the packet carries the marker bit (RFC 3551 §4.1). A codec change keeps the stream. The
// packets are written into a ring of buffers allocated once (a send keeps its buffer until it is done).
import { FRAME_MS, FRAME_SAMPLES, NARROW_FRAME_SAMPLES, SAMPLE_RATE } from '../call-audio.ts';
import { g711Encode } from './g711.ts';
import { MAX_PAYLOAD } from './jitter-buffer.ts';
import { createOpusEncoder, type OpusEncoder, type OpusImplementation } from './opus-codec.ts';
import { Downsampler, FACTOR, Upsampler } from './resample.ts';
import type { PhoneCodec } from './sdp-offer-answer.ts';

/** Packet buffers written in turn. */
const RING = 8;
/** A pause between frames longer than this starts a new talkspurt. */
const PAUSE_MS = 3 * FRAME_MS;

export class VoiceEncoder {
  /** Packets and payload bytes written (an SR's counts), frames that could not be encoded. */
  readonly counters = { packets: 0, octets: 0, encodeErrors: 0 };
  /** The stream's SSRC. */
  readonly ssrc = (Math.random() * 2 ** 32) >>> 0;
  private codec: PhoneCodec | null = null;
  private opus: OpusEncoder | null = null;
  /** A 48 kHz frame to a G.711 phone, an 8 kHz one to an Opus phone: converted (made when first needed). */
  private down: Downsampler | null = null;
  private up: Upsampler | null = null;
  private readonly narrow = new Int16Array(FRAME_SAMPLES / FACTOR);
  private wide: Int16Array | null = null;
  private readonly ring: { buf: Buffer; payload: Uint8Array }[] = [];
  private ringAt = 0;
  private seq = Math.floor(Math.random() * 65536);
  private timestamp = (Math.random() * 2 ** 32) >>> 0;
  private lastAt = -1;
  /** The timestamp of the last packet written. */
  private lastTimestamp = 0;
  private readonly opusImpl: OpusImplementation | undefined;
  private readonly opusBitrate: number;

  constructor(opus?: OpusImplementation, opusBitrate = 32_000) {
    this.opusImpl = opus;
    this.opusBitrate = opusBitrate;
    for (let i = 0; i < RING; i++) {
      const buf = Buffer.alloc(12 + MAX_PAYLOAD);
      this.ring.push({ buf, payload: buf.subarray(12) });
    }
  }

  /** The codec from now on (the stream goes on: same SSRC, sequence and timestamp). */
  setCodec(codec: PhoneCodec): void {
    if (this.codec !== null && this.codec.name === codec.name && this.codec.payloadType === codec.payloadType) return;
    this.opus?.close();
    this.opus = codec.name === 'opus' ? createOpusEncoder(SAMPLE_RATE, 1, this.opusBitrate, this.opusImpl) : null;
    this.down = null;
    this.up = null;
    this.codec = codec;
  }

  /** The last packet written (its length is what `encode` returned); valid until RING more are written. */
  buf: Buffer = Buffer.alloc(0);

  /**
   * One frame (`now`: performance.now()) as an RTP packet in `buf`; returns its length, 0 when it cannot be
   * encoded (no codec yet, an encoder error, not a 20 ms frame of 8 or 48 kHz).
   */
  encode(frame: Int16Array, now: number): number {
    const codec = this.codec;
    if (codec === null || (frame.length !== FRAME_SAMPLES && frame.length !== NARROW_FRAME_SAMPLES)) return 0;
    const slot = this.ring[this.ringAt]!;
    let length: number;
    if (this.opus !== null) {
      let pcm = frame;
      if (frame.length === NARROW_FRAME_SAMPLES) {
        this.wide ??= new Int16Array(FRAME_SAMPLES);
        (this.up ??= new Upsampler()).process(frame, this.wide);
        pcm = this.wide;
      }
      try {
        length = this.opus.encode(pcm, slot.payload);
      } catch {
        this.counters.encodeErrors++;
        return 0;
      }
    } else {
      let pcm = frame;
      if (frame.length === FRAME_SAMPLES) {
        (this.down ??= new Downsampler()).process(frame, this.narrow);
        pcm = this.narrow;
      }
      length = g711Encode(codec.name === 'pcma' ? 'pcma' : 'pcmu', pcm, slot.payload);
    }
    this.ringAt = (this.ringAt + 1) % RING;
    const frameTicks = codec.clockRate / (1000 / FRAME_MS);
    let marker = false;
    if (this.lastAt < 0 || now - this.lastAt > PAUSE_MS) {
      marker = true;
      if (this.lastAt >= 0) this.timestamp = (this.timestamp + (Math.round((now - this.lastAt) / FRAME_MS) - 1) * frameTicks) >>> 0;
    }
    this.lastAt = now;
    const buf = slot.buf;
    buf[0] = 0x80;
    buf[1] = (marker ? 0x80 : 0) | codec.payloadType;
    buf.writeUInt16BE(this.seq, 2);
    buf.writeUInt32BE(this.timestamp, 4);
    buf.writeUInt32BE(this.ssrc, 8);
    this.seq = (this.seq + 1) & 0xffff;
    this.lastTimestamp = this.timestamp;
    this.timestamp = (this.timestamp + frameTicks) >>> 0;
    this.counters.packets++;
    this.counters.octets += length;
    this.buf = buf;
    return 12 + length;
  }

  /** The RTP timestamp of the instant `now` (performance.now()) on this stream's clock: a sender report's. */
  timestampAt(now: number): number {
    if (this.codec === null || this.lastAt < 0) return this.timestamp;
    return (this.lastTimestamp + Math.round(((now - this.lastAt) * this.codec.clockRate) / 1000)) >>> 0;
  }

  close(): void {
    this.opus?.close();
    this.opus = null;
  }
}

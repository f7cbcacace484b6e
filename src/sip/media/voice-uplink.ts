// A caller's voice into the meeting, as one RTP stream to the bridge's plain port: each 20 ms frame (8 kHz from a
// G.711 phone, 48 kHz from an Opus phone) -> Opus (one encoder per rate; the RTP clock is 48 kHz either way, each
// packet says its band) -> RTP with the RFC 6464 audio level (extension id 1 of media-profile.ts, the V bit
// below 60 -dBov) so the caller can be the dominant speaker -> SRTP with the key signal gave -> UDP. It runs where
// media-threads.ts puts it: on an encoding thread, or in the gateway's thread (one core).
import { SrtpSession } from '../../bridge/packet/srtp.ts';
import { AUDIO_LEVEL_EXT_ID, AUDIO_PT } from '../../protocol/media-profile.ts';
import { FRAME_SAMPLES, NARROW_RATE, rateOfFrame, SAMPLE_RATE, type AudioRate } from '../call-audio.ts';
import { createOpusEncoder, DEFAULT_COMPLEXITY, type OpusEncoder, type OpusImplementation, type OpusMaxBandwidth } from './opus-codec.ts';

/** The caller's voice into the meeting: Opus at this bitrate (a phone's voice needs no more). */
export const PHONE_OPUS_BITRATE = 32_000;
/**
 * libopus's complexity for a G.711 caller's narrowband voice: 3 keeps SILK's delayed-decision quantiser and its
 * middle pitch analysis, and leaves out what 5 adds (longer noise shaping, interpolated LSFs, warping), which a
 * voice that was 8-bit G.711 on its way here does not gain from; ~27% less encoding time than 5.
 */
export const NARROWBAND_COMPLEXITY = 3;
/** RTP header with one one-byte header extension element (the audio level), padded to a 32-bit word. */
const HEADER_BYTES = 20;
const MAX_OPUS_BYTES = 1000;

export interface EncoderSpec {
  rate: AudioRate;
  bitrate: number;
  band: OpusMaxBandwidth;
  complexity: number;
  impl?: OpusImplementation;
}

/**
 * How a caller's voice given at `rate` is encoded. A phone's voice holds nothing above 4 kHz: from 8 kHz as
 * narrowband (SILK at its lowest rate, no resampling: half the cost of wideband from 48 kHz), from 48 kHz as
 * wideband (SILK alone, a fraction of full band's hybrid coding; `npm run bench -- opus`).
 */
export function phoneVoiceSpec(rate: AudioRate, impl?: OpusImplementation): EncoderSpec {
  const spec: EncoderSpec =
    rate === NARROW_RATE
      ? { rate: NARROW_RATE, bitrate: PHONE_OPUS_BITRATE, band: 'narrowband', complexity: NARROWBAND_COMPLEXITY }
      : { rate: SAMPLE_RATE, bitrate: PHONE_OPUS_BITRATE, band: 'wideband', complexity: DEFAULT_COMPLEXITY };
  return impl ? { ...spec, impl } : spec;
}

/** RFC 6464 level of a frame: 0 (loudest) to 127 (silence), -dBov. */
export function audioLevelOf(frame: Int16Array): number {
  let sum = 0;
  for (let i = 0; i < frame.length; i++) sum += frame[i]! * frame[i]!;
  const rms = Math.sqrt(sum / Math.max(1, frame.length)) / 32768;
  if (rms <= 0) return 127;
  return Math.min(127, Math.max(0, Math.round(-20 * Math.log10(rms))));
}

/** Where a caller's voice goes and how: everything an encoding thread needs (structured-cloneable). */
export interface UplinkSpec {
  ssrc: number;
  /** SDES key and salt, base64 (signal's `srtpKey`). */
  srtpKey: string;
  address: string;
  port: number;
  impl?: OpusImplementation;
}

/** Where a caller's voice goes after the meeting moved to another bridge (its plain port and new key). */
export type UplinkTarget = Pick<UplinkSpec, 'srtpKey' | 'address' | 'port'>;

/** Sends one datagram (the buffer may be reused once it returns). */
export type SendDatagram = (buf: Buffer, length: number, port: number, address: string) => void;

export class VoiceUplink {
  readonly counters = { sent: 0, encodeErrors: 0, badFrames: 0 };
  private spec: UplinkSpec;
  private readonly sendDatagram: SendDatagram;
  private srtp: SrtpSession;
  /** The encoder of each rate a frame came at (made when the first such frame comes). */
  private readonly encoders = new Map<AudioRate, OpusEncoder>();
  private seq = Math.floor(Math.random() * 0x10000);
  private timestamp = Math.floor(Math.random() * 0x100000000);
  private readonly packet = Buffer.alloc(HEADER_BYTES + MAX_OPUS_BYTES);
  private readonly protectedPacket = Buffer.alloc(HEADER_BYTES + MAX_OPUS_BYTES + 16);
  private closed = false;

  constructor(spec: UplinkSpec, sendDatagram: SendDatagram) {
    this.spec = spec;
    this.sendDatagram = sendDatagram;
    this.srtp = srtpFor(spec.srtpKey);
  }

  /** The meeting moved to another bridge: the next packets go there, with its key (a new SRTP stream; RTP goes on). */
  repoint(to: UplinkTarget): void {
    this.spec = { ...this.spec, srtpKey: to.srtpKey, address: to.address, port: to.port };
    this.srtp = srtpFor(to.srtpKey);
  }

  /** One frame of the caller's voice (160 or 960 samples), sent as one packet. */
  send(frame: Int16Array): void {
    if (this.closed) return;
    const rate = rateOfFrame(frame);
    if (rate === null) {
      this.counters.badFrames++;
      return;
    }
    const p = this.packet;
    let n: number;
    try {
      n = this.encoderAt(rate).encode(frame, p.subarray(HEADER_BYTES));
    } catch {
      this.counters.encodeErrors++;
      return;
    }
    p[0] = 0x90; // version 2, header extension
    p[1] = AUDIO_PT;
    p.writeUInt16BE(this.seq, 2);
    p.writeUInt32BE(this.timestamp >>> 0, 4);
    p.writeUInt32BE(this.spec.ssrc >>> 0, 8);
    p.writeUInt16BE(0xbede, 12); // one-byte header extensions (RFC 8285)
    p.writeUInt16BE(1, 14); // one 32-bit word of them
    p[16] = AUDIO_LEVEL_EXT_ID << 4; // one byte of data
    const level = audioLevelOf(frame);
    p[17] = (level < 60 ? 0x80 : 0) | level; // the V bit: voice
    p[18] = 0;
    p[19] = 0;
    this.seq = (this.seq + 1) & 0xffff;
    this.timestamp = (this.timestamp + FRAME_SAMPLES) >>> 0; // the 48 kHz clock
    const len = this.srtp.protectRtp(p, HEADER_BYTES + n, this.protectedPacket);
    if (len < 0) return;
    this.counters.sent++;
    this.sendDatagram(this.protectedPacket, len, this.spec.port, this.spec.address);
  }

  close(): void {
    this.closed = true;
    for (const e of this.encoders.values()) e.close();
    this.encoders.clear();
  }

  private encoderAt(rate: AudioRate): OpusEncoder {
    let encoder = this.encoders.get(rate);
    if (!encoder) {
      const s = phoneVoiceSpec(rate, this.spec.impl);
      encoder = createOpusEncoder(s.rate, 1, s.bitrate, s.impl, s.band, s.complexity);
      this.encoders.set(rate, encoder);
    }
    return encoder;
  }
}

function srtpFor(srtpKey: string): SrtpSession {
  const key = Buffer.from(srtpKey, 'base64');
  return new SrtpSession('AES_CM_128_HMAC_SHA1_80', key.subarray(0, 16), key.subarray(16));
}

// The meeting's side of one phone call (MeetingAudio of call-audio.ts): the caller is a participant that signal
// made (`signal.phone-join`), whose voice this file sends to the bridge's plain port as Opus in SRTP (one encoder
// per call: a G.711 phone's 8 kHz frames coded as narrowband Opus straight from 8 kHz, an Opus phone's 48 kHz
// frames as wideband; the RTP clock is 48 kHz either way, the packet says its band; on the gateway's encoding
// threads when it has them, opus-encode-pool.ts), each packet with its RFC 6464 audio level so the caller can become the active speaker; what the
// caller hears comes from the room's shared mix (room-mix.ts). Made and tracked by MeetingGateway
// (meeting-gateway.ts), which hands it signal's events (removed, muted).
import dgram from 'node:dgram';
import { SrtpSession } from '../bridge/packet/srtp.ts';
import type { Logger } from '../log.ts';
import { AUDIO_LEVEL_EXT_ID, AUDIO_PT } from '../protocol/media-profile.ts';
import type { PhoneJoinReply } from '../protocol/phone-messages.ts';
import { FRAME_SAMPLES, NARROW_RATE, rateOfFrame, SAMPLE_RATE, type AudioRate, type MeetingAudio } from './call-audio.ts';
import { DEFAULT_COMPLEXITY, type OpusImplementation } from './media/opus-codec.ts';
import { localEncoder, type EncoderSpec, type FrameEncoder, type OpusEncodePool } from './media/opus-encode-pool.ts';

/** The caller's voice into the meeting: Opus at this bitrate (a phone's voice needs no more). */
export const PHONE_OPUS_BITRATE = 32_000;
/** RTP header with one one-byte header extension element (the audio level), padded to a 32-bit word. */
const HEADER_BYTES = 20;
const MAX_OPUS_BYTES = 1000;

/** RFC 6464 level of a frame: 0 (loudest) to 127 (silence), -dBov. */
export function audioLevelOf(frame: Int16Array): number {
  let sum = 0;
  for (let i = 0; i < frame.length; i++) sum += frame[i]! * frame[i]!;
  const rms = Math.sqrt(sum / Math.max(1, frame.length)) / 32768;
  if (rms <= 0) return 127;
  return Math.min(127, Math.max(0, Math.round(-20 * Math.log10(rms))));
}

/**
 * libopus's complexity for a G.711 caller's narrowband voice: 3 keeps SILK's delayed-decision quantiser and its
 * middle pitch analysis, and leaves out what 5 adds (longer noise shaping, interpolated LSFs, warping), which a
 * voice that was 8-bit G.711 on its way here does not gain from; ~27% less encoding time than 5.
 */
export const NARROWBAND_COMPLEXITY = 3;

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

export interface MeetingLinkHost {
  /** Asks signal to mute or unmute the caller (its own *6); resolves with the state signal applied. */
  setMuted(link: MeetingLink, muted: boolean): Promise<boolean>;
  /** The caller leaves (signal, the room's mix). */
  leave(link: MeetingLink): Promise<void>;
}

export class MeetingLink implements MeetingAudio {
  readonly conferenceId: string;
  readonly participantId: string;
  readonly displayName: string;
  private readonly host: MeetingLinkHost;
  private readonly log: Logger;
  private readonly socket: dgram.Socket;
  private readonly srtp: SrtpSession;
  /** The encoder of each rate a frame came at (made when the first such frame comes). */
  private readonly encoders = new Map<AudioRate, FrameEncoder>();
  /** Encoding threads (none: encoded in this thread). */
  private readonly pool: OpusEncodePool | undefined;
  private readonly bridge: { address: string; port: number };
  private readonly ssrc: number;
  private seq = Math.floor(Math.random() * 0x10000);
  private timestamp = Math.floor(Math.random() * 0x100000000);
  private readonly packet = Buffer.alloc(HEADER_BYTES + MAX_OPUS_BYTES);
  private readonly protectedPacket = Buffer.alloc(HEADER_BYTES + MAX_OPUS_BYTES + 16);
  private muted: boolean;
  private closed = false;
  private closing: Promise<void> | undefined;
  readonly counters = { sent: 0, droppedMuted: 0, badFrames: 0, encodeErrors: 0 };
  hearRate: AudioRate = SAMPLE_RATE;
  onHear: ((frame: Int16Array) => void) | undefined;
  onRemoved: ((reason: string) => void) | undefined;
  onMuted: ((muted: boolean) => void) | undefined;

  constructor(host: MeetingLinkHost, log: Logger, ssrc: number, joined: PhoneJoinReply, pool?: OpusEncodePool) {
    this.host = host;
    this.pool = pool;
    this.log = log;
    this.ssrc = ssrc;
    this.conferenceId = joined.conferenceId;
    this.participantId = joined.participantId;
    this.displayName = joined.displayName;
    this.muted = joined.audioMuted;
    this.bridge = { address: joined.address, port: joined.port };
    const key = Buffer.from(joined.srtpKey, 'base64');
    this.srtp = new SrtpSession('AES_CM_128_HMAC_SHA1_80', key.subarray(0, 16), key.subarray(16));
    this.socket = dgram.createSocket('udp4');
    this.socket.on('error', (e) => log.debug({ err: e.message }, 'meeting link socket error'));
    // what the bridge sends back (RTCP) is not needed
    this.socket.on('message', () => {});
  }

  get isMuted(): boolean {
    return this.muted;
  }

  send(frame: Int16Array): void {
    if (this.closed) return;
    if (this.muted) {
      this.counters.droppedMuted++;
      return;
    }
    const rate = rateOfFrame(frame);
    if (rate === null) {
      this.counters.badFrames++;
      return;
    }
    const seq = this.seq;
    const timestamp = this.timestamp;
    const level = audioLevelOf(frame);
    this.seq = (this.seq + 1) & 0xffff;
    this.timestamp = (this.timestamp + FRAME_SAMPLES) >>> 0;
    // the packet is sent when the encoder gives it (at once, or from an encoding thread after this tick)
    this.encoderAt(rate).encode(frame, (payload) => this.sendPacket(payload, seq, timestamp, level));
  }

  private sendPacket(payload: Uint8Array | null, seq: number, timestamp: number, level: number): void {
    if (this.closed) return;
    if (payload === null || payload.length > MAX_OPUS_BYTES) {
      this.counters.encodeErrors++;
      return;
    }
    const p = this.packet;
    p[0] = 0x90; // version 2, header extension
    p[1] = AUDIO_PT;
    p.writeUInt16BE(seq, 2);
    p.writeUInt32BE(timestamp >>> 0, 4);
    p.writeUInt32BE(this.ssrc >>> 0, 8);
    p.writeUInt16BE(0xbede, 12); // one-byte header extensions (RFC 8285)
    p.writeUInt16BE(1, 14); // one 32-bit word of them
    p[16] = AUDIO_LEVEL_EXT_ID << 4; // one byte of data
    p[17] = (level < 60 ? 0x80 : 0) | level; // the V bit: voice
    p[18] = 0;
    p[19] = 0;
    p.set(payload, HEADER_BYTES);
    const len = this.srtp.protectRtp(p, HEADER_BYTES + payload.length, this.protectedPacket);
    if (len < 0) return;
    this.counters.sent++;
    this.socket.send(this.protectedPacket, 0, len, this.bridge.port, this.bridge.address);
  }

  private encoderAt(rate: AudioRate): FrameEncoder {
    let encoder = this.encoders.get(rate);
    if (!encoder) {
      const spec = phoneVoiceSpec(rate);
      encoder = this.pool ? this.pool.encoder(spec) : localEncoder(spec);
      this.encoders.set(rate, encoder);
    }
    return encoder;
  }

  setMuted(muted: boolean): void {
    if (this.closed || muted === this.muted) return;
    // muting takes effect at once; unmuting once signal allowed it (a moderator may have turned it off)
    if (muted) this.mutedBySignal(true);
    this.host.setMuted(this, muted).then(
      (now) => this.mutedBySignal(now),
      (e: unknown) => {
        this.log.info({ participant: this.participantId, err: (e as Error).message }, 'the caller could not unmute');
        this.onMuted?.(this.muted);
      },
    );
  }

  /** Signal muted or unmuted the caller (a moderator, or its own *6). */
  mutedBySignal(muted: boolean): void {
    if (this.closed || muted === this.muted) return;
    this.muted = muted;
    this.onMuted?.(muted);
  }

  /** Signal took the caller out (a moderator, the meeting ended): the call hangs up. */
  removed(reason: string): void {
    if (this.closed) return;
    this.onRemoved?.(reason);
    void this.close();
  }

  /** A frame of the room's mix. */
  hear(frame: Int16Array): void {
    if (!this.closed) this.onHear?.(frame);
  }

  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    for (const e of this.encoders.values()) e.close();
    this.encoders.clear();
    this.socket.close();
    this.closing = this.host.leave(this);
    return this.closing;
  }
}

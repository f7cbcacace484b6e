// What the callers in one room hear: one whole-conference audio receiver per room and gateway (ConferenceFeed,
// audio only, SRTP on one UDP port), each speaker's Opus decoded once for the room (not once per call), and every
// 20 ms a frame per call: the loudest MIXED_VOICES voices of the room without the caller's own. The room is
// decoded and mixed at the highest rate its callers hear (8 kHz while all are G.711 phones: libopus decodes
// straight to 8 kHz, band-limited, and nothing is resampled; 48 kHz once an Opus phone listens, the G.711 callers'
// mixes then brought down to 8 kHz each). Each speaker's decoded audio waits in a short queue (PREBUFFER_FRAMES
// before it is used, at most MAX_QUEUED_FRAMES: network jitter and clock drift); a speaker whose queue ran dry is
// left out until it has filled again. When the meeting's bridge goes away the feed follows it to another one
// (same socket, new SRTP key: ConferenceFeed.onMoved); the speakers start afresh there (new sequence numbers).
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import type { Bus } from '../bus/bus.ts';
import type { Logger } from '../log.ts';
import { isRtcp, rtpHeaderLength, rtpPayloadEnd, rtpPayloadType, rtpSeq, rtpSsrc, seqDiff } from '../bridge/packet/rtp.ts';
import { SrtpSession } from '../bridge/packet/srtp.ts';
import { ConferenceFeed } from '../plain-rtp/conference-feed.ts';
import type { ReceivedSource } from '../protocol/bus-messages.ts';
import { AUDIO_PT } from '../protocol/media-profile.ts';
import { FRAME_SAMPLES, frameSamples, NARROW_FRAME_SAMPLES, NARROW_RATE, SAMPLE_RATE, type AudioRate } from './call-audio.ts';
import { FrameClock, sharedFrameClock } from './media/frame-clock.ts';
import { createOpusDecoder, type OpusDecoder } from './media/opus-codec.ts';
import { Downsampler } from './media/resample.ts';

/** Voices mixed for each caller. */
export const MIXED_VOICES = 3;
/** Speakers decoded per room at most (the rest are not heard by callers). */
export const MAX_DECODED_SPEAKERS = 64;
const PREBUFFER_FRAMES = 2;
const MAX_QUEUED_FRAMES = 10;
/** Lost packets concealed at most between two that arrived (more: a gap, not concealed). */
const MAX_CONCEALED = 5;

/** One caller hearing the room. */
export interface MixListener {
  /** The caller's own participant id: its voice is left out of what it hears. */
  participantId: string;
  /** The rate of the frames it takes (read each tick: a phone's codec may change). */
  readonly rate: AudioRate;
  onFrame: (frame: Int16Array) => void;
}

/** A listener's frame of the tick, and its downsampler when the room runs at 48 kHz and it hears at 8 kHz. */
interface ListenerOut {
  wide: Int16Array;
  narrow: Int16Array;
  down: Downsampler | null;
}

/** One speaker of the room: its decoder (at the room's rate) and decoded audio waiting for the mix. */
class Speaker {
  readonly participantId: string;
  readonly decoder: OpusDecoder;
  readonly rate: AudioRate;
  private readonly frameLength: number;
  private readonly queue: Int16Array;
  private head = 0;
  private filled = 0;
  private primed = false;
  private lastSeq = -1;
  /** This tick's frame and its energy (0 when it has none this tick). */
  readonly frame: Int16Array;
  energy = 0;

  constructor(participantId: string, rate: AudioRate) {
    this.participantId = participantId;
    this.rate = rate;
    this.frameLength = frameSamples(rate);
    this.queue = new Int16Array(this.frameLength * MAX_QUEUED_FRAMES);
    this.frame = new Int16Array(this.frameLength);
    this.decoder = createOpusDecoder(rate, 1);
  }

  /** A packet's payload: lost ones before it concealed, then decoded into the queue. */
  receive(seq: number, payload: Uint8Array, scratch: Int16Array): void {
    if (this.lastSeq >= 0) {
      const gap = seqDiff(seq, this.lastSeq);
      if (gap <= 0) return; // late or repeated: its time has passed
      if (gap > 1 && gap <= MAX_CONCEALED + 1) for (let i = 1; i < gap; i++) this.push(scratch, this.decoder.decode(null, scratch, this.frameLength));
    }
    this.lastSeq = seq;
    this.push(scratch, this.decoder.decode(payload, scratch));
  }

  private push(pcm: Int16Array, samples: number): void {
    const cap = this.queue.length;
    for (let i = 0; i < samples; i++) {
      if (this.filled === cap) {
        // too much waiting (the sender's clock runs fast, or a burst): the oldest goes
        this.head = (this.head + 1) % cap;
        this.filled--;
      }
      this.queue[(this.head + this.filled) % cap] = pcm[i]!;
      this.filled++;
    }
  }

  /** Takes this tick's frame when there is one; sets `energy` (0: none). */
  take(): void {
    this.energy = 0;
    const frameLength = this.frameLength;
    if (!this.primed && this.filled < frameLength * PREBUFFER_FRAMES) return;
    if (this.filled < frameLength) {
      this.primed = false; // ran dry: fill again before it is heard
      return;
    }
    this.primed = true;
    const cap = this.queue.length;
    let energy = 0;
    for (let i = 0; i < frameLength; i++) {
      const s = this.queue[(this.head + i) % cap]!;
      this.frame[i] = s;
      energy += s * s;
    }
    this.head = (this.head + frameLength) % cap;
    this.filled -= frameLength;
    this.energy = energy + 1; // a silent frame still counts as present
  }

  close(): void {
    this.decoder.close();
  }
}

export class RoomMix {
  readonly conferenceId: string;
  private readonly log: Logger;
  private readonly feed: ConferenceFeed;
  private readonly socket = dgram.createSocket('udp4');
  private srtp: SrtpSession | null = null;
  /** Speakers by SSRC, and the SSRC -> participant map focus keeps current. */
  private readonly speakers = new Map<number, Speaker>();
  private whose = new Map<number, string>();
  /** Each caller with its own output frame (valid until the next tick). */
  private readonly listeners = new Map<MixListener, ListenerOut>();
  /** The rate the room is decoded and mixed at: the highest its listeners hear. */
  private rate: AudioRate = NARROW_RATE;
  private readonly scratch = new Int16Array(SAMPLE_RATE / 1000 * 120);
  private stopClock: (() => void) | undefined;
  private closed = false;
  readonly counters = { packets: 0, dropped: 0, frames: 0 };
  /** The conference ended: nobody hears anything more. */
  onEnded: () => void = () => {};

  private constructor(bus: Bus, log: Logger, conferenceId: string, gatewayId: string) {
    this.conferenceId = conferenceId;
    this.log = log;
    this.feed = new ConferenceFeed(bus, log, conferenceId, `sip-${gatewayId}-${randomBytes(4).toString('hex')}`);
    this.feed.onSources = (sources) => this.setSources(sources);
    this.feed.onEnded = () => this.onEnded();
    this.feed.onMoved = async ({ key }) => {
      this.srtp = srtpFor(key);
      for (const s of this.speakers.values()) s.close();
      this.speakers.clear();
    };
  }

  /** Listens on `address` (the bridge sends there), attaches at focus and starts. */
  static async open(bus: Bus, log: Logger, conferenceId: string, gatewayId: string, address: string, clock: FrameClock = sharedFrameClock): Promise<RoomMix> {
    const mix = new RoomMix(bus, log, conferenceId, gatewayId);
    try {
      await new Promise<void>((resolve, reject) => {
        mix.socket.once('error', reject);
        mix.socket.bind(0, address, () => {
          mix.socket.off('error', reject);
          resolve();
        });
      });
      mix.socket.on('error', (e) => log.warn({ err: e.message }, 'room mix socket error'));
      mix.socket.on('message', (buf) => mix.onPacket(buf));
      const { key } = await mix.feed.attachAudio(address, (mix.socket.address() as AddressInfo).port);
      mix.srtp = srtpFor(key);
      mix.setSources(mix.feed.sources);
      await mix.feed.start();
    } catch (e) {
      await mix.close();
      throw e;
    }
    // the calls' clock: every room's mix and every phone's frame in one callback (their sends leave together)
    mix.stopClock = clock.add(() => mix.mix());
    return mix;
  }

  get size(): number {
    return this.listeners.size;
  }

  add(listener: MixListener): void {
    this.listeners.set(listener, { wide: new Int16Array(FRAME_SAMPLES), narrow: new Int16Array(NARROW_FRAME_SAMPLES), down: null });
  }

  remove(listener: MixListener): void {
    this.listeners.delete(listener);
  }

  private setSources(sources: readonly ReceivedSource[]): void {
    const whose = new Map<number, string>();
    for (const s of sources) if (s.kind === 'audio' && whose.size < MAX_DECODED_SPEAKERS) whose.set(s.ssrc >>> 0, s.participantId);
    this.whose = whose;
    for (const [ssrc, speaker] of this.speakers) {
      if (whose.get(ssrc) === speaker.participantId) continue;
      speaker.close();
      this.speakers.delete(ssrc);
      this.srtp?.forgetSsrc(ssrc);
    }
  }

  private onPacket(buf: Buffer): void {
    const srtp = this.srtp;
    if (!srtp || this.closed || buf.length < 12 || isRtcp(buf)) return;
    const len = srtp.unprotectRtp(buf, buf.length);
    const ssrc = len < 0 ? 0 : rtpSsrc(buf);
    const participantId = this.whose.get(ssrc);
    if (len < 0 || participantId === undefined || rtpPayloadType(buf) !== AUDIO_PT) {
      this.counters.dropped++;
      return;
    }
    this.counters.packets++;
    let speaker = this.speakers.get(ssrc);
    if (!speaker) {
      speaker = new Speaker(participantId, this.rate);
      this.speakers.set(ssrc, speaker);
    }
    const start = rtpHeaderLength(buf, len);
    const end = rtpPayloadEnd(buf, len);
    if (start < 0 || end <= start) return;
    try {
      speaker.receive(rtpSeq(buf), buf.subarray(start, end), this.scratch);
    } catch {
      this.counters.dropped++; // a packet libopus refuses
    }
  }

  /** The rate the listeners need now; a change makes the speakers' decoders anew at it (a moment of silence). */
  private updateRate(): void {
    let rate: AudioRate = NARROW_RATE;
    for (const l of this.listeners.keys()) if (l.rate === SAMPLE_RATE) rate = SAMPLE_RATE;
    if (rate === this.rate) return;
    this.rate = rate;
    for (const [ssrc, s] of this.speakers) {
      s.close();
      this.speakers.set(ssrc, new Speaker(s.participantId, rate));
    }
  }

  /** One 20 ms tick of the calls' clock (frame-clock.ts: it does not drift). */
  private mix(): void {
    if (this.closed) return;
    this.updateRate();
    const rate = this.rate;
    const frameLength = frameSamples(rate);
    const loudest: Speaker[] = [];
    for (const s of this.speakers.values()) {
      s.take();
      if (s.energy === 0) continue;
      // the MIXED_VOICES + 1 loudest (one may be the listener's own)
      let i = loudest.length;
      while (i > 0 && loudest[i - 1]!.energy < s.energy) i--;
      if (i <= MIXED_VOICES) loudest.splice(i, 0, s);
      if (loudest.length > MIXED_VOICES + 1) loudest.pop();
    }
    if (this.listeners.size === 0) return;
    this.counters.frames++;
    for (const [l, o] of this.listeners) {
      // the mix at the room's rate, then at the listener's
      const out = rate === NARROW_RATE ? o.narrow : o.wide;
      out.fill(0);
      let n = 0;
      for (const s of loudest) {
        if (s.participantId === l.participantId) continue;
        if (++n > MIXED_VOICES) break;
        const f = s.frame;
        if (f.length !== frameLength) continue; // made before a change of rate
        for (let i = 0; i < frameLength; i++) {
          const v = out[i]! + f[i]!;
          out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
        }
      }
      let frame = out;
      if (l.rate === NARROW_RATE && rate === SAMPLE_RATE) {
        (o.down ??= new Downsampler()).process(out, o.narrow);
        frame = o.narrow;
      }
      try {
        l.onFrame(frame);
      } catch (e) {
        this.log.warn({ err: (e as Error).message }, 'a caller could not take its frame');
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopClock?.();
    this.listeners.clear();
    for (const s of this.speakers.values()) s.close();
    this.speakers.clear();
    try {
      this.socket.close();
    } catch {
      // never bound
    }
    await this.feed.detach();
  }
}

/** The SRTP context of what the bridge sends, from its SDES key (base64 master key and salt). */
function srtpFor(key: string): SrtpSession {
  const raw = Buffer.from(key, 'base64');
  return new SrtpSession('AES_CM_128_HMAC_SHA1_80', raw.subarray(0, 16), raw.subarray(16));
}

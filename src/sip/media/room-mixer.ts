// What the callers in one room hear, the work itself (room-mix.ts does the control: focus, the bus, the callers):
// the room's audio as the bridge sends it (SRTP with the room receiver's key), each speaker's Opus decoded once
// for the room (not once per call), and every 20 ms tick a frame per listener: the loudest MIXED_VOICES voices of
// the room without the listener's own. The room is decoded and mixed at the highest rate its listeners hear
// (8 kHz while all are G.711 phones: libopus decodes straight to 8 kHz, band-limited, and nothing is resampled;
// 48 kHz once an Opus phone listens, the G.711 listeners' mixes then brought down to 8 kHz each). Each speaker's
// decoded audio waits in a short queue (PREBUFFER_FRAMES before it is used, at most MAX_QUEUED_FRAMES: network
// jitter and clock drift); a speaker whose queue ran dry is left out until it has filled again. A new key (the
// meeting moved to another bridge) starts the speakers afresh (new sequence numbers there).
// Plain data in, plain frames out, no sockets or timers: the same object runs in the gateway's thread or on one
// of its media threads (mix-place.ts), and gives the same audio in both.
import { isRtcp, rtpHeaderLength, rtpPayloadEnd, rtpPayloadType, rtpSeq, rtpSsrc, seqDiff } from '../../bridge/packet/rtp.ts';
import { SrtpSession } from '../../bridge/packet/srtp.ts';
import { AUDIO_PT } from '../../protocol/media-profile.ts';
import { FRAME_SAMPLES, frameSamples, NARROW_FRAME_SAMPLES, NARROW_RATE, SAMPLE_RATE, type AudioRate } from '../call-audio.ts';
import { createOpusDecoder, type OpusDecoder } from './opus-codec.ts';
import { Downsampler } from './resample.ts';

/** Voices mixed for each caller. */
export const MIXED_VOICES = 3;
/** Speakers decoded per room at most (the rest are not heard by callers). */
export const MAX_DECODED_SPEAKERS = 64;
/** Listeners of one room at most (a room's callers on one gateway). */
export const MAX_LISTENERS = 1000;
const PREBUFFER_FRAMES = 2;
const MAX_QUEUED_FRAMES = 10;
/** Lost packets concealed at most between two that arrived (more: a gap, not concealed). */
const MAX_CONCEALED = 5;

/** Gives listener `id` its frame of this tick (valid until the next tick). */
export type EmitFrame = (id: number, frame: Int16Array) => void;

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

/** A listener: whose voice it does not hear, its rate, its output frames (and downsampler at a 48 kHz room). */
interface Listener {
  participantId: string;
  rate: AudioRate;
  wide: Int16Array;
  narrow: Int16Array;
  down: Downsampler | null;
}

export class RoomMixer {
  readonly counters = { packets: 0, dropped: 0, frames: 0 };
  private srtp: SrtpSession | null = null;
  /** Speakers by SSRC, and the SSRC -> participant map focus keeps current. */
  private readonly speakers = new Map<number, Speaker>();
  private whose = new Map<number, string>();
  private readonly listeners = new Map<number, Listener>();
  /** The rate the room is decoded and mixed at: the highest its listeners hear. */
  private rate: AudioRate = NARROW_RATE;
  private readonly scratch = new Int16Array((SAMPLE_RATE / 1000) * 120);
  private readonly loudest: Speaker[] = [];
  private closed = false;

  get size(): number {
    return this.listeners.size;
  }

  /** The room receiver's SDES key (base64 master key and salt); a new one (another bridge) starts the speakers afresh. */
  setKey(key: string): void {
    const raw = Buffer.from(key, 'base64');
    if (raw.length !== 30) return;
    this.srtp = new SrtpSession('AES_CM_128_HMAC_SHA1_80', raw.subarray(0, 16), raw.subarray(16));
    for (const s of this.speakers.values()) s.close();
    this.speakers.clear();
  }

  /** The conference's audio sources: [SSRC, participant id] (the first MAX_DECODED_SPEAKERS are decoded). */
  setSources(sources: ReadonlyArray<readonly [number, string]>): void {
    const whose = new Map<number, string>();
    for (const [ssrc, participantId] of sources) if (whose.size < MAX_DECODED_SPEAKERS) whose.set(ssrc >>> 0, participantId);
    this.whose = whose;
    for (const [ssrc, speaker] of this.speakers) {
      if (whose.get(ssrc) === speaker.participantId) continue;
      speaker.close();
      this.speakers.delete(ssrc);
      this.srtp?.forgetSsrc(ssrc);
    }
  }

  listen(id: number, participantId: string, rate: AudioRate): void {
    if (this.closed || (this.listeners.size >= MAX_LISTENERS && !this.listeners.has(id))) return;
    this.listeners.set(id, { participantId, rate, wide: new Int16Array(FRAME_SAMPLES), narrow: new Int16Array(NARROW_FRAME_SAMPLES), down: null });
  }

  /** The listener's phone now hears at `rate` (its codec changed). */
  setRate(id: number, rate: AudioRate): void {
    const l = this.listeners.get(id);
    if (l) l.rate = rate;
  }

  unlisten(id: number): void {
    this.listeners.delete(id);
  }

  /** A datagram from the bridge (SRTP); anything else is counted and dropped, never thrown. */
  receive(buf: Buffer, length = buf.length): void {
    const srtp = this.srtp;
    if (!srtp || this.closed || length < 12 || isRtcp(buf)) return;
    const len = srtp.unprotectRtp(buf, length);
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
    for (const l of this.listeners.values()) if (l.rate === SAMPLE_RATE) rate = SAMPLE_RATE;
    if (rate === this.rate) return;
    this.rate = rate;
    for (const [ssrc, s] of this.speakers) {
      s.close();
      this.speakers.set(ssrc, new Speaker(s.participantId, rate));
    }
  }

  /** One 20 ms tick: each speaker's frame taken, each listener given its mix (through `emit`). */
  mix(emit: EmitFrame): void {
    if (this.closed) return;
    this.updateRate();
    const rate = this.rate;
    const frameLength = frameSamples(rate);
    const loudest = this.loudest;
    loudest.length = 0;
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
    for (const [id, l] of this.listeners) {
      // the mix at the room's rate, then at the listener's
      const out = rate === NARROW_RATE ? l.narrow : l.wide;
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
        (l.down ??= new Downsampler()).process(out, l.narrow);
        frame = l.narrow;
      }
      emit(id, frame);
    }
  }

  close(): void {
    this.closed = true;
    this.listeners.clear();
    for (const s of this.speakers.values()) s.close();
    this.speakers.clear();
  }
}

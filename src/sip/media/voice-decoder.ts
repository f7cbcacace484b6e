// A call's voice from the phone: RTP payloads of the agreed codec in (through the jitter buffer), one 20 ms frame
// out each tick of the call's clock at the codec's own rate (`rate`: G.711 8 kHz, 160 samples, never resampled;
// Opus 48 kHz, 960 samples, mono: libopus mixes a stereo stream down). Each tick decodes the packets due into a
// short queue of samples, so packets of 10, 20, 30 ms... all make whole frames. A lost packet is concealed (G.711:
// the last one again, half as loud each time, silence after three; Opus: the decoder's own concealment); a
// telephone-event or comfort noise packet is silence in its place. Running dry is concealed for DRY_CONCEAL
// frames, then silence; after DRY_STOP frames without a packet no more frames are given until the phone sends
// again (a phone that sends nothing while silent). One per call and codec; everything allocated here, once.
import { FRAME_MS, frameSamples, NARROW_RATE, SAMPLE_RATE, type AudioRate } from '../call-audio.ts';
import { g711Decode } from './g711.ts';
import { JitterBuffer } from './jitter-buffer.ts';
import { createOpusDecoder, type OpusDecoder, type OpusImplementation } from './opus-codec.ts';
import type { PhoneCodec } from './sdp-offer-answer.ts';

/** Frames concealed when the phone's packets stop, before silence. */
const DRY_CONCEAL = 3;
/** Frames without a packet after which no more frames are given (the phone is silent). */
const DRY_STOP = 25;
/** A G.711 packet longer than this (60 ms) is dropped. */
const MAX_G711_BYTES = 480;
/** The largest Opus frame (120 ms at 48 kHz). */
const MAX_OPUS_SAMPLES = 5760;
/** Samples the queue between decoding and frames holds (at 48 kHz, the higher rate). */
const QUEUE_SAMPLES = 960 + MAX_OPUS_SAMPLES + 960;

export class VoiceDecoder {
  readonly jitter: JitterBuffer;
  readonly counters = { framesOut: 0, concealed: 0, decodeErrors: 0, tooLong: 0 };

  /** The rate of the frames given: the codec's own. */
  readonly rate: AudioRate;
  private readonly codec: PhoneCodec;
  /** Samples in a frame at `rate`. */
  private readonly frameLength: number;
  /** RTP timestamp units to samples at `rate`. */
  private readonly widen: number;
  private readonly opus: OpusDecoder | null;
  private readonly queue = new Int16Array(QUEUE_SAMPLES);
  private queued = 0;
  private readonly lastNarrow = new Int16Array(MAX_G711_BYTES);
  private lastNarrowLength = 0;
  private readonly wide = new Int16Array(MAX_OPUS_SAMPLES);
  private lossRun = 0;
  private dryTicks = 0;
  private active = false;

  constructor(codec: PhoneCodec, opus?: OpusImplementation) {
    this.codec = codec;
    this.rate = codec.name === 'opus' ? SAMPLE_RATE : NARROW_RATE;
    this.frameLength = frameSamples(this.rate);
    this.widen = this.rate / codec.clockRate;
    this.jitter = new JitterBuffer({ frameTicks: codec.clockRate / (1000 / FRAME_MS) });
    this.opus = codec.name === 'opus' ? createOpusDecoder(SAMPLE_RATE, 1, opus) : null;
  }

  /** One tick: the frame the caller said in it, or null while the phone sends nothing. */
  frame(): Int16Array | null {
    const jitter = this.jitter;
    jitter.tick();
    let gotPacket = false;
    const frameLength = this.frameLength;
    while (this.queued < frameLength) {
      const r = jitter.pop();
      if (r === 'empty') break;
      gotPacket = true;
      if (r === 'lost') this.conceal(jitter.packetTicks);
      else if (jitter.payloadType === this.codec.payloadType) this.decode(jitter.payload);
      else this.silence(jitter.packetTicks);
    }
    if (gotPacket) {
      this.active = true;
      this.dryTicks = 0;
    }
    if (!this.active) return null;
    if (this.queued < frameLength) {
      if (++this.dryTicks > DRY_STOP) {
        this.active = false;
        this.queued = 0;
        return null;
      }
      if (this.dryTicks <= DRY_CONCEAL) this.conceal(frameLength / this.widen);
      if (this.queued < frameLength) this.queue.fill(0, this.queued, frameLength);
      this.queued = Math.max(this.queued, frameLength);
    }
    const frame = this.queue.slice(0, frameLength);
    this.queue.copyWithin(0, frameLength, this.queued);
    this.queued -= frameLength;
    this.counters.framesOut++;
    return frame;
  }

  close(): void {
    this.opus?.close();
  }

  /** Room left in the queue, in samples at `rate`. */
  private get room(): number {
    return QUEUE_SAMPLES - this.queued;
  }

  private decode(payload: Uint8Array): void {
    this.lossRun = 0;
    if (this.opus !== null) {
      let n: number;
      try {
        n = this.opus.decode(payload, this.wide);
      } catch {
        this.counters.decodeErrors++;
        this.conceal(this.jitter.packetTicks);
        return;
      }
      this.append(this.wide, Math.min(n, this.room));
      return;
    }
    if (payload.length > MAX_G711_BYTES || payload.length > this.room) {
      this.counters.tooLong++;
      return;
    }
    const n = g711Decode(this.codec.name === 'pcma' ? 'pcma' : 'pcmu', payload, this.lastNarrow);
    this.lastNarrowLength = n;
    this.append(this.lastNarrow, n);
  }

  /** Conceals `ticks` of lost audio (RTP timestamp units). */
  private conceal(ticks: number): void {
    this.counters.concealed++;
    this.lossRun++;
    if (this.opus !== null) {
      // whole 2.5 ms steps, as libopus conceals
      const samples = Math.min(ticks, MAX_OPUS_SAMPLES, this.room);
      if (samples < 120) return;
      let n = 0;
      try {
        n = this.opus.decode(null, this.wide, samples - (samples % 120));
      } catch {
        this.counters.decodeErrors++;
      }
      this.append(this.wide, n);
      return;
    }
    // G.711: the last packet again, half as loud each time; silence after three
    const n = Math.min(ticks, MAX_G711_BYTES, this.room);
    const gain = this.lossRun <= 3 ? 0.5 ** this.lossRun : 0;
    const last = this.lastNarrowLength;
    const q = this.queue;
    const at = this.queued;
    for (let i = 0; i < n; i++) q[at + i] = last > 0 ? Math.round(this.lastNarrow[i % last]! * gain) : 0;
    this.queued += n;
  }

  /** Silence in place of `ticks` (a key press, comfort noise). */
  private silence(ticks: number): void {
    const samples = Math.min(ticks * this.widen, this.room);
    this.queue.fill(0, this.queued, this.queued + samples);
    this.queued += samples;
  }

  private append(pcm: Int16Array, n: number): void {
    this.queue.set(pcm.subarray(0, n), this.queued);
    this.queued += n;
  }
}

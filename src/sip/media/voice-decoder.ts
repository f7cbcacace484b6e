// A call's voice from the phone: RTP payloads of the agreed codec in (through the jitter buffer), one 20 ms frame
// of 48 kHz mono out each tick of the call's clock. Each tick decodes the packets due (G.711 then 8 -> 48 kHz;
// Opus at 48 kHz, mono: libopus mixes a stereo stream down) into a short queue of samples, so packets of 10, 20,
// 30 ms... all make whole frames. A lost packet is concealed (G.711: the last one again, half as loud each time,
// silence after three; Opus: the decoder's own concealment); a telephone-event or comfort noise packet is
// silence in its place. Running dry is concealed for DRY_CONCEAL frames, then silence; after DRY_STOP frames
// without a packet no more frames are given until the phone sends again (a phone that sends nothing while
// silent). One per call and codec; everything allocated here, once.
import { FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE } from '../call-audio.ts';
import { g711Decode } from './g711.ts';
import { JitterBuffer } from './jitter-buffer.ts';
import { createOpusDecoder, type OpusDecoder, type OpusImplementation } from './opus-codec.ts';
import { FACTOR, Upsampler } from './resample.ts';
import type { PhoneCodec } from './sdp-offer-answer.ts';

/** Frames concealed when the phone's packets stop, before silence. */
const DRY_CONCEAL = 3;
/** Frames without a packet after which no more frames are given (the phone is silent). */
const DRY_STOP = 25;
/** A G.711 packet longer than this (60 ms) is dropped. */
const MAX_G711_BYTES = 480;
/** The largest Opus frame (120 ms at 48 kHz). */
const MAX_OPUS_SAMPLES = 5760;
/** Samples the queue between decoding and frames holds. */
const QUEUE_SAMPLES = FRAME_SAMPLES + MAX_OPUS_SAMPLES + FRAME_SAMPLES;

export class VoiceDecoder {
  readonly jitter: JitterBuffer;
  readonly counters = { framesOut: 0, concealed: 0, decodeErrors: 0, tooLong: 0 };

  private readonly codec: PhoneCodec;
  /** RTP timestamp units to 48 kHz samples. */
  private readonly widen: number;
  private readonly opus: OpusDecoder | null;
  private readonly up = new Upsampler();
  private readonly queue = new Int16Array(QUEUE_SAMPLES);
  private queued = 0;
  private readonly narrow = new Int16Array(MAX_G711_BYTES);
  private readonly lastNarrow = new Int16Array(MAX_G711_BYTES);
  private lastNarrowLength = 0;
  private readonly wide = new Int16Array(MAX_OPUS_SAMPLES);
  private lossRun = 0;
  private dryTicks = 0;
  private active = false;

  constructor(codec: PhoneCodec, opus?: OpusImplementation) {
    this.codec = codec;
    this.widen = SAMPLE_RATE / codec.clockRate;
    this.jitter = new JitterBuffer({ frameTicks: codec.clockRate / (1000 / FRAME_MS) });
    this.opus = codec.name === 'opus' ? createOpusDecoder(SAMPLE_RATE, 1, opus) : null;
  }

  /** One tick: the frame the caller said in it, or null while the phone sends nothing. */
  frame(): Int16Array | null {
    const jitter = this.jitter;
    jitter.tick();
    let gotPacket = false;
    while (this.queued < FRAME_SAMPLES) {
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
    if (this.queued < FRAME_SAMPLES) {
      if (++this.dryTicks > DRY_STOP) {
        this.active = false;
        this.queued = 0;
        return null;
      }
      if (this.dryTicks <= DRY_CONCEAL) this.conceal(FRAME_SAMPLES / this.widen);
      if (this.queued < FRAME_SAMPLES) this.queue.fill(0, this.queued, FRAME_SAMPLES);
      this.queued = Math.max(this.queued, FRAME_SAMPLES);
    }
    const frame = this.queue.slice(0, FRAME_SAMPLES);
    this.queue.copyWithin(0, FRAME_SAMPLES, this.queued);
    this.queued -= FRAME_SAMPLES;
    this.counters.framesOut++;
    return frame;
  }

  close(): void {
    this.opus?.close();
  }

  /** Room left in the queue, in samples at 48 kHz. */
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
    if (payload.length > MAX_G711_BYTES || payload.length * FACTOR > this.room) {
      this.counters.tooLong++;
      return;
    }
    const n = g711Decode(this.codec.name === 'pcma' ? 'pcma' : 'pcmu', payload, this.narrow);
    this.lastNarrow.set(this.narrow.subarray(0, n));
    this.lastNarrowLength = n;
    this.upsample(n);
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
    const n = Math.min(ticks, MAX_G711_BYTES, Math.floor(this.room / FACTOR));
    const gain = this.lossRun <= 3 ? 0.5 ** this.lossRun : 0;
    const last = this.lastNarrowLength;
    for (let i = 0; i < n; i++) this.narrow[i] = last > 0 ? Math.round(this.lastNarrow[i % last]! * gain) : 0;
    this.upsample(n);
  }

  /** Silence in place of `ticks` (a key press, comfort noise). */
  private silence(ticks: number): void {
    const samples = Math.min(ticks * this.widen, this.room);
    if (this.opus !== null) {
      this.queue.fill(0, this.queued, this.queued + samples);
      this.queued += samples;
      return;
    }
    // through the upsampler, so its history stays continuous
    const n = Math.min(Math.floor(samples / FACTOR), MAX_G711_BYTES);
    this.narrow.fill(0, 0, n);
    this.upsample(n);
  }

  /** narrow[0..n) at 8 kHz into the queue at 48 kHz. */
  private upsample(n: number): void {
    this.queued += this.up.process(this.narrow.subarray(0, n), this.queue.subarray(this.queued));
  }

  private append(pcm: Int16Array, n: number): void {
    this.queue.set(pcm.subarray(0, n), this.queued);
    this.queued += n;
  }
}

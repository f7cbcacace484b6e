// The phone's side of a call (PhoneAudio of ../call-audio.ts): RTP with the phone in and out, on one port pair.
//
// In: RTP (rtp-session.ts: symmetric, latched) -> telephone-events to the DTMF receiver at once (dtmf.ts) and
// every packet to the jitter buffer (jitter-buffer.ts) -> each 20 ms tick of the frame clock, packets in
// sequence decoded (G.711 then 8 -> 48 kHz; Opus at 48 kHz, mono) into a short queue of samples -> one 960-sample
// frame to `onVoice`. A lost packet is concealed (G.711: the last one again, fading; Opus: the decoder's own
// concealment); running dry is concealed for a few frames, then silence; after DRY_STOP frames without a
// packet the frames stop until the phone sends again (a phone that sends nothing while silent).
// Out: `play(frame)` -> 48 -> 8 kHz and G.711, or Opus -> one RTP packet (steady SSRC; sequence +1; timestamp
// +160 or +960, more after a pause, with the marker bit set) -> where the phone is (latched, else its SDP). On
// hold (the phone's SDP says it does not receive) nothing is sent.
//
// A frame given to `onVoice` is the listener's to keep. Everything else on the packet path is allocated once per
// call (sample buffers, a ring of packet buffers) or per codec change.
import type { Digit, PhoneAudio } from '../call-audio.ts';
import { FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE } from '../call-audio.ts';
import type { RtpView } from '../../bridge/packet/rtp-view.ts';
import { DtmfReceiver } from './dtmf.ts';
import { FrameClock, sharedFrameClock } from './frame-clock.ts';
import { g711Decode, g711Encode } from './g711.ts';
import { JitterBuffer, MAX_PAYLOAD } from './jitter-buffer.ts';
import { createOpusDecoder, createOpusEncoder, type OpusDecoder, type OpusEncoder, type OpusImplementation } from './opus-codec.ts';
import { Downsampler, FACTOR, Upsampler } from './resample.ts';
import { RtpSession, type RtpPortRange } from './rtp-session.ts';
import { PhoneSdp, type MediaPlan, type PhoneCodecName } from './sdp-offer-answer.ts';

export interface PhoneMediaOptions {
  /** The process's RTP ports for calls (sipRtpPortMin..Max). */
  ports: RtpPortRange;
  /** Our media address in SDP (public or local IPv4). */
  address: string;
  /** Where the sockets bind (default 0.0.0.0). */
  bindAddress?: string;
  /** The 20 ms clock (default: the process's shared one). */
  clock?: FrameClock;
  opus?: OpusImplementation;
  /** Opus toward the phone, bit/s (default 32000). */
  opusBitrate?: number;
}

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
/** Packet buffers sent in turn (a send keeps its buffer until done). */
const SEND_RING = 8;
/** A pause in play() longer than this starts a new talkspurt (marker bit, timestamp moved on by the pause). */
const PAUSE_MS = 3 * FRAME_MS;
/** Comfort noise (RFC 3389): taken as silence. */
const PT_CN = 13;

export class PhoneMedia implements PhoneAudio {
  onVoice: ((frame: Int16Array) => void) | undefined;
  onDigit: ((digit: Digit) => void) | undefined;
  readonly counters = { framesOut: 0, concealed: 0, packetsOut: 0, notSent: 0, badFrames: 0, otherPayloadType: 0, decodeErrors: 0, tooLong: 0 };

  private readonly session: RtpSession;
  private readonly sdp: PhoneSdp;
  private readonly options: PhoneMediaOptions;
  private readonly dtmf: DtmfReceiver;
  private readonly stopClock: () => void;
  private planNow: MediaPlan | null = null;
  /** Our last description (answer or offer). */
  private lastSdp = '';
  private jitter: JitterBuffer = new JitterBuffer({ frameTicks: 160 });
  private decoder: OpusDecoder | null = null;
  private encoder: OpusEncoder | null = null;
  private up = new Upsampler();
  private down = new Downsampler();
  private lastSsrc = -1;

  // in: decoded samples waiting to make frames, and what concealment repeats
  private readonly queue = new Int16Array(QUEUE_SAMPLES);
  private queued = 0;
  private readonly narrow = new Int16Array(MAX_G711_BYTES);
  private readonly lastNarrow = new Int16Array(MAX_G711_BYTES);
  private lastNarrowLength = 0;
  private readonly wide = new Int16Array(MAX_OPUS_SAMPLES);
  private lossRun = 0;
  private dryTicks = 0;
  private active = false;

  // out
  private readonly ring: { buf: Buffer; payload: Uint8Array }[] = [];
  private ringAt = 0;
  private readonly narrowOut = new Int16Array(FRAME_SAMPLES / FACTOR);
  private readonly ssrc = (Math.random() * 2 ** 32) >>> 0;
  private seq = Math.floor(Math.random() * 65536);
  private timestamp = (Math.random() * 2 ** 32) >>> 0;
  private lastPlayAt = -1;
  /** When the phone's last packet came (or the call's media opened). */
  private lastPacketAt = performance.now();
  private closed = false;

  private constructor(session: RtpSession, options: PhoneMediaOptions) {
    this.session = session;
    this.options = options;
    this.sdp = new PhoneSdp(options.address);
    this.dtmf = new DtmfReceiver((d) => this.onDigit?.(d));
    for (let i = 0; i < SEND_RING; i++) {
      const buf = Buffer.alloc(12 + MAX_PAYLOAD);
      this.ring.push({ buf, payload: buf.subarray(12) });
    }
    session.onRtp = (view) => this.onRtp(view);
    this.stopClock = (options.clock ?? sharedFrameClock).add(() => this.tick());
  }

  /** A call we answer: checks the phone's offer before taking a port; throws SdpRefused (answer 488). */
  static async forOffer(offer: string, options: PhoneMediaOptions): Promise<{ media: PhoneMedia; sdp: string }> {
    PhoneSdp.check(offer);
    const media = await PhoneMedia.open(options);
    try {
      return { media, sdp: media.answer(offer) };
    } catch (e) {
      media.close();
      throw e;
    }
  }

  /** A call we make: takes a port; then `offer()`, and `acceptAnswer()` with the phone's answer. */
  static async open(options: PhoneMediaOptions): Promise<PhoneMedia> {
    const session = await RtpSession.open(options.ports, options.bindAddress ?? '0.0.0.0');
    return new PhoneMedia(session, options);
  }

  /** Our RTP port. */
  get port(): number {
    return this.session.port;
  }

  /** What was agreed (null before any offer/answer). */
  get plan(): MediaPlan | null {
    return this.planNow;
  }

  /** Milliseconds since the phone's last RTP packet (since the media opened when none came): a call whose phone
   * vanished without a BYE can be ended on it (a held phone may send nothing for long). */
  get idleMs(): number {
    return performance.now() - this.lastPacketAt;
  }

  /** Whether the phone holds the call (we send nothing). */
  get held(): boolean {
    return this.planNow !== null && !this.planNow.send;
  }

  /**
   * Answers an offer: the call's first, or a re-INVITE's (hold, unhold, a move). A re-INVITE without SDP (a
   * session refresh) gets our description as it stands. Throws SdpRefused.
   */
  answer(offer: string): string {
    if (offer.trim() === '' && this.lastSdp !== '') return this.lastSdp;
    const { sdp, plan } = this.sdp.answer(offer, this.port);
    this.apply(plan);
    this.lastSdp = sdp;
    return sdp;
  }

  /** Our offer (dial-out). */
  offer(codecs?: PhoneCodecName[]): string {
    this.lastSdp = this.sdp.offer(this.port, codecs);
    return this.lastSdp;
  }

  /** The phone's answer to our offer. Throws SdpRefused. */
  acceptAnswer(answer: string): void {
    this.apply(this.sdp.acceptAnswer(answer));
  }

  /** Everything counted, for logs and metrics. */
  stats() {
    return { ...this.counters, rtp: this.session.counters, jitter: this.jitter.counters, targetFrames: this.jitter.targetFrames, delayMs: this.jitter.playingMs, dtmf: this.dtmf.counters, remote: this.session.remote };
  }

  play(frame: Int16Array): void {
    const plan = this.planNow;
    if (this.closed || plan === null || !plan.send) {
      this.counters.notSent++;
      return;
    }
    if (frame.length !== FRAME_SAMPLES) {
      this.counters.badFrames++;
      return;
    }
    const slot = this.ring[this.ringAt]!;
    this.ringAt = (this.ringAt + 1) % SEND_RING;
    const frameTicks = plan.codec.clockRate / (1000 / FRAME_MS);
    let length: number;
    if (this.encoder !== null) {
      try {
        length = this.encoder.encode(frame, slot.payload);
      } catch {
        this.counters.badFrames++;
        return;
      }
    } else {
      this.down.process(frame, this.narrowOut);
      length = g711Encode(plan.codec.name === 'pcma' ? 'pcma' : 'pcmu', this.narrowOut, slot.payload);
    }
    const now = performance.now();
    let marker = false;
    if (this.lastPlayAt < 0 || now - this.lastPlayAt > PAUSE_MS) {
      marker = true;
      if (this.lastPlayAt >= 0) this.timestamp = (this.timestamp + (Math.round((now - this.lastPlayAt) / FRAME_MS) - 1) * frameTicks) >>> 0;
    }
    this.lastPlayAt = now;
    const buf = slot.buf;
    buf[0] = 0x80;
    buf[1] = (marker ? 0x80 : 0) | plan.codec.payloadType;
    buf.writeUInt16BE(this.seq, 2);
    buf.writeUInt32BE(this.timestamp, 4);
    buf.writeUInt32BE(this.ssrc, 8);
    this.seq = (this.seq + 1) & 0xffff;
    this.timestamp = (this.timestamp + frameTicks) >>> 0;
    this.session.send(buf, 12 + length);
    this.counters.packetsOut++;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopClock();
    this.session.close();
    this.decoder?.close();
    this.encoder?.close();
    this.onVoice = undefined;
    this.onDigit = undefined;
  }

  private apply(plan: MediaPlan): void {
    const before = this.planNow;
    this.planNow = plan;
    if (plan.remotePort !== 0 && plan.remoteAddress !== '0.0.0.0') this.session.setRemote(plan.remoteAddress, plan.remotePort);
    if (before !== null && before.codec.name === plan.codec.name && before.codec.payloadType === plan.codec.payloadType) return;
    // a new codec: its own decoder, encoder, resampler history and buffer
    this.decoder?.close();
    this.encoder?.close();
    this.decoder = null;
    this.encoder = null;
    if (plan.codec.name === 'opus') {
      this.decoder = createOpusDecoder(SAMPLE_RATE, 1, this.options.opus);
      this.encoder = createOpusEncoder(SAMPLE_RATE, 1, this.options.opusBitrate ?? 32_000, this.options.opus);
    }
    this.up = new Upsampler();
    this.down = new Downsampler();
    this.jitter = new JitterBuffer({ frameTicks: plan.codec.clockRate / (1000 / FRAME_MS) });
    this.queued = 0;
    this.lastNarrowLength = 0;
    this.active = false;
  }

  private onRtp(view: RtpView): void {
    const plan = this.planNow;
    if (plan === null || !plan.receive) return;
    const pt = view.payloadType;
    if (pt !== plan.codec.payloadType && pt !== plan.dtmfPayloadType && pt !== PT_CN) {
      this.counters.otherPayloadType++;
      return;
    }
    if (view.ssrc !== this.lastSsrc) {
      this.lastSsrc = view.ssrc;
      this.dtmf.reset();
    }
    const payload = view.buf.subarray(view.headerLength, view.payloadEnd);
    const now = performance.now();
    this.lastPacketAt = now;
    if (pt === plan.dtmfPayloadType) this.dtmf.push(payload, view.timestamp);
    // a telephone-event's timestamp is its start, no sampling time: it tells nothing of the network's delay
    this.jitter.push(view.ssrc, view.seq, view.timestamp, pt, view.marker, payload, pt === plan.codec.payloadType ? now : NaN);
  }

  /** One 20 ms frame: decode what is due, give a frame. */
  private tick(): void {
    const plan = this.planNow;
    if (plan === null) return;
    const jitter = this.jitter;
    jitter.tick();
    let gotPacket = false;
    while (this.queued < FRAME_SAMPLES) {
      const r = jitter.pop();
      if (r === 'empty') break;
      gotPacket = true;
      if (r === 'lost') this.conceal(jitter.packetTicks);
      else if (jitter.payloadType === plan.codec.payloadType) this.decode(jitter.payload, plan);
      else this.silence(jitter.packetTicks); // a key press or comfort noise: silence in its place
    }
    if (gotPacket) {
      this.active = true;
      this.dryTicks = 0;
    }
    if (!this.active) return;
    if (this.queued < FRAME_SAMPLES) {
      // ran dry: conceal a few frames, then silence; long dry: the phone is silent, stop giving frames
      if (++this.dryTicks > DRY_STOP) {
        this.active = false;
        this.queued = 0;
        return;
      }
      if (this.dryTicks <= DRY_CONCEAL) this.conceal(plan.codec.clockRate / (1000 / FRAME_MS));
      if (this.queued < FRAME_SAMPLES) this.queue.fill(0, this.queued, FRAME_SAMPLES);
      this.queued = Math.max(this.queued, FRAME_SAMPLES);
    }
    const frame = this.queue.slice(0, FRAME_SAMPLES);
    this.queue.copyWithin(0, FRAME_SAMPLES, this.queued);
    this.queued -= FRAME_SAMPLES;
    this.counters.framesOut++;
    this.onVoice?.(frame);
  }

  /** Room left in the queue, in samples at 48 kHz. */
  private get room(): number {
    return QUEUE_SAMPLES - this.queued;
  }

  private decode(payload: Uint8Array, plan: MediaPlan): void {
    this.lossRun = 0;
    if (this.decoder !== null) {
      let n: number;
      try {
        n = this.decoder.decode(payload, this.wide);
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
    const n = g711Decode(plan.codec.name === 'pcma' ? 'pcma' : 'pcmu', payload, this.narrow);
    this.lastNarrow.set(this.narrow.subarray(0, n));
    this.lastNarrowLength = n;
    this.queued += this.up.process(this.narrow.subarray(0, n), this.queue.subarray(this.queued));
  }

  /** Conceals `ticks` of lost audio (RTP timestamp units). */
  private conceal(ticks: number): void {
    this.counters.concealed++;
    this.lossRun++;
    if (this.decoder !== null) {
      // whole 2.5 ms steps, as libopus conceals
      const samples = Math.min(ticks, MAX_OPUS_SAMPLES, this.room);
      if (samples < 120) return;
      let n = 0;
      try {
        n = this.decoder.decode(null, this.wide, samples - (samples % 120));
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
    this.queued += this.up.process(this.narrow.subarray(0, n), this.queue.subarray(this.queued));
  }

  private silence(ticks: number): void {
    const samples = Math.min(ticks * (SAMPLE_RATE / (this.planNow?.codec.clockRate ?? SAMPLE_RATE)), this.room);
    if (this.decoder === null) {
      const n = Math.min(Math.floor(samples / FACTOR), MAX_G711_BYTES);
      this.narrow.fill(0, 0, n);
      this.queued += this.up.process(this.narrow.subarray(0, n), this.queue.subarray(this.queued));
    } else {
      this.queue.fill(0, this.queued, this.queued + samples);
      this.queued += samples;
    }
  }

  private append(pcm: Int16Array, n: number): void {
    this.queue.set(pcm.subarray(0, n), this.queued);
    this.queued += n;
  }
}

// The phone's side of a call (PhoneAudio of ../call-audio.ts): RTP with the phone in and out, on one port pair.
//
// In: RTP (rtp-session.ts: symmetric, latched) -> telephone-events to the DTMF receiver at once (dtmf.ts) and
// every packet of the call's stream to the voice decoder (voice-decoder.ts: jitter buffer, G.711 at 8 kHz or Opus
// at 48 kHz) -> each 20 ms tick of the frame clock (frame-clock.ts), one frame at the codec's rate to `onVoice`
// while the phone sends. Out: `play(frame)` -> the voice encoder (voice-encoder.ts: G.711 or Opus; one RTP stream)
// -> where the phone is (latched, else its SDP). On hold (the phone's SDP says it does not receive) nothing is
// sent. Control: the SDP offer/answer of the call (sdp-offer-answer.ts); a new codec makes a new decoder, the
// encoder switches and keeps its stream.
//
// A frame given to `onVoice` is the listener's to keep. Everything else on the packet path is allocated once per
// call (sample buffers, a ring of packet buffers) or per codec change.
import type { AudioRate, Digit, PhoneAudio } from '../call-audio.ts';
import { FRAME_MS, NARROW_RATE, rateOfFrame, SAMPLE_RATE } from '../call-audio.ts';
import type { RtpView } from '../../bridge/packet/rtp-view.ts';
import { DtmfReceiver } from './dtmf.ts';
import { FrameClock, sharedFrameClock } from './frame-clock.ts';
import type { OpusImplementation } from './opus-codec.ts';
import { MAX_REPORT, ReceptionStats, writeReport } from './rtcp-reports.ts';
import { RtpSession, type RtpPortRange } from './rtp-session.ts';
import { PhoneSdp, type MediaPlan, type PhoneCodecName } from './sdp-offer-answer.ts';
import { VoiceDecoder } from './voice-decoder.ts';
import { VoiceEncoder } from './voice-encoder.ts';

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
  /** How often RTCP reports go to the phone, ms (default 5000; each interval varies by half either way). */
  rtcpIntervalMs?: number;
}

/** Comfort noise (RFC 3389): taken as silence. */
const PT_CN = 13;

export class PhoneMedia implements PhoneAudio {
  onVoice: ((frame: Int16Array) => void) | undefined;
  onDigit: ((digit: Digit) => void) | undefined;
  /** Frames not sent (no codec yet, on hold, closed), frames of a wrong size, packets of another payload type. */
  private readonly own = { notSent: 0, badFrames: 0, otherPayloadType: 0 };

  private readonly session: RtpSession;
  private readonly sdp: PhoneSdp;
  private readonly options: PhoneMediaOptions;
  private readonly dtmf: DtmfReceiver;
  private readonly encoder: VoiceEncoder;
  private readonly stopClock: () => void;
  private planNow: MediaPlan | null = null;
  /** Our last description (answer or offer). */
  private lastSdp = '';
  /** The phone's voice in the codec agreed (null before any). */
  private decoder: VoiceDecoder | null = null;
  private lastSsrc = -1;
  /** RTCP: what we received of the phone's stream, the next report (in ticks), the packets counted at the last. */
  private readonly reception = new ReceptionStats();
  private readonly report = Buffer.alloc(MAX_REPORT);
  private reportIn: number;
  private packetsAtReport = 0;
  /** When the phone's last packet came (or the call's media opened). */
  private lastPacketAt = performance.now();
  private closed = false;

  private constructor(session: RtpSession, sdp: PhoneSdp, options: PhoneMediaOptions) {
    this.session = session;
    this.options = options;
    this.sdp = sdp;
    this.dtmf = new DtmfReceiver((d) => this.onDigit?.(d));
    this.encoder = new VoiceEncoder(options.opus, options.opusBitrate);
    session.onRtp = (view) => this.onRtp(view);
    session.onRtcp = (buf, len) => this.reception.rtcp(buf, len, performance.now());
    this.reportIn = this.nextReport();
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
    const sdp = new PhoneSdp(options.address); // a bad address throws before a port is taken
    const session = await RtpSession.open(options.ports, options.bindAddress ?? '0.0.0.0');
    return new PhoneMedia(session, sdp, options);
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

  /** The codec's own rate (G.711: 8 kHz; Opus, or no codec yet: 48 kHz). */
  get rate(): AudioRate {
    const codec = this.planNow?.codec.name;
    return codec === 'pcmu' || codec === 'pcma' ? NARROW_RATE : SAMPLE_RATE;
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

  /** The call's counters in one object (a new one each time). */
  get counters() {
    const voiceIn = this.decoder?.counters;
    return {
      ...this.own,
      framesOut: voiceIn?.framesOut ?? 0,
      concealed: voiceIn?.concealed ?? 0,
      decodeErrors: voiceIn?.decodeErrors ?? 0,
      tooLong: voiceIn?.tooLong ?? 0,
      packetsOut: this.encoder.counters.packets,
    };
  }

  /** Everything counted, for logs and metrics. */
  stats() {
    const jitter = this.decoder?.jitter;
    return {
      ...this.counters,
      rtp: this.session.counters,
      voiceIn: this.decoder?.counters ?? null,
      voiceOut: this.encoder.counters,
      jitter: jitter?.counters ?? null,
      targetFrames: jitter?.targetFrames ?? 0,
      delayMs: jitter?.playingMs ?? NaN,
      dtmf: this.dtmf.counters,
      remote: this.session.remote,
    };
  }

  play(frame: Int16Array): void {
    const plan = this.planNow;
    if (this.closed || plan === null || !plan.send) {
      this.own.notSent++;
      return;
    }
    if (rateOfFrame(frame) === null) {
      this.own.badFrames++;
      return;
    }
    const length = this.encoder.encode(frame, performance.now());
    if (length > 0) this.session.send(this.encoder.buf, length);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopClock();
    this.session.close();
    this.decoder?.close();
    this.encoder.close();
    this.onVoice = undefined;
    this.onDigit = undefined;
  }

  private apply(plan: MediaPlan): void {
    const before = this.planNow;
    this.planNow = plan;
    if (plan.remotePort !== 0 && plan.remoteAddress !== '0.0.0.0') this.session.setRemote(plan.remoteAddress, plan.remotePort);
    if (before !== null && before.codec.name === plan.codec.name && before.codec.payloadType === plan.codec.payloadType) return;
    // a new codec: a decoder (and jitter buffer) of its own; the encoder switches, its stream goes on
    this.decoder?.close();
    this.decoder = new VoiceDecoder(plan.codec, this.options.opus);
    this.encoder.setCodec(plan.codec);
  }

  private onRtp(view: RtpView): void {
    const plan = this.planNow;
    const decoder = this.decoder;
    if (plan === null || decoder === null || !plan.receive) return;
    const pt = view.payloadType;
    if (pt !== plan.codec.payloadType && pt !== plan.dtmfPayloadType && pt !== PT_CN) {
      this.own.otherPayloadType++;
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
    const audio = pt === plan.codec.payloadType;
    if (audio) this.reception.packet(view.ssrc, view.seq, view.timestamp, now, plan.codec.clockRate);
    decoder.jitter.push(view.ssrc, view.seq, view.timestamp, pt, view.marker, payload, audio ? now : NaN);
  }

  /** One 20 ms tick of the clock: the caller's frame, if they send; now and then an RTCP report. */
  private tick(): void {
    if (--this.reportIn <= 0) this.sendReport();
    const frame = this.decoder?.frame();
    if (frame) this.onVoice?.(frame);
  }

  /** Ticks to the next report: the interval, give or take half (RFC 3550 §6.2: reports do not bunch up). */
  private nextReport(): number {
    return Math.max(1, Math.round(((this.options.rtcpIntervalMs ?? 5000) * (0.5 + Math.random())) / FRAME_MS));
  }

  private sendReport(): void {
    this.reportIn = this.nextReport();
    if (this.planNow === null) return;
    const enc = this.encoder;
    const now = performance.now();
    const sent = enc.counters.packets !== this.packetsAtReport ? { ssrc: enc.ssrc, packets: enc.counters.packets, octets: enc.counters.octets, rtpTimestamp: enc.timestampAt(now) } : null;
    this.packetsAtReport = enc.counters.packets;
    const n = writeReport(this.report, enc.ssrc, sent, this.reception, `tertulia-${enc.ssrc.toString(16)}`, Date.now(), now);
    this.session.sendRtcp(this.report, n);
  }
}

// SDP offer/answer (RFC 3264) for a phone call's audio: the gateway answers a phone's offer (dial-in, and every
// re-INVITE of the call) and makes an offer of its own (dial-out) whose answer it then reads. What both sides
// agreed is a `MediaPlan`: one codec (Opus 48000/2 when offered, else PCMU, else PCMA), RFC 4733
// telephone-event when offered (at the codec's clock rate if there is one), where to send, and whether to send at all (a phone
// holding the call offers sendonly/inactive or the old c=0.0.0.0: the gateway then stops sending).
//
// Invariants:
// - Plain RTP only (RTP/AVP, RTP/AVPF over UDP, IPv4): an offer without such an audio m-line with a common codec
//   is refused with `SdpRefused` (the call layer answers 488), never half-accepted. Other m-lines (video, a
//   second audio, an SRTP twin of the plain one) are answered with port 0, as RFC 3264 §6 says.
// - The answer uses the offer's payload type numbers; ptime is 20 ms both ways.
// - One `PhoneSdp` per call keeps the o= line: the same session id, the version raised only when our
//   description changes (RFC 3264 §8).
// - Untrusted text: caps on size, m-lines and payload types; garbage gives a clear error, nothing else.
import { randomInt } from 'node:crypto';
import { isIPv4 } from 'node:net';
import sdpTransform, { type MediaDescription, type SessionDescription } from 'sdp-transform';

/** Biggest SDP read (a desk phone's offer is under 1 KiB). */
export const MAX_SDP_BYTES = 16 * 1024;
const MAX_MLINES = 16;
const MAX_PAYLOADS = 64;
export const PTIME_MS = 20;

/** Why an offer or answer cannot be used; the call layer answers 488 Not Acceptable Here. */
export class SdpRefused extends Error {
  readonly status = 488;
}

export type PhoneCodecName = 'opus' | 'pcmu' | 'pcma';
export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export interface PhoneCodec {
  name: PhoneCodecName;
  payloadType: number;
  clockRate: 8000 | 48000;
}

/** What the two sides agreed for the call's audio. */
export interface MediaPlan {
  codec: PhoneCodec;
  /** The telephone-event payload type (RFC 4733), or -1 when the phone offered none. */
  dtmfPayloadType: number;
  /** Its clock rate (8000 or 48000; 0 without). */
  dtmfClockRate: number;
  /** Where the phone receives (its c= and m= line); the RTP session latches onto its real source later. */
  remoteAddress: string;
  remotePort: number;
  /** Whether we send (false while the phone holds) and whether the phone sends. */
  send: boolean;
  receive: boolean;
}

/** Codecs the gateway speaks, in its order of preference, with their static payload types (RFC 3551). */
const CODECS: { name: PhoneCodecName; encoding: string; clockRate: 8000 | 48000; channels: number; staticPt: number; dynamicPt: number }[] = [
  { name: 'opus', encoding: 'opus', clockRate: 48000, channels: 2, staticPt: -1, dynamicPt: 111 },
  { name: 'pcmu', encoding: 'pcmu', clockRate: 8000, channels: 1, staticPt: 0, dynamicPt: 0 },
  { name: 'pcma', encoding: 'pcma', clockRate: 8000, channels: 1, staticPt: 8, dynamicPt: 8 },
];
/** Our telephone-event payload types in an offer, by clock rate. */
const DTMF_PT: Record<number, number> = { 8000: 101, 48000: 110 };
const PLAIN_PROFILES = new Set(['RTP/AVP', 'RTP/AVPF']);

const ENCODING_NAMES: Record<PhoneCodecName, string> = { opus: 'opus', pcmu: 'PCMU', pcma: 'PCMA' };

/** A value of the other side's SDP as an error message may show it: printable ASCII, at most `max` characters. */
function shown(value: unknown, max: number): string {
  return String(value).slice(0, max).replace(/[^\x20-\x7e]/g, '?');
}

function parse(text: string, what: string): SessionDescription {
  if (typeof text !== 'string' || text.length === 0) throw new SdpRefused(`no SDP in the ${what}`);
  if (Buffer.byteLength(text) > MAX_SDP_BYTES) throw new SdpRefused(`the ${what}'s SDP is larger than ${MAX_SDP_BYTES} bytes`);
  if (!/^v=0\r?$/m.test(text.split('\n', 1)[0] ?? '')) throw new SdpRefused(`the ${what} is not SDP (it does not start with v=0)`);
  let sdp: SessionDescription;
  try {
    sdp = sdpTransform.parse(text);
  } catch (e) {
    throw new SdpRefused(`the ${what}'s SDP does not parse: ${(e as Error).message}`);
  }
  const media = sdp.media ?? [];
  if (media.length === 0) throw new SdpRefused(`the ${what} has no m-line`);
  if (media.length > MAX_MLINES) throw new SdpRefused(`the ${what} has more than ${MAX_MLINES} m-lines`);
  return sdp;
}

/** The payload types of an m-line, in its order (the offerer's preference); bad entries left out. */
function payloadTypes(m: MediaDescription): number[] {
  const list = String(m.payloads ?? '').trim().split(/\s+/).slice(0, MAX_PAYLOADS);
  return list.filter((p) => /^\d{1,3}$/.test(p) && Number(p) <= 127).map(Number);
}

/** Encoding name, clock rate and channels of payload type `pt` in `m` (static types need no rtpmap). */
function describe(m: MediaDescription, pt: number): { encoding: string; rate: number; channels: number } | null {
  const map = (m.rtp ?? []).find((r) => r.payload === pt);
  if (map) return { encoding: String(map.codec).toLowerCase(), rate: Number(map.rate ?? 0), channels: Number(map.encoding ?? 1) || 1 };
  if (pt === 0) return { encoding: 'pcmu', rate: 8000, channels: 1 };
  if (pt === 8) return { encoding: 'pcma', rate: 8000, channels: 1 };
  return null;
}

/** The codec of `m` we take: in our order of preference among those it lists; null when none is common. */
function pickCodec(m: MediaDescription, pts: number[], only?: PhoneCodecName): PhoneCodec | null {
  for (const c of CODECS) {
    if (only !== undefined && c.name !== only) continue;
    for (const pt of pts) {
      const d = describe(m, pt);
      if (d === null || d.encoding !== c.encoding || d.rate !== c.clockRate) continue;
      if (c.name === 'opus' && d.channels !== 2) continue; // RFC 7587: always opus/48000/2
      return { name: c.name, payloadType: pt, clockRate: c.clockRate };
    }
  }
  return null;
}

/**
 * The telephone-event payload type: the one at the codec's clock rate, else another (phones offer Opus with
 * telephone-event/8000 only: the keys still count, only their timestamps, which we do not measure, differ).
 */
function pickDtmf(m: MediaDescription, pts: number[], clockRate: number): { pt: number; rate: number } | null {
  let other: { pt: number; rate: number } | null = null;
  for (const pt of pts) {
    const d = describe(m, pt);
    if (d === null || d.encoding !== 'telephone-event' || (d.rate !== 8000 && d.rate !== 48000)) continue;
    if (d.rate === clockRate) return { pt, rate: d.rate };
    other ??= { pt, rate: d.rate };
  }
  return other;
}

function connectionOf(sdp: SessionDescription, m: MediaDescription, what: string): string {
  const c = m.connection ?? sdp.connection;
  if (!c) throw new SdpRefused(`the ${what}'s audio has no c= address`);
  if (c.version !== 4 || !isIPv4(String(c.ip))) throw new SdpRefused(`the ${what}'s audio address ${shown(c.ip, 64)} is not an IPv4 address (IPv6 and names are not supported)`);
  return String(c.ip);
}

function directionOf(sdp: SessionDescription, m: MediaDescription): Direction {
  return (m.direction ?? sdp.direction ?? 'sendrecv') as Direction;
}

/** The chosen m-line of an offer or answer and what it says. */
interface Chosen {
  index: number;
  plan: MediaPlan;
  /** The direction the other side stated. */
  direction: Direction;
  protocol: string;
}

/**
 * Finds the audio m-line to use: the first plain-RTP audio line with a common codec (`prefer`: the codec now in
 * use, kept on a re-offer that still lists it). Throws SdpRefused with the reason otherwise.
 */
function choose(sdp: SessionDescription, what: string, prefer?: PhoneCodecName): Chosen {
  const audio = sdp.media.map((m, index) => ({ m, index })).filter(({ m }) => m.type === 'audio');
  if (audio.length === 0) throw new SdpRefused(`the ${what} has no audio m-line`);
  const plain = audio.filter(({ m }) => PLAIN_PROFILES.has(String(m.protocol).toUpperCase()));
  if (plain.length === 0) throw new SdpRefused(`the ${what} offers audio only as ${shown(audio[0]!.m.protocol, 32)} (SRTP or another profile): only plain RTP/AVP is supported`);
  let off: Chosen | null = null;
  for (const { m, index } of plain) {
    const pts = payloadTypes(m);
    const codec = (prefer !== undefined ? pickCodec(m, pts, prefer) : null) ?? pickCodec(m, pts);
    if (codec === null) continue;
    const port = Number(m.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new SdpRefused(`the ${what}'s audio port ${shown(m.port, 16)} is not a port`);
    const address = connectionOf(sdp, m, what);
    const direction = directionOf(sdp, m);
    // port 0: the stream is turned off; c=0.0.0.0: the old way to hold (RFC 2543)
    const held = address === '0.0.0.0' || port === 0;
    const dtmf = pickDtmf(m, pts, codec.clockRate);
    const plan: MediaPlan = {
      codec,
      dtmfPayloadType: dtmf?.pt ?? -1,
      dtmfClockRate: dtmf?.rate ?? 0,
      remoteAddress: address,
      remotePort: port,
      send: !held && (direction === 'sendrecv' || direction === 'recvonly'),
      receive: port !== 0 && (direction === 'sendrecv' || direction === 'sendonly'),
    };
    const chosen = { index, plan, direction, protocol: String(m.protocol) };
    if (port !== 0) return chosen;
    off ??= chosen;
  }
  if (off !== null) return off;
  throw new SdpRefused(`the ${what} has no codec in common with the gateway (it speaks Opus, PCMU and PCMA)`);
}

/** The direction we answer `offered` with, given whether we want to send and receive. */
function answerDirection(offered: Direction): Direction {
  return offered === 'sendonly' ? 'recvonly' : offered === 'recvonly' ? 'sendonly' : offered;
}

function rtpmapLine(pt: number, codec: PhoneCodecName): string {
  return codec === 'opus' ? `a=rtpmap:${pt} opus/48000/2` : `a=rtpmap:${pt} ${ENCODING_NAMES[codec]}/8000`;
}

/** A call's side of the SDP exchange: keeps the o= line across offers and answers. */
export class PhoneSdp {
  private readonly address: string;
  private readonly sessionId = String(randomInt(1, 2 ** 47));
  private version = 0;
  private lastBody = '';
  /** The codec in use (kept on a re-offer that still lists it). */
  private codec: PhoneCodecName | undefined;

  /** `address`: our media address as phones should see it (public or local IPv4). */
  constructor(address: string) {
    if (!isIPv4(address)) throw new Error(`the media address ${address} is not an IPv4 address`);
    this.address = address;
  }

  /**
   * Checks an offer without answering it (before any port is taken): the plan it would give, or SdpRefused.
   */
  static check(offer: string): MediaPlan {
    return choose(parse(offer, 'offer'), 'offer').plan;
  }

  /** Answers a phone's offer (the INVITE's, or a re-INVITE's) for our RTP `port`. Throws SdpRefused. */
  answer(offer: string, port: number): { sdp: string; plan: MediaPlan } {
    const sdp = parse(offer, 'offer');
    const chosen = choose(sdp, 'offer', this.codec);
    const { plan } = chosen;
    this.codec = plan.codec.name;
    const lines: string[] = [];
    sdp.media.forEach((m, i) => {
      if (i !== chosen.index) {
        // refused m-line: same type and protocol, port 0, one of its formats (RFC 3264 §6)
        const first = payloadTypes(m)[0] ?? 0;
        lines.push(`m=${/^[a-z]{1,16}$/.test(m.type) ? m.type : 'application'} 0 ${/^[A-Za-z/]{1,32}$/.test(String(m.protocol)) ? m.protocol : 'RTP/AVP'} ${first}`);
        return;
      }
      const enabled = plan.remotePort !== 0;
      const pts = [plan.codec.payloadType, ...(plan.dtmfPayloadType >= 0 ? [plan.dtmfPayloadType] : [])];
      lines.push(`m=audio ${enabled ? port : 0} ${chosen.protocol.toUpperCase()} ${pts.join(' ')}`);
      lines.push(...this.mediaAttributes(plan));
      // a phone that holds with c=0.0.0.0 and sendrecv is answered recvonly: we keep taking what it sends
      const direction = plan.remoteAddress === '0.0.0.0' && chosen.direction === 'sendrecv' ? 'recvonly' : answerDirection(chosen.direction);
      lines.push(`a=${direction}`);
    });
    return { sdp: this.render(lines), plan };
  }

  /** Our offer for a call we make (dial-out), on our RTP `port`: Opus, PCMU, PCMA and telephone-event. */
  offer(port: number, codecs: PhoneCodecName[] = ['opus', 'pcmu', 'pcma']): string {
    const list = CODECS.filter((c) => codecs.includes(c.name));
    if (list.length === 0) throw new Error('an offer needs at least one codec');
    const rates = [...new Set(list.map((c) => c.clockRate))];
    const pts = [...list.map((c) => c.dynamicPt), ...rates.map((r) => DTMF_PT[r]!)];
    const lines = [`m=audio ${port} RTP/AVP ${pts.join(' ')}`];
    for (const c of list) {
      lines.push(rtpmapLine(c.dynamicPt, c.name));
      if (c.name === 'opus') lines.push(`a=fmtp:${c.dynamicPt} useinbandfec=1;stereo=0;sprop-stereo=0`);
    }
    for (const r of rates) lines.push(`a=rtpmap:${DTMF_PT[r]} telephone-event/${r}`, `a=fmtp:${DTMF_PT[r]} 0-16`);
    lines.push(`a=ptime:${PTIME_MS}`, 'a=sendrecv');
    return this.render(lines);
  }

  /** Reads the answer to our offer: the plan. Throws SdpRefused when it names nothing we offered. */
  acceptAnswer(answer: string): MediaPlan {
    // the answer's payload types (answerers echo the offer's, RFC 3264 §6.1)
    const chosen = choose(parse(answer, 'answer'), 'answer');
    if (chosen.plan.remotePort === 0) throw new SdpRefused('the answer turned the audio off (port 0)');
    this.codec = chosen.plan.codec.name;
    return chosen.plan;
  }

  private mediaAttributes({ codec, dtmfPayloadType: dtmf, dtmfClockRate }: MediaPlan): string[] {
    const lines = [rtpmapLine(codec.payloadType, codec.name)];
    if (codec.name === 'opus') lines.push(`a=fmtp:${codec.payloadType} useinbandfec=1;stereo=0;sprop-stereo=0`);
    if (dtmf >= 0) lines.push(`a=rtpmap:${dtmf} telephone-event/${dtmfClockRate}`, `a=fmtp:${dtmf} 0-16`);
    lines.push(`a=ptime:${PTIME_MS}`);
    return lines;
  }

  /** The whole description, with o= at a version raised only when the body changed. */
  private render(mediaLines: string[]): string {
    const body = [`s=tertulia`, `c=IN IP4 ${this.address}`, 't=0 0', ...mediaLines].join('\r\n');
    if (body !== this.lastBody) {
      if (this.lastBody !== '') this.version++;
      this.lastBody = body;
    }
    return `v=0\r\no=tertulia ${this.sessionId} ${this.version} IN IP4 ${this.address}\r\n${body}\r\n`;
  }
}

// Session descriptions, exactly as docs/ARCHITECTURE.md "Session descriptions" fixes them: focus always
// offers, the browser always answers; one BUNDLE transport with rtcp-mux towards an ICE-lite bridge that is
// the DTLS server (offer a=setup:actpass). Same payload types and header extension ids for everyone:
// Opus 111 (+ ssrc-audio-level as extmap 1), VP8 96 (nack, nack pli, ccm fir, goog-remb) with RTX 97.
// Every m-line carries transport-wide sequence numbers (extmap 3, rtcp-fb transport-cc): on what the browser
// sends the bridge answers with feedback (the browser's send-side estimate); on what it receives the browser
// sends feedback (the bridge's estimate per receiver, which picks simulcast layers).
// The camera (mid 1) is received as rid simulcast (q, h, f: quarter, half, full size; extmaps 4/5/6 are
// mid, rtp-stream-id and repaired-rtp-stream-id). Its layers have no SSRCs in the answer: focus gives the
// camera one SSRC of its own (and one for its RTX) that every receiver sees, and the bridge learns which
// SSRC is which layer from the rid extension of the first packets.
import { BusCallError } from '../bus/bus.ts';
import sdpTransform, { type MediaDescription, type SessionDescription } from 'sdp-transform';
import type { BridgeAllocateReply, MediaSource } from '../protocol/bus-messages.ts';
import type { MediaKind } from '../protocol/signal-messages.ts';

export {
  AUDIO_LEVEL_EXT_ID,
  AUDIO_LEVEL_URI,
  AUDIO_PT,
  MID_EXT_ID,
  MID_URI,
  REPAIRED_RID_EXT_ID,
  REPAIRED_RID_URI,
  RID_EXT_ID,
  RID_URI,
  RTX_PT,
  SIMULCAST_RIDS,
  TWCC_EXT_ID,
  TWCC_URI,
  VIDEO_PT,
} from '../protocol/media-profile.ts';
import {
  AUDIO_LEVEL_EXT_ID,
  AUDIO_LEVEL_URI,
  AUDIO_PT,
  CAMERA_START_KBPS,
  MID_EXT_ID,
  MID_URI,
  REPAIRED_RID_EXT_ID,
  REPAIRED_RID_URI,
  RID_EXT_ID,
  RID_URI,
  RTX_PT,
  SIMULCAST_RIDS,
  TWCC_EXT_ID,
  TWCC_URI,
  VIDEO_PT,
} from '../protocol/media-profile.ts';
export const OWN_AUDIO_MID = '0';
export const OWN_VIDEO_MID = '1';
/** The browser's own screen share: answered `sendonly` while sharing, `inactive` otherwise. */
export const OWN_SCREEN_MID = '2';

/** What a video source shows: a camera or a shared screen. */
export type VideoRole = 'video' | 'screen';

/** A source the browser sends, as read from its answer; video sources say whether they are camera or screen. */
export type AnswerSource = MediaSource & { role?: VideoRole };

/** One receive m-line for a remote participant's source (mids 3..). */
export interface RemoteMline {
  mid: string;
  participantId: string;
  kind: MediaKind;
  /** For video: camera or screen. */
  role?: VideoRole;
  ssrc: number;
  /** Video: the RTX SSRC the bridge retransmits with (signalled as an FID group). */
  rtxSsrc?: number;
  /** False once that source is gone: the m-line stays, `a=inactive`, without ssrc lines. */
  active: boolean;
}

export interface OfferInput {
  /** Numeric string, constant for one participant's session. */
  sessionId: string;
  /** The o= session version; one more for every offer. */
  version: number;
  transport: BridgeAllocateReply;
  remote: readonly RemoteMline[];
}

function transportAttributes(t: BridgeAllocateReply): Partial<MediaDescription> {
  return {
    connection: { version: 4, ip: '0.0.0.0' },
    rtcp: { port: 9, netType: 'IN', ipVer: 4, address: '0.0.0.0' },
    iceUfrag: t.ufrag,
    icePwd: t.pwd,
    fingerprint: { type: t.fingerprint.algorithm, hash: t.fingerprint.value },
    setup: 'actpass',
    candidates: t.candidates.map((c) => ({
      foundation: c.foundation,
      component: 1,
      transport: c.protocol,
      priority: c.priority,
      ip: c.ip,
      port: c.port,
      type: 'host',
      ...(c.protocol === 'tcp' ? { tcptype: c.tcpType ?? 'passive' } : {}),
    })),
    endOfCandidates: 'end-of-candidates',
    rtcpMux: 'rtcp-mux',
  };
}

/** `own`: an m-line the browser sends on (mids 0/1/2); otherwise one it receives a remote source on. */
function codecAttributes(kind: MediaKind): Pick<MediaDescription, 'payloads' | 'rtp' | 'fmtp' | 'rtcpFb' | 'ext'> {
  const twccExt = { value: TWCC_EXT_ID, uri: TWCC_URI };
  if (kind === 'audio') {
    return {
      payloads: String(AUDIO_PT),
      rtp: [{ payload: AUDIO_PT, codec: 'opus', rate: 48000, encoding: 2 }],
      fmtp: [{ payload: AUDIO_PT, config: 'minptime=10;useinbandfec=1' }],
      rtcpFb: [{ payload: AUDIO_PT, type: 'transport-cc' }],
      ext: [{ value: AUDIO_LEVEL_EXT_ID, uri: AUDIO_LEVEL_URI }, twccExt],
    };
  }
  return {
    payloads: `${VIDEO_PT} ${RTX_PT}`,
    rtp: [
      { payload: VIDEO_PT, codec: 'VP8', rate: 90000 },
      { payload: RTX_PT, codec: 'rtx', rate: 90000 },
    ],
    fmtp: [{ payload: RTX_PT, config: `apt=${VIDEO_PT}` }],
    rtcpFb: [
      { payload: VIDEO_PT, type: 'nack' },
      { payload: VIDEO_PT, type: 'nack', subtype: 'pli' },
      { payload: VIDEO_PT, type: 'ccm', subtype: 'fir' },
      { payload: VIDEO_PT, type: 'goog-remb' },
      { payload: VIDEO_PT, type: 'transport-cc' },
    ],
    ext: [twccExt],
  };
}

function mline(kind: MediaKind, mid: string, transport: BridgeAllocateReply): MediaDescription {
  return {
    type: kind,
    port: 9,
    protocol: 'UDP/TLS/RTP/SAVPF',
    ...codecAttributes(kind),
    ...transportAttributes(transport),
    mid,
  } as MediaDescription;
}

/** The msid of a remote participant's track: stream = participant id, track = `<id>-<kind>` (`<id>-screen` for a screen). */
export function remoteMsid(participantId: string, kind: MediaKind, role?: VideoRole): string {
  return `${participantId} ${participantId}-${role === 'screen' ? 'screen' : kind}`;
}

/** Builds the offer for one participant: mids 0/1/2 receive its own audio/video/screen, mids 3.. carry the others. */
export function buildOffer(input: OfferInput): string {
  const { transport } = input;
  const media: MediaDescription[] = [];
  const own = (kind: MediaKind, mid: string) => {
    const m = mline(kind, mid, transport);
    m.direction = 'recvonly';
    return m;
  };
  const camera = own('video', OWN_VIDEO_MID);
  camera.ext = [
    ...(camera.ext ?? []),
    { value: MID_EXT_ID, uri: MID_URI },
    { value: RID_EXT_ID, uri: RID_URI },
    { value: REPAIRED_RID_EXT_ID, uri: REPAIRED_RID_URI },
  ];
  // the browser's estimate of its uplink starts where its camera's layers are all on (media-profile.ts)
  camera.fmtp = [...(camera.fmtp ?? []), { payload: VIDEO_PT, config: `x-google-start-bitrate=${CAMERA_START_KBPS}` }];
  camera.rids = SIMULCAST_RIDS.map((id) => ({ id, direction: 'recv' }));
  camera.simulcast = { dir1: 'recv', list1: SIMULCAST_RIDS.join(';') };
  media.push(own('audio', OWN_AUDIO_MID), camera, own('video', OWN_SCREEN_MID));
  for (const r of input.remote) {
    const m = mline(r.kind, r.mid, transport);
    if (r.active) {
      m.direction = 'sendonly';
      const [stream, track] = remoteMsid(r.participantId, r.kind, r.role).split(' ') as [string, string];
      m.msid = [{ id: stream, appdata: track }];
      const msid = remoteMsid(r.participantId, r.kind, r.role);
      m.ssrcs = [
        { id: r.ssrc, attribute: 'cname', value: r.participantId },
        { id: r.ssrc, attribute: 'msid', value: msid },
      ];
      if (r.kind === 'video' && r.rtxSsrc !== undefined) {
        m.ssrcs.push({ id: r.rtxSsrc, attribute: 'cname', value: r.participantId }, { id: r.rtxSsrc, attribute: 'msid', value: msid });
        m.ssrcGroups = [{ semantics: 'FID', ssrcs: `${r.ssrc} ${r.rtxSsrc}` }];
      }
    } else {
      m.direction = 'inactive';
    }
    media.push(m);
  }
  const session: SessionDescription = {
    version: 0,
    origin: { username: '-', sessionId: input.sessionId, sessionVersion: input.version, netType: 'IN', ipVer: 4, address: '0.0.0.0' },
    name: '-',
    timing: { start: 0, stop: 0 },
    icelite: 'ice-lite',
    groups: [{ type: 'BUNDLE', mids: media.map((m) => m.mid!).join(' ') }],
    msidSemantic: { semantic: 'WMS', token: '*' },
    media,
  };
  return sdpTransform.write(session);
}

/** An answer focus refuses: the requester's fault (code 'bad-request' on the bus). */
export class AnswerError extends BusCallError {
  constructor(message: string) {
    super('bad-request', message);
    this.name = 'AnswerError';
  }
}

/** The SSRCs focus gives a participant's simulcast camera (what receivers see), made once per participant. */
export interface SimulcastSsrcs {
  ssrc: number;
  rtxSsrc: number;
}

export interface ParsedAnswer {
  ufrag: string;
  pwd: string;
  fingerprint: { algorithm: string; value: string };
  /** What the browser sends: at most one audio source (mid 0), one camera (mid 1) and one screen (mid 2). */
  sources: AnswerSource[];
  /** Every mid in the answer, in order. */
  mids: string[];
}

function sendingSsrc(m: MediaDescription): { ssrc: number; rtxSsrc?: number } | undefined {
  if (m.port === 0) return undefined;
  const dir = m.direction ?? 'sendrecv';
  if (dir !== 'sendonly' && dir !== 'sendrecv') return undefined;
  const valid = (n: number) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
  for (const g of m.ssrcGroups ?? []) {
    if (g.semantics !== 'FID') continue;
    const [a, b] = String(g.ssrcs).trim().split(/\s+/).map(Number);
    if (a !== undefined && valid(a)) return b !== undefined && valid(b) && b !== a ? { ssrc: a, rtxSsrc: b } : { ssrc: a };
  }
  const first = m.ssrcs?.[0]?.id;
  if (first === undefined) return undefined;
  const ssrc = Number(first);
  return valid(ssrc) ? { ssrc } : undefined;
}

/**
 * The rids a sending m-line answers `a=simulcast:send` with, lowest layer first (only the ones offered, in
 * offer order; a paused `~rid` is still a layer); undefined when it does not send simulcast.
 */
function sendingRids(m: MediaDescription): string[] | undefined {
  if (m.port === 0) return undefined;
  const dir = m.direction ?? 'sendrecv';
  if (dir !== 'sendonly' && dir !== 'sendrecv') return undefined;
  const sim = m.simulcast;
  if (!sim) return undefined;
  const list = sim.dir1 === 'send' ? sim.list1 : sim.dir2 === 'send' ? sim.list2 : undefined;
  if (typeof list !== 'string') return undefined;
  const answered = new Set(
    list
      .split(';')
      .flatMap((alt) => alt.split(','))
      .map((r) => r.trim().replace(/^~/, '')),
  );
  const rids = SIMULCAST_RIDS.filter((r) => answered.has(r));
  return rids.length > 0 ? rids : undefined;
}

/** A value sdp-transform read as text (it may have made a number of it), undefined when absent. */
function text(v: string | number | undefined): string | undefined {
  return v === undefined ? undefined : String(v);
}

const FINGERPRINT_VALUE = /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){15,63}$/;
const FINGERPRINT_ALGORITHMS = new Set(['sha-1', 'sha-224', 'sha-256', 'sha-384', 'sha-512']);

/** Reads what focus needs from a browser's answer; throws AnswerError with a readable reason otherwise. */
export function parseAnswer(sdp: string, simulcastSsrcs?: SimulcastSsrcs): ParsedAnswer {
  let parsed: SessionDescription;
  try {
    parsed = sdpTransform.parse(sdp);
  } catch (e) {
    throw new AnswerError(`the answer is not a session description: ${(e as Error).message}`);
  }
  if (!/^v=0\r?$/m.test(sdp.split('\n', 1)[0] ?? '') || !Array.isArray(parsed.media) || parsed.media.length === 0) {
    throw new AnswerError('the answer is not a session description with media sections');
  }
  const mediaWith = <K extends keyof MediaDescription>(key: K) => parsed.media.find((m) => m.port !== 0 && m[key] !== undefined)?.[key];
  // sdp-transform turns any value that reads as an integer into a number ("1234" -> 1234, never "0123");
  // String() gives back the exact text
  const ufrag = text(mediaWith('iceUfrag') ?? parsed.iceUfrag);
  const pwd = text(mediaWith('icePwd') ?? parsed.icePwd);
  const fp = mediaWith('fingerprint') ?? parsed.fingerprint;
  if (!ufrag || !pwd) throw new AnswerError('the answer has no ICE credentials (a=ice-ufrag / a=ice-pwd)');
  if (ufrag.length > 256 || pwd.length > 256) throw new AnswerError('the answer has overlong ICE credentials');
  const fpType = text(fp?.type);
  const fpHash = text(fp?.hash);
  if (!fpType || !fpHash) throw new AnswerError('the answer has no DTLS fingerprint (a=fingerprint)');
  const algorithm = fpType.toLowerCase();
  if (!FINGERPRINT_ALGORITHMS.has(algorithm) || !FINGERPRINT_VALUE.test(fpHash)) {
    throw new AnswerError(`the answer's DTLS fingerprint is malformed (${fpType.slice(0, 16)})`);
  }
  const sources: AnswerSource[] = [];
  const own: [string, MediaKind, VideoRole | undefined][] = [
    [OWN_AUDIO_MID, 'audio', undefined],
    [OWN_VIDEO_MID, 'video', 'video'],
    [OWN_SCREEN_MID, 'video', 'screen'],
  ];
  for (const [mid, kind, role] of own) {
    const m = parsed.media.find((x) => String(x.mid) === mid);
    if (!m) {
      if (mid === OWN_SCREEN_MID) continue; // an answer to an offer without a screen m-line
      throw new AnswerError(`the answer has no m-line with mid ${mid}`);
    }
    if (m.type !== kind) throw new AnswerError(`the answer's mid ${mid} is ${m.type}, expected ${kind}`);
    const rids = mid === OWN_VIDEO_MID && simulcastSsrcs ? sendingRids(m) : undefined;
    const s = rids ? simulcastSsrcs : sendingSsrc(m);
    if (!s) continue;
    const source: AnswerSource = s.rtxSsrc !== undefined ? { ssrc: s.ssrc, kind, rtxSsrc: s.rtxSsrc } : { ssrc: s.ssrc, kind };
    if (rids) source.rids = rids;
    if (role) source.role = role;
    if (sources.some((x) => x.ssrc === source.ssrc)) throw new AnswerError(`the answer sends ssrc ${source.ssrc} twice`);
    sources.push(source);
  }
  return {
    ufrag,
    pwd,
    fingerprint: { algorithm, value: fpHash.toUpperCase() },
    sources,
    mids: parsed.media.map((m) => String(m.mid ?? '')),
  };
}

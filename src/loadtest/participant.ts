// A synthetic participant: its own UDP socket, real ICE (a STUN Binding request with USE-CANDIDATE),
// real DTLS (werift's DtlsClient) and real SRTP (SrtpSession with the client keys).
// As a publisher it sends Opus and its camera as VP8 rid simulcast (three layers, each on its own SSRC with
// the rid and a transport-wide sequence number in header extensions, like Chrome), every RTP packet with its
// send time in a header extension; a PLI or FIR for a layer's SSRC makes that layer jump to the next
// keyframe of its clip. As a receiver it counts every RTP packet per stream (sequence gaps are losses), reads
// the send time and the layer the packet was made of (header extensions are not encrypted), decrypts one
// packet in DECRYPT_EVERY, and sends transport-cc feedback (what the bridge's bandwidth estimate for it, and
// so the layer it gets, come from).
import dgram from 'node:dgram';
import { X509Certificate } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { CipherContext, DtlsClient, type Transport } from 'werift';
import { fingerprintOf } from '../bridge/certificate.ts';
import { STUN_CLASS_SUCCESS, buildBindingRequest, parseStun } from '../bridge/packet/stun.ts';
import { SRTP_PROFILE_IDS, SrtpSession, srtpKeyLengths } from '../bridge/packet/srtp.ts';
import { FMT_FIR, FMT_PLI, RTCP_PSFB, fbMediaSsrc, forEachFir, forEachRtcp, writeRr } from '../bridge/packet/rtcp.ts';
import { TwccRecorder, readTransportSeq } from '../bridge/packet/twcc.ts';
import type { BenchMedia } from './media.ts';
import type { DelayHistogram } from './delay-histogram.ts';
import { udpDtlsTransport } from './udp-dtls-transport.ts';
import { AUDIO_PT, RID_EXT_ID, TWCC_EXT_ID, VIDEO_PT } from '../protocol/media-profile.ts';

/** Payload types and the header extension ids focus's offers fix: the one media profile. */
const VP8_PT = VIDEO_PT;
const OPUS_PT = AUDIO_PT;
/** The ICE password every synthetic participant answers with (its ufrag is its own). */
export const PARTICIPANT_ICE_PWD = 'benchbenchbenchbenchbench';
/**
 * One-byte header extension ids of the benchmark, negotiated by nobody and forwarded as is: the send time
 * (µs, low 32 bits) and the simulcast layer index a video packet was sent on (the rid itself is hidden by
 * the bridge, which renames the mid/rid elements to HIDDEN_EXT_ID).
 */
export const SEND_TIME_EXT_ID = 12;
export const LAYER_EXT_ID = 13;
/** Audio: RTP header with the send-time extension: 12 + 4 (0xBEDE, length) + 8 (id/len, 4 bytes, padding). */
const AUDIO_HEADER = 24;
/**
 * Video: 12 + 4 + 12: send time (id/len + 4 at 16..20), transport-wide seq (id/len + 2 at 21..23), rid
 * (id/len + 1 at 24..25), layer (id/len + 1 at 26..27).
 */
const VIDEO_HEADER = 28;
/** RFC 7741 descriptor: X, I|L|T, 15-bit picture id, TL0PICIDX, TID 0 (every frame is a base-layer frame). */
const VP8_DESCRIPTOR = 6;
const SEND_TIME_BYTE = (SEND_TIME_EXT_ID << 4) | 3;
const TWCC_BYTE = (TWCC_EXT_ID << 4) | 1;
const LAYER_BYTE = LAYER_EXT_ID << 4;
const DECRYPT_EVERY = 10;
const SEND_RING = 256;
const SOCKET_BUFFER = 8 * 1024 * 1024;

/** Microseconds on a clock shared by every process of the machine (low 32 bits). */
export function nowUs32(): number {
  return ((performance.timeOrigin + performance.now()) * 1000) % 4294967296 >>> 0;
}

/** A bridge driven directly, without focus (the benchmark's bridge process): its control requests and media port. */
export interface DirectBridge {
  port: number;
  /** any JSON object (so that the benchmark's own typed request fits) */
  request(op: 'allocate' | 'configure', payload: Record<string, any>): Promise<unknown>;
}

export interface ClientCertificate {
  certPem: string;
  keyPem: string;
  signatureHash: { hash: number; signature: number };
  fingerprint: string;
}

export async function createClientCertificate(): Promise<ClientCertificate> {
  const c = await CipherContext.createSelfSignedCertificateWithKey({ hash: 4, signature: 3 }, 23);
  const fingerprint = fingerprintOf(Buffer.from(new X509Certificate(c.certPem).raw), 'sha-256')!;
  return { certPem: c.certPem, keyPem: c.keyPem, signatureHash: c.signatureHash, fingerprint };
}

/**
 * The measurement window, on the send-time clock: senders and receivers count a packet when its send time
 * is in [startUs, startUs + lengthUs), so packets in flight at either edge are counted on both sides or on neither.
 */
export const measureWindow = { startUs: 0, lengthUs: 0 };

function inWindow(us: number): boolean {
  return ((us - measureWindow.startUs) >>> 0) < measureWindow.lengthUs;
}

export interface ReceiveCounters {
  rtp: number;
  bytes: number;
  /** Of rtp: Opus packets (the rest is video). */
  audio: number;
  decrypted: number;
  decryptErrors: number;
  rtcp: number;
}

/** What a receiver got of one stream (one SSRC) inside the measurement window. */
export interface StreamCounters {
  kind: 'audio' | 'video';
  packets: number;
  bytes: number;
  /** Extended sequence numbers: lowest and highest seen (highest - lowest + 1 - packets = lost). */
  firstSeq: number;
  lastSeq: number;
  /** Video: packets and bytes by simulcast layer, and the layer of the last packet. */
  layerPackets: number[];
  layerBytes: number[];
  layer: number;
}

/** Transport-cc feedback packets one call sends at most. */
const MAX_FEEDBACK_PER_CALL = 8;

let ufragCounter = 0;

/** A participant's first SSRC (its audio; then the camera as receivers see it, its RTX, the layers): from its index. */
export function ssrcBase(index: number): number {
  return (0x10000000 + index * 8) >>> 0;
}

export class Participant {
  readonly conferenceId: string;
  readonly endpointId: string;
  readonly audioSsrc: number;
  /** The camera as receivers see it (the bridge rewrites every layer to it), and its RTX SSRC towards them. */
  readonly videoSsrc: number;
  readonly videoRtxSsrc: number;
  /** The simulcast layers' own SSRCs, lowest first (the bridge learns them from the rid extension). */
  readonly layerSsrcs: number[];
  readonly publishesAudio: boolean;
  readonly publishesVideo: boolean;
  /** SSRCs whose first packet was decrypted (see onMessage). */
  private readonly decryptedSsrcs = new Set<number>();
  readonly rx: ReceiveCounters = { rtp: 0, bytes: 0, audio: 0, decrypted: 0, decryptErrors: 0, rtcp: 0 };
  /** Per received SSRC, inside the measurement window. */
  readonly streams = new Map<number, StreamCounters>();
  /** RTP packets (and bytes) this participant sent with a send time inside the window; of them Opus. */
  sent = 0;
  sentBytes = 0;
  sentAudio = 0;
  /** Video bytes sent per layer inside the window. */
  readonly sentLayerBytes: number[];
  sendErrors = 0;
  /** Keyframe requests (PLI/FIR entries) received for a layer, and the jumps to a keyframe they caused. */
  keyframeRequests = 0;
  keyframeJumps = 0;
  /** Transport-cc feedback packets sent. */
  feedbackSent = 0;
  rtcpErrors = 0;
  private lastStamp = 0;

  private readonly sock: dgram.Socket;
  private bridgePort = 0;
  private bridgeAddress = '127.0.0.1';
  private dtls: DtlsClient | null = null;
  private transport: Transport | null = null;
  private srtpOut: SrtpSession | null = null;
  private srtpIn: SrtpSession | null = null;
  private ufrag = '';
  private pwd = '';
  /** This participant's ICE ufrag (its password is PARTICIPANT_ICE_PWD): what an SDP answer or configure names. */
  readonly remoteUfrag = `bench${(ufragCounter++).toString(36)}`;
  private stunOk = 0;
  private consentTimer: NodeJS.Timeout | null = null;
  private readonly delays: DelayHistogram;
  private decryptCountdown: number;

  private readonly plain = Buffer.alloc(1600);
  private readonly ring: Buffer[] = [];
  private ringIndex = 0;
  private audioSeq = 0;
  private audioTs = 0;
  private readonly media: BenchMedia;
  // per simulcast layer, as an encoder keeps them: seq, timestamp, picture id, TL0PICIDX, position in the clip
  private readonly layerSeq: number[];
  private readonly layerTs: number[];
  private readonly layerPic: number[];
  private readonly layerTl0: number[];
  private readonly layerCursor: number[];
  private readonly keyframeWanted: boolean[];
  private readonly rids: Buffer;
  /** Transport-wide sequence number of the next video packet. */
  private twSeq = 0;
  /** Receive side of transport-cc (created at the first packet that carries the extension). */
  private twcc: TwccRecorder | null = null;
  private readonly rtcpScratch = Buffer.alloc(1500);
  private readonly onRtcpCb: (offset: number, length: number, pt: number, fmt: number) => void;
  private readonly onFirCb: (ssrc: number, seqNr: number) => void;
  private rtcpBuf: Buffer = Buffer.alloc(0);

  constructor(opts: {
    conferenceId: string;
    endpointId: string;
    index: number;
    publishesAudio: boolean;
    publishesVideo: boolean;
    media: BenchMedia;
    delays: DelayHistogram;
  }) {
    this.conferenceId = opts.conferenceId;
    this.endpointId = opts.endpointId;
    const base = ssrcBase(opts.index);
    this.audioSsrc = base;
    this.videoSsrc = base + 1;
    this.videoRtxSsrc = base + 2;
    this.media = opts.media;
    const layers = opts.media.layers;
    this.layerSsrcs = layers.map((_, i) => base + 3 + i);
    this.rids = Buffer.from(layers.map((l) => l.rid).join(''), 'ascii');
    this.layerSeq = layers.map((_, i) => (opts.index * 7919 + i * 20011) & 0xffff);
    this.layerTs = layers.map((_, i) => (opts.index * 104729 + i * 1_000_003) >>> 0);
    this.layerPic = layers.map((_, i) => (opts.index * 31 + i * 9001) & 0x7fff);
    this.layerTl0 = layers.map((_, i) => (opts.index + i * 77) & 0xff);
    this.layerCursor = layers.map(() => 0);
    this.keyframeWanted = layers.map(() => false);
    this.sentLayerBytes = layers.map(() => 0);
    this.publishesAudio = opts.publishesAudio;
    this.publishesVideo = opts.publishesVideo;
    this.delays = opts.delays;
    this.decryptCountdown = opts.index % DECRYPT_EVERY;
    this.audioSeq = (opts.index * 104729) & 0xffff;
    this.onRtcpCb = this.onRtcpPacket.bind(this);
    this.onFirCb = this.onFirEntry.bind(this);
    this.sock = dgram.createSocket('udp4');
    this.sock.on('message', this.onMessage.bind(this));
    this.sock.on('error', () => this.sendErrors++);
    if (this.publishesAudio || this.publishesVideo) {
      for (let i = 0; i < SEND_RING; i++) this.ring.push(Buffer.alloc(1600));
    }
  }

  /** The SSRCs its camera's layers cross a relay between bridges with (what focus draws); null: not told. */
  relaySsrcs: number[] | null = null;

  /** The camera's simulcast rids, lowest layer first. */
  get layerRids(): string[] {
    return this.media.layers.map((l) => l.rid);
  }

  /** What configure tells the bridge (as focus would from the SDP answer): the camera as rid simulcast. */
  get sources(): Array<{ ssrc: number; kind: 'audio' | 'video'; role?: 'video'; rtxSsrc?: number; rids?: string[]; relaySsrcs?: number[] }> {
    const s: Array<{ ssrc: number; kind: 'audio' | 'video'; role?: 'video'; rtxSsrc?: number; rids?: string[]; relaySsrcs?: number[] }> = [];
    if (this.publishesAudio) s.push({ ssrc: this.audioSsrc, kind: 'audio' });
    if (this.publishesVideo) {
      const rids = this.media.layers.map((l) => l.rid);
      s.push({ ssrc: this.videoSsrc, kind: 'video', role: 'video', rtxSsrc: this.videoRtxSsrc, rids, ...(this.relaySsrcs ? { relaySsrcs: this.relaySsrcs.slice(0, rids.length) } : {}) });
    }
    return s;
  }

  /** Allocate on the bridge, ICE check, configure, DTLS handshake: afterwards SRTP is up both ways. */
  async connect(bridge: DirectBridge, cert: ClientCertificate): Promise<void> {
    const alloc = (await bridge.request('allocate', { conferenceId: this.conferenceId, endpointId: this.endpointId })) as {
      ufrag: string;
      pwd: string;
    };
    await bridge.request('configure', {
      conferenceId: this.conferenceId,
      endpointId: this.endpointId,
      remoteUfrag: this.remoteUfrag,
      remotePwd: PARTICIPANT_ICE_PWD,
      remoteFingerprint: { algorithm: 'sha-256', value: cert.fingerprint },
      sources: this.sources,
    });
    await this.connectMedia({ address: '127.0.0.1', port: bridge.port, ufrag: alloc.ufrag, pwd: alloc.pwd }, cert);
  }

  /**
   * ICE check and DTLS handshake with a bridge that already knows this participant (from focus, through an
   * SDP answer naming remoteUfrag, PARTICIPANT_ICE_PWD and cert's fingerprint); `localAddress` is what the
   * socket binds (another namespace's address, or 0.0.0.0).
   */
  async connectMedia(bridge: { address: string; port: number; ufrag: string; pwd: string }, cert: ClientCertificate, localAddress = '127.0.0.1'): Promise<void> {
    await new Promise<void>((resolve) => this.sock.bind(0, localAddress, () => resolve()));
    try {
      this.sock.setRecvBufferSize(SOCKET_BUFFER);
      this.sock.setSendBufferSize(SOCKET_BUFFER);
    } catch {
      // capped by the kernel (net.core.rmem_max); the report shows any loss
    }
    this.bridgePort = bridge.port;
    this.bridgeAddress = bridge.address;
    this.ufrag = bridge.ufrag;
    this.pwd = bridge.pwd;
    await this.iceCheck(true);
    this.consentTimer = setInterval(() => this.sendCheck(false), 5000);
    this.consentTimer.unref();

    const transport = udpDtlsTransport(this.sock, this.bridgePort, this.bridgeAddress);
    this.transport = transport;
    const dtls = new DtlsClient({
      cert: cert.certPem,
      key: cert.keyPem,
      signatureHash: cert.signatureHash as never,
      transport,
      srtpProfiles: process.env.BENCH_SRTP === 'gcm' ? [7] : process.env.BENCH_SRTP === 'cm' ? [1] : [1, 7],
      extendedMasterSecret: true,
    });
    this.dtls = dtls;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.endpointId}: DTLS handshake timed out`)), 20_000);
      dtls.onConnect.once(() => {
        clearTimeout(timer);
        resolve();
      });
      dtls.connect().catch((e: Error) => {
        clearTimeout(timer);
        reject(e);
      });
    });
    const profile = SRTP_PROFILE_IDS[dtls.srtp.srtpProfile!];
    if (!profile) throw new Error(`${this.endpointId}: no SRTP profile negotiated`);
    const { keyLength, saltLength } = srtpKeyLengths(profile);
    const k = dtls.extractSessionKeys(keyLength, saltLength);
    this.srtpOut = new SrtpSession(profile, Buffer.from(k.localKey), Buffer.from(k.localSalt));
    this.srtpIn = new SrtpSession(profile, Buffer.from(k.remoteKey), Buffer.from(k.remoteSalt));
  }

  /** The local UDP port (0 before connecting). */
  get localPort(): number {
    try {
      return this.sock.address().port;
    } catch {
      return 0; // not bound yet, or closed
    }
  }

  get profile(): string {
    return this.srtpOut?.profile ?? 'none';
  }

  private sendCheck(useCandidate: boolean): void {
    const req = buildBindingRequest({
      username: `${this.ufrag}:${this.remoteUfrag}`,
      key: this.pwd,
      priority: 2130706431,
      useCandidate,
      iceControlling: 1n,
    });
    if (this.closed) return; // a timer of a participant that already left (a join that timed out)
    this.sock.send(req, this.bridgePort, this.bridgeAddress);
  }

  private async iceCheck(useCandidate: boolean): Promise<void> {
    const before = this.stunOk;
    for (let attempt = 0; attempt < 20 && this.stunOk === before; attempt++) {
      this.sendCheck(useCandidate);
      const end = Date.now() + 500;
      while (this.stunOk === before && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    }
    if (this.stunOk === before) throw new Error(`${this.endpointId}: no ICE answer from the bridge`);
  }

  // ------------------------------------------------------------------ receiving

  private onMessage(m: Buffer): void {
    const b0 = m[0];
    if (b0 >= 128 && b0 <= 191) {
      // media that overtook the end of our own DTLS handshake (the bridge had its keys first): nothing to decrypt with yet
      if (this.srtpIn === null) return;
      if (m[1] >= 192 && m[1] <= 223) {
        this.onRtcp(m);
        return;
      }
      const pt = m[1] & 0x7f;
      if ((b0 & 0x10) === 0 || m.length <= AUDIO_HEADER) return;
      // transport-cc: every packet with a transport-wide number (media, retransmissions, the bridge's probes)
      let tw = -1;
      if (m[21] === TWCC_BYTE && m[16] === SEND_TIME_BYTE) tw = (m[22] << 8) | m[23];
      else if (m[16] === TWCC_BYTE) tw = (m[17] << 8) | m[18]; // the bridge's probe padding
      else if (pt !== OPUS_PT) tw = readTransportSeq(m, m.length, TWCC_EXT_ID);
      if (tw >= 0) (this.twcc ??= new TwccRecorder()).record(tw, performance.now() * 1000);
      if ((pt !== VP8_PT && pt !== OPUS_PT) || m[16] !== SEND_TIME_BYTE) return;
      const sent = ((m[17] << 24) | (m[18] << 16) | (m[19] << 8) | m[20]) >>> 0;
      // The SRTP receiver guesses a stream's rollover counter from the first packet it decrypts, so that must
      // be the stream's first packet (as in a browser), even outside the window: a stream that started near
      // sequence 65535 and wrapped before the first sampled packet would otherwise fail every check after.
      const ssrc = m.readUInt32BE(8);
      const first = !this.decryptedSsrcs.has(ssrc);
      if (first) this.decryptedSsrcs.add(ssrc);
      if (!inWindow(sent)) {
        // keep every stream's state fresh between windows, uncounted
        if (first) this.srtpIn!.unprotectRtp(m, m.length);
        else if (--this.decryptCountdown <= 0) {
          this.decryptCountdown = DECRYPT_EVERY;
          this.srtpIn!.unprotectRtp(m, m.length);
        }
        return;
      }
      const rx = this.rx;
      rx.rtp++;
      rx.bytes += m.length;
      const audio = pt === OPUS_PT;
      if (audio) rx.audio++;
      this.count(m, audio);
      this.delays.add((nowUs32() - sent) >>> 0);
      if (first || --this.decryptCountdown <= 0) {
        if (!first) this.decryptCountdown = DECRYPT_EVERY;
        if (this.srtpIn!.unprotectRtp(m, m.length) > 0) rx.decrypted++;
        else rx.decryptErrors++;
      }
    } else if (b0 <= 3) {
      if (parseStun(m)?.cls === STUN_CLASS_SUCCESS) this.stunOk++;
    } else if (b0 >= 20 && b0 <= 63) {
      this.transport?.onData(m, [this.bridgeAddress, this.bridgePort]);
    }
  }

  /** Per-stream counters: packets, bytes, sequence range, and for video the layer (before decryption). */
  private count(m: Buffer, audio: boolean): void {
    const ssrc = ((m[8] << 24) | (m[9] << 16) | (m[10] << 8) | m[11]) >>> 0;
    const seq = (m[2] << 8) | m[3];
    let st = this.streams.get(ssrc);
    if (st === undefined) {
      st = { kind: audio ? 'audio' : 'video', packets: 0, bytes: 0, firstSeq: 0x10000 + seq, lastSeq: 0x10000 + seq, layerPackets: [0, 0, 0, 0], layerBytes: [0, 0, 0, 0], layer: -1 };
      this.streams.set(ssrc, st);
    } else {
      const ext = st.lastSeq + ((((seq - st.lastSeq) & 0xffff) ^ 0x8000) - 0x8000);
      if (ext > st.lastSeq) st.lastSeq = ext;
      else if (ext < st.firstSeq) st.firstSeq = ext;
    }
    st.packets++;
    st.bytes += m.length;
    if (!audio && m[26] === LAYER_BYTE) {
      const l = m[27] & 3;
      st.layerPackets[l]++;
      st.layerBytes[l] += m.length;
      st.layer = l;
    }
  }

  /** RTCP from the bridge: a publisher reads keyframe requests for its layers (the rest is not needed). */
  private onRtcp(m: Buffer): void {
    this.rx.rtcp++;
    if (!this.publishesVideo) return;
    const len = this.srtpIn!.unprotectRtcp(m, m.length);
    if (len < 0) {
      this.rtcpErrors++;
      return;
    }
    this.rtcpBuf = m;
    if (!forEachRtcp(m, len, this.onRtcpCb)) this.rtcpErrors++;
  }

  private onRtcpPacket(offset: number, length: number, pt: number, fmt: number): void {
    if (pt !== RTCP_PSFB) return;
    if (fmt === FMT_PLI && length >= 12) this.keyframeRequest(fbMediaSsrc(this.rtcpBuf, offset));
    else if (fmt === FMT_FIR && length >= 20) forEachFir(this.rtcpBuf, offset, length, this.onFirCb);
  }

  private onFirEntry(ssrc: number): void {
    this.keyframeRequest(ssrc);
  }

  /** The next frame of that layer is the next keyframe of its clip. */
  private keyframeRequest(ssrc: number): void {
    const l = this.layerSsrcs.indexOf(ssrc);
    if (l < 0) return;
    this.keyframeRequests++;
    this.keyframeWanted[l] = true;
  }

  /** Transport-cc feedback (RR + RTPFB 15 compounds) for what arrived since the last call. */
  sendTransportFeedback(): void {
    const rec = this.twcc;
    if (rec === null || this.srtpOut === null) return;
    const s = this.rtcpScratch;
    for (let i = 0; i < MAX_FEEDBACK_PER_CALL && rec.hasPending(); i++) {
      const rr = writeRr(s, 0, this.audioSsrc);
      const n = rec.writeFeedback(s, rr, this.audioSsrc, 0, 1200 - rr);
      if (n <= 0) break;
      const out = Buffer.allocUnsafe(rr + n + 32);
      const k = this.srtpOut.protectRtcp(s, rr + n, out);
      if (k <= 0) {
        this.sendErrors++;
        return;
      }
      if (this.closed) return;
      this.sock.send(out, 0, k, this.bridgePort, this.bridgeAddress);
      this.feedbackSent++;
    }
  }

  /** Forgets the window's counters (before a measurement). */
  resetCounters(): void {
    this.sent = this.sentBytes = this.sentAudio = 0;
    this.sentLayerBytes.fill(0);
    const rx = this.rx;
    rx.rtp = rx.bytes = rx.audio = rx.decrypted = rx.decryptErrors = 0;
    this.streams.clear();
  }

  // ------------------------------------------------------------------ sending

  /** Writes the RTP header with the send-time extension into this.plain (audio: nothing else). */
  private header(pt: number, marker: boolean, seq: number, ts: number, ssrc: number, words: number): void {
    const p = this.plain;
    p[0] = 0x90; // V=2, X=1
    p[1] = (marker ? 0x80 : 0) | pt;
    p[2] = seq >>> 8;
    p[3] = seq;
    p.writeUInt32BE(ts >>> 0, 4);
    p.writeUInt32BE(ssrc, 8);
    p[12] = 0xbe;
    p[13] = 0xde;
    p[14] = 0;
    p[15] = words;
    p[16] = SEND_TIME_BYTE;
    const t = nowUs32();
    this.lastStamp = t;
    p[17] = t >>> 24;
    p[18] = t >>> 16;
    p[19] = t >>> 8;
    p[20] = t;
    p[21] = 0;
    p[22] = 0;
    p[23] = 0;
  }

  /** Protects this.plain[0..len) and sends it; returns the bytes counted when inside the window (else 0). */
  private send(len: number): number {
    const out = this.ring[this.ringIndex];
    this.ringIndex = (this.ringIndex + 1) % SEND_RING;
    const n = this.srtpOut!.protectRtp(this.plain, len, out);
    if (n <= 0) {
      this.sendErrors++;
      return 0;
    }
    if (this.closed) return 0;
    this.sock.send(out, 0, n, this.bridgePort, this.bridgeAddress);
    if (!inWindow(this.lastStamp)) return 0;
    this.sent++;
    this.sentBytes += n;
    return n;
  }

  /**
   * Sends one frame on every simulcast layer, each from its own clip. A layer asked for a keyframe sends the
   * next keyframe of its clip now (skipping ahead). Per packet: send time, transport-wide seq, rid, layer;
   * RFC 7741 descriptor with picture id, TL0PICIDX and TID 0; chunks of at most VP8_CHUNK bytes.
   */
  sendVideoFrame(): void {
    const layers = this.media.layers;
    const p = this.plain;
    for (let l = 0; l < layers.length; l++) {
      const layer = layers[l];
      let c = this.layerCursor[l];
      if (this.keyframeWanted[l]) {
        this.keyframeWanted[l] = false;
        if (!layer.frames[c].keyframe) {
          c = layer.nextKeyframe[c];
          this.keyframeJumps++;
        }
      }
      this.layerCursor[l] = c + 1 === layer.frames.length ? 0 : c + 1;
      const chunks = layer.frames[c].chunks;
      const pid = this.layerPic[l];
      const tl0 = this.layerTl0[l];
      const ts = (this.layerTs[l] = (this.layerTs[l] + 3000) >>> 0);
      const ssrc = this.layerSsrcs[l];
      let bytes = 0;
      for (let i = 0; i < chunks.length; i++) {
        const chunk = chunks[i];
        const seq = this.layerSeq[l];
        this.layerSeq[l] = (seq + 1) & 0xffff;
        this.header(VP8_PT, i === chunks.length - 1, seq, ts, ssrc, 3);
        p[21] = TWCC_BYTE;
        p[22] = this.twSeq >>> 8;
        p[23] = this.twSeq;
        this.twSeq = (this.twSeq + 1) & 0xffff;
        p[24] = RID_EXT_ID << 4; // one byte
        p[25] = this.rids[l];
        p[26] = LAYER_BYTE;
        p[27] = l;
        const d = VIDEO_HEADER;
        p[d] = i === 0 ? 0x90 : 0x80; // X=1, S=1 on the first packet of the frame, PID 0
        p[d + 1] = 0xe0; // I, L, T present
        p[d + 2] = 0x80 | (pid >>> 8); // M=1: 15-bit picture id
        p[d + 3] = pid & 0xff;
        p[d + 4] = tl0;
        p[d + 5] = 0; // TID 0, Y=0, KEYIDX 0
        chunk.copy(p, d + VP8_DESCRIPTOR);
        bytes += this.send(d + VP8_DESCRIPTOR + chunk.length);
      }
      this.sentLayerBytes[l] += bytes;
      this.layerPic[l] = (pid + 1) & 0x7fff;
      this.layerTl0[l] = (tl0 + 1) & 0xff;
    }
  }

  sendAudioFrame(payload: Buffer): void {
    this.audioTs = (this.audioTs + 960) >>> 0;
    this.header(OPUS_PT, false, this.audioSeq, this.audioTs, this.audioSsrc, 2);
    this.audioSeq = (this.audioSeq + 1) & 0xffff;
    payload.copy(this.plain, AUDIO_HEADER);
    if (this.send(AUDIO_HEADER + payload.length) > 0) this.sentAudio++;
  }

  /** Set by close(): a send after it (a timer, a packet being handled) would throw on the closed socket. */
  private closed = false;

  close(): void {
    this.closed = true;
    if (this.consentTimer) clearInterval(this.consentTimer);
    try {
      this.dtls?.close();
    } catch {
      // already closed
    }
    try {
      this.sock.close();
    } catch {
      // already closed
    }
  }
}

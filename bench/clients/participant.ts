// A synthetic participant: its own UDP socket, real ICE (a STUN Binding request with USE-CANDIDATE),
// real DTLS (werift's DtlsClient) and real SRTP (SrtpSession with the client keys). As a publisher it sends
// VP8 and Opus RTP with its send time in a header extension; as a receiver it counts every RTP packet,
// reads the send time (header extensions are not encrypted) and decrypts one packet in DECRYPT_EVERY.
import dgram from 'node:dgram';
import { X509Certificate } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { CipherContext, DtlsClient, type Transport } from 'werift';
import { fingerprintOf } from '../../src/bridge/certificate.ts';
import { STUN_CLASS_SUCCESS, buildBindingRequest, parseStun } from '../../src/bridge/packet/stun.ts';
import { SRTP_PROFILE_IDS, SrtpSession, srtpKeyLengths } from '../../src/bridge/packet/srtp.ts';
import type { BridgeProcess } from '../bridge-control.ts';
import type { VideoFrame } from '../media.ts';
import type { DelayHistogram } from '../stats.ts';

export const VP8_PT = 96;
export const OPUS_PT = 111;
/** One-byte header extension id carrying the send time (µs, low 32 bits); not negotiated, forwarded as is. */
export const SEND_TIME_EXT_ID = 14;
/** RTP header with the send-time extension: 12 + 4 (0xBEDE, length) + 8 (id/len, 4 bytes, padding). */
const HEADER = 24;
const VP8_DESCRIPTOR = 4;
const DECRYPT_EVERY = 10;
const SEND_RING = 256;
const SOCKET_BUFFER = 8 * 1024 * 1024;

/** Microseconds on a clock shared by every process of the machine (low 32 bits). */
export function nowUs32(): number {
  return ((performance.timeOrigin + performance.now()) * 1000) % 4294967296 >>> 0;
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
  decrypted: number;
  decryptErrors: number;
  rtcp: number;
}

let ufragCounter = 0;

export class Participant {
  readonly conferenceId: string;
  readonly endpointId: string;
  readonly audioSsrc: number;
  readonly videoSsrc: number;
  readonly publishesAudio: boolean;
  readonly publishesVideo: boolean;
  readonly rx: ReceiveCounters = { rtp: 0, bytes: 0, decrypted: 0, decryptErrors: 0, rtcp: 0 };
  /** RTP packets (and bytes) this participant sent with a send time inside the window. */
  sent = 0;
  sentBytes = 0;
  sendErrors = 0;
  private lastStamp = 0;

  private readonly sock: dgram.Socket;
  private bridgePort = 0;
  private dtls: DtlsClient | null = null;
  private transport: Transport | null = null;
  private srtpOut: SrtpSession | null = null;
  private srtpIn: SrtpSession | null = null;
  private ufrag = '';
  private pwd = '';
  private readonly remoteUfrag = `bench${(ufragCounter++).toString(36)}`;
  private stunOk = 0;
  private consentTimer: NodeJS.Timeout | null = null;
  private readonly delays: DelayHistogram;
  private decryptCountdown: number;

  private readonly plain = Buffer.alloc(1600);
  private readonly ring: Buffer[] = [];
  private ringIndex = 0;
  private videoSeq = 0;
  private audioSeq = 0;
  private videoTs = 0;
  private audioTs = 0;
  private pictureId = 0;

  constructor(opts: {
    conferenceId: string;
    endpointId: string;
    index: number;
    publishesAudio: boolean;
    publishesVideo: boolean;
    delays: DelayHistogram;
  }) {
    this.conferenceId = opts.conferenceId;
    this.endpointId = opts.endpointId;
    this.audioSsrc = (0x10000000 + opts.index * 2) >>> 0;
    this.videoSsrc = (0x10000001 + opts.index * 2) >>> 0;
    this.publishesAudio = opts.publishesAudio;
    this.publishesVideo = opts.publishesVideo;
    this.delays = opts.delays;
    this.decryptCountdown = opts.index % DECRYPT_EVERY;
    this.videoSeq = (opts.index * 7919) & 0xffff;
    this.audioSeq = (opts.index * 104729) & 0xffff;
    this.sock = dgram.createSocket('udp4');
    this.sock.on('message', this.onMessage.bind(this));
    this.sock.on('error', () => this.sendErrors++);
    if (this.publishesAudio || this.publishesVideo) {
      for (let i = 0; i < SEND_RING; i++) this.ring.push(Buffer.alloc(1600));
    }
  }

  get sources(): Array<{ ssrc: number; kind: 'audio' | 'video' }> {
    const s: Array<{ ssrc: number; kind: 'audio' | 'video' }> = [];
    if (this.publishesAudio) s.push({ ssrc: this.audioSsrc, kind: 'audio' });
    if (this.publishesVideo) s.push({ ssrc: this.videoSsrc, kind: 'video' });
    return s;
  }

  /** Allocate on the bridge, ICE check, configure, DTLS handshake: afterwards SRTP is up both ways. */
  async connect(bridge: BridgeProcess, cert: ClientCertificate): Promise<void> {
    await new Promise<void>((resolve) => this.sock.bind(0, '127.0.0.1', () => resolve()));
    try {
      this.sock.setRecvBufferSize(SOCKET_BUFFER);
      this.sock.setSendBufferSize(SOCKET_BUFFER);
    } catch {
      // capped by the kernel (net.core.rmem_max); the report shows any loss
    }
    this.bridgePort = bridge.port;
    const alloc = (await bridge.request('allocate', { conferenceId: this.conferenceId, endpointId: this.endpointId })) as {
      ufrag: string;
      pwd: string;
    };
    this.ufrag = alloc.ufrag;
    this.pwd = alloc.pwd;
    await bridge.request('configure', {
      conferenceId: this.conferenceId,
      endpointId: this.endpointId,
      remoteUfrag: this.remoteUfrag,
      remotePwd: 'benchbenchbenchbenchbench',
      remoteFingerprint: { algorithm: 'sha-256', value: cert.fingerprint },
      sources: this.sources,
    });
    await this.iceCheck(true);
    this.consentTimer = setInterval(() => this.sendCheck(false), 5000);
    this.consentTimer.unref();

    const self = this;
    const transport: Transport = {
      type: 'udp',
      address: { address: '127.0.0.1', family: 'IPv4', port: this.sock.address().port },
      closed: false,
      onData: () => {},
      send(buf: Buffer) {
        self.sock.send(buf, self.bridgePort, '127.0.0.1');
        return Promise.resolve();
      },
      close: () => Promise.resolve(),
    };
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
    this.sock.send(req, this.bridgePort, '127.0.0.1');
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
      const pt = m[1] & 0x7f;
      if (m[1] >= 192 && m[1] <= 223) {
        this.rx.rtcp++;
        return;
      }
      if ((pt !== VP8_PT && pt !== OPUS_PT) || (b0 & 0x10) === 0 || m.length <= HEADER || m[16] >> 4 !== SEND_TIME_EXT_ID) {
        return;
      }
      const sent = ((m[17] << 24) | (m[18] << 16) | (m[19] << 8) | m[20]) >>> 0;
      if (!inWindow(sent)) return;
      const rx = this.rx;
      rx.rtp++;
      rx.bytes += m.length;
      this.delays.add((nowUs32() - sent) >>> 0);
      if (--this.decryptCountdown <= 0) {
        this.decryptCountdown = DECRYPT_EVERY;
        if (this.srtpIn!.unprotectRtp(m, m.length) > 0) rx.decrypted++;
        else rx.decryptErrors++;
      }
    } else if (b0 <= 3) {
      if (parseStun(m)?.cls === STUN_CLASS_SUCCESS) this.stunOk++;
    } else if (b0 >= 20 && b0 <= 63) {
      this.transport?.onData(m, ['127.0.0.1', this.bridgePort]);
    }
  }

  // ------------------------------------------------------------------ sending

  /** Writes the RTP header with the send-time extension into this.plain. */
  private header(pt: number, marker: boolean, seq: number, ts: number, ssrc: number): void {
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
    p[15] = 2;
    p[16] = (SEND_TIME_EXT_ID << 4) | 3;
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

  private send(len: number): void {
    const out = this.ring[this.ringIndex];
    this.ringIndex = (this.ringIndex + 1) % SEND_RING;
    const n = this.srtpOut!.protectRtp(this.plain, len, out);
    if (n <= 0) {
      this.sendErrors++;
      return;
    }
    this.sock.send(out, 0, n, this.bridgePort, '127.0.0.1');
    if (inWindow(this.lastStamp)) {
      this.sent++;
      this.sentBytes += n;
    }
  }

  /** Sends one VP8 frame (RFC 7741: 4-byte payload descriptor with a 15-bit picture id, then the chunk). */
  sendVideoFrame(frame: VideoFrame): void {
    const pid = this.pictureId;
    this.pictureId = (pid + 1) & 0x7fff;
    this.videoTs = (this.videoTs + 3000) >>> 0;
    const chunks = frame.chunks;
    for (let i = 0; i < chunks.length; i++) {
      const c = chunks[i];
      this.header(VP8_PT, i === chunks.length - 1, this.videoSeq, this.videoTs, this.videoSsrc);
      this.videoSeq = (this.videoSeq + 1) & 0xffff;
      const p = this.plain;
      p[HEADER] = i === 0 ? 0x90 : 0x80; // X=1, S=1 on the first packet of the frame, PID 0
      p[HEADER + 1] = 0x80; // I: picture id present
      p[HEADER + 2] = 0x80 | (pid >>> 8); // M=1: 15-bit picture id
      p[HEADER + 3] = pid & 0xff;
      c.copy(p, HEADER + VP8_DESCRIPTOR);
      this.send(HEADER + VP8_DESCRIPTOR + c.length);
    }
  }

  sendAudioFrame(payload: Buffer): void {
    this.audioTs = (this.audioTs + 960) >>> 0;
    this.header(OPUS_PT, false, this.audioSeq, this.audioTs, this.audioSsrc);
    this.audioSeq = (this.audioSeq + 1) & 0xffff;
    payload.copy(this.plain, HEADER);
    this.send(HEADER + payload.length);
  }

  close(): void {
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

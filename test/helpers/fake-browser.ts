// A fake browser for driving a Bridge without browsers: a dgram socket for ICE (one STUN binding request),
// werift's DtlsClient with its own self-signed certificate, and SrtpSession with the client-side keys.
// What to keep of the SRTP and SRTCP it receives is up to the test: subclasses override onRtp and onRtcp.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { X509Certificate } from 'node:crypto';
import { CipherContext, DtlsClient, type Transport } from 'werift';
import { fingerprintOf } from '../../src/bridge/certificate.ts';
import { STUN_CLASS_SUCCESS, buildBindingRequest, parseStun } from '../../src/bridge/packet/stun.ts';
import { SRTP_PROFILE_IDS, SrtpSession, srtpKeyLengths } from '../../src/bridge/packet/srtp.ts';
import { isRtcp } from '../../src/bridge/packet/rtp.ts';
import { udpDtlsTransport } from '../../src/loadtest/udp-dtls-transport.ts';

/** Waits until `cond` holds, checking every `pollMs`; throws after `ms`. */
export async function waitFor(what: string, cond: () => boolean, ms = 5000, pollMs = 10): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** DTLS-SRTP protection profiles the client offers: 1 = AES_CM_128_HMAC_SHA1_80, 7 = AEAD_AES_128_GCM. */
export type SrtpProfileId = 1 | 7;

/** A fake browser: ICE, DTLS client, SRTP with the client keys. */
export class FakeBrowser {
  readonly id: string;
  readonly sock: dgram.Socket;
  readonly bridgePort: number;
  readonly transport: Transport;
  dtls!: DtlsClient;
  fingerprint = '';
  srtpOut: SrtpSession | null = null;
  srtpIn: SrtpSession | null = null;
  stunSuccesses = 0;

  /** Use `create` (of the class or a subclass): it binds the socket and makes the DTLS client. */
  constructor(id: string, sock: dgram.Socket, bridgePort: number) {
    this.id = id;
    this.sock = sock;
    this.bridgePort = bridgePort;
    this.transport = udpDtlsTransport(sock, bridgePort);
    sock.on('message', (m) => this.onMessage(m));
  }

  static async create<T extends FakeBrowser>(
    this: new (id: string, sock: dgram.Socket, bridgePort: number) => T,
    id: string,
    bridgePort: number,
    srtpProfiles: SrtpProfileId[] = [1, 7],
  ): Promise<T> {
    const sock = await new Promise<dgram.Socket>((resolve) => {
      const s = dgram.createSocket('udp4');
      s.bind(0, '127.0.0.1', () => resolve(s));
    });
    const b = new this(id, sock, bridgePort);
    await b.newDtlsClient(srtpProfiles);
    return b;
  }

  /**
   * A new DTLS client with a new certificate (`fingerprint` changes), as a browser that starts a new DTLS
   * association; the old client is closed. `connectDtls` then does its handshake.
   */
  async newDtlsClient(srtpProfiles: SrtpProfileId[] = [1, 7]): Promise<void> {
    const { certPem, keyPem, signatureHash } = await CipherContext.createSelfSignedCertificateWithKey(
      { hash: 4, signature: 3 },
      23,
    );
    if (this.dtls !== undefined) {
      try {
        this.dtls.close();
      } catch {}
    }
    this.fingerprint = fingerprintOf(Buffer.from(new X509Certificate(certPem).raw), 'sha-256')!;
    this.dtls = new DtlsClient({
      cert: certPem,
      key: keyPem,
      signatureHash,
      transport: this.transport,
      srtpProfiles,
      extendedMasterSecret: true,
    });
  }

  private onMessage(m: Buffer): void {
    const b0 = m[0];
    if (b0 <= 3) {
      if (parseStun(m)?.cls === STUN_CLASS_SUCCESS) this.stunSuccesses++;
    } else if (b0 >= 20 && b0 <= 63) {
      this.transport.onData(m, ['127.0.0.1', this.bridgePort]);
    } else if (b0 >= 128 && b0 <= 191) {
      if (isRtcp(m)) this.onRtcp(m);
      else this.onRtp(m);
    }
  }

  /** An SRTP datagram from the bridge, still encrypted (`srtpIn` is null before DTLS connects). Ignored here. */
  protected onRtp(_m: Buffer): void {}

  /** An SRTCP datagram from the bridge, still encrypted (`srtpIn` is null before DTLS connects). Ignored here. */
  protected onRtcp(_m: Buffer): void {}

  /** Sends a USE-CANDIDATE binding request as the bridge's remote peer and waits for the success response. */
  async iceCheck(ufrag: string, pwd: string, remoteUfrag: string): Promise<void> {
    const before = this.stunSuccesses;
    const req = buildBindingRequest({
      username: `${ufrag}:${remoteUfrag}`,
      key: pwd,
      priority: 2130706431,
      useCandidate: true,
      iceControlling: 42n,
    });
    this.sock.send(req, this.bridgePort, '127.0.0.1');
    await waitFor(`${this.id} STUN success`, () => this.stunSuccesses > before);
  }

  /** The DTLS handshake (as client); checks the negotiated SRTP profile and sets up both SRTP sessions. */
  async connectDtls(expectedProfile = 'AES_CM_128_HMAC_SHA1_80'): Promise<void> {
    const connected = new Promise<void>((resolve) => this.dtls.onConnect.once(() => resolve()));
    void this.dtls.connect().catch(() => {});
    await connected;
    const profile = SRTP_PROFILE_IDS[this.dtls.srtp.srtpProfile!];
    assert.equal(profile, expectedProfile);
    const { keyLength, saltLength } = srtpKeyLengths(profile);
    const k = this.dtls.extractSessionKeys(keyLength, saltLength);
    this.srtpOut = new SrtpSession(profile, Buffer.from(k.localKey), Buffer.from(k.localSalt));
    this.srtpIn = new SrtpSession(profile, Buffer.from(k.remoteKey), Buffer.from(k.remoteSalt));
  }

  /** Protects and sends plain RTP or RTCP. */
  send(plain: Buffer, rtcp = false): void {
    const out = Buffer.alloc(plain.length + 32);
    const n = rtcp ? this.srtpOut!.protectRtcp(plain, plain.length, out) : this.srtpOut!.protectRtp(plain, plain.length, out);
    assert.ok(n > 0);
    this.sock.send(out.subarray(0, n), this.bridgePort, '127.0.0.1');
  }

  close(): void {
    try {
      this.dtls.close();
    } catch {}
    this.sock.close();
  }
}

// DTLS-SRTP for one endpoint: werift's DtlsServer over a Transport that is just "send to the endpoint's
// selected address on the shared UDP socket". The bridge is always the DTLS server (the offer says
// a=setup:actpass, the browser answers active).
import { DtlsServer, type Transport } from 'werift';
import { SRTP_PROFILE_IDS, srtpKeyLengths, type SrtpProfileName } from './packet/srtp.ts';
import type { BridgeCertificate } from './certificate.ts';

/** DTLS-SRTP protection profile ids (RFC 5764, RFC 7714) werift may negotiate; 1 is preferred. */
export const DTLS_SRTP_PROFILES = [1, 7] as const;

export interface DtlsSrtpKeys {
  profile: SrtpProfileName;
  localKey: Buffer;
  localSalt: Buffer;
  remoteKey: Buffer;
  remoteSalt: Buffer;
}

export interface DtlsCallbacks {
  /** Sends one DTLS datagram to the peer. */
  send(buf: Buffer): void;
  /** A handshake completed (again after a restart: new SRTP keys). */
  onConnect(): void;
  /** The first handshake failed, or an established session failed on an authenticated record. */
  onError(error: unknown): void;
  onClose(): void;
}

function profileName(id: number | undefined): SrtpProfileName | null {
  return id === undefined ? null : (SRTP_PROFILE_IDS[id] ?? null);
}

const NO_ADDRESS: readonly [string, number] = ['0.0.0.0', 0];

const CT_CHANGE_CIPHER_SPEC = 20;
const CT_ALERT = 21;
const CT_HANDSHAKE = 22;
const CT_APPLICATION_DATA = 23;
const HT_CLIENT_HELLO = 1;
/** The epoch of the client's records after a DTLS 1.2 handshake (no renegotiation: a restart is a new server). */
const CONNECTED_EPOCH = 1;

/**
 * Checks a datagram's DTLS record framing before werift sees any of it. werift takes any record of an
 * unknown content type, and any warning-level alert (even unauthenticated, even plaintext), as the peer
 * closing, so one stray or forged datagram could end a working session. Refused: truncated records, content
 * types outside 20..23, versions other than DTLS 1.0/1.2, and every alert (a fatal alert is ignored by werift
 * anyway; a peer that really leaves stops its ICE consent checks, and focus expires it).
 */
export function acceptableRecords(buf: Buffer): boolean {
  let off = 0;
  if (buf.length < 13) return false;
  while (off < buf.length) {
    if (off + 13 > buf.length) return false;
    const type = buf[off]!;
    if (type < CT_CHANGE_CIPHER_SPEC || type > CT_APPLICATION_DATA || type === CT_ALERT) return false;
    if (buf[off + 1] !== 0xfe || (buf[off + 2] !== 0xff && buf[off + 2] !== 0xfd)) return false;
    const length = buf.readUInt16BE(off + 11);
    if (off + 13 + length > buf.length) return false;
    off += 13 + length;
  }
  return true;
}

/**
 * After the handshake, whether the record at `off` (of a datagram acceptableRecords passed) may reach werift:
 * only encrypted handshake records (the client's retransmitted Finished, which makes werift resend its last
 * flight) and application data of the session's epoch. werift decrypts them, so a forged one fails to
 * authenticate and is dropped there. Everything in plaintext (epoch 0: a ClientHello would make werift
 * renegotiate in place, a malformed one fail the session) and every other epoch is dropped.
 */
export function connectedRecord(buf: Buffer, off: number): boolean {
  const type = buf[off]!;
  return (type === CT_HANDSHAKE || type === CT_APPLICATION_DATA) && buf.readUInt16BE(off + 3) === CONNECTED_EPOCH;
}

/** Whether the record at `off` is a plaintext ClientHello (the start of a new handshake). */
export function isClientHello(buf: Buffer, off: number): boolean {
  return (
    buf[off] === CT_HANDSHAKE && buf.readUInt16BE(off + 3) === 0 && buf.readUInt16BE(off + 11) > 0 && buf[off + 13] === HT_CLIENT_HELLO
  );
}

/**
 * One endpoint's DTLS association. Before its first handshake completes, every well-formed datagram goes to
 * werift (a failed handshake is reported, and the bridge starts over on the next ClientHello). Once it
 * completed, only records of the session's epoch that authenticate can affect it: nothing a third party can
 * send (its address can be forged) ends or restarts it. A real restart (a new DTLS association, RFC 8842)
 * comes with a new answer: `allowRestart` (the bridge calls it when the answer's fingerprint or ICE
 * credentials changed) lets the next ClientHello start a fresh werift server; the current SRTP keys stay in
 * use until that handshake completes (`onConnect` again), and a restart handshake that fails is started
 * over silently, so a forged ClientHello in that window cannot end the session either.
 */
export class DtlsEndpoint {
  private server!: DtlsServer;
  private transport!: Transport;
  private readonly cert: BridgeCertificate;
  private readonly callbacks: DtlsCallbacks;
  closed = false;
  /** The current werift server completed its handshake (only records of its epoch reach it). */
  connected = false;
  /** Some handshake completed: SRTP keys exist, and a failing restart must not end the session. */
  private everConnected = false;
  /** The next plaintext ClientHello may start a new association (the answer changed). */
  private restartAllowed = false;
  /** Records of the datagram being fed that werift could not decrypt (counted by its cipher's wrapper). */
  private authFailures = 0;

  constructor(cert: BridgeCertificate, callbacks: DtlsCallbacks) {
    this.cert = cert;
    this.callbacks = callbacks;
    this.startServer();
  }

  /** A fresh werift server (and its own transport: closing a server closes its transport). */
  private startServer(): void {
    const self = this;
    const transport: Transport = {
      type: 'udp',
      address: { address: '0.0.0.0', family: 'IPv4', port: 0 },
      closed: false,
      onData: () => {},
      send(buf: Buffer): Promise<void> {
        if (!self.closed && self.transport === transport) {
          try {
            self.callbacks.send(buf);
          } catch {
            // a send failure is a lost datagram; DTLS retransmits
          }
        }
        return Promise.resolve();
      },
      close(): Promise<void> {
        transport.closed = true;
        return Promise.resolve();
      },
    };
    const server = new DtlsServer({
      cert: this.cert.certPem,
      key: this.cert.keyPem,
      signatureHash: this.cert.signatureHash,
      srtpProfiles: [...DTLS_SRTP_PROFILES],
      certificateRequest: true,
      extendedMasterSecret: true,
      transport,
    });
    this.countAuthFailures(server);
    this.transport = transport;
    this.server = server;
    this.connected = false;
    server.onConnect.subscribe(() => {
      if (this.closed || this.server !== server || this.connected) return;
      this.connected = true;
      this.everConnected = true;
      this.restartAllowed = false;
      this.safe(() => this.callbacks.onConnect());
    });
    server.onError.subscribe((error: unknown) => {
      if (this.closed || this.server !== server) return;
      if (this.everConnected && !this.connected) {
        // a restart handshake failed (or someone sent a bad ClientHello in its window): the keys of the last
        // association stay in use; wait for the next ClientHello
        this.replaceServer();
        return;
      }
      this.safe(() => this.callbacks.onError(error));
    });
    server.onClose.subscribe(() => {
      if (this.closed || this.server !== server) return;
      this.safe(() => this.callbacks.onClose());
    });
  }

  /**
   * werift swallows a record that fails to decrypt; its cipher context's decryptPacket is wrapped (once per
   * server: the context is only replaced by an in-place renegotiation, which never happens here) to count them.
   */
  private countAuthFailures(server: DtlsServer): void {
    const cipher = (server as unknown as { cipher?: { decryptPacket?: (pkt: unknown) => Buffer } }).cipher;
    const decrypt = cipher?.decryptPacket;
    if (cipher === undefined || typeof decrypt !== 'function') return;
    const self = this;
    cipher.decryptPacket = function (pkt: unknown): Buffer {
      try {
        return decrypt.call(cipher, pkt);
      } catch (e) {
        self.authFailures++;
        throw e;
      }
    };
  }

  private replaceServer(): void {
    this.closeServer();
    this.startServer();
  }

  private closeServer(): void {
    this.transport.closed = true;
    try {
      // werift retransmits a flight until the flight counter passes it; jump past every flight so
      // pending retransmission loops end at their next wake-up instead of keeping timers alive
      this.server.dtls.flight = 0xff;
      this.server.close();
    } catch {
      // already closed
    }
  }

  private safe(fn: () => void): void {
    try {
      fn();
    } catch {
      // callbacks handle their own errors; never let one escape into werift
    }
  }

  /**
   * The peer's answer changed (fingerprint or ICE credentials): it may start a new DTLS association, so the
   * next plaintext ClientHello starts a fresh handshake. No effect before the first handshake completed.
   */
  allowRestart(): void {
    if (this.connected) this.restartAllowed = true;
  }

  /**
   * Feeds one DTLS datagram received from the peer. Never throws. Returns how many of its records were
   * dropped: refused by the checks above, or (after the handshake) not decrypted by werift.
   */
  feed(buf: Buffer): number {
    if (this.closed) return 1;
    if (!acceptableRecords(buf)) return 1;
    this.authFailures = 0;
    if (!this.connected) {
      this.deliver(buf);
      return this.authFailures;
    }
    let dropped = 0;
    for (let off = 0; off < buf.length; off += 13 + buf.readUInt16BE(off + 11)) {
      if (this.restartAllowed && isClientHello(buf, off)) {
        // a new association: the rest of this datagram and what follows go to a fresh server
        this.restartAllowed = false;
        this.replaceServer();
        this.deliver(off === 0 ? buf : buf.subarray(off));
        return dropped + this.authFailures;
      }
      if (!connectedRecord(buf, off)) {
        dropped++;
        continue;
      }
      this.deliver(buf.subarray(off, off + 13 + buf.readUInt16BE(off + 11)));
    }
    return dropped + this.authFailures;
  }

  private deliver(buf: Buffer): void {
    try {
      this.transport.onData(buf, NO_ADDRESS);
    } catch {
      // werift catches its own parse errors; nothing may escape into the packet path
    }
  }

  /** DER of the peer's certificate, once the handshake got that far. */
  get remoteCertificate(): Buffer | undefined {
    try {
      return this.server.remoteCertificate;
    } catch {
      return undefined;
    }
  }

  /** The SRTP master keys (RFC 5764 §4.2), after the handshake; null if no SRTP profile was agreed. */
  srtpKeys(): DtlsSrtpKeys | null {
    const profile = profileName(this.server.srtp.srtpProfile);
    if (!profile) return null;
    const { keyLength, saltLength } = srtpKeyLengths(profile);
    const k = this.server.extractSessionKeys(keyLength, saltLength);
    return {
      profile,
      localKey: Buffer.from(k.localKey),
      localSalt: Buffer.from(k.localSalt),
      remoteKey: Buffer.from(k.remoteKey),
      remoteSalt: Buffer.from(k.remoteSalt),
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.closeServer();
  }
}

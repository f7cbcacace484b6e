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
  onConnect(): void;
  onError(error: unknown): void;
  onClose(): void;
}

function profileName(id: number | undefined): SrtpProfileName | null {
  return id === undefined ? null : (SRTP_PROFILE_IDS[id] ?? null);
}

const NO_ADDRESS: readonly [string, number] = ['0.0.0.0', 0];

const CT_CHANGE_CIPHER_SPEC = 20;
const CT_ALERT = 21;
const CT_APPLICATION_DATA = 23;

/**
 * Checks a datagram's DTLS records before werift sees them. werift takes any record of an unknown content
 * type, and any alert whose first bytes look like one (even unauthenticated), as the peer closing, so one
 * stray or forged datagram could end a working session. Refused here: truncated records, content types
 * outside 20..23, versions other than DTLS 1.0/1.2, and — once the handshake is done — every alert (a peer
 * that really leaves stops its ICE consent checks, and focus expires it) and any plaintext (epoch 0)
 * record other than a retransmitted handshake flight.
 */
export function acceptableRecords(buf: Buffer, connected: boolean): boolean {
  let off = 0;
  if (buf.length < 13) return false;
  while (off < buf.length) {
    if (off + 13 > buf.length) return false;
    const type = buf[off]!;
    if (type < CT_CHANGE_CIPHER_SPEC || type > CT_APPLICATION_DATA) return false;
    if (buf[off + 1] !== 0xfe || (buf[off + 2] !== 0xff && buf[off + 2] !== 0xfd)) return false;
    const epoch = buf.readUInt16BE(off + 3);
    const length = buf.readUInt16BE(off + 11);
    if (off + 13 + length > buf.length) return false;
    if (type === CT_ALERT && (connected || epoch !== 0 || length !== 2)) return false;
    if (connected && type === CT_APPLICATION_DATA && epoch === 0) return false;
    off += 13 + length;
  }
  return true;
}

export class DtlsEndpoint {
  private readonly server: DtlsServer;
  private readonly transport: Transport;
  private readonly callbacks: DtlsCallbacks;
  closed = false;
  connected = false;

  constructor(cert: BridgeCertificate, callbacks: DtlsCallbacks) {
    this.callbacks = callbacks;
    const self = this;
    this.transport = {
      type: 'udp',
      address: { address: '0.0.0.0', family: 'IPv4', port: 0 },
      closed: false,
      onData: () => {},
      send(buf: Buffer): Promise<void> {
        if (!self.closed) {
          try {
            self.callbacks.send(buf);
          } catch {
            // a send failure is a lost datagram; DTLS retransmits
          }
        }
        return Promise.resolve();
      },
      close(): Promise<void> {
        self.transport.closed = true;
        return Promise.resolve();
      },
    };
    this.server = new DtlsServer({
      cert: cert.certPem,
      key: cert.keyPem,
      signatureHash: cert.signatureHash,
      srtpProfiles: [...DTLS_SRTP_PROFILES],
      certificateRequest: true,
      extendedMasterSecret: true,
      transport: this.transport,
    });
    this.server.onConnect.subscribe(() => {
      if (this.closed || this.connected) return;
      this.connected = true;
      this.safe(() => this.callbacks.onConnect());
    });
    this.server.onError.subscribe((error: unknown) => {
      if (this.closed) return;
      this.safe(() => this.callbacks.onError(error));
    });
    this.server.onClose.subscribe(() => {
      if (this.closed) return;
      this.safe(() => this.callbacks.onClose());
    });
  }

  private safe(fn: () => void): void {
    try {
      fn();
    } catch {
      // callbacks handle their own errors; never let one escape into werift
    }
  }

  /** Feeds one DTLS datagram received from the peer. Never throws. */
  feed(buf: Buffer): boolean {
    if (this.closed) return false;
    if (!acceptableRecords(buf, this.connected)) return false;
    try {
      this.transport.onData(buf, NO_ADDRESS);
      return true;
    } catch {
      return false;
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
}

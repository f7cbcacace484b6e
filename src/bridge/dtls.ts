// DTLS-SRTP for one endpoint: werift's DtlsServer over a Transport that is just "send to the endpoint's
// selected address on the shared UDP socket". The bridge is always the DTLS server (the offer says
// a=setup:actpass, the browser answers active). werift (~25 MiB of RSS per thread) is loaded by loadDtls(), which
// the threads that run handshakes call when they start (the bridge's own thread, or each media worker before it
// reports its socket bound): the control thread of a bridge with media workers never loads it. A datagram that
// arrives before it is loaded waits for it (a few per endpoint).
import { randomBytes } from 'node:crypto';
import type { DtlsServer, Transport } from 'werift';
import { SRTP_PROFILE_IDS, srtpKeyLengths, type SrtpProfileName } from './packet/srtp.ts';
import type { BridgeCertificate } from './certificate.ts';
import { FlightGate } from './dtls-flight-gate.ts';
import { HANDSHAKE_HEADER_LENGTH, readHandshakeHeader } from './dtls-handshake-header.ts';

let DtlsServerImpl: typeof DtlsServer | null = null;
let loading: Promise<void> | null = null;

/** Loads werift's DTLS server (once per thread; a failed load is tried again by the next call). */
export function loadDtls(): Promise<void> {
  loading ??= import('werift').then(
    (m) => {
      DtlsServerImpl = m.DtlsServer;
    },
    (e: unknown) => {
      loading = null;
      throw e;
    },
  );
  return loading;
}

/** Datagrams of one endpoint kept while werift loads (a ClientHello and its retransmissions, fragments). */
const MAX_DEFERRED = 8;

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

/** Offset of the client random in a ClientHello record: record header, handshake header, client_version. */
const CLIENT_RANDOM_OFFSET = 13 + 12 + 2;
const CLIENT_RANDOM_LENGTH = 32;
/** Handshakes in progress at once for one endpoint (one per client random); more evict the oldest that has not got far. */
const MAX_ATTEMPTS = 4;
/** werift's flight number once it answered a ClientHello that carried its cookie (ServerHello...). */
const FLIGHT_AFTER_COOKIE = 4;

/** A ClientHello record's fragment: its message_seq, the whole message's length, where the fragment starts. */
export interface HelloFragment {
  seq: number;
  messageLength: number;
  offset: number;
  fragmentLength: number;
  /** The client random, in a first fragment long enough to carry it; null in later fragments. */
  random: Buffer | null;
}

/**
 * The ClientHello fragment in the record at `off` (a plaintext ClientHello, see isClientHello), or null when it
 * is malformed: a fragment that does not fill its record or runs past its message, or a first fragment too
 * short to carry the client random. Browsers fragment large ClientHellos (Chromium's, with post-quantum key
 * shares, is ~1400 bytes in two records).
 */
export function helloFragment(buf: Buffer, off: number): HelloFragment | null {
  const length = buf.readUInt16BE(off + 11);
  if (length < HANDSHAKE_HEADER_LENGTH) return null;
  const { messageLength, seq, fragmentOffset: offset, fragmentLength } = readHandshakeHeader(buf, off);
  if (HANDSHAKE_HEADER_LENGTH + fragmentLength !== length || offset + fragmentLength > messageLength || fragmentLength === 0) return null;
  if (offset > 0) return { seq, messageLength, offset, fragmentLength, random: null };
  if (fragmentLength < 2 + CLIENT_RANDOM_LENGTH) return null;
  return { seq, messageLength, offset, fragmentLength, random: buf.subarray(off + CLIENT_RANDOM_OFFSET, off + CLIENT_RANDOM_OFFSET + CLIENT_RANDOM_LENGTH) };
}

/** One werift server, for one client random (one handshake), and its own transport (closing a server closes it). */
interface Association {
  server: DtlsServer;
  transport: Transport;
  random: Buffer;
  /** The rest of a fragmented ClientHello it waits for: the fragment starting at `next`. */
  awaiting: { seq: number; messageLength: number; next: number } | null;
  /** The message_seq of the last ClientHello handed to it (the client's next messages follow it). */
  helloSeq: number;
  /** The client's later records, in order (made with the first of them). */
  gate: FlightGate | null;
}

/**
 * One endpoint's DTLS. While no handshake is complete (the first one, or a restart), each ClientHello's client
 * random gets a werift server of its own: a forged ClientHello (its source address can be the participant's)
 * starts a handshake beside the real one, never in place of it, and one that fails (malformed, or no answer)
 * is dropped alone. The other handshake records (the client's later flights) go to the handshake that got
 * furthest: past the cookie exchange, which needs the HelloVerifyRequest sent to the participant's address.
 * A ClientHello's later fragments go to every handshake waiting for that fragment (its first one carries the
 * random; a forged fragment in between cannot divert the real one); a malformed fragment, or a first one too
 * short to carry a random, is dropped before werift sees it.
 * Once a handshake completed, only records of the session's epoch that authenticate can affect it: nothing a
 * third party can send (its address can be forged) ends or restarts it. A real restart (a new DTLS
 * association, RFC 8842) comes with a new answer: `allowRestart` (the bridge calls it when the answer's
 * fingerprint or ICE credentials changed) lets the next ClientHello start handshakes again; the current SRTP
 * keys stay in use until one completes (`onConnect` again), and failures in that window are silent.
 * `onError` reports the failure of a first handshake that got past the cookie exchange (the participant's own).
 */
export class DtlsEndpoint {
  /** The association whose handshake completed last (its keys are the ones in use); null before the first. */
  private current: Association | null = null;
  /** Handshakes in progress, oldest first. */
  private attempts: Association[] = [];
  private readonly cert: BridgeCertificate;
  private readonly callbacks: DtlsCallbacks;
  closed = false;
  /** A handshake completed and no restart is in progress (only records of its epoch reach it). */
  connected = false;
  /** Some handshake completed: SRTP keys exist, and a failing restart must not end the session. */
  private everConnected = false;
  /** The next plaintext ClientHello may start a new association (the answer changed). */
  private restartAllowed = false;
  /** Records of the datagram being fed that werift could not decrypt (counted by its cipher's wrapper). */
  private authFailures = 0;
  /** The HelloVerifyRequest cookie (RFC 6347 §4.2.1) of every handshake of this endpoint. */
  private readonly cookie = randomBytes(20);
  /** Datagrams that arrived before werift was loaded (copies), fed once it is. */
  private deferred: Buffer[] | null = null;

  constructor(cert: BridgeCertificate, callbacks: DtlsCallbacks) {
    this.cert = cert;
    this.callbacks = callbacks;
  }

  private live(a: Association): boolean {
    return !this.closed && (a === this.current || this.attempts.includes(a));
  }

  /** A fresh werift server for the handshake that starts with a ClientHello carrying `random`. */
  private startAttempt(random: Buffer): Association {
    const self = this;
    const transport: Transport = {
      type: 'udp',
      address: { address: '0.0.0.0', family: 'IPv4', port: 0 },
      closed: false,
      onData: () => {},
      send(buf: Buffer): Promise<void> {
        if (!transport.closed && self.live(a)) {
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
    const server = new DtlsServerImpl!({
      cert: this.cert.certPem,
      key: this.cert.keyPem,
      signatureHash: this.cert.signatureHash,
      srtpProfiles: [...DTLS_SRTP_PROFILES],
      certificateRequest: true,
      extendedMasterSecret: true,
      transport,
    });
    // one cookie for every handshake of the endpoint: a browser that got the HelloVerifyRequest of a forged
    // ClientHello's handshake (it goes to the participant's address) still gets on with the cookie in it
    (server as unknown as { dtls: { cookie?: Buffer } }).dtls.cookie = this.cookie;
    const a: Association = { server, transport, random: Buffer.from(random), awaiting: null, helloSeq: 0, gate: null };
    this.countAuthFailures(server);
    server.onConnect.subscribe(() => {
      if (!this.attempts.includes(a) || this.closed) return;
      // this handshake is the association now: the others (and the previous one) end
      for (const other of this.attempts) if (other !== a) this.closeAssociation(other);
      this.attempts = [];
      if (this.current !== null) this.closeAssociation(this.current);
      this.current = a;
      this.connected = true;
      this.everConnected = true;
      this.restartAllowed = false;
      this.safe(() => this.callbacks.onConnect());
    });
    server.onError.subscribe((error: unknown) => {
      if (!this.attempts.includes(a) || this.closed) return;
      const participants = this.progress(a) >= FLIGHT_AFTER_COOKIE;
      this.attempts = this.attempts.filter((x) => x !== a);
      this.closeAssociation(a);
      // a handshake nobody answered the cookie of (a forged ClientHello) fails silently, as does a restart
      if (participants && !this.everConnected) this.safe(() => this.callbacks.onError(error));
    });
    server.onClose.subscribe(() => {
      if (this.closed || this.current !== a) return;
      this.safe(() => this.callbacks.onClose());
    });
    if (this.attempts.length >= MAX_ATTEMPTS) {
      const evicted = this.attempts.find((x) => this.progress(x) < FLIGHT_AFTER_COOKIE) ?? this.attempts[0]!;
      this.attempts = this.attempts.filter((x) => x !== evicted);
      this.closeAssociation(evicted);
    }
    this.attempts.push(a);
    return a;
  }

  /** werift's flight number of a handshake (2: it asked for the cookie; 4: it answered the cookie; 6: done). */
  private progress(a: Association): number {
    const flight = (a.server as unknown as { dtls?: { flight?: number } }).dtls?.flight;
    return typeof flight === 'number' && flight < 0xff ? flight : 0;
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

  private closeAssociation(a: Association): void {
    a.transport.closed = true;
    try {
      // werift retransmits a flight until the flight counter passes it; jump past every flight so
      // pending retransmission loops end at their next wake-up instead of keeping timers alive
      a.server.dtls.flight = 0xff;
      a.server.close();
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
    if (DtlsServerImpl === null) return this.defer(buf);
    this.authFailures = 0;
    if (!this.connected) return this.handshake(buf, 0) + this.authFailures;
    let dropped = 0;
    for (let off = 0; off < buf.length; off += 13 + buf.readUInt16BE(off + 11)) {
      if (this.restartAllowed && isClientHello(buf, off)) {
        // a new association: this record and the rest of the datagram start handshakes (the keys in use stay)
        this.restartAllowed = false;
        this.connected = false;
        return dropped + this.handshake(buf, off) + this.authFailures;
      }
      if (!connectedRecord(buf, off)) {
        dropped++;
        continue;
      }
      this.deliver(this.current!, buf.subarray(off, off + 13 + buf.readUInt16BE(off + 11)));
    }
    return dropped + this.authFailures;
  }

  /** Keeps a copy of buf until werift is loaded (at most MAX_DEFERRED: the rest are dropped, DTLS retransmits). */
  private defer(buf: Buffer): number {
    if (this.deferred !== null) {
      if (this.deferred.length >= MAX_DEFERRED) return 1;
      this.deferred.push(Buffer.from(buf));
      return 0;
    }
    this.deferred = [Buffer.from(buf)];
    loadDtls().then(
      () => {
        const waiting = this.deferred ?? [];
        this.deferred = null;
        for (const b of waiting) this.feed(b);
      },
      () => {
        this.deferred = null; // not loadable now: the peer's retransmission tries again
      },
    );
    return 0;
  }

  /**
   * While no handshake is complete: each ClientHello record goes to the handshake of its client random (a new
   * one for a new random), the other records to the handshake that got furthest. Returns the records dropped.
   */
  private handshake(buf: Buffer, from: number): number {
    let dropped = 0;
    let restStart = -1;
    let restEnd = -1;
    const flushRest = () => {
      if (restStart < 0) return;
      const target = this.furthest();
      if (target === null) dropped++;
      else {
        // one record at a time through its gate: in order, each message once
        const gate = (target.gate ??= new FlightGate(target.helloSeq + 1));
        for (let off = restStart; off < restEnd; off += 13 + buf.readUInt16BE(off + 11)) {
          dropped += gate.offer(buf.subarray(off, off + 13 + buf.readUInt16BE(off + 11)), (r) => this.deliver(target, r));
        }
      }
      restStart = restEnd = -1;
    };
    for (let off = from; off < buf.length; off += 13 + buf.readUInt16BE(off + 11)) {
      const end = off + 13 + buf.readUInt16BE(off + 11);
      if (!isClientHello(buf, off)) {
        if (restStart < 0) restStart = off;
        restEnd = end;
        continue;
      }
      flushRest();
      const f = helloFragment(buf, off);
      if (f === null) {
        dropped++;
        continue;
      }
      const record = buf.subarray(off, end);
      if (f.random !== null) {
        const random = f.random;
        const a = this.attempts.find((x) => x.random.equals(random)) ?? this.startAttempt(random);
        a.awaiting = f.fragmentLength < f.messageLength ? { seq: f.seq, messageLength: f.messageLength, next: f.fragmentLength } : null;
        if (f.seq !== a.helloSeq) a.gate = null; // a new ClientHello (the one with the cookie): the flight after it is new
        a.helloSeq = f.seq;
        this.deliver(a, record);
        continue;
      }
      let taken = false;
      for (const a of this.attempts) {
        const w = a.awaiting;
        if (w === null || w.seq !== f.seq || w.messageLength !== f.messageLength || w.next !== f.offset) continue;
        w.next += f.fragmentLength;
        if (w.next === w.messageLength) a.awaiting = null;
        taken = true;
        this.deliver(a, record);
      }
      if (!taken) dropped++;
    }
    flushRest();
    return dropped;
  }

  /** The handshake in progress that got furthest (the latest of those), or null when none is. */
  private furthest(): Association | null {
    let best: Association | null = null;
    for (const a of this.attempts) if (best === null || this.progress(a) >= this.progress(best)) best = a;
    return best;
  }

  private deliver(a: Association, buf: Buffer): void {
    try {
      a.transport.onData(buf, NO_ADDRESS);
    } catch {
      // werift catches its own parse errors; nothing may escape into the packet path
    }
  }

  /** DER of the peer's certificate, once the handshake got that far. */
  get remoteCertificate(): Buffer | undefined {
    try {
      return this.current?.server.remoteCertificate;
    } catch {
      return undefined;
    }
  }

  /** The SRTP master keys (RFC 5764 §4.2), after the handshake; null if no SRTP profile was agreed. */
  srtpKeys(): DtlsSrtpKeys | null {
    const server = this.current?.server;
    const profile = profileName(server?.srtp.srtpProfile);
    if (!server || !profile) return null;
    const { keyLength, saltLength } = srtpKeyLengths(profile);
    const k = server.extractSessionKeys(keyLength, saltLength);
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
    this.deferred = null;
    for (const a of this.attempts) this.closeAssociation(a);
    this.attempts = [];
    if (this.current !== null) this.closeAssociation(this.current);
  }
}

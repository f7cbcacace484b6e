// The SIP part's transports: one UDP socket and one TCP listener on the same port (RFC 3261 18), and SIP over
// TLS (RFC 3261 26.2) on its own port when a certificate is given. Each message read is parsed once and handed
// on with where it came from and how to answer on the same path.
// UDP: the top Via gets `received` (and `rport`, RFC 3581) so answers go back where the request came from,
// through NAT. TCP: messages are framed by Content-Length; a connection has a byte cap, an idle timeout
// and answers RFC 5626 CRLF keep-alives. Caps on connections in all and per address. Nothing a peer sends
// can throw out of here: what does not parse is answered 400 when it can be, else dropped; either way it is
// counted by reason and told to `onProblem` (sip-server.ts logs it, a bounded number of lines).
import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import { headerEnd, MAX_MESSAGE_BYTES, parseMessage, responseTo, serializeMessage, SipParseError, type SipMessage } from './message.ts';
import { parseVia } from './headers.ts';

export interface SipSource {
  transport: 'udp' | 'tcp' | 'tls';
  address: string;
  port: number;
  /** Sends bytes back on the path the message came in on (UDP: to its source; TCP: its connection). */
  reply(data: Buffer): void;
}

/** Why a message was not taken: it does not parse as SIP (answered 400 when it can be), it is over the size cap
 * (a TCP stream's headers or Content-Length: the connection is closed), a request's top Via is unreadable, or a
 * connection to the TLS port failed its handshake (not TLS, a version below 1.2, stalled 10 s). */
export type MalformedReason = 'unparsable' | 'oversized' | 'badVia' | 'tlsHandshake';
export const MALFORMED_REASONS: readonly MalformedReason[] = ['unparsable', 'oversized', 'badVia', 'tlsHandshake'];

/** Something a peer sent that was not taken, or a connection refused (the caps): what, and from where. */
export interface SipProblem {
  reason: MalformedReason | 'tcpRefused';
  /** Fixed text about what was wrong (never the message's content). */
  detail: string;
  transport: SipSource['transport'];
  address: string;
}

export interface SipTransportCounters extends Record<MalformedReason, number> {
  received: number;
  /** The sum of the reasons. */
  malformed: number;
  /** The message handler threw. */
  dropped: number;
  tcpRefused: number;
}

export interface SipTransportOptions {
  address: string;
  port: number;
  onMessage: (m: SipMessage, from: SipSource) => void;
  /** What was not taken (already counted); never per keep-alive. */
  onProblem?: (p: SipProblem) => void;
  maxConnections?: number;
  maxConnectionsPerAddress?: number;
  idleMs?: number;
  /** SIP over TLS on this port (0: a free one) with this certificate; none: no TLS. */
  tls?: { port: number; cert: string; key: string };
}

const DEFAULT_MAX_CONNECTIONS = 1000;
const DEFAULT_PER_ADDRESS = 32;
/** A TCP connection with no message for this long is closed (phones send keep-alives more often). */
const DEFAULT_IDLE_MS = 300_000;

/** Free UDP ports tried when the TCP one of the same number is taken (port 0). */
const FREE_PORT_ATTEMPTS = 10;

export class SipTransport {
  readonly counters: SipTransportCounters = { received: 0, malformed: 0, unparsable: 0, oversized: 0, badVia: 0, tlsHandshake: 0, dropped: 0, tcpRefused: 0 };
  private readonly opts: Required<Omit<SipTransportOptions, 'tls' | 'onProblem'>> & Pick<SipTransportOptions, 'tls' | 'onProblem'>;
  private udp: dgram.Socket | null = null;
  private tcp: net.Server | null = null;
  private tlsServer: tls.Server | null = null;
  private readonly connections = new Set<net.Socket>();
  private readonly perAddress = new Map<string, number>();
  port = 0;
  /** The TLS port, 0 when there is no TLS. */
  tlsPort = 0;

  constructor(opts: SipTransportOptions) {
    this.opts = {
      maxConnections: DEFAULT_MAX_CONNECTIONS,
      maxConnectionsPerAddress: DEFAULT_PER_ADDRESS,
      idleMs: DEFAULT_IDLE_MS,
      ...opts,
    };
  }

  /** Binds UDP and TCP on one port (0: a free one, the UDP socket's); resolves with the port. */
  async listen(): Promise<number> {
    // port 0: the kernel picks a free UDP port, whose TCP twin may be taken (an outgoing connection's local port):
    // another free UDP port then, a few times
    for (let attempt = 1; ; attempt++) {
      try {
        await this.bindPair();
        break;
      } catch (e) {
        if (this.opts.port !== 0 || (e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= FREE_PORT_ATTEMPTS) throw e;
      }
    }
    if (this.opts.tls) {
      try {
        await this.listenTls(this.opts.tls);
      } catch (e) {
        await this.close();
        throw e;
      }
    }
    return this.port;
  }

  /** UDP, then TCP on the UDP socket's port; on failure nothing stays bound. */
  private async bindPair(): Promise<void> {
    const udp = dgram.createSocket('udp4');
    udp.on('message', (buf, rinfo) => this.onDatagram(buf, rinfo.address, rinfo.port));
    udp.on('error', () => {}); // ICMP errors of earlier sends: nothing to do
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(this.opts.port, this.opts.address, () => {
        udp.off('error', reject);
        resolve();
      });
    });
    const port = udp.address().port;
    const tcp = net.createServer((socket) => this.onConnection(socket));
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(port, this.opts.address, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      udp.close();
      throw e;
    }
    tcp.on('error', () => {});
    this.udp = udp;
    this.tcp = tcp;
    this.port = port;
  }

  /** The TLS listener; a handshake that fails or stalls (10 s) only ends that connection. */
  private async listenTls(o: { port: number; cert: string; key: string }): Promise<void> {
    const server = tls.createServer({ cert: o.cert, key: o.key, minVersion: 'TLSv1.2', handshakeTimeout: 10_000 }, (socket) => this.onConnection(socket, 'tls'));
    // a client that is not TLS, speaks a version below 1.2 or stalls: counted and told (the error's code, never its bytes)
    server.on('tlsClientError', (e: Error & { code?: string }, socket) => {
      const detail = `TLS handshake failed${e.code ? ` (${e.code.slice(0, 64)})` : ''}`;
      this.malformed('tlsHandshake', detail, { transport: 'tls', address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0, reply: () => {} }, socket);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port, this.opts.address, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', () => {});
    this.tlsServer = server;
    this.tlsPort = (server.address() as net.AddressInfo).port;
  }

  /** A new certificate for TLS (a renewal): new connections get it. */
  setCertificate(pair: { cert: string; key: string }): void {
    this.tlsServer?.setSecureContext({ cert: pair.cert, key: pair.key, minVersion: 'TLSv1.2' });
  }

  /** Sends a datagram (requests the gateway starts, over UDP). */
  sendUdp(data: Buffer, address: string, port: number): void {
    this.udp?.send(data, port, address);
  }

  async close(): Promise<void> {
    for (const s of this.connections) s.destroy();
    this.connections.clear();
    await Promise.all([
      new Promise<void>((r) => (this.udp ? this.udp.close(() => r()) : r())),
      new Promise<void>((r) => (this.tcp ? this.tcp.close(() => r()) : r())),
      new Promise<void>((r) => (this.tlsServer ? this.tlsServer.close(() => r()) : r())),
    ]);
    this.udp = null;
    this.tcp = null;
    this.tlsServer = null;
  }

  private onDatagram(buf: Buffer, address: string, port: number): void {
    // a keep-alive (CRLF or an empty datagram; a STUN binding request, RFC 5626 4.4.2, which we do not answer):
    // nothing to answer over UDP, nothing wrong
    if (buf.length <= 4 && /^[\r\n]*$/.test(buf.toString('latin1'))) return;
    if (isStun(buf)) return;
    const udp = this.udp;
    this.deliver(buf, false, {
      transport: 'udp',
      address,
      port,
      reply: (data) => udp?.send(data, port, address),
    });
  }

  private onConnection(socket: net.Socket, transport: 'tcp' | 'tls' = 'tcp'): void {
    const address = socket.remoteAddress ?? '';
    const count = this.perAddress.get(address) ?? 0;
    if (this.connections.size >= this.opts.maxConnections || count >= this.opts.maxConnectionsPerAddress) {
      this.counters.tcpRefused++;
      const detail = count >= this.opts.maxConnectionsPerAddress ? `${count} connections from this address already` : `${this.connections.size} connections already`;
      this.opts.onProblem?.({ reason: 'tcpRefused', detail, transport, address });
      socket.destroy();
      return;
    }
    this.connections.add(socket);
    this.perAddress.set(address, count + 1);
    socket.on('close', () => {
      this.connections.delete(socket);
      const n = (this.perAddress.get(address) ?? 1) - 1;
      if (n <= 0) this.perAddress.delete(address);
      else this.perAddress.set(address, n);
    });
    socket.on('error', () => socket.destroy());
    socket.setTimeout(this.opts.idleMs, () => socket.destroy());
    const source: SipSource = {
      transport,
      address,
      port: socket.remotePort ?? 0,
      reply: (data) => {
        if (!socket.destroyed) socket.write(data);
      },
    };
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      for (;;) {
        // RFC 5626 keep-alive: CRLFCRLF ping, CRLF pong
        let skip = 0;
        while (skip < pending.length && (pending[skip] === 13 || pending[skip] === 10)) skip++;
        if (skip >= 4 && pending.subarray(0, 4).toString('latin1') === '\r\n\r\n') source.reply(Buffer.from('\r\n'));
        pending = pending.subarray(skip);
        if (pending.length === 0) return;
        const end = headerEnd(pending);
        if (end < 0) {
          // no end of headers in 64 KB: not SIP
          if (pending.length > MAX_MESSAGE_BYTES) this.malformed('oversized', `no end of headers in ${MAX_MESSAGE_BYTES} bytes`, source, socket);
          return;
        }
        const bodyStart = end + (pending[end] === 13 ? 4 : 2);
        const cl = /^(?:content-length|l)[ \t]*:[ \t]*(\d+)[ \t]*$/im.exec(pending.toString('latin1', 0, end));
        const length = cl ? (cl[1]!.length > 9 ? Infinity : Number(cl[1])) : 0;
        if (bodyStart + length > MAX_MESSAGE_BYTES) {
          const detail = cl && length > 0 ? `Content-Length ${cl[1]!.slice(0, 12)}: more than ${MAX_MESSAGE_BYTES} bytes in all` : `headers of more than ${MAX_MESSAGE_BYTES} bytes`;
          this.malformed('oversized', detail, source, socket);
          return;
        }
        const total = bodyStart + length;
        if (pending.length < total) return;
        const message = pending.subarray(0, total);
        pending = pending.subarray(total);
        this.deliver(Buffer.from(message), true, source);
        if (socket.destroyed) return;
      }
    });
  }

  /** Counts and tells what was not taken; a TCP/TLS connection it came on is closed (its framing is lost). */
  private malformed(reason: MalformedReason, detail: string, from: SipSource, socket?: net.Socket): void {
    this.counters.malformed++;
    this.counters[reason]++;
    this.opts.onProblem?.({ reason, detail, transport: from.transport, address: from.address });
    socket?.destroy();
  }

  private deliver(buf: Buffer, stream: boolean, from: SipSource): void {
    this.counters.received++;
    let m: SipMessage;
    try {
      m = parseMessage(buf, stream);
    } catch (e) {
      const parseError = e instanceof SipParseError ? e : null;
      this.malformed('unparsable', parseError ? parseError.message : 'unreadable', from);
      if (parseError?.canReply) this.answerMalformed(parseError, from);
      return;
    }
    if (m.kind === 'request') {
      const top = m.headers.get('via');
      const via = top === undefined ? null : parseVia(top);
      if (via === null) {
        this.malformed('badVia', top === undefined ? 'no Via header' : 'an unreadable Via header', from);
        return;
      }
      if (from.transport === 'udp') {
        // RFC 3261 18.2.1 and RFC 3581: where it really came from
        let v = top!;
        if (via.host !== from.address) v += `;received=${from.address}`;
        if (via.params.has('rport')) v = v.replace(/;rport(?==|;|$)(=\d*)?/i, `;rport=${from.port}`);
        m.headers.entries[m.headers.entries.findIndex(([n]) => n === 'via')]![1] = v;
      }
    }
    try {
      this.opts.onMessage(m, from);
    } catch {
      this.counters.dropped++;
    }
  }

  /** 400 with the reason, built from the headers that did parse (the message failed later). */
  private answerMalformed(e: SipParseError, from: SipSource): void {
    if (e.headers === null || e.response) return;
    const reason = e.message.replace(/[^\x20-\x7e]/g, '').slice(0, 80);
    from.reply(serializeMessage(responseTo({ headers: e.headers }, 400, undefined, `Bad Request (${reason})`)));
  }
}

/** A STUN message (RFC 5389: the top two bits zero, the magic cookie at 4), e.g. a phone's RFC 5626 keep-alive. */
function isStun(buf: Buffer): boolean {
  return buf.length >= 20 && (buf[0]! & 0xc0) === 0 && buf.readUInt32BE(4) === 0x2112a442;
}

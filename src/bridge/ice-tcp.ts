/**
 * ICE-TCP passive candidates (RFC 6544) for clients whose UDP is blocked: a TCP server whose
 * connections carry STUN/DTLS/RTP/RTCP datagrams framed as in RFC 4571 (a 2-byte big-endian length
 * before each datagram). Default port 4443.
 *
 * De-framing is robust: partial reads, several frames per chunk, zero-length frames (skipped), a frame
 * longer than MAX_FRAME closes that connection, garbage never throws out of a socket handler.
 * Each connection reassembles into one preallocated buffer: onDatagram(buf, len) gets that buffer,
 * valid (and modifiable in place, e.g. SRTP decryption) only during the call.
 * Connections are capped per remote IP and in total, and closed after an idle timeout.
 */
import * as net from 'node:net';

export const ICE_TCP_DEFAULT_PORT = 4443;
/** Largest datagram accepted from a client. */
export const MAX_FRAME = 1600;

export interface FramedTcpServerOptions {
  port?: number;
  host?: string;
  /** Close a connection without traffic for this long (ms). */
  idleTimeoutMs?: number;
  maxConnectionsPerIp?: number;
  maxConnections?: number;
  /** Outgoing bytes queued in a connection beyond which send() drops datagrams (a slow client). */
  maxQueuedBytes?: number;
}

const noop = (): void => {};

/** "::ffff:1.2.3.4" -> "1.2.3.4". */
function normalizeAddress(a: string | undefined): string {
  if (a === undefined) return '';
  return a.startsWith('::ffff:') && a.indexOf('.') > 0 ? a.slice(7) : a;
}

export class FramedConnection {
  readonly id: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** A complete datagram: buf[0..len), valid during the call only. */
  onDatagram: (buf: Buffer, len: number) => void = noop;
  onClose: () => void = noop;
  /** The socket closed (onClose was called). */
  closed = false;
  /** close() was called or the socket closed: no more datagrams in or out. */
  closing = false;
  datagramsIn = 0;
  datagramsOut = 0;
  /** Datagrams send() dropped because the socket's queue was full. */
  sendDrops = 0;
  /** Exceptions thrown by onDatagram (counted, never propagated). */
  callbackErrors = 0;

  private readonly socket: net.Socket;
  private readonly maxQueued: number;
  private readonly frame = Buffer.allocUnsafe(MAX_FRAME);
  private headerBytes = 0;
  private header0 = 0;
  private frameLength = 0;
  private filled = 0;

  constructor(id: number, socket: net.Socket, maxQueued: number) {
    this.id = id;
    this.socket = socket;
    this.maxQueued = maxQueued;
    this.remoteAddress = normalizeAddress(socket.remoteAddress);
    this.remotePort = socket.remotePort ?? 0;
  }

  /** Sends buf[off..off+len) as one framed datagram; false when closed, too long or the queue is full. */
  send(buf: Buffer, off: number, len: number): boolean {
    if (this.closing || off < 0 || len < 0 || len > 0xffff || off + len > buf.length) return false;
    if (this.socket.writableLength > this.maxQueued) {
      this.sendDrops++;
      return false;
    }
    // one copy: the caller's buffer may be reused before the socket flushes
    const out = Buffer.allocUnsafe(len + 2);
    out[0] = len >>> 8;
    out[1] = len;
    buf.copy(out, 2, off, off + len);
    this.socket.write(out);
    this.datagramsOut++;
    return true;
  }

  close(): void {
    if (this.closing) return;
    this.closing = true;
    this.socket.destroy();
  }

  /** Feeds received bytes through the RFC 4571 de-framer. */
  onData(chunk: Buffer): void {
    const n = chunk.length;
    let p = 0;
    while (p < n && !this.closing) {
      if (this.headerBytes < 2) {
        if (this.headerBytes === 0) {
          this.header0 = chunk[p++];
          this.headerBytes = 1;
          continue;
        }
        this.frameLength = (this.header0 << 8) | chunk[p++];
        this.headerBytes = 2;
        this.filled = 0;
        if (this.frameLength === 0) {
          this.headerBytes = 0;
          continue;
        }
        if (this.frameLength > MAX_FRAME) {
          this.close();
          return;
        }
        continue;
      }
      let take = this.frameLength - this.filled;
      if (take > n - p) take = n - p;
      chunk.copy(this.frame, this.filled, p, p + take);
      this.filled += take;
      p += take;
      if (this.filled === this.frameLength) {
        this.headerBytes = 0;
        this.datagramsIn++;
        try {
          this.onDatagram(this.frame, this.frameLength);
        } catch {
          this.callbackErrors++;
        }
      }
    }
  }

  markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.closing = true;
    try {
      this.onClose();
    } catch {
      this.callbackErrors++;
    }
  }
}

export class FramedTcpServer {
  /** A new connection: set its onDatagram/onClose here. */
  onConnection: (conn: FramedConnection) => void = noop;
  /** Connections refused by the caps. */
  refused = 0;

  private readonly server: net.Server;
  private readonly opts: Required<FramedTcpServerOptions>;
  private readonly connections = new Set<FramedConnection>();
  private readonly perIp = new Map<string, number>();
  private nextId = 1;

  constructor(options: FramedTcpServerOptions = {}) {
    this.opts = {
      port: options.port ?? ICE_TCP_DEFAULT_PORT,
      host: options.host ?? '0.0.0.0',
      idleTimeoutMs: options.idleTimeoutMs ?? 30_000,
      maxConnectionsPerIp: options.maxConnectionsPerIp ?? 8,
      maxConnections: options.maxConnections ?? 2000,
      maxQueuedBytes: options.maxQueuedBytes ?? 1 << 20,
    };
    this.server = net.createServer({ noDelay: true }, (s) => this.accept(s));
    this.server.on('error', noop);
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Starts listening; resolves with the bound port. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen(this.opts.port, this.opts.host, () => {
        this.server.off('error', onError);
        const a = this.server.address();
        resolve(typeof a === 'object' && a !== null ? a.port : this.opts.port);
      });
    });
  }

  /** Stops listening and closes every connection. */
  close(): Promise<void> {
    for (const c of this.connections) c.close();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    socket.on('error', noop);
    const ip = normalizeAddress(socket.remoteAddress);
    const count = this.perIp.get(ip) ?? 0;
    if (ip === '' || count >= this.opts.maxConnectionsPerIp || this.connections.size >= this.opts.maxConnections) {
      this.refused++;
      socket.destroy();
      return;
    }
    this.perIp.set(ip, count + 1);
    const conn = new FramedConnection(this.nextId++, socket, this.opts.maxQueuedBytes);
    this.connections.add(conn);
    socket.setNoDelay(true);
    socket.setTimeout(this.opts.idleTimeoutMs, () => socket.destroy());
    socket.on('data', (chunk: Buffer) => conn.onData(chunk));
    socket.once('close', () => {
      this.connections.delete(conn);
      const n = (this.perIp.get(ip) ?? 1) - 1;
      if (n <= 0) this.perIp.delete(ip);
      else this.perIp.set(ip, n);
      conn.markClosed();
    });
    try {
      this.onConnection(conn);
    } catch {
      conn.close();
    }
  }
}

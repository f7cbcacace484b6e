// ICE-TCP (RFC 6544) for the bridge: the FramedTcpServer's connections (RFC 4571 framing) carry the same
// STUN/DTLS/RTP/RTCP datagrams as the UDP socket and are told apart the same way (RFC 7983). Each connection
// is a TcpPath: a way out of its own, which a WebRTC transport selects like a UDP address (by an ICE check)
// and then sends on. STUN goes to the bridge (ice.ts); a check that passes names the transport the
// connection belongs to (`owner`), which gets the connection's SRTP directly from then on, and its DTLS
// through the bridge. A connection no check named drops what it carries (counted as from an unknown address).
import type { BridgeCounters } from './counters.ts';
import { FramedTcpServer, type FramedConnection } from './ice-tcp.ts';
import type { WebRtcTransport } from './webrtc-transport.ts';

export interface TcpSink {
  /** A STUN message on `path`. */
  onTcpStun(buf: Buffer, path: TcpPath): void;
  /** A DTLS record on `path` (a copy: DTLS may keep it). */
  onTcpDtls(buf: Buffer, path: TcpPath): void;
  /** The connection closed: whoever selected it forgets it. */
  onTcpClosed(path: TcpPath): void;
}

/** One ICE-TCP connection as a way in and out. */
export class TcpPath {
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** The WebRTC transport an ICE check on this connection named (null before, and once it forgot it). */
  owner: WebRtcTransport | null = null;
  private readonly conn: FramedConnection;
  private readonly counters: BridgeCounters;

  constructor(conn: FramedConnection, counters: BridgeCounters) {
    this.conn = conn;
    this.counters = counters;
    this.remoteAddress = conn.remoteAddress;
    this.remotePort = conn.remotePort;
  }

  /** Sends buf[offset..offset+length) as one framed datagram (dropped and counted when closed or full). */
  send(buf: Buffer, offset: number, length: number): void {
    if (!this.conn.send(buf, offset, length)) {
      this.counters.sendErrors++;
      return;
    }
    this.counters.packetsOut++;
    this.counters.bytesOut += length;
  }

  close(): void {
    this.conn.close();
  }
}

export class TcpTransport {
  port = 0;
  private readonly server: FramedTcpServer;
  private readonly sink: TcpSink;
  private readonly counters: BridgeCounters;
  private readonly paths = new Set<TcpPath>();

  constructor(sink: TcpSink, counters: BridgeCounters, opts: { host: string; port: number }) {
    this.sink = sink;
    this.counters = counters;
    this.server = new FramedTcpServer({ host: opts.host, port: opts.port });
    this.server.onConnection = (conn) => this.accept(conn);
  }

  async listen(): Promise<number> {
    this.port = await this.server.listen();
    return this.port;
  }

  get connectionCount(): number {
    return this.paths.size;
  }

  private accept(conn: FramedConnection): void {
    const path = new TcpPath(conn, this.counters);
    this.paths.add(path);
    const c = this.counters;
    const sink = this.sink;
    conn.onDatagram = (buf, len) => {
      c.packetsIn++;
      c.bytesIn += len;
      try {
        if (len === 0) {
          c.dropUnknownType++;
          return;
        }
        // the connection's reassembly buffer is reused: the receivers get a view of exactly one datagram
        const b0 = buf[0];
        if (b0 >= 128 && b0 <= 191) {
          const owner = path.owner;
          if (owner === null) c.dropUnknownAddress++;
          else owner.receive(buf.subarray(0, len));
        } else if (b0 <= 3) sink.onTcpStun(buf.subarray(0, len), path);
        // DTLS may keep what it is given (handshake reassembly): a copy
        else if (b0 >= 20 && b0 <= 63) sink.onTcpDtls(Buffer.from(buf.subarray(0, len)), path);
        else c.dropUnknownType++;
      } catch {
        c.dropError++;
      }
    };
    conn.onClose = () => {
      this.paths.delete(path);
      sink.onTcpClosed(path);
    };
  }

  close(): Promise<void> {
    this.paths.clear();
    return this.server.close();
  }
}

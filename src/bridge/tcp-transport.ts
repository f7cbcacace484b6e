// ICE-TCP (RFC 6544) for the bridge: the FramedTcpServer's connections (RFC 4571 framing) carry the same
// STUN/DTLS/RTP/RTCP datagrams as the UDP socket and go through the same RFC 7983 demultiplexer.
// Each connection is given a pseudo port above 65535 (TCP_PORT_BASE + connection id): the bridge's address
// map, ICE and the router key a remote by (address, port) as for UDP, and UdpTransport.send hands anything
// sent to such a port to this transport, which writes it on that connection.
import type { BridgeCounters } from './counters.ts';
import { FramedTcpServer, type FramedConnection } from './ice-tcp.ts';
import type { DatagramSink } from './udp-transport.ts';

/** Pseudo ports of TCP connections start here (no UDP port is this high). */
export const TCP_PORT_BASE = 0x10000;

export interface TcpSink extends DatagramSink {
  /** The connection with this pseudo port closed: forget it. */
  onTcpClosed(pseudoPort: number): void;
}

export class TcpTransport {
  port = 0;
  private readonly server: FramedTcpServer;
  private readonly sink: TcpSink;
  private readonly counters: BridgeCounters;
  private readonly connections = new Map<number, FramedConnection>();

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
    return this.connections.size;
  }

  /** The remote port the connection really has (for XOR-MAPPED-ADDRESS), 0 when unknown. */
  remotePort(pseudoPort: number): number {
    return this.connections.get(pseudoPort)?.remotePort ?? 0;
  }

  private accept(conn: FramedConnection): void {
    const pseudo = TCP_PORT_BASE + conn.id;
    const address = conn.remoteAddress;
    this.connections.set(pseudo, conn);
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
        // the connection's reassembly buffer is reused: the sinks get a view of exactly one datagram
        const b0 = buf[0];
        if (b0 >= 128 && b0 <= 191) sink.onMedia(buf.subarray(0, len), address, pseudo);
        else if (b0 <= 3) sink.onStun(buf.subarray(0, len), address, pseudo);
        // DTLS may keep what it is given (handshake reassembly): a copy
        else if (b0 >= 20 && b0 <= 63) sink.onDtls(Buffer.from(buf.subarray(0, len)), address, pseudo);
        else c.dropUnknownType++;
      } catch {
        c.dropError++;
      }
    };
    conn.onClose = () => {
      this.connections.delete(pseudo);
      sink.onTcpClosed(pseudo);
    };
  }

  /** Sends one datagram on the connection behind `pseudoPort` (dropped and counted when it is gone or full). */
  send(buf: Buffer, offset: number, length: number, pseudoPort: number): void {
    const conn = this.connections.get(pseudoPort);
    if (conn === undefined || !conn.send(buf, offset, length)) {
      this.counters.sendErrors++;
      return;
    }
    this.counters.packetsOut++;
    this.counters.bytesOut += length;
  }

  close(): Promise<void> {
    this.connections.clear();
    return this.server.close();
  }
}

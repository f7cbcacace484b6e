// werift's DTLS client over a plain dgram socket to the bridge (on loopback unless told otherwise): what a synthetic browser (the
// benchmark's participants, the tests' FakeBrowser) hands DtlsClient. Incoming DTLS is fed in by the owner's
// demultiplexer through `onData`, which DtlsClient sets.
// werift hands over each record of a flight on its own; sent as they come, a flight of five records (Certificate,
// ClientKeyExchange, CertificateVerify, ChangeCipherSpec, Finished) is five datagrams, which the bridge's werift
// server may handle out of step (its handling of one record continues in promises while the next arrives: "client
// certificate missing before certificate verify", a handshake that then times out). A browser packs a flight into
// as few datagrams as fit its path's MTU; so does this transport: the records handed over in one turn of the event
// loop leave together, at most MAX_DATAGRAM bytes a datagram.
import type dgram from 'node:dgram';
import type { Transport } from 'werift';

/** The most a datagram of records carries (what browsers keep their DTLS records under). */
export const MAX_DATAGRAM = 1200;

export function udpDtlsTransport(sock: dgram.Socket, bridgePort: number, bridgeAddress = '127.0.0.1'): Transport {
  let pending: Buffer[] = [];
  let size = 0;
  const flush = (): void => {
    if (pending.length === 0) return;
    const datagram = pending.length === 1 ? pending[0]! : Buffer.concat(pending, size);
    pending = [];
    size = 0;
    try {
      sock.send(datagram, bridgePort, bridgeAddress);
    } catch {
      // the socket closed (its participant left, a join that timed out) while a DTLS retransmission was due
    }
  };
  return {
    type: 'udp',
    address: { address: sock.address().address, family: 'IPv4', port: sock.address().port },
    closed: false,
    onData: () => {},
    send(buf: Buffer) {
      if (size > 0 && size + buf.length > MAX_DATAGRAM) flush();
      if (pending.length === 0) setImmediate(flush);
      pending.push(Buffer.from(buf));
      size += buf.length;
      return Promise.resolve();
    },
    close: () => Promise.resolve(),
  };
}

// werift's DTLS client over a plain dgram socket to the bridge (on loopback unless told otherwise): what a synthetic browser (the
// benchmark's participants, the tests' FakeBrowser) hands DtlsClient. Incoming DTLS is fed in by the owner's
// demultiplexer through `onData`, which DtlsClient sets.
import type dgram from 'node:dgram';
import type { Transport } from 'werift';

export function udpDtlsTransport(sock: dgram.Socket, bridgePort: number, bridgeAddress = '127.0.0.1'): Transport {
  return {
    type: 'udp',
    address: { address: sock.address().address, family: 'IPv4', port: sock.address().port },
    closed: false,
    onData: () => {},
    send(buf: Buffer) {
      try {
        sock.send(buf, bridgePort, bridgeAddress);
      } catch {
        // the socket closed (its participant left, a join that timed out) while a DTLS retransmission was due
      }
      return Promise.resolve();
    },
    close: () => Promise.resolve(),
  };
}

// werift's DTLS client over a plain dgram socket to the bridge on loopback: what a synthetic browser (the
// benchmark's participants, the tests' FakeBrowser) hands DtlsClient. Incoming DTLS is fed in by the owner's
// demultiplexer through `onData`, which DtlsClient sets.
import type dgram from 'node:dgram';
import type { Transport } from 'werift';

export function udpDtlsTransport(sock: dgram.Socket, bridgePort: number): Transport {
  return {
    type: 'udp',
    address: { address: '127.0.0.1', family: 'IPv4', port: sock.address().port },
    closed: false,
    onData: () => {},
    send(buf: Buffer) {
      sock.send(buf, bridgePort, '127.0.0.1');
      return Promise.resolve();
    },
    close: () => Promise.resolve(),
  };
}

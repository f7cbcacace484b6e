// UDP helpers shared by the parts that open media sockets (the bridge's plain RTP, the SIP gateway's calls):
// bind a socket to one port of a range (null when another socket holds it), and a lookup for sockets that only
// ever send to IPv4 literals, so no send waits for a name lookup.
import dgram from 'node:dgram';

/** dgram's `lookup` for a socket that sends only to IPv4 literals: the address as it is, no DNS. */
export function literalLookup(
  address: string,
  _options: unknown,
  callback: (error: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  callback(null, address, 4);
}

/** A UDP socket bound to address:port, or null when the port is taken. `literal`: it sends to IPv4 literals only. */
export function bindUdp(address: string, port: number, literal = false): Promise<dgram.Socket | null> {
  return new Promise((resolve) => {
    const s = dgram.createSocket(literal ? { type: 'udp4', lookup: literalLookup } : { type: 'udp4' });
    const fail = () => {
      try {
        s.close();
      } catch {
        // never bound
      }
      resolve(null);
    };
    s.once('error', fail);
    s.bind(port, address, () => {
      s.off('error', fail);
      resolve(s);
    });
  });
}

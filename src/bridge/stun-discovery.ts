// The bridge's public address from a STUN server (RFC 5389 Binding, no authentication), for a bridge behind a
// NAT that forwards the media port to it (Jitsi's STUN mapping harvester): the XOR-MAPPED-ADDRESS of a
// request sent from this machine is the address browsers must send to. Only the address is used (the media
// port is assumed forwarded as is). Runs once at start, from a socket of its own.
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { STUN_CLASS_SUCCESS, STUN_MAGIC_COOKIE, parseStun, parseXorMappedAddress } from './packet/stun.ts';

/** "host:port" (port 3478 when left out) -> [host, port], or null when malformed. */
export function parseStunServer(s: string): [string, number] | null {
  const m = /^\s*(?:stun:)?(\[[^\]]+\]|[^:\s]+)(?::(\d{1,5}))?\s*$/.exec(s);
  if (!m) return null;
  const port = m[2] === undefined ? 3478 : Number(m[2]);
  if (port < 1 || port > 65535) return null;
  return [m[1]!.replace(/^\[|\]$/g, ''), port];
}

/** Asks `server` ("host:port") what address our requests come from; null after `timeoutMs` (3 tries). */
export function discoverPublicAddress(server: string, timeoutMs = 3000, bindAddress = '0.0.0.0'): Promise<string | null> {
  const target = parseStunServer(server);
  if (target === null) return Promise.resolve(null);
  const [host, port] = target;
  const tid = randomBytes(12);
  const request = Buffer.alloc(20);
  request.writeUInt16BE(0x0001, 0); // Binding request, no attributes
  request.writeUInt32BE(STUN_MAGIC_COOKIE, 4);
  tid.copy(request, 8);
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    const timers: NodeJS.Timeout[] = [];
    let done = false;
    const finish = (address: string | null) => {
      if (done) return;
      done = true;
      for (const t of timers) clearTimeout(t);
      socket.close();
      resolve(address);
    };
    socket.on('error', () => finish(null));
    socket.on('message', (msg) => {
      const parsed = parseStun(msg);
      if (parsed === null || parsed.cls !== STUN_CLASS_SUCCESS || !msg.subarray(8, 20).equals(tid)) return;
      const mapped = parseXorMappedAddress(msg);
      if (mapped !== null) finish(mapped.address);
    });
    socket.bind(0, bindAddress, () => {
      for (let i = 0; i < 3; i++) {
        timers.push(setTimeout(() => socket.send(request, port, host, () => {}), (i * timeoutMs) / 3));
      }
      timers.push(setTimeout(() => finish(null), timeoutMs));
    });
  });
}

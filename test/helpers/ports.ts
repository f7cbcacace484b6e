// Free ports for a test's own server (asks the OS, then releases the port). The OS's ephemeral range holds the
// server's default port ranges (plain RTP, recorder, phone RTP, TURN relays: 40000-43999) and those tests set
// (up to 48099): a port there would collide with them in the server's configuration, which refuses it, so such a
// port is asked again.
import net from 'node:net';
import dgram from 'node:dgram';

/** Ports the servers' ranges use, in their defaults and in the tests. */
const RANGES_LOW = 40000;
const RANGES_HIGH = 48099;

export async function freeTcpPort(): Promise<number> {
  for (;;) {
    const port = await anyFreeTcpPort();
    if (port < RANGES_LOW || port > RANGES_HIGH) return port;
  }
}

export async function freeUdpPort(): Promise<number> {
  for (;;) {
    const port = await anyFreeUdpPort();
    if (port < RANGES_LOW || port > RANGES_HIGH) return port;
  }
}

async function anyFreeTcpPort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function anyFreeUdpPort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port; rejects when `alive()` turns false or after the timeout. */
export function waitForTcp(port: number, alive: () => boolean, out: () => string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (!alive()) return reject(new Error(`exited before listening on ${port}:\n${out()}`));
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`nothing listens on ${port}:\n${out()}`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

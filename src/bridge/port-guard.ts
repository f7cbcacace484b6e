// One media port, one bridge. The media workers share the UDP port with SO_REUSEPORT, and Linux lets any
// process of the same user join such a group: a second Tertulia started on the same port would bind too and
// silently take part of the traffic (the kernel spreads datagrams over every socket of the group). So before
// binding, a bridge claims the port with a guard that is exclusive between processes and released by the
// kernel when the process ends, however it ends:
// - Linux: a listening Unix socket in the abstract namespace named after the port. The abstract namespace is
//   per network namespace, exactly like the port: bridges in two network namespaces (containers) may use the
//   same port number, two in one may not. Nothing is left on disk.
// - elsewhere: a Unix socket file in the temporary directory; one left by a process that died (nobody accepts
//   on it) is removed and claimed again.
// The guard is keyed by port only, not address: a bridge on 0.0.0.0 and another on one of its addresses would
// share traffic too. The guard never reads: a connection to it is closed at once.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** A claimed media port: `release` (idempotent) lets another bridge take it. */
export interface MediaPortGuard {
  readonly port: number;
  release(): Promise<void>;
}

/** The media port is taken: by another Tertulia bridge (claimed), or by another program (bind failed). */
export class MediaPortInUseError extends Error {
  readonly port: number;
  constructor(port: number, byTertulia: boolean) {
    super(
      byTertulia
        ? `media port ${port}/udp is already used by another Tertulia bridge on this machine; stop it, or give ` +
            `this one another port (--media-port, TERTULIA_MEDIA_PORT, or mediaPort in the settings file)`
        : `media port ${port}/udp is already in use by another program; stop it, or give Tertulia another ` +
            `port (--media-port, TERTULIA_MEDIA_PORT, or mediaPort in the settings file)`,
    );
    this.name = 'MediaPortInUseError';
    this.port = port;
  }
}

/** Where the guard of `port` listens (`abstract`: the Linux abstract namespace). */
export function guardPath(port: number, abstract = process.platform === 'linux'): string {
  const name = `tertulia-media-udp-${port}`;
  return abstract ? `\0${name}` : path.join(os.tmpdir(), `${name}.sock`);
}

function listen(where: string): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => socket.destroy());
    server.once('error', reject);
    server.listen({ path: where, exclusive: true }, () => {
      server.off('error', reject);
      server.unref(); // the guard never keeps the process alive
      resolve(server);
    });
  });
}

/** Whether some process accepts connections on the socket file `where` (false: a leftover of a dead one). */
function someoneListens(where: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ path: where });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * Claims media port `port` (1..65535) for this process. Rejects with MediaPortInUseError when another bridge
 * holds it. `where`: the guard's address (tests).
 */
export async function claimMediaPort(port: number, where = guardPath(port)): Promise<MediaPortGuard> {
  let server: net.Server;
  try {
    server = await listen(where);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    if (where.startsWith('\0') || (await someoneListens(where))) throw new MediaPortInUseError(port, true);
    try {
      fs.unlinkSync(where);
    } catch {
      // someone else removed it first; the listen below decides
    }
    try {
      server = await listen(where);
    } catch (e2) {
      if ((e2 as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new MediaPortInUseError(port, true);
      throw e2;
    }
  }
  let released: Promise<void> | null = null;
  return {
    port,
    release() {
      released ??= new Promise<void>((resolve) => server.close(() => resolve()));
      return released;
    },
  };
}

/** `e` (a failed bind of the media port) as MediaPortInUseError when the port was taken, else `e`. */
export function mediaPortBindError(e: unknown, port: number): unknown {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  const message = e instanceof Error ? e.message : String(e);
  if (port > 0 && (code === 'EADDRINUSE' || /EADDRINUSE|address already in use/i.test(message))) {
    return new MediaPortInUseError(port, false);
  }
  return e;
}

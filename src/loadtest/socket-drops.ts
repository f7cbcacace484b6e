// Datagrams the kernel dropped because a socket's receive buffer was full: the per-socket `drops` column of
// /proc/net/udp (Linux; elsewhere nothing is known and 0 is reported). A receiver whose process reads too
// slowly loses packets there, which is the driver's failing, not the bridge's.
import { readFileSync } from 'node:fs';

/** Sum of the drops of the IPv4 UDP sockets bound to these local ports (any address); null when unknown. */
export function udpSocketDrops(ports: ReadonlySet<number>, table = readTable()): number | null {
  if (table === null) return null;
  let drops = 0;
  const lines = table.split('\n');
  for (let i = 1; i < lines.length; i++) {
    // "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops"
    const f = lines[i]!.trim().split(/\s+/);
    if (f.length < 13) continue;
    const colon = f[1]!.indexOf(':');
    const port = Number.parseInt(f[1]!.slice(colon + 1), 16);
    if (!ports.has(port)) continue;
    const n = Number(f[f.length - 1]);
    if (Number.isFinite(n)) drops += n;
  }
  return drops;
}

function readTable(): string | null {
  try {
    return readFileSync('/proc/net/udp', 'utf8');
  } catch {
    return null;
  }
}

// A real HAProxy (Debian `haproxy`) in front of several signal instances, as the README's several-machines
// section sets it up: TLS ends at the proxy, each backend is checked on /healthz, a meeting's sockets stick to
// one instance by their `?room=` (a stick table, so a room stays where it is when a failed instance comes back),
// and a dead instance's rooms go to the others.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeTcpPort, waitForTcp } from './ports.ts';
import { waitForTcpIn } from './netns.ts';

export interface HaProxy {
  baseUrl: string;
  output(): string;
  /** How often the proxy said backend `signalN` (1-based) came UP (after a failed check). */
  upCount(n: number): number;
  stop(): Promise<void>;
}

/** Where a participant's region comes from: their address, looked up in an HAProxy map file (`address/prefix region` lines). */
export interface RegionByAddress {
  /** The request header signal reads (its `regionHeader`). */
  header: string;
  /** Address or network (CIDR) -> region. */
  map: Record<string, string>;
}

/**
 * The configuration the README shows, for backends at `backends` (HTTPS; a port alone is on 127.0.0.1), bound to
 * `bind` (default 127.0.0.1). `regions`: the proxy sets the region header from the client's address (replacing
 * whatever the client sent; no header when the address is not in the map), reading `regionMapFile`.
 * `pinByCookie` (tests only): a request with the cookie `tertulia_test_pin=signalN` goes to instance N while it is
 * up, and is not stuck to its room's instance (to put two people of one room on different instances).
 */
export function haproxyConfig(opts: {
  port: number;
  pem: string;
  backends: Array<number | string>;
  bind?: string;
  regions?: { header: string; mapFile: string };
  pinByCookie?: boolean;
}): string {
  const pins = opts.pinByCookie ? opts.backends.map((_, i) => `  use-server signal${i + 1} if { req.cook(tertulia_test_pin) -m str signal${i + 1} }\n`).join('') : '';
  const region = opts.regions
    ? `  # the participant's region, from their address (never what the client sent)
  http-request del-header ${opts.regions.header}
  http-request set-header ${opts.regions.header} %[src,map_ip(${opts.regions.mapFile})] if { src,map_ip(${opts.regions.mapFile}) -m found }
`
    : '';
  const target = (b: number | string) => (typeof b === 'number' ? `127.0.0.1:${b}` : b);
  return `global
  maxconn 2000

defaults
  mode http
  timeout connect 2s
  timeout client 1h
  timeout server 1h
  timeout tunnel 1h
  option redispatch
  retries 3

frontend tertulia
  bind ${opts.bind ?? '127.0.0.1'}:${opts.port} ssl crt ${opts.pem}
${region}  default_backend signal

backend signal
  balance roundrobin
  # a meeting's sockets (/ws?room=<room key>) go to one instance, and stay there
  stick-table type string len 200 size 100k expire 2h
  stick on url_param(room)${opts.pinByCookie ? ' if !{ req.cook(tertulia_test_pin) -m found }' : ''}
  option httpchk GET /healthz
${pins}${opts.backends.map((b, i) => `  server signal${i + 1} ${target(b)} ssl verify none check inter 500 fall 2 rise 2`).join('\n')}
`;
}

/**
 * `netns` and `bind`: run it in that network namespace on that address and `port` (ready once a probe from inside
 * the namespace connects); `regions`: see haproxyConfig.
 */
export async function startHaProxy(
  backends: Array<number | string>,
  opts: { pinByCookie?: boolean; netns?: string; bind?: string; port?: number; regions?: RegionByAddress } = {},
): Promise<HaProxy> {
  const dir = mkdtempSync(join(tmpdir(), 'tertulia-haproxy-'));
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  const host = opts.bind ?? '127.0.0.1';
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', `/CN=${host}`], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`openssl failed: ${made.stderr}`);
  const pem = join(dir, 'haproxy.pem');
  writeFileSync(pem, readFileSync(cert, 'utf8') + readFileSync(key, 'utf8'));
  const port = opts.port ?? (await freeTcpPort());
  let regions: { header: string; mapFile: string } | undefined;
  if (opts.regions) {
    regions = { header: opts.regions.header, mapFile: join(dir, 'regions.map') };
    writeFileSync(regions.mapFile, Object.entries(opts.regions.map).map(([net, region]) => `${net} ${region}\n`).join(''));
  }
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(cfg, haproxyConfig({ port, pem, backends, bind: host, regions, pinByCookie: opts.pinByCookie }));
  let out = '';
  const command = ['haproxy', '-db', '-f', cfg];
  if (opts.netns) command.unshift('ip', 'netns', 'exec', opts.netns);
  const child: ChildProcess = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  let exited = false;
  child.once('exit', () => (exited = true));
  child.once('error', (e) => (out += `spawn error: ${e.message}\n`));
  if (opts.netns) await waitForTcpIn(opts.netns, host, port, () => !exited, () => out, 10_000);
  else await waitForTcp(port, () => !exited, () => out, 10_000);
  return {
    baseUrl: `https://${host}:${port}`,
    output: () => out,
    upCount: (n) => out.split(`signal/signal${n} is UP`).length - 1,
    async stop() {
      if (!exited) {
        const done = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await done;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

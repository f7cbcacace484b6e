// A real HAProxy (Debian `haproxy`) in front of several signal instances, as the README's several-machines
// section sets it up: TLS ends at the proxy, each backend is checked on /healthz, a meeting's sockets stick to
// one instance by their `?room=` (a stick table, so a room stays where it is when a failed instance comes back),
// and a dead instance's rooms go to the others.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeTcpPort, waitForTcp } from './ports.ts';

export interface HaProxy {
  baseUrl: string;
  output(): string;
  /** How often the proxy said backend `signalN` (1-based) came UP (after a failed check). */
  upCount(n: number): number;
  stop(): Promise<void>;
}

/**
 * The configuration the README shows, for backends on 127.0.0.1 `ports` (HTTPS). `pinByCookie` (tests only): a
 * request with the cookie `tertulia_test_pin=signalN` goes to instance N while it is up, and is not stuck to its
 * room's instance (to put two people of one room on different instances).
 */
export function haproxyConfig(opts: { port: number; pem: string; backends: number[]; pinByCookie?: boolean }): string {
  const pins = opts.pinByCookie ? opts.backends.map((_, i) => `  use-server signal${i + 1} if { req.cook(tertulia_test_pin) -m str signal${i + 1} }\n`).join('') : '';
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
  bind 127.0.0.1:${opts.port} ssl crt ${opts.pem}
  default_backend signal

backend signal
  balance roundrobin
  # a meeting's sockets (/ws?room=<room key>) go to one instance, and stay there
  stick-table type string len 200 size 100k expire 2h
  stick on url_param(room)${opts.pinByCookie ? ' if !{ req.cook(tertulia_test_pin) -m found }' : ''}
  option httpchk GET /healthz
${pins}${opts.backends.map((p, i) => `  server signal${i + 1} 127.0.0.1:${p} ssl verify none check inter 500 fall 2 rise 2`).join('\n')}
`;
}

export async function startHaProxy(backends: number[], opts: { pinByCookie?: boolean } = {}): Promise<HaProxy> {
  const dir = mkdtempSync(join(tmpdir(), 'tertulia-haproxy-'));
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`openssl failed: ${made.stderr}`);
  const pem = join(dir, 'haproxy.pem');
  writeFileSync(pem, readFileSync(cert, 'utf8') + readFileSync(key, 'utf8'));
  const port = await freeTcpPort();
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(cfg, haproxyConfig({ port, pem, backends, pinByCookie: opts.pinByCookie }));
  let out = '';
  const child: ChildProcess = spawn('haproxy', ['-db', '-f', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  let exited = false;
  child.once('exit', () => (exited = true));
  child.once('error', (e) => (out += `spawn error: ${e.message}\n`));
  await waitForTcp(port, () => !exited, () => out, 10_000);
  return {
    baseUrl: `https://127.0.0.1:${port}`,
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

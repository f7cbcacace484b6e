// A real ACME server for a test: Debian's `pebble` (Let's Encrypt's test CA) with `pebble-challtestsrv` as its DNS
// server, which answers 127.0.0.1 for every name, so pebble checks HTTP-01 challenges of any test domain against
// this machine, on the HTTP port the test names. Pebble's own HTTPS listener uses a certificate made here
// (`listenerCaFile`: what the server under test must trust to talk to pebble); the certificates pebble issues
// chain to a root made at each pebble start, read from its management interface (`root()`).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { freeTcpPort, freeUdpPort, waitForTcp } from './ports.ts';

export interface Pebble {
  directoryUrl: string;
  /** PEM of the certificate of pebble's ACME listener (NODE_EXTRA_CA_CERTS of the server under test). */
  listenerCaFile: string;
  /** Starts pebble (again, after stop()) on the same ports; its issuing root changes each time. */
  start(): Promise<void>;
  /** The PEM root the certificates pebble issues chain to. */
  root(): Promise<string>;
  output(): string;
  /** Stops pebble only (the DNS server stays). */
  stop(): Promise<void>;
  /** Stops everything and removes the files. */
  close(): Promise<void>;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv, sink: (s: string) => void): { child: ChildProcess; alive: () => boolean } {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let exited = false;
  child.once('exit', () => (exited = true));
  child.once('error', (e) => sink(`spawn error: ${e.message}\n`));
  child.stdout!.on('data', (d: Buffer) => sink(d.toString()));
  child.stderr!.on('data', (d: Buffer) => sink(d.toString()));
  return { child, alive: () => !exited };
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await done;
  clearTimeout(timer);
}

/** `httpPort`: where pebble sends HTTP-01 checks (the server's plain-HTTP port). Pebble itself is not started yet. */
export async function preparePebble(opts: { httpPort: number }): Promise<Pebble> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tertulia-pebble-'));
  const certFile = path.join(dir, 'listener.pem');
  const keyFile = path.join(dir, 'listener.key');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-subj', '/CN=pebble test listener', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', keyFile, '-out', certFile,
  ], { stdio: 'ignore' });
  const acmePort = await freeTcpPort();
  const managementPort = await freeTcpPort();
  const dnsPort = await freeUdpPort();
  const challManagementPort = await freeTcpPort();
  const configFile = path.join(dir, 'pebble-config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${acmePort}`,
        managementListenAddress: `127.0.0.1:${managementPort}`,
        certificate: certFile,
        privateKey: keyFile,
        httpPort: opts.httpPort,
        tlsPort: 0,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
      },
    }),
  );
  let out = '';
  const sink = (s: string) => (out += s);
  // every name is 127.0.0.1 (no AAAA: the server under test listens on IPv4)
  const dns = run('pebble-challtestsrv', ['-dns01', `127.0.0.1:${dnsPort}`, '-http01', '', '-https01', '', '-tlsalpn01', '', '-management', `127.0.0.1:${challManagementPort}`, '-defaultIPv4', '127.0.0.1', '-defaultIPv6', ''], {}, sink);
  await waitForTcp(challManagementPort, dns.alive, () => out);
  let pebble: { child: ChildProcess; alive: () => boolean } | undefined;
  const get = (port: number, p: string) =>
    new Promise<string>((resolve, reject) => {
      https
        .get({ host: '127.0.0.1', port, path: p, ca: readFileSync(certFile), servername: 'localhost' }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${p}: ${res.statusCode} ${body}`))));
        })
        .on('error', reject);
    });
  return {
    directoryUrl: `https://127.0.0.1:${acmePort}/dir`,
    listenerCaFile: certFile,
    async start() {
      // no sleeps before validations, no nonces refused on purpose (both are pebble's defaults to shake clients)
      pebble = run('pebble', ['-config', configFile, '-dnsserver', `127.0.0.1:${dnsPort}`], { PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0' }, sink);
      await waitForTcp(acmePort, pebble.alive, () => out);
      await waitForTcp(managementPort, pebble.alive, () => out);
    },
    root: () => get(managementPort, '/roots/0'),
    output: () => out,
    stop: () => stopChild(pebble?.child),
    async close() {
      await stopChild(pebble?.child);
      await stopChild(dns.child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// TURN, the last resort for networks that let through only 443/tcp (or block UDP): the signal part starts it.
// Modes (config.turn, config.turnExternalUrls):
//  - coturn: Debian's `turnserver` as a supervised child (coturn-process.ts) with a generated config
//    (coturn-config.ts) on turnPort (UDP+TCP) and, through the HTTPS port, TURN over TLS (tls-demux.ts);
//  - external: the admin's own TURN server: only credentials for its URLs are handed out;
//  - off: browsers get no TURN server.
// Browsers get time-limited TURN REST credentials (credentials.ts) with their `joined` message, for URLs at the
// host they reached the HTTPS server by: turns:<host>:<https port>?transport=tcp, turn:<host>:<turnPort> (UDP, TCP).
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import dgram from 'node:dgram';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../config/config.ts';
import { portClaims } from '../config/port-plan.ts';
import type { Logger } from '../log.ts';
import type { IceServer } from '../protocol/signal-messages.ts';
import { coturnConfig } from './coturn-config.ts';
import { CoturnProcess } from './coturn-process.ts';
import { turnCredentials } from './credentials.ts';
import { loadOrCreateTurnSecret, turnDir } from './turn-secret.ts';

export type TurnMode = 'coturn' | 'external' | 'off';

export interface TurnStatus {
  mode: TurnMode;
  /** coturn: starting, up, down; external/off: undefined. */
  state?: string;
  /** coturn's UDP/TCP port handed out (0: only TLS through the HTTPS port). */
  port?: number;
  restarts?: number;
  /** Why coturn is down, or why TURN is off in auto mode. */
  reason?: string;
  /** TURN connections through the HTTPS port since the start, and open now. */
  tlsConnections?: number;
  tlsOpen?: number;
}

export interface TurnService {
  readonly mode: TurnMode;
  /** The ICE servers for a browser that reached HTTPS with this Host header ([] when TURN is off). */
  iceServers(hostHeader: string | undefined, id?: string): IceServer[];
  /** coturn's loopback TCP port for TURN over TLS (tls-demux.ts); undefined when not running here. */
  tlsTarget(): number | undefined;
  /** 1 when coturn is up, 0 when down; undefined when it does not run here. */
  up(): number | undefined;
  status(): TurnStatus;
  /** A new shared secret (SIGHUP): coturn restarts with it; credentials handed out with the old one stop working. */
  setSecret(secret: string): Promise<void>;
  /** Counters of the TLS path, set by whoever demuxes the HTTPS port. */
  tlsCounters?: { piped: number; open: number };
  close(): Promise<void>;
}

/** Where `turnserver` is, or undefined when coturn is not installed. */
export function findTurnserver(envPath: string = process.env.PATH ?? ''): string | undefined {
  for (const dir of [...envPath.split(':'), '/usr/bin', '/usr/sbin', '/usr/local/bin']) {
    if (dir && existsSync(path.join(dir, 'turnserver'))) return path.join(dir, 'turnserver');
  }
  return undefined;
}

/** This machine's addresses (IPv4 and IPv6, loopback left out). */
function localAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(os.networkInterfaces())) for (const a of list ?? []) if (!a.internal && !out.includes(a.address) && !a.address.startsWith('fe80')) out.push(a.address);
  return out;
}

/** Host and port of a Host header, or undefined when it is not a plausible host[:port]. */
export function parseHostHeader(header: string | undefined): { host: string; port?: number } | undefined {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]{1,253})(?::(\d{1,5}))?$/.exec(header?.trim() ?? '');
  if (!m) return undefined;
  const port = m[2] === undefined ? undefined : Number(m[2]);
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  return { host: m[1]!.toLowerCase(), port };
}

/** Why turnPort cannot be used now (another program holds it: the system's own coturn service?), or undefined. */
async function portProblem(port: number, address: string): Promise<string | undefined> {
  const host = address || '0.0.0.0';
  const tcp = await new Promise<string | undefined>((resolve) => {
    const s = net.createServer();
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    s.listen(port, host, () => s.close(() => resolve(undefined)));
  });
  const udp = tcp
    ? tcp
    : await new Promise<string | undefined>((resolve) => {
        const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
        s.once('error', (e: NodeJS.ErrnoException) => {
          s.close();
          resolve(e.code ?? e.message);
        });
        s.bind(port, host, () => s.close(() => resolve(undefined)));
      });
  if (!udp) return undefined;
  return (
    `TURN port ${port} is taken (${udp}): another program uses it, perhaps the system's own coturn service ` +
    '(systemctl disable --now coturn), or choose another turnPort (0: TURN only through the HTTPS port)'
  );
}

/**
 * A coturn left running by an earlier start of this data directory whose parent was killed (SIGKILL gives it no
 * chance to stop its child): found by its pid file and its command line (our config file), stopped. Anything
 * else with that pid is left alone.
 */
async function stopLeftover(pidFile: string, configFile: string, log: Logger): Promise<void> {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 1) return;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (!cmdline.some((a) => a.endsWith('turnserver')) || !cmdline.includes(configFile)) return;
  } catch {
    return; // no pid file, no such process, or no /proc
  }
  log.warn({ pid }, 'TURN: stopping a coturn left running by an earlier start');
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let i = 0; i < 30 && existsSync(`/proc/${pid}`); i++) await new Promise((r) => setTimeout(r, 100));
  if (existsSync(`/proc/${pid}`)) process.kill(pid, 'SIGKILL');
}

/** A free TCP port on 127.0.0.1. */
function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Coturn's listener when turnPort is 0: a free loopback port that none of this process's own settings names. A
 * port another part will bind later (HTTPS listens after TURN starts) is free now, and the system may offer it.
 */
export async function coturnLoopbackPort(config: Config, free: () => Promise<number> = freeLoopbackPort): Promise<number> {
  const claimed = (port: number) => portClaims(config).some((c) => c.min <= port && port <= c.max);
  for (let tries = 0; tries < 20; tries++) {
    const port = await free();
    if (!claimed(port)) return port;
  }
  throw new Error('no free loopback port for coturn outside the ports of the settings');
}

function offService(reason: string): TurnService {
  return {
    mode: 'off',
    iceServers: () => [],
    tlsTarget: () => undefined,
    up: () => undefined,
    status: () => ({ mode: 'off', reason: reason || undefined }),
    setSecret: async () => {},
    close: async () => {},
  };
}

/** Starts TURN as the settings say; throws for turn "on" without coturn installed (or no loopback port left for it). */
export async function startTurn(config: Config, log: Logger, opts: { binary?: string } = {}): Promise<TurnService> {
  const ttl = config.turnCredentialTtl;
  if (config.turnExternalUrls.length > 0) {
    let secret = config.turnSecret;
    log.info({ urls: config.turnExternalUrls }, 'TURN: handing out credentials for an external TURN server');
    return {
      mode: 'external',
      iceServers: (_host, id) => [{ urls: [...config.turnExternalUrls], ...turnCredentials(secret, ttl, id) }],
      tlsTarget: () => undefined,
      up: () => undefined,
      status: () => ({ mode: 'external' }),
      setSecret: async (next) => {
        secret = next;
      },
      close: async () => {},
    };
  }
  if (config.turn === 'off') return offService('');
  const binary = opts.binary ?? findTurnserver();
  if (!binary) {
    const why = 'coturn is not installed (apt-get install coturn)';
    if (config.turn === 'on') throw new Error(`turn is "on" but ${why}`);
    log.warn(`TURN is off: ${why}; participants whose network blocks UDP and port ${config.tcpMediaPort || 4443} cannot get media`);
    return offService(why);
  }

  let secret = loadOrCreateTurnSecret(config.turnSecret, config.dataDir);
  const dir = turnDir(config.dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const port = config.turnPort || (await coturnLoopbackPort(config));
  const listenAddress = config.turnPort === 0 ? '127.0.0.1' : config.listenAddress;
  const specific = config.listenAddress !== '0.0.0.0' && config.listenAddress !== '::' && !config.listenAddress.startsWith('127.');
  const own = localAddresses();
  const relayAddress = specific ? config.listenAddress : (own.find((a) => !a.includes(':')) ?? '');
  const configFile = path.join(dir, 'turnserver.conf');
  const writeConfig = () => {
    const text = coturnConfig({
      secret,
      realm: config.domain || 'tertulia',
      listenAddress,
      port,
      relayAddress,
      externalAddress: net.isIPv4(config.publicAddress) ? config.publicAddress : '',
      relayPortMin: config.turnRelayPortMin,
      relayPortMax: config.turnRelayPortMax,
      allowedPeers: [...new Set([...own, ...(specific ? [config.listenAddress] : []), ...(net.isIP(config.publicAddress) ? [config.publicAddress] : []), ...config.turnAllowedPeers])],
      pidFile: path.join(dir, 'turnserver.pid'),
      userDb: path.join(dir, 'turndb'),
    });
    writeFileSync(configFile, text, { mode: 0o600 });
    chmodSync(configFile, 0o600);
  };
  await stopLeftover(path.join(dir, 'turnserver.pid'), configFile, log);
  writeConfig();
  const coturn = new CoturnProcess({
    binary,
    configFile,
    port,
    log,
    precheck: async () => (config.turnPort === 0 ? undefined : await portProblem(port, listenAddress)),
  });
  coturn.start();
  const service: TurnService = {
    mode: 'coturn',
    iceServers(hostHeader, id) {
      const reached = parseHostHeader(hostHeader) ?? parseHostHeader(config.domain || config.publicAddress);
      if (!reached) return [];
      const urls = [`turns:${reached.host}:${reached.port ?? 443}?transport=tcp`];
      if (config.turnPort !== 0) urls.push(`turn:${reached.host}:${port}?transport=udp`, `turn:${reached.host}:${port}?transport=tcp`);
      return [{ urls, ...turnCredentials(secret, ttl, id) }];
    },
    tlsTarget: () => (coturn.state === 'up' ? port : undefined),
    up: () => (coturn.state === 'up' ? 1 : 0),
    status: () => ({
      mode: 'coturn',
      state: coturn.state,
      port: config.turnPort,
      restarts: coturn.restarts,
      reason: coturn.lastError || undefined,
      tlsConnections: service.tlsCounters?.piped,
      tlsOpen: service.tlsCounters?.open,
    }),
    async setSecret(next) {
      secret = loadOrCreateTurnSecret(next, config.dataDir);
      writeConfig();
      await coturn.restart();
    },
    close: () => coturn.stop(),
  };
  return service;
}

// For server-level tests of signal: start it on an ephemeral port with a temporary data directory and web
// root, a fake focus (bus handlers that record what signal asks), WebSocket clients that queue what they get,
// and a logger whose lines the test can read (to check no secret is ever logged).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { WebSocket } from 'ws';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { loadConfig, type Config } from '../../src/config/config.ts';
import { subjects } from '../../src/protocol/bus-messages.ts';
import { startSignal, type SignalServer } from '../../src/signal/index.ts';
import type { Logger } from '../../src/log.ts';
import type { TurnService } from '../../src/turn/turn-service.ts';

/**
 * Every test client comes from 127.0.0.1: the per-address caps (caps.ts) are raised so that only tests of the
 * caps meet them (those pass their own, lower, settings).
 */
export const ONE_ADDRESS_TEST_CAPS = { maxConnectionsPerAddress: 10_000, maxParticipantsPerAddress: 10_000, maxRoomsPerAddressPerMinute: 10_000 };

/** A WebSocket client that queues what it receives. */
export class WsClient {
  readonly ws: WebSocket;
  readonly received: any[] = [];
  private waiters: { pred: (m: any) => boolean; resolve: (m: any) => void }[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  /** How the socket closed, once it has (a wait that times out names it). */
  private closedWith: string | undefined;

  /**
   * `autoPong: false` leaves the server's pings unanswered (a dead client, for heartbeat tests); `localAddress`
   * connects from another loopback address (127.0.0.2...: another client address for the server's caps).
   */
  constructor(port: number, options: { autoPong?: boolean; localAddress?: string } = {}) {
    this.ws = new WebSocket(`wss://127.0.0.1:${port}/ws`, {
      rejectUnauthorized: false,
      autoPong: options.autoPong ?? true,
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    });
    this.ws.on('message', (data) => {
      const msg = JSON.parse(data.toString());
      const i = this.waiters.findIndex((w) => w.pred(msg));
      if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(msg);
      else this.received.push(msg);
    });
    this.ws.on('error', () => {});
    this.closed = new Promise((resolve) =>
      this.ws.on('close', (code, reason) => {
        this.closedWith = `closed (${code}${reason.length > 0 ? ` ${reason.toString()}` : ''})`;
        resolve({ code, reason: reason.toString() });
      }),
    );
  }

  open(): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN) return Promise.resolve();
    if (this.ws.readyState !== WebSocket.CONNECTING) return Promise.reject(new Error(`cannot send: the socket is ${this.closedWith ?? 'closing'}`));
    return new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
  }

  async send(msg: unknown): Promise<void> {
    await this.open();
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  next(pred: (m: any) => boolean = () => true, timeoutMs = 5000): Promise<any> {
    const i = this.received.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.received.splice(i, 1)[0]);
    return new Promise((resolve, reject) => {
      const waiter = {
        pred,
        resolve: (m: any) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no matching message within ${timeoutMs} ms (socket ${this.closedWith ?? 'open'}); got ${JSON.stringify(this.received)}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  nextOfType(type: string, timeoutMs?: number): Promise<any> {
    return this.next((m) => m.type === type, timeoutMs);
  }

  /** The next `joined` or `error` (or `lobby-wait`): how a join attempt ended. */
  joinOutcome(): Promise<any> {
    return this.next((m) => m.type === 'joined' || m.type === 'error' || m.type === 'lobby-wait' || m.type === 'host-wait');
  }

  async tryJoin(room: string, displayName: string, extra: Record<string, unknown> = {}): Promise<any> {
    await this.send({ type: 'join', room, displayName, audioMuted: false, videoMuted: false, ...extra });
    return await this.joinOutcome();
  }

  async join(room: string, displayName: string, extra: Record<string, unknown> = {}): Promise<any> {
    const r = await this.tryJoin(room, displayName, extra);
    if (r.type !== 'joined') throw new Error(`join refused: ${JSON.stringify(r)}`);
    return r;
  }

  /** Sends `msg` and returns the error it provokes. */
  async expectError(msg: unknown): Promise<any> {
    await this.send(msg);
    return await this.nextOfType('error');
  }

  /** True when nothing matching `pred` arrived (checked after a round trip to the server). */
  async nothingLike(pred: (m: any) => boolean): Promise<boolean> {
    await this.send({ type: 'no-such-type' });
    await this.next((m) => m.type === 'error' && /unknown message type/.test(m.message));
    return !this.received.some(pred);
  }

  close(): void {
    this.ws.close();
  }
}

export interface TestSignal {
  server: SignalServer;
  bus: MemoryBus;
  config: Config;
  dataDir: string;
  /** Focus requests signal made, in order. */
  focusCalls: { subject: string; payload: any }[];
  /** Every log line so far. */
  logs(): string;
  client(options?: { localAddress?: string; autoPong?: boolean }): WsClient;
  stop(): Promise<void>;
}

/** `startTurn`: TURN for this signal (src/turn/), started with its config and log and stopped with it. */
export async function startTestSignal(
  overrides: Partial<Record<keyof Config, unknown>> = {},
  dataDir?: string,
  startTurn?: (config: Config, log: Logger) => Promise<TurnService>,
): Promise<TestSignal> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'tertulia-access-'));
  const webRoot = path.join(tmp, 'web');
  mkdirSync(webRoot, { recursive: true });
  writeFileSync(path.join(webRoot, 'index.html'), '<!doctype html><title>Tertulia</title>');
  const dir = dataDir ?? path.join(tmp, 'data');
  const config = loadConfig({
    env: { TERTULIA_CONFIG: '' },
    overrides: { listenAddress: '127.0.0.1', httpsPort: 0, httpPort: 0, dataDir: dir, logLevel: 'trace', p2p: false, ...ONE_ADDRESS_TEST_CAPS, ...overrides },
  });
  let logText = '';
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logText += chunk.toString();
      cb();
    },
  });
  const log = pino({ level: 'trace', base: undefined }, sink);
  const bus = new MemoryBus();
  const focusCalls: TestSignal['focusCalls'] = [];
  for (const subject of [subjects.focusJoin, subjects.focusAnswer, subjects.focusLeave, subjects.focusMute]) {
    bus.handle(subject, (payload) => {
      focusCalls.push({ subject, payload });
      return { ok: true };
    });
  }
  const turn = await startTurn?.(config, log);
  const server = await startSignal({ bus, config, log, webRoot, turn });
  const clients: WsClient[] = [];
  return {
    server,
    bus,
    config,
    dataDir: dir,
    focusCalls,
    logs: () => logText,
    client(options = {}) {
      const c = new WsClient(server.httpsPort, options);
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients) c.ws.terminate();
      await server.close();
      await turn?.close();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

export interface RoomWithModerator {
  name: string;
  mod: WsClient;
  modId: string;
  people: { c: WsClient; id: string }[];
}

/** Drops `client`'s socket (no leave: a crash or a lost network) and waits until `s` saw it close. */
export async function dropConnection(s: TestSignal, client: WsClient): Promise<void> {
  const closed = () => s.logs().split('\n').filter((l) => l.includes('socket closed')).length;
  const before = closed();
  client.ws.terminate();
  for (let i = 0; i < 400 && closed() === before; i++) await new Promise((r) => setTimeout(r, 25));
  if (closed() === before) throw new Error('the server did not see the socket close');
}

/** A fresh open room: a moderator "Mod" (the first to join) and `n` participants "P0".."P<n-1>". */
export async function roomWithModerator(s: TestSignal, name: string, n: number): Promise<RoomWithModerator> {
  const mod = s.client();
  const joined = await mod.join(name, 'Mod');
  if (joined.role !== 'moderator') throw new Error(`the first in ${name} is not its moderator`);
  const people = [];
  for (let i = 0; i < n; i++) {
    const c = s.client();
    const j = await c.join(name, `P${i}`);
    if (j.role !== 'participant') throw new Error(`P${i} is not a participant`);
    people.push({ c, id: j.selfId });
  }
  return { name, mod, modId: joined.selfId, people };
}

/** A base64 SRTP master key + salt (30 bytes) for a test focus's plain-RTP answers. */
export const TEST_SRTP_KEY = 'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk';

/** Focus's side of a phone caller's (plain-RTP) attach, as the test's focus answers it. */
export function answerPlainAttach(s: TestSignal, onAttach: () => void = () => {}): void {
  s.bus.handle(subjects.focusAttachPlain, () => {
    onAttach();
    return {
      address: '127.0.0.1',
      legs: [{ kind: 'audio', port: 40002, rtcpPort: 40002 }],
      rtcpMux: true,
      srtp: { suite: 'AES_CM_128_HMAC_SHA1_80', localKey: TEST_SRTP_KEY, remoteKey: TEST_SRTP_KEY },
      receives: [],
      sdp: '',
    };
  });
}

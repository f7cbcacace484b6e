// Several signal instances over a real nats-server with JetStream, each with its own WebSocket port, and a fake
// focus on another connection (answers every focus call "ok"): for the tests of what signal instances share
// (room-fanout.ts, room-state.ts, board-sync.ts).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NatsBus } from '../../src/bus/nats-bus.ts';
import { loadConfig } from '../../src/config/config.ts';
import { createLogger } from '../../src/log.ts';
import { subjects } from '../../src/protocol/bus-messages.ts';
import { startSignal, type SignalServer } from '../../src/signal/index.ts';
import { startNatsServer, type NatsServer } from './nats.ts';
import { ONE_ADDRESS_TEST_CAPS, WsClient } from './signal-client.ts';

export const instancesLog = createLogger(process.env.TERTULIA_TEST_LOG_LEVEL ?? 'silent');

export interface SignalInstance {
  server: SignalServer;
  bus: NatsBus;
  client(): WsClient;
}

export class SignalInstances {
  readonly instances: SignalInstance[] = [];
  private readonly clients: WsClient[] = [];
  private readonly tmp = mkdtempSync(path.join(os.tmpdir(), 'tertulia-instances-'));
  private readonly webRoot = path.join(this.tmp, 'web');
  nats!: NatsServer;
  /** The fake focus's connection (tests also use it to read the store or play a recorder). */
  focusBus!: NatsBus;

  /** Starts NATS, the fake focus and instances named `names`. */
  static async start(...names: string[]): Promise<SignalInstances> {
    const s = new SignalInstances();
    mkdirSync(s.webRoot, { recursive: true });
    writeFileSync(path.join(s.webRoot, 'index.html'), '<!doctype html><title>Tertulia</title>');
    s.nats = await startNatsServer({ jetstream: true });
    s.focusBus = await NatsBus.connect({ url: s.nats.url, log: instancesLog, reconnectWaitMs: 200 });
    for (const subject of [subjects.focusJoin, subjects.focusAnswer, subjects.focusLeave, subjects.focusMute]) s.focusBus.handle(subject, () => ({ ok: true }));
    for (const name of names) await s.add(name);
    return s;
  }

  /** Starts another instance (its data directory named `name`). */
  async add(name: string): Promise<SignalInstance> {
    const config = loadConfig({
      env: { TERTULIA_CONFIG: '' },
      overrides: { listenAddress: '127.0.0.1', httpsPort: 0, httpPort: 0, dataDir: path.join(this.tmp, name), logLevel: 'silent', natsUrl: this.nats.url, parts: ['web'], ...ONE_ADDRESS_TEST_CAPS },
    });
    const bus = await NatsBus.connect({ url: this.nats.url, log: instancesLog, reconnectWaitMs: 200 });
    const server = await startSignal({ bus, config, log: instancesLog, webRoot: this.webRoot });
    const inst: SignalInstance = {
      server,
      bus,
      client: () => {
        const c = new WsClient(server.httpsPort);
        this.clients.push(c);
        return c;
      },
    };
    this.instances.push(inst);
    return inst;
  }

  async stop(): Promise<void> {
    for (const c of this.clients) c.ws.terminate();
    for (const i of this.instances) {
      await i.server.close().catch(() => {});
      await i.bus.close();
    }
    await this.focusBus?.close();
    await this.nats?.stop();
    rmSync(this.tmp, { recursive: true, force: true });
  }
}

/** Until `check` holds (generous: a loaded machine is slow), else fails naming `what`. */
export async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not so within 20 s: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Until instance `i` counts `n` participants in its rooms (its own and the other instances'). */
export async function participantsOn(i: SignalInstance, n: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (i.server.resourceCounts()['signal.participants'] !== n) {
    if (Date.now() > deadline) throw new Error(`expected ${n} participants, have ${i.server.resourceCounts()['signal.participants']}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
